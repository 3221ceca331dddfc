"""What each hostile target costs a run: exit code, wall seconds and peak RSS of ``graph-conformance run``.

    python benchmarks/hostile.py [MODE ...]

Runs every case of the hostile corpus (``tests/hostile.py``: hang, a dead port, trickling body,
trickling headers, an endless ``103 Early Hints`` storm, a target that hangs on every other
request, gzip bomb, huge bodies, deep JSON, millions of JSON values under the size cap, ``x-gzip``
and unknown content codings hiding a PIN, BOM, token echo, redirect, 429/503 storms) once, one
after the other, each as a user would (``graph-conformance run --timeout 2``) from a wrapper
process that measures the run's peak RSS, and prints the table (with any planted secret found in
an artefact). ``MODE`` arguments pick the cases of those modes. Asserts nothing;
``tests/test_hostile.py`` does.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.hostile import CASES, TABLE_HEAD, TIMEOUT, run_case  # noqa: E402


def main(modes: list[str]) -> int:
    """Run the hostile cases of ``modes`` (all when empty) and print a row each; 2 for an unknown mode."""
    unknown = sorted(set(modes) - {c.mode for c in CASES})
    if unknown:
        print(f"unknown mode(s) {', '.join(unknown)}: one of {', '.join(c.mode for c in CASES)}", file=sys.stderr)
        return 2
    print(f"graph-conformance run --timeout {TIMEOUT:g} against each hostile loopback target")
    print(TABLE_HEAD)
    with tempfile.TemporaryDirectory(prefix="hostile-") as root:
        for case in CASES:
            if modes and case.mode not in modes:
                continue
            outcome = run_case(case, Path(root) / case.id)
            leaks = outcome.leaks()
            note = f"  secrets in: {', '.join(sorted({leak.split(' in ', 1)[1] for leak in leaks}))}" if leaks else ""
            print(outcome.row() + note, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
