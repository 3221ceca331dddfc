"""What ``--workers`` gains against a slow target: the reference mock with 100 ms added to every request,
served by uvicorn on 127.0.0.1, and two whole ``graph-conformance run`` processes against it, one with
``--workers 1`` and one with ``--workers N``, startup and exit included.

    python benchmarks/workers_gain.py [--workers 8] [--latency 0.1] [--api-version beta] [-k EXPRESSION]

By default the API version beta only (half the catalogue: every kind of case, the policy cases that run
alone included, about 500 requests, so about 50 s serially at 100 ms); ``--api-version all`` runs the whole
catalogue (about 1000 requests). Prints each run's wall, requests, exit code and pytest's closing line,
then the gain as a ratio. Asserts nothing: a figure to read, on the machine it runs on.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import time
from typing import Any

from conformance.mock import create_app
from conformance.mock.serve import BackgroundServer


class Latency:
    """The reference mock, ``seconds`` slower on every request, counting them."""

    def __init__(self, seconds: float) -> None:
        self.app = create_app()
        self.seconds = seconds
        self.requests = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.requests += 1
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


def one_run(url: str, workers: int, api_version: str, keyword: str | None) -> tuple[float, int, str]:
    """Wall seconds, exit code and pytest's closing line of one whole ``graph-conformance run``."""
    command = shutil.which("graph-conformance")
    argv = [command] if command else [sys.executable, "-m", "conformance"]
    argv += ["run", "--base-url", url, "--api-version", api_version, "--workers", str(workers)]
    if keyword:
        argv += ["-k", keyword]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    return wall, done.returncode, lines[-1] if lines else done.stderr.strip()


def main() -> None:
    """Time the serial run and the run on workers, each against a fresh slow mock; print the gain."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every request")
    parser.add_argument("--api-version", default="beta", choices=("beta", "v1.0", "all"))
    parser.add_argument("-k", dest="keyword", help="only cases whose id matches (pytest -k)")
    args = parser.parse_args()
    walls = {}
    for workers in (1, args.workers):
        target = Latency(args.latency)
        with BackgroundServer(target) as server:
            wall, code, closing = one_run(server.url, workers, args.api_version, args.keyword)
        walls[workers] = wall
        print(f"--workers {workers}: {wall:.1f} s, {target.requests} requests, exit {code}: {closing}", flush=True)
    serial, parallel = walls[1], walls[args.workers]
    print(
        f"gain of --workers {args.workers} at {args.latency * 1000:g} ms per request "
        f"(--api-version {args.api_version}): {serial / parallel:.2f}x ({serial:.1f} s -> {parallel:.1f} s)"
    )


if __name__ == "__main__":
    main()
