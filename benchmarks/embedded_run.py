"""What the newcomer's command costs: the whole ``graph-conformance run`` process against the embedded
mock (started on a free loopback port by the command itself), startup and exit included.

    python benchmarks/embedded_run.py [rounds]

Prints each round's wall seconds, the median and the slowest, the cases and requests of one run
(from its JSON report), and the slowest round against the 5-second budget. Asserts nothing: a
figure to read, on the machine it runs on.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_SECONDS = 5.0


def one_run(report: Path) -> tuple[float, int]:
    """Wall seconds and exit code of one whole ``graph-conformance run`` that writes its JSON report."""
    command = shutil.which("graph-conformance")
    argv = [command] if command else [sys.executable, "-m", "conformance"]
    started = time.perf_counter()
    done = subprocess.run([*argv, "run", "--report-json", str(report)], capture_output=True, check=False)
    return time.perf_counter() - started, done.returncode


def main(rounds: int) -> None:
    """Time ``rounds`` whole runs; print the figures."""
    walls: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        for round_number in range(1, rounds + 1):
            wall, code = one_run(report)
            walls.append(wall)
            print(f"round {round_number}: {wall:.2f} s (exit {code})")
        cases = json.loads(report.read_text(encoding="utf-8")).get("cases", [])
    requests = sum(len(case.get("exchanges", [])) for case in cases)
    slowest = max(walls)
    print(f"cases per run: {len(cases)}, requests per run: {requests}")
    print(f"median {statistics.median(walls):.2f} s, slowest {slowest:.2f} s")
    verdict = "within" if slowest < BUDGET_SECONDS else "OVER"
    print(f"slowest round {verdict} the {BUDGET_SECONDS:g} s budget ({slowest / BUDGET_SECONDS:.0%} of it)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
