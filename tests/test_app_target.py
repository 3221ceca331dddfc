"""``--app module:attr``: the suite against an ASGI app in-process, as a user runs it (``graph-conformance run``
and plain pytest, in subprocesses): the reference mock passes as over HTTP, a broken variant fails naming
its violation, an app that hangs, blocks, trickles, floods or raises costs bounded time and memory like a
hostile server, bad specs are one-line usage errors, recording works, and no socket is bound or connected.
The apps are in ``tests/inprocess_apps.py``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from textwrap import dedent

import pytest

from conformance.config import APP_ORIGIN, resolve
from conformance.errors import UsageError
from tests import hostile
from tests.helpers import REPO, SUITE, graph_conformance
from tests.inprocess_apps import SHUTDOWN_MARK

APPS = "tests.inprocess_apps"
TIMEOUT = hostile.TIMEOUT
SOME_READS = hostile.SOME_READS  # 4 cases, one GET each
SUMMARY = re.compile(r"^graph-conformance: \d+ passed, .*$", re.MULTILINE)
LEAKED_PIN = "58219374"  # the PIN the "PIN leaked on GET" variant shows


def environment(**extra: str) -> dict[str, str]:
    """The environment of a run from any folder: the repository importable (``tests.inprocess_apps``)."""
    paths = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), **extra}


def spawn(command: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``command`` in a subprocess from ``cwd``, in :func:`environment`, its output kept."""
    return subprocess.run(command, cwd=cwd, env=environment(), capture_output=True, text=True, timeout=timeout)


def summary(output: str) -> str:
    found = SUMMARY.search(output)
    assert found is not None, output[-3000:]
    return found[0]


# --- the reference mock and a broken variant -------------------------------------------------------------


def test_the_reference_mock_in_process_passes_with_the_same_cases_as_over_http() -> None:
    in_process = graph_conformance("run", "--app", "conformance.mock:create_app()", timeout=300)
    over_http = graph_conformance("run", timeout=300)
    assert (in_process.returncode, over_http.returncode) == (0, 0), in_process.stdout[-3000:]
    assert summary(in_process.stdout) == summary(over_http.stdout)
    assert in_process.stdout.splitlines()[-1].split(" in ")[0] == over_http.stdout.splitlines()[-1].split(" in ")[0]
    lines = in_process.stdout.splitlines()
    kind = "in-process ASGI app conformance.mock:create_app(), no network"
    assert f"graph-conformance: target {APP_ORIGIN} is an {kind}; may write: anything (in-process app)" in lines
    reproduce = "graph-conformance run --app conformance.mock:create_app() --api-version all --user"
    assert f"graph-conformance: reproduce with: {reproduce} 00000000-0000-4000-8000-00000000c0de" in lines
    assert "embedded reference mock" not in in_process.stdout + in_process.stderr
    assert "embedded reference mock" in over_http.stdout  # the comparison ran over HTTP indeed


