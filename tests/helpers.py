"""What the test modules share: where things are, the command line as a user runs it, the plugin's
suite under pytester, and the runner on an injected client at a fixed time."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from textwrap import dedent, indent
from typing import Any

import httpx

from conformance.runner import CaseResult, Runner
from conformance.scenarios import Scenario, load_scenarios, parse_scenario
from conformance.schemas import SchemaSet

# --- where things are ------------------------------------------------------------------------------------

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DOC_DIRS = [SHARED / "seeds", SHARED / "graph-docs", SHARED / "graph-docs-base"]
METADATA = [SHARED / "graph-metadata" / "beta.xml", SHARED / "graph-metadata" / "v1.0.xml"]
COMMITTED = REPO / "schemas" / "derived"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CASSETTES = REPO / "cassettes"
DOC_PAGES = sorted(
    p for d in DOC_DIRS for p in d.rglob("*") if p.is_file() and p.suffix in (".md", ".txt") and p.name != "README.md"
)


# the whole catalogue replayed from the committed cassettes, offline (a dead base URL; the network is blocked)
REPLAY_CATALOGUE = ("run", "--base-url", "http://localhost:1", "--record-mode", "none", "--cassette-dir", str(CASSETTES))


def case_count(*paths: Path) -> int:
    """How many cases (scenario x version) the scenario files under ``paths`` make."""
    return sum(len(s.versions) for s in load_scenarios(list(paths)))


# --- the command line ------------------------------------------------------------------------------------


def graph_conformance(
    *args: str | Path,
    cwd: Path = REPO,
    timeout: float = 120,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m conformance ARGS`` in a subprocess, as a user runs it; a traceback fails the test."""
    result = subprocess.run(
        [sys.executable, "-m", "conformance", *map(str, args)],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result


def one_day_certificate(subject: Any, issuer: Any, public_key: Any) -> Any:
    """A ``cryptography`` certificate builder for ``subject`` (an ``x509.Name``) signed by ``issuer``,
    valid from five minutes ago for a day; the caller adds extensions and signs."""
    from cryptography import x509

    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
    )


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the plugin's suite under pytester -------------------------------------------------------------------

SUITE = ["--pyargs", "conformance.suite", "-p", "no:cacheprovider"]
REPLAY_OFFLINE = ["--graph-base-url", "http://localhost:1", "--record-mode", "none", "--block-network"]


def reports(name: str) -> list[str]:
    """The arguments that write the JSON report ``name``.json and the JUnit XML ``name``.xml."""
    return ["--conformance-report", f"{name}.json", "--junitxml", f"{name}.xml"]


def copy_fixture_scenarios(folder: Path) -> Path:
    """The fixture scenarios (tests/fixtures/scenarios) copied to ``folder``, which is returned."""
    shutil.copytree(FIXTURES / "scenarios", folder)
    return folder


def outcomes(report: Path) -> dict[str, tuple[str, list[str]]]:
    """Case id -> (outcome, where each violation is), read from a JSON report."""
    cases = json.loads(report.read_text())["cases"]
    return {c["id"]: (c["outcome"], [v["where"] for v in c["violations"]]) for c in cases}


# --- the runner on an injected client ----------------------------------------------------------------------

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SCHEMAS = SchemaSet(COMMITTED)
CASE_HEAD = dedent(
    """\
    id: case
    title: A case
    docs: [graph-docs/beta/api/qrcode-get.md:72]
    versions: [beta]
    """
)
MINIMAL_HEAD = dedent(
    """\
    id: x
    title: t
    docs: [a.md]
    versions: [beta]
    """
)  # the least a scenario file needs before its steps
QR = {"id": "q1", "startDateTime": "2026-01-01T00:00:00Z", "expireDateTime": "2026-06-01T00:00:00Z", "image": None}
GET_QR = dedent(
    """\
    steps:
      - name: read
        request: {method: GET, path: "/users/{user}/authentication/qrCodePinMethod/standardQRCode"}
    """
)


def read_qr(step: str) -> str:
    """Steps of one step, "read", that GETs the standard QR code; ``step`` (YAML) holds its other keys."""
    return GET_QR + indent(dedent(step).rstrip("\n") + "\n", " " * 4)


def scenario(body: str) -> Scenario:
    """The scenario ``CASE_HEAD`` + ``body`` (YAML), which must load without a problem."""
    parsed, problems = parse_scenario(CASE_HEAD + body, "case.yaml", set(SCHEMAS.type_names("beta")))
    assert problems == [] and parsed is not None
    return parsed


def run_scenario(
    body: str, handler: Callable[[httpx.Request], httpx.Response], **options: Any
) -> tuple[CaseResult, list[httpx.Request]]:
    """``scenario(body)`` run at ``NOW`` on beta against ``handler``: the result, and the requests it sent."""
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.Client(transport=httpx.MockTransport(recording))
    runner = Runner(client, base_url="http://127.0.0.1:9/", user="u1", schemas=SCHEMAS, **options)
    return runner.run(scenario(body), "beta", NOW), seen
