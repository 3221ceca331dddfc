"""``--workers N``: the cases run concurrently, each worker on its own user, with the outcomes of a serial run."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote

import pytest
from starlette.testclient import TestClient

from conformance.config import DEFAULT_USER, DEFAULT_USER_UPN, DEFAULT_USER_WITHOUT_METHOD, resolve
from conformance.mock import MockOptions, create_app
from conformance.mock.serve import BackgroundServer
from conformance.workers import Outcome, Pool
from tests.helpers import REPO, graph_conformance, outcomes
from tests.mutants import BROKEN
from tests.tlsproxy import GraphImpostor

PYTEST_SUITE = [sys.executable, "-m", "pytest", "--pyargs", "conformance.suite", "-p", "no:cacheprovider", "-q"]
MAIN_USER = {DEFAULT_USER.lower(), DEFAULT_USER_UPN.lower(), "me"}  # /me is the reference mock's default user


class Recorder:
    """An ASGI app in front of another, 10 ms slower per request, recording who each request acts on and when."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[str, str, str, float, float]] = []  # (user, method, path, started, ended)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        await asyncio.sleep(0.01)
        await self.app(scope, receive, send)
        segments = [unquote(s).lower() for s in scope["path"].strip("/").split("/")][1:]
        user = segments[0] if segments[:1] == ["me"] else segments[1] if segments[:1] == ["users"] else "-"
        user = "main" if user in MAIN_USER else user
        self.requests.append((user, scope["method"], scope["path"], started, time.monotonic()))


def run_both(*args: str, tmp_path: Path, workers: int = 4) -> tuple[Any, Any]:
    """``graph-conformance run ARGS`` serially and with ``workers``, each writing its JSON report; the repository
    importable (``tests.inprocess_apps``)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    serial = graph_conformance("run", *args, "--report-json", tmp_path / "serial.json", cwd=tmp_path, env=env)
    parallel = graph_conformance(
        "run", *args, "--workers", str(workers), "--report-json", tmp_path / "parallel.json", cwd=tmp_path, env=env
    )
    return serial, parallel


def last_line(output: str) -> str:
    """pytest's closing line without its duration, e.g. ``173 passed, 7 skipped``."""
    return output.strip().splitlines()[-1].rsplit(" in ", 1)[0]


def test_the_catalogue_on_four_workers_has_the_outcomes_of_a_serial_run(tmp_path: Path) -> None:
    serial, parallel = run_both(tmp_path=tmp_path)
    assert (serial.returncode, parallel.returncode) == (0, 0), parallel.stdout[-3000:] + parallel.stderr
    assert last_line(parallel.stdout) == last_line(serial.stdout)
    assert "passed" in last_line(serial.stdout)
    assert "--workers 4" in parallel.stdout  # the header's reproduction line
    before, after = outcomes(tmp_path / "serial.json"), outcomes(tmp_path / "parallel.json")
    assert list(after) == list(before)  # the same cases, reported in the same order
    assert after == before


@pytest.mark.parametrize("name", ["second method replaces the first", "policy update ignored"])
def test_a_broken_mock_fails_the_same_cases_on_four_workers(name: str, tmp_path: Path) -> None:
    variant = next(v for v in BROKEN if v.name == name)
    with BackgroundServer(variant.build()) as server:
        serial, parallel = run_both("--base-url", server.url, tmp_path=tmp_path)
    assert (serial.returncode, parallel.returncode) == (1, 1)
    assert last_line(parallel.stdout) == last_line(serial.stdout)
    before, after = outcomes(tmp_path / "serial.json"), outcomes(tmp_path / "parallel.json")
    assert after == before
    assert any(outcome == "failed" for outcome, _ in before.values())  # the variant is caught at all
    assert failed_lines(parallel.stdout) == failed_lines(serial.stdout)  # each with its first violation


def failed_lines(output: str) -> list[str]:
    """pytest's short summary of the failures: each case and the start of its message."""
    return [line for line in output.splitlines() if line.startswith("FAILED ")]


def test_an_in_process_app_on_workers_fails_the_same_cases(tmp_path: Path) -> None:
    serial, parallel = run_both("--app", "tests.inprocess_apps:pin_leaked", tmp_path=tmp_path)
    assert (serial.returncode, parallel.returncode) == (1, 1), parallel.stdout[-3000:] + parallel.stderr
    assert outcomes(tmp_path / "parallel.json") == outcomes(tmp_path / "serial.json")
    assert failed_lines(parallel.stdout) == failed_lines(serial.stdout) != []