def test_a_broken_variant_in_process_fails_naming_its_violation(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = graph_conformance("run", "--app", f"{APPS}:pin_leaked", "--report-json", report, timeout=300)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "$.pin.code: expected no value shown (absent, null or an empty string)" in result.stdout
    assert LEAKED_PIN not in result.stdout + result.stderr + report.read_text()
    written = json.loads(report.read_text())
    assert written["settings"]["target"] == f"in-process ASGI app {APPS}:pin_leaked, no network"
    assert written["settings"]["app"] == f"{APPS}:pin_leaked"


def test_the_plugin_runs_an_app_in_process_with_the_network_blocked(tmp_path: Path) -> None:
    """Plain pytest, with pytest-recording blocking every connection (loopback too): in-process needs none."""
    blocked = ["--block-network", "--allowed-hosts=nothing.invalid", "-c", os.devnull, "--rootdir", str(tmp_path)]
    command = [sys.executable, "-m", "pytest", *SUITE, *blocked]
    in_process = spawn([*command, "--graph-app", f"{APPS}:reference", "-q"], tmp_path, timeout=300)
    assert in_process.returncode == 0, in_process.stdout[-3000:]
    passed = re.match(r"graph-conformance: (\d+) passed, 0 failed, 0 errors, ", summary(in_process.stdout))
    assert passed is not None and int(passed[1]) >= 100, in_process.stdout[-3000:]
    # the same command against the embedded mock over loopback: the block is real
    over_http = spawn([*command, "-q", "-k", SOME_READS], tmp_path)
    assert over_http.returncode == 1, over_http.stdout[-3000:]


AUDIT = dedent(
    """\
    import socket, sys
    seen = []
    def hook(event, args):
        if event in ("socket.bind", "socket.connect") and args[0].family != socket.AF_UNIX:
            seen.append(f"{event} {args[1]!r}")
    sys.addaudithook(hook)
    from conformance.cli import main
    try:
        code = main(sys.argv[2:])
    finally:
        with open(sys.argv[1], "w") as out:
            out.write("\\n".join(seen))
    sys.exit(code)
    """
)


@pytest.mark.parametrize("target", [["--app", f"{APPS}:reference"], []], ids=["in-process", "embedded-mock"])
def test_no_socket_is_bound_or_connected_in_process(target: list[str], tmp_path: Path) -> None:
    """Python's audit hook sees every bind and connect of an internet socket: none in-process, some over HTTP."""
    seen = tmp_path / "sockets"
    result = spawn([sys.executable, "-c", AUDIT, str(seen), "run", *target, "-k", SOME_READS], REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    events = seen.read_text().splitlines()
    if target:
        assert events == []
    else:
        assert any(e.startswith("socket.bind") for e in events) and any(e.startswith("socket.connect") for e in events)


# --- an app's lifespan -------------------------------------------------------------------------------------


def test_the_lifespan_starts_before_the_run_and_shuts_down_after_it(tmp_path: Path) -> None:
    mark = tmp_path / "shut-down"
    env = environment(**{SHUTDOWN_MARK: str(mark)})
    result = graph_conformance("run", "--app", f"{APPS}:with_lifespan", "-k", SOME_READS, env=env)
    assert result.returncode == 0, result.stdout[-3000:]  # every request needs what startup put in its state
    assert "4 passed" in result.stdout
    assert mark.read_text() == "shut down"


# --- bad specs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        (APPS, f"--app '{APPS}': give module:attribute (e.g. mypackage.mock:app) or module:factory()"),
        (f"{APPS}:make(1)", "arguments cannot be passed to a factory"),
        ("no_such_module:app", "no module named 'no_such_module' (run from the folder that holds it, or add"),
        ("badimport:app", "importing badimport raised ZeroDivisionError: division by zero; fix the module"),
        ("needsdep:app", "importing needsdep raised ModuleNotFoundError: No module named 'not_installed_dep'"),
        (f"{APPS}:nope", f"{APPS} has no attribute 'nope'; name the app object after the colon"),
        (f"{APPS}:NOT_AN_APP", f"{APPS}.NOT_AN_APP is a str, not an ASGI app"),
        (f"{APPS}:NOT_AN_APP()", f"{APPS}.NOT_AN_APP is a str, not a factory to call; drop the '()'"),
        (f"{APPS}:factory_that_raises()", "raised ValueError: no configuration found; fix the factory"),
        (f"{APPS}:wsgi", "it cannot be called as an ASGI 3 app, with scope, receive and send"),
        (f"{APPS}:reference_factory", "a factory is named as module:factory()"),
        (f"{APPS}:startup_fails", "its lifespan startup failed: ConnectionError: database unreachable"),
    ],
)
def test_a_bad_spec_is_one_line_naming_the_flag_and_the_fix(spec: str, says: str, tmp_path: Path) -> None:
    (tmp_path / "badimport.py").write_text("1 / 0\n")
    (tmp_path / "needsdep.py").write_text("import not_installed_dep\n")
    result = graph_conformance("run", "--app", spec, cwd=tmp_path, env=environment())
    assert result.returncode == 2, result.stdout[-3000:]
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and says in errors[0], result.stderr
    assert re.search(r"(^| )--app ", errors[0])  # the flag as typed (run's, not the plugin's --graph-app)
    assert "passed" not in result.stdout


