"""SIGTERM and SIGHUP end a run as Ctrl-C does: the running case's cleanup, the report, exit 2."""

from __future__ import annotations

import asyncio
import copy
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.mock import create_app
from conformance.mock.serve import BackgroundServer


class Slow:
    """The reference mock, 20 ms slower per request, counting what it is sent."""

    def __init__(self) -> None:
        self.app = create_app()
        self.requests = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.requests += 1
            await asyncio.sleep(0.02)
        await self.app(scope, receive, send)


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_a_termination_signal_mid_run_cleans_up_and_reports(name: str, tmp_path: Path) -> None:
    target = Slow()
    store = target.app.state.store
    target.app.state.store.policy.update(state="enabled", standardQRCodeLifetimeInDays=100)
    policy_before = copy.deepcopy(store.policy)
    report = tmp_path / "report.json"
    with BackgroundServer(target) as server:
        command = [sys.executable, "-m", "conformance", "run", "--base-url", server.url, "--report-json", str(report)]
        process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while target.requests < 40 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)  # a run that is well under way, in the middle of some case
        assert process.poll() is None, "the run ended before it could be interrupted"
        started = time.monotonic()
        process.send_signal(getattr(signal, name))
        out, err = process.communicate(timeout=60)
        seconds = time.monotonic() - started
        with store.lock:
            methods, policy = dict(store.methods), copy.deepcopy(store.policy)
    assert "Traceback" not in out + err and "INTERNALERROR" not in out + err
    assert process.returncode == 2
    assert seconds < 20  # the case in flight and its cleanup, not the rest of the catalogue
    assert f"graph-conformance: interrupted ({name}): the running case's cleanup ran" in out
    assert methods == {}  # whatever the interrupted case created, its cleanup removed
    assert policy == policy_before  # and a policy it changed is as it was
    document = json.loads(report.read_text())
    assert document["summary"]["interrupted"] == 1
    (interrupted,) = [c for c in document["cases"] if c["outcome"] == "interrupted"]
    assert document["summary"]["passed"] >= 1 and interrupted["id"]