def test_cases_run_concurrently_each_user_serially_and_policy_changes_alone(tmp_path: Path) -> None:
    target = Recorder(create_app())
    with BackgroundServer(target) as server:
        allowed = ["--allowed-users", "worker.one@contoso.example"]  # a user of the mock's, then generated ones
        done = graph_conformance("run", "--base-url", server.url, "--workers", "4", *allowed, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    requests = target.requests

    def overlap(a: tuple[str, str, str, float, float], b: tuple[str, str, str, float, float]) -> bool:
        return a[3] < b[4] and b[3] < a[4]

    users = {r[0] for r in requests} - {"-", DEFAULT_USER_WITHOUT_METHOD}  # the read-only user is read by any
    assert {"main", "worker.one@contoso.example"} < users and len(users) == 4, users  # and two generated ones
    pairs = [(a, b) for i, a in enumerate(requests) for b in requests[i + 1 :] if overlap(a, b)]
    assert len({(a[0], b[0]) for a, b in pairs if a[0] != b[0]}) >= 3  # users really were acted on at once
    for a, b in pairs:
        assert a[0] != b[0] or a[0] in ("-", DEFAULT_USER_WITHOUT_METHOD), f"one user, two cases at once: {a} {b}"
        writes_policy = [r for r in (a, b) if r[0] == "-" and r[1] != "GET"]
        assert not writes_policy, f"a request overlapped a policy change: {a} {b}"
    assert len([r for r in requests if r[0] == "-" and r[1] != "GET"]) > 10  # the policy cases did run


@pytest.mark.parametrize(("name", "cause"), [("SIGTERM", "SIGTERM"), ("SIGINT", "KeyboardInterrupt")])
def test_interrupting_a_run_on_workers_cleans_up_every_case_in_flight(name: str, cause: str, tmp_path: Path) -> None:
    target = Recorder(create_app())
    store = target.app.state.store
    policy_before = copy.deepcopy(store.policy)
    report = tmp_path / "report.json"
    with BackgroundServer(target) as server:
        command = [sys.executable, "-m", "conformance", "run", "--base-url", server.url, "--workers", "4"]
        command += ["--report-json", str(report)]
        process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while len(target.requests) < 60 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert process.poll() is None, "the run ended before it could be interrupted"
        process.send_signal(getattr(signal, name))
        out, err = process.communicate(timeout=60)
        sent = len(target.requests)
        time.sleep(0.3)
        with store.lock:
            methods, policy = dict(store.methods), copy.deepcopy(store.policy)
    assert "Traceback" not in out + err and "INTERNALERROR" not in out + err
    assert process.returncode == 2
    assert f"graph-conformance: interrupted ({cause})" in out
    assert methods == {}  # no user of any worker keeps a method a stopped case created
    assert policy == policy_before
    assert len(target.requests) == sent  # nothing was sent once the run ended
    document = json.loads(report.read_text())
    assert document["summary"]["interrupted"] >= 1
    assert document["summary"]["passed"] >= 1


def test_with_x_the_run_reports_what_a_serial_run_reports(tmp_path: Path) -> None:
    """Cases still in flight when the failure ends the run (10 ms a request keeps some in flight) are not
    reported, as a serial run never started them: not "interrupted", nothing but the failure."""
    variant = next(v for v in BROKEN if v.name == "second method replaces the first")
    runs, reports = [], []
    for workers in ("1", "4"):
        report = tmp_path / f"report-{workers}.json"
        with BackgroundServer(Recorder(variant.build())) as server:
            runs.append(
                subprocess.run(
                    [*PYTEST_SUITE, "-x", "--graph-base-url", server.url, "--graph-workers", workers,
                     "--conformance-report", str(report)],
                    cwd=tmp_path,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
            )  # fmt: skip
        reports.append(json.loads(report.read_text())["summary"])
    serial, parallel = runs
    assert (serial.returncode, parallel.returncode) == (1, 1)
    assert last_line(parallel.stdout) == last_line(serial.stdout)
    assert last_line(parallel.stdout).startswith("1 failed, ")
    assert failed_lines(parallel.stdout) == failed_lines(serial.stdout)
    assert reports[1] == reports[0] and reports[1]["interrupted"] == 0, reports
    assert "INTERRUPTED" not in parallel.stdout


def test_no_case_starts_after_the_failure_that_ends_the_run() -> None:
    """The pool itself (pytest stops in any case once the failing item reports: what matters is that the workers
    do not run on, and that they do if pytest still asks for a later case)."""
    settings = resolve({"base_url": "http://127.0.0.1:1", "workers": "2"}, {})
    cases = [
        (str(i), SimpleNamespace(scenario=SimpleNamespace(every_step=(), through_me=False, writes=False), id=str(i)))
        for i in range(100)
    ]
    started: list[str] = []
    failing = "2"

    def execute(case: Any, worker_settings: Any, stopping: Any) -> Outcome:
        started.append(case.id)
        time.sleep(0.2 if case.id == failing else 0.005)
        return Outcome(failure="broken") if case.id == failing else Outcome()

    pool: Pool[Any] = Pool(cases, settings, execute, maxfail=1)
    pool.start()
    try:
        assert pool.outcome(failing).failure == "broken"
        time.sleep(0.3)
        ran = list(started)
        assert 3 < len(ran) < 60  # the other worker ran on while the failing case did, and no further
        time.sleep(0.2)
        assert started == ran  # no case starts once the failure is known
        assert pool.outcome("70").failure is None  # pytest asked for a later case after all: it runs
        assert "70" in started and "99" not in started
    finally:
        pool.stop()
        pool.join()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                *("--base-url", "https://192.0.2.1", "--user", "a@contoso.example", "--read-only"),
                *("--workers", "3", "--allowed-users", "b@contoso.example,B@Contoso.example,A@CONTOSO.EXAMPLE"),
            ],  # one user named twice, in other cases, is one user
            "--workers 3 needs 3 users on 192.0.2.1 (not loopback), one per worker: --user and 2 more in "
            "--allowed-users, which names 1 besides it and 'me'",
        ),
        (
            [
                *("--base-url", "https://192.0.2.1", "--user", "a@contoso.example", "--read-only"),
                *("--workers", "2", "--allowed-users", "b@contoso.example,me"),
            ],
            "--workers 2 cannot go with 'me' in --allowed-users on 192.0.2.1 (not loopback)",
        ),
        (
            ["--base-url", "http://127.0.0.1:1", "--record-mode", "none", "--workers", "2"],
            "--workers 2 cannot go with --record-mode",
        ),
        (
            ["--base-url", "http://127.0.0.1:1", "--workers", "0"],
            "--workers '0': give a whole number of workers from 1 to 32",
        ),
        (["--base-url", "http://127.0.0.1:1", "--workers", "many"], "give a whole number of workers from 1 to 32"),
    ],
)
def test_workers_that_cannot_be_had_are_a_usage_error(args: list[str], message: str, tmp_path: Path) -> None:
    started = time.monotonic()
    done = graph_conformance("run", "--timeout", "1", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert time.monotonic() - started < 15  # refused before anything was sent


def test_the_plugin_option_runs_cases_on_workers(tmp_path: Path) -> None:
    done = subprocess.run(
        [*PYTEST_SUITE, "--graph-workers", "3", "-k", "policy or user-addressing"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "--workers 3" in done.stdout and " passed" in last_line(done.stdout)


def test_on_a_live_target_each_worker_acts_on_its_own_allow_listed_user_under_the_guard(tmp_path: Path) -> None:
    tester, second, third = "tester@contoso.example", "second@contoso.example", "third@contoso.example"
    token = "workers-drill-token-8c2f61d0"
    with GraphImpostor(tmp_path, create_app(MockOptions(me_user=DEFAULT_USER))) as impostor:
        app = impostor.mock.config.app
        store = app.state.store
        with TestClient(app, headers={"Authorization": "Bearer t"}) as client:  # third already has a method
            dates = {"startDateTime": "2026-01-01T00:00:00Z", "expireDateTime": "2026-12-01T00:00:00Z"}
            answer = client.put(f"/beta/users/{third}/authentication/qrCodePinMethod", json={"standardQRCode": dates})
            assert answer.status_code == 201
        with store.lock:
            before = copy.deepcopy(store.methods), copy.deepcopy(store.policy)
        # no 'me': beside other workers on a live tenant it is refused (the token's owner may be a worker's user)
        flags = ["--allow-writes", "--allowed-users", f"{tester},{second},{third}", "--allow-policy-writes"]
        result = graph_conformance(
            *("run", "--base-url", "https://graph.microsoft.com", "--user", tester, "--token", token),
            *("--timeout", "20", "--workers", "3", *flags),
            cwd=tmp_path,
            env={**os.environ, **impostor.env()},
            timeout=300,
        )
        writes = impostor.writes
        with store.lock:
            after = copy.deepcopy(store.methods), copy.deepcopy(store.policy)
    assert result.returncode == 0, result.stdout[-3000:]
    assert token not in result.stdout + result.stderr
    written = {unquote(path.split("/")[3]).lower() for _, path in writes if path.split("/")[2].lower() == "users"}
    assert written == {tester, second}  # third's existing method was never touched
    assert f"user '{third}' already has a QR code + PIN method" in result.stdout
    assert after == before  # every user's method and the policy as they were


SKIPPER = """\
import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "lifecycle" in item.nodeid:
            item.add_marker(pytest.mark.skipif("1 + 1 == 2", reason="skipped by the user's own plugin"))
"""


def test_a_case_pytest_skips_by_a_users_own_mark_is_never_sent(tmp_path: Path) -> None:
    (tmp_path / "skipper.py").write_text(SKIPPER)
    sent = []
    for workers in ("1", "4"):
        target = Recorder(create_app())
        with BackgroundServer(target) as server:
            done = subprocess.run(
                [*PYTEST_SUITE, "-p", "skipper", "--graph-base-url", server.url, "--graph-workers", workers],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
            )
        assert done.returncode == 0, done.stdout[-3000:]
        assert " skipped" in last_line(done.stdout)
        sent.append(len(target.requests))
    assert sent[1] == sent[0]  # the skipped cases sent nothing on the workers either
