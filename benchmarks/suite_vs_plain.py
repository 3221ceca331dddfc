"""How much the suite's checks cost: the catalogue through the runner (schemas, rules, reports)
against the same requests sent by plain httpx, both against the reference mock on 127.0.0.1.

    python benchmarks/suite_vs_plain.py [rounds]

Prints the figures; asserts nothing. Also times a replay of the committed cassettes.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from conformance.auth import StaticToken
from conformance.config import DEFAULT_USER, PLACEHOLDER_TOKEN
from conformance.contract import default_schema_dir
from conformance.mock import create_app
from conformance.mock.serve import BackgroundServer
from conformance.runner import Runner
from conformance.scenarios import CATALOGUE, load_scenarios
from conformance.schemas import SchemaSet

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.helpers import REPLAY_CATALOGUE  # noqa: E402
from tests.mutants import RUN_VARIABLES  # noqa: E402


def main(rounds: int) -> None:
    """Time ``rounds`` runs of the catalogue through the runner and as plain httpx requests; print the medians."""
    schemas = SchemaSet(default_schema_dir())
    scenarios = load_scenarios([CATALOGUE], set(schemas.type_names("beta")))
    with BackgroundServer(create_app()) as server:
        sent: list[tuple[str, str, dict[str, str], bytes]] = []

        def record(request: httpx.Request) -> None:
            """Keep each request of the warm-up round, to send again with plain httpx."""
            sent.append((request.method, str(request.url), dict(request.headers), request.content))

        suite_times, plain_times = [], []
        for round_ in range(rounds + 1):  # round 0 warms up (imports, first QR encodings)
            with httpx.Client(
                auth=StaticToken(PLACEHOLDER_TOKEN), event_hooks={"request": [record]} if round_ == 0 else {}
            ) as http:
                runner = Runner(http, base_url=server.url, user=DEFAULT_USER, schemas=schemas, variables=RUN_VARIABLES)
                started = time.perf_counter()
                results = [runner.run(s, v, datetime.now(UTC)) for s in scenarios for v in s.versions]
                elapsed = time.perf_counter() - started
            assert all(r.outcome in ("passed", "skipped") for r in results)  # skipped: no method to read back
            with httpx.Client() as http:
                started = time.perf_counter()
                for method, url, headers, content in sent:
                    http.request(method, url, headers=headers, content=content).read()
                plain = time.perf_counter() - started
            if round_:
                suite_times.append(elapsed)
                plain_times.append(plain)
    suite, plain = statistics.median(suite_times), statistics.median(plain_times)
    print(f"cases: {len(results)}, requests per run: {len(sent)}, rounds: {rounds} (medians)")
    print(f"suite (runner, schemas, rules):   {suite * 1000:8.1f} ms")
    print(f"plain httpx, same requests:       {plain * 1000:8.1f} ms")
    print(f"ratio: {suite / plain:.2f}x (target: within 1.2x)")
    replay = _replay_seconds()
    print(f"replay of the committed cassettes (whole pytest run, network blocked): {replay:.1f} s")


def _replay_seconds() -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "conformance", *REPLAY_CATALOGUE],
        check=True,
        capture_output=True,
        cwd="/tmp",
    )
    return time.perf_counter() - started


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
