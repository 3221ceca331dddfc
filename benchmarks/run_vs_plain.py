"""What a whole ``graph-conformance run`` costs against a bare pytest + httpx script sending the same
requests: whole processes, startup and exit included, against one reference mock on 127.0.0.1.

    python benchmarks/run_vs_plain.py [rounds]

A first run of the suite is captured by the mock (method, path, headers and body of every request, as
they arrived) and split into its cases by the run's JSON report. A pytest file with one parametrized
test per case then sends exactly those requests with httpx. The rounds alternate the two commands,
so load on the machine falls on both alike. Prints both medians and their ratio, for wall seconds
(the figure that matters) and for CPU seconds of the process (user + system: steadier on a busy
machine); asserts nothing.

Both commands run as an installed package would: with bytecode (written on the warm-up round into a
temporary PYTHONPYCACHEPREFIX, even where PYTHONDONTWRITEBYTECODE is set) and, for the suite, its
parsed-scenario cache (a temporary XDG_CACHE_HOME, filled by the capture run).
The bare script runs with pytest's plugin autoloading off: the installed graph-conformance plugin
(and vcrpy's) would otherwise load into it too and hide part of the suite's startup.
Replayed requests that carry a value the mock generated in the first run (a reset PIN) may now be
refused by the mock: the same requests, not necessarily the same answers.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PLAIN_SCRIPT = """\
import json
from pathlib import Path

import httpx
import pytest

CASES = json.loads(Path(__file__).with_name("requests.json").read_text(encoding="utf-8"))
BASE_URL = Path(__file__).with_name("base_url").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def client():
    with httpx.Client(base_url=BASE_URL) as http:
        yield http


@pytest.mark.parametrize("requests", [c["requests"] for c in CASES], ids=[c["id"] for c in CASES])
def test_case(client, requests):
    for method, path, headers, body in requests:
        client.request(method, path, headers=headers, content=body.encode("latin-1")).read()
"""

SKIPPED_HEADERS = {"host", "content-length", "connection"}  # httpx sets these itself


def serve(port_file: str, capture_file: str) -> None:
    """In a child process: the reference mock on a free loopback port; every request appended to
    ``capture_file`` (one JSON line) until the file ``capture_file + '.stop'`` exists."""
    from conformance.mock import create_app
    from conformance.mock.serve import BackgroundServer

    app = create_app()
    stop = Path(capture_file + ".stop")
    capture = open(capture_file, "a", encoding="utf-8")  # noqa: SIM115 - open for the server's life

    async def capturing(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or stop.exists():
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        path = scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            path += "?" + scope["query_string"].decode("latin-1")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        headers = {k: v for k, v in headers.items() if k not in SKIPPED_HEADERS}
        capture.write(json.dumps([scope["method"], path, headers, body.decode("latin-1")]) + "\n")
        capture.flush()
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)

    with BackgroundServer(capturing) as server:
        Path(port_file).write_text(server.url, encoding="utf-8")
        while True:
            time.sleep(3600)


def command() -> list[str]:
    """The ``graph-conformance`` console script, or the module when it is not on the PATH."""
    script = shutil.which("graph-conformance")
    return [script] if script else [sys.executable, "-m", "conformance"]


def cases_of(report: Path, captured: list[list[Any]]) -> list[dict[str, Any]]:
    """The captured requests split into the report's cases, in order. A request the report does not list
    (a restore between cases) goes with the case whose exchanges come next, or the last case."""
    cases, position, unlisted = [], 0, 0
    for case in json.loads(report.read_text(encoding="utf-8"))["cases"]:
        start = position
        for exchange in case.get("exchanges", []):
            shown_method, url = exchange.split(" ", 2)[:2]
            while position < len(captured) and not (
                captured[position][0] == shown_method and url.endswith(captured[position][1])
            ):
                position += 1
                unlisted += 1
            if position == len(captured):
                raise SystemExit(f"{case['id']}: {exchange[:100]} was not captured")
            position += 1
        cases.append({"id": case["id"], "requests": captured[start:position]})
    cases[-1]["requests"] += captured[position:]
    unlisted += len(captured) - position
    if unlisted:
        print(f"note: {unlisted} captured requests are in no case's exchanges (sent too, with the next case)")
    return cases


def timed(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, cwd=cwd, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        print(f"exit {done.returncode} from {' '.join(argv[:3])}: {done.stderr.decode()[-400:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(rounds: int) -> None:
    """Capture one run, then time ``rounds`` alternating rounds of the suite and the bare script."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        port_file, capture_file = folder / "url", folder / "captured.jsonl"
        mock = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file), str(capture_file)])
        try:
            deadline = time.monotonic() + 30
            while not port_file.exists() or not port_file.read_text():
                if time.monotonic() > deadline or mock.poll() is not None:
                    raise SystemExit("the mock did not start")
                time.sleep(0.05)
            url = port_file.read_text(encoding="utf-8")
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            env.update(PYTHONPYCACHEPREFIX=str(folder / "bytecode"), XDG_CACHE_HOME=str(folder / "cache"))
            suite = [*command(), "run", "--base-url", url]
            report = folder / "report.json"
            subprocess.run([*suite, "--report-json", str(report)], capture_output=True, env=env, check=False)
            Path(capture_file.as_posix() + ".stop").touch()
            captured = [json.loads(line) for line in capture_file.read_text(encoding="utf-8").splitlines()]
            cases = cases_of(report, captured)
            plain_dir = folder / "plain"
            plain_dir.mkdir()
            (plain_dir / "requests.json").write_text(json.dumps(cases), encoding="utf-8")
            (plain_dir / "base_url").write_text(url, encoding="utf-8")
            (plain_dir / "test_plain.py").write_text(PLAIN_SCRIPT, encoding="utf-8")
            plain = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_plain.py"]
            plain_env = {**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
            timed(plain, plain_env, str(plain_dir))  # warm both: file caches, bytecode
            timed(suite, env, scratch)
            suite_runs, plain_runs = [], []
            for _ in range(rounds):
                suite_runs.append(timed(suite, env, scratch))
                plain_runs.append(timed(plain, plain_env, str(plain_dir)))
        finally:
            mock.terminate()
            mock.wait(timeout=10)
    print(f"cases: {len(cases)}, requests per run: {len(captured)}, rounds: {rounds} (alternating; medians)")
    for index, measure in enumerate(("wall", "CPU")):
        suite_figures = [run[index] for run in suite_runs]
        plain_figures = [run[index] for run in plain_runs]
        suite_median, plain_median = statistics.median(suite_figures), statistics.median(plain_figures)
        print(f"{measure} seconds")
        print(f"  graph-conformance run --base-url:   {suite_median:6.2f}  ({_listed(suite_figures)})")
        print(f"  bare pytest + httpx, same requests: {plain_median:6.2f}  ({_listed(plain_figures)})")
        per_round = [s / p for s, p in zip(suite_figures, plain_figures, strict=True)]
        print(
            f"  ratio of the medians: {suite_median / plain_median:.2f}x (target: at most 1.2x); per round: median "
            f"{statistics.median(per_round):.2f}x, range {min(per_round):.2f}-{max(per_round):.2f}x"
        )


def _listed(figures: list[float]) -> str:
    return ", ".join(f"{figure:.2f}" for figure in figures)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
