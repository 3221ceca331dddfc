"""A read-only audit: every check that needs no write, against a target whose user already has a method.

The run is ``graph-conformance run --read-only`` against the reference mock on loopback, with the
user (who is also the token's owner behind ``/me``) holding a method with both QR codes. A broken
variant that shows the PIN on reads must fail the same run.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from starlette.testclient import TestClient

from conformance.config import DEFAULT_USER
from conformance.mock import create_app
from conformance.mock.serve import BackgroundServer
from conformance.scenarios import CATALOGUE, load_scenarios
from tests.helpers import REPO, graph_conformance

READ_ONLY_SCENARIOS = {
    "method-read-existing",
    "standard-code-read-existing",
    "temporary-code-read-existing",
    "me-read",
    "policy-read",
    "method-absent-is-404",
    "method-read-needs-a-token",
    "case-insensitive-reads",
}
RULES = yaml.safe_load((REPO / "conformance" / "rules.yaml").read_text())


def with_a_method(app: Any) -> Any:
    now = datetime.now(UTC).replace(microsecond=0)

    def iso(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    method = f"/beta/users/{DEFAULT_USER}/authentication/qrCodePinMethod"
    with TestClient(app, headers={"Authorization": "Bearer t"}) as client:
        standard = {"startDateTime": iso(now), "expireDateTime": iso(now + timedelta(days=30))}
        assert client.put(method, json={"standardQRCode": standard}).status_code == 201
        temporary = {"startDateTime": iso(now), "expireDateTime": iso(now + timedelta(hours=2))}
        assert client.patch(method + "/temporaryQRCode", json=temporary).status_code == 201
    return app


def shows_the_pin_on_reads(app: Any) -> Any:
    """A broken variant: every GET answer carries the PIN."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await app(scope, receive, send)
            return

        async def leaking(message: Any) -> None:
            if message["type"] == "http.response.body" and b'"code":null' in message.get("body", b""):
                message = {**message, "body": message["body"].replace(b'"code":null', b'"code":"58219374"')}
            elif message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message["headers"] if k.lower() != b"content-length"]
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, leaking)

    return wrapped


def audit(app: Any, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    report = tmp_path / "report.json"
    with BackgroundServer(app) as server:
        result = graph_conformance(
            "run", "--base-url", server.url, "--read-only", "--report-json", report, cwd=tmp_path
        )
    return result, json.loads(report.read_text())


def test_a_read_only_audit_runs_every_check_that_needs_no_write(tmp_path: Path) -> None:
    result, report = audit(with_a_method(create_app()), tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    ran = {c["scenario"] for c in report["cases"] if c["outcome"] == "passed"}
    assert ran == READ_ONLY_SCENARIOS
    skipped = [c for c in report["cases"] if c["outcome"] == "skipped"]
    assert skipped and all(c["writes"] and "read-only run" in c["reason"] for c in skipped)
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("graph-conformance: read-only run: ")]
    checked = {tag for s in load_scenarios([CATALOGUE]) if s.id in READ_ONLY_SCENARIOS for tag in s.tags} & set(RULES)
    need_writes = sorted(set(RULES) - checked)
    assert line == (
        f"graph-conformance: read-only run: {len(checked)} of {len(RULES)} rules checked;"
        f" need writes: {', '.join(need_writes)}"
    )
    print(line)


def test_the_same_audit_fails_a_target_that_shows_the_pin_on_reads(tmp_path: Path) -> None:
    result, report = audit(shows_the_pin_on_reads(with_a_method(create_app())), tmp_path)
    assert result.returncode == 1
    failed = {c["scenario"] for c in report["cases"] if c["outcome"] == "failed"}
    assert failed == {"method-read-existing", "me-read"}
    assert "58219374" not in result.stdout + json.dumps(report)