def test_a_lifespan_startup_that_never_ends_is_bounded_by_the_timeout() -> None:
    started = time.monotonic()
    result = graph_conformance("run", "--app", f"{APPS}:startup_hangs", "--timeout", "1")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"ERROR: --app {APPS}:startup_hangs: its lifespan startup did not finish within 1s (--timeout)"
    ]  # nothing else: the app's loop was stopped with its tasks unwound
    assert time.monotonic() - started < 15


def test_a_bad_spec_through_the_plugin_is_one_line_too(tmp_path: Path) -> None:
    result = spawn([sys.executable, "-m", "pytest", *SUITE, "--graph-app", f"{APPS}:startup_fails"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"ERROR: --graph-app {APPS}:startup_fails: its lifespan startup failed: ConnectionError: database unreachable"
    ]
    assert "Traceback" not in result.stdout + result.stderr


def test_an_app_and_a_base_url_are_two_targets() -> None:
    result = graph_conformance("run", "--app", f"{APPS}:reference", "--base-url", "http://127.0.0.1:9")
    assert (result.returncode, result.stderr.strip()) == (
        2,
        "graph-conformance: error: --app and --base-url both name a target: give one of them",
    )


def test_a_target_given_higher_wins_and_two_given_alike_are_refused() -> None:
    """CLI > environment > ini, for the target as for every setting: an app named in the ini file gives way
    to a base URL on the command line or in the environment, and a flag's app to a variable's base URL."""
    app = f"{APPS}:reference"
    by_ini = resolve({"base_url": "http://127.0.0.1:9"}, {"app": app}, environ={})
    assert (by_ini.base_url, by_ini.app) == ("http://127.0.0.1:9", None)
    by_variable = resolve({}, {"app": app}, environ={"GRAPH_BASE_URL": "http://127.0.0.1:9"})
    assert (by_variable.base_url, by_variable.in_process) == ("http://127.0.0.1:9", False)
    by_flag = resolve({"app": app}, {}, environ={"GRAPH_BASE_URL": "https://graph.microsoft.com"})
    assert (by_flag.base_url, by_flag.in_process, by_flag.guarded) == (APP_ORIGIN, True, False)
    with pytest.raises(UsageError, match=r"^ini graph_app and ini graph_base_url both name a target"):
        resolve({}, {"app": app, "base_url": "http://127.0.0.1:9"}, environ={})


def test_the_app_is_imported_from_the_current_folder_by_the_console_script(tmp_path: Path) -> None:
    """The installed ``graph-conformance`` script has its own folder on sys.path, not the user's: the app's
    module is found in the current folder all the same, as ``python -m`` and uvicorn find it."""
    (tmp_path / "mymock.py").write_text("from conformance.mock import create_app\n\napp = create_app()\n")
    script = Path(sys.executable).with_name("graph-conformance")
    if not script.is_file():
        pytest.skip("the graph-conformance console script is not installed beside this Python")
    result = spawn([str(script), "run", "--app", "mymock:app", "-k", SOME_READS], tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "4 passed" in result.stdout


# --- writes, the guard, recording --------------------------------------------------------------------------


def test_writes_run_in_process_and_the_guard_stays_closed_for_every_real_url() -> None:
    settings = resolve({"app": f"{APPS}:reference"}, {}, environ={})
    assert settings.base_url == APP_ORIGIN and settings.in_process and not settings.guarded
    assert settings.write_refusal() is None
    assert settings.user_without_method and settings.user_upn  # the mock's defaults, as on loopback
    for url in ("https://graph.microsoft.com", "http://app.invalid.example", "http://10.0.0.1"):
        live = replace(settings, base_url=url)  # an app name beside a real URL never opens the guard
        assert not live.in_process and live.guarded and live.write_refusal() is not None


def test_a_recording_made_in_process_replays_over_http_with_each_request_once(tmp_path: Path) -> None:
    selection = ["-k", "policy-read or method-create-needs-standard-code"]
    app, http = tmp_path / "app", tmp_path / "http"
    made = graph_conformance(
        "run", "--app", f"{APPS}:reference", "--record-mode", "once", "--cassette-dir", app, *selection
    )
    over_http = graph_conformance("run", "--record-mode", "once", "--cassette-dir", http, *selection)
    assert (made.returncode, over_http.returncode) == (0, 0), made.stdout[-3000:]
    names = sorted(p.name for p in app.glob("*.yaml"))
    assert names == sorted(p.name for p in http.glob("*.yaml")) and len(names) == 4
    for name in names:  # vcrpy records the in-process exchanges once each, as it does over the network
        count = (app / name).read_text().count("\n- request:")
        assert count == (http / name).read_text().count("\n- request:") and count >= 1, name
    replayed = graph_conformance(
        "run", "--base-url", "http://localhost:1", "--record-mode", "none", "--cassette-dir", app, *selection
    )
    assert replayed.returncode == 0, replayed.stdout[-3000:]
    assert "4 passed" in replayed.stdout


# --- apps that misbehave as hostile servers do ---------------------------------------------------------------


@dataclass(frozen=True)
class Misbehaving:
    """An app of ``tests/inprocess_apps.py`` that misbehaves, and what the run against it must show."""

    app: str
    says: str
    keyword: str | None = SOME_READS  # None: the whole catalogue
    seconds: float = 4 * TIMEOUT + 15  # wall-time bound, startup included (as for the hostile servers)


MISBEHAVING = (
    Misbehaving("hangs", "not run: target unreachable (no answer within 2s (ReadTimeout))", None),
    Misbehaving("blocks", "not run: target unreachable (no answer within 2s (ReadTimeout))", None),
    Misbehaving("trickles", "no complete answer within 2s (received"),
    Misbehaving("huge", "got more than 16 MiB (wire)"),
    Misbehaving("raises", "status: expected 401, got 500"),
)


@dataclass
class Ran:
    exit_code: int
    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str
    report: dict[str, object]


def run_misbehaving(case: Misbehaving, workdir: Path) -> Ran:
    """``graph-conformance run --app`` against the app, from the hostile corpus's peak-RSS wrapper."""
    workdir.mkdir()
    rss, report = workdir / "rss", workdir / "report.json"
    command = [sys.executable, "-m", "conformance", "run", "--app", f"{APPS}:{case.app}", "--timeout", f"{TIMEOUT:g}"]
    command += ["--report-json", str(report), *(["-k", case.keyword] if case.keyword else [])]
    started = time.monotonic()
    done = spawn([sys.executable, "-c", hostile._WRAPPER, str(rss), *command], REPO, timeout=case.seconds + 30)
    seconds = time.monotonic() - started
    written = json.loads(report.read_text()) if report.is_file() else {}
    return Ran(done.returncode, seconds, int(rss.read_text()) / 1024, done.stdout, done.stderr, written)


@pytest.fixture(scope="module")
def misbehaved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Ran]:
    root = tmp_path_factory.mktemp("misbehaving")
    with ThreadPoolExecutor(max_workers=3) as pool:  # most of each run is waiting
        futures = {case.app: pool.submit(run_misbehaving, case, root / case.app) for case in MISBEHAVING}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", MISBEHAVING, ids=[c.app for c in MISBEHAVING])
def test_a_misbehaving_app_costs_bounded_time_and_memory_and_is_reported_per_case(
    case: Misbehaving, misbehaved: dict[str, Ran]
) -> None:
    ran = misbehaved[case.app]
    output = ran.stdout + ran.stderr
    assert ran.exit_code == 1, output[-3000:]
    assert ran.seconds < case.seconds, f"{case.app}: {ran.seconds:.1f}s\n{output[-3000:]}"
    assert ran.peak_rss_mb < hostile.RSS_LIMIT_MB
    assert "Traceback" not in output and "INTERNALERROR" not in output, output[-3000:]
    assert "Task was destroyed" not in output, output[-3000:]
    assert case.says in ran.stdout, ran.stdout[-3000:]
    cases = ran.report["cases"]
    assert isinstance(cases, list) and cases
    verdicts = [c["outcome"] for c in cases]
    assert "passed" not in verdicts
    if case.keyword is None:  # the whole catalogue: after two failures the rest was never sent
        assert verdicts.count("not-run") >= len(verdicts) - 2, verdicts
    if case.app == "raises":  # answered as a server would: 500, naming the exception
        assert "the app raised RuntimeError: the handler fell over" in ran.stdout
