"""pytest plugin (entry point ``pytest11``): scenarios become parametrized cases ``<id>[<version>]``.

Order: configure, the exit codes, settings, addoption, hooks, then fixtures from broad to narrow scope.
Loading this module imports only pytest and the settings table: httpx, jsonschema, PyYAML and msal are
imported when a case runs, so installing graph-conformance costs other pytest runs nothing. The plugin
is inert until graph cases are collected: only then are settings resolved and checked (with no target,
the embedded reference mock is started), and only then are exit codes graph-conformance's 0, 1 or 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from conformance import __version__, scrub
from conformance.config import OPTIONS, VIA_PYTEST, VIA_RUN, Settings, resolve
from conformance.errors import ConformanceError, UsageError

if TYPE_CHECKING:
    import httpx

    from conformance.deviations import Deviation
    from conformance.report import CaseReport
    from conformance.runner import CaseResult, Runner
    from conformance.scenarios import Scenario
    from conformance.schemas import SchemaSet
    from conformance.workers import Outcome, Pool

SETTINGS_KEY = pytest.StashKey[Settings]()
REPORT_KEY: pytest.StashKey[list[CaseReport]] = pytest.StashKey()
RESULT_KEY: pytest.StashKey[CaseResult] = pytest.StashKey()


@dataclass(frozen=True)
class Case:
    """One parametrized case: a scenario against one API version, shown as ``<id>[<version>]``."""
    scenario: Scenario
    version: str

    @property
    def id(self) -> str:
        return f"{self.scenario.id}[{self.version}]"


CASES_KEY: pytest.StashKey[list[Case]] = pytest.StashKey()
INTERRUPTED_KEY: pytest.StashKey[str] = pytest.StashKey()
DEFERRED_KEY: pytest.StashKey[list[int]] = pytest.StashKey()  # signals held while the guard restores
BAD_INPUT_KEY = pytest.StashKey[list[str]]()  # unreadable or missing cassettes: the run ends as a usage error
PINS_KEY: pytest.StashKey[list[dict[str, Any]]] = pytest.StashKey()
HEALTH_KEY: pytest.StashKey[Any] = pytest.StashKey()
GRAPH_RUN_KEY = pytest.StashKey[bool]()  # set once graph cases are collected: the plugin is inert until then
PROBLEM_KEY = pytest.StashKey[str]()  # a usage error found while collecting: the run ends with it
EMBEDDED_KEY = pytest.StashKey[str]()  # the URL of the embedded reference mock, when no target was given
DEVIATIONS_KEY: pytest.StashKey[list[Deviation]] = pytest.StashKey()  # --expect-deviations, read at collection
MATCHED_KEY: pytest.StashKey[dict[int, Deviation]] = pytest.StashKey()  # a case's violations listed as expected
VIA_KEY = pytest.StashKey[str]()  # whose flags the user typed: run's (set by StartedByRun) or, by default, pytest's
SECRETS_KEY = pytest.StashKey[dict[str, str]]()  # the secrets run was given (StartedByRun), by setting name
APP_KEY = pytest.StashKey[Any]()  # the in-process app's host (transport.app.AppHost), with --graph-app


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


class StartedByRun:
    """Registered by ``graph-conformance run`` for the pytest session it starts (``pytest.main(plugins=...)``).

    run hands its settings on as the plugin's ``--graph-*`` flags; with this, messages name the flags the user
    typed (``--user``, not ``--graph-user``). A plugin object rather than a hidden option or an environment
    variable: nobody can set it by accident, it shows in no ``--help``, and it leaks into no child process.
    It also carries run's secrets, which pytest's own command line would show (``--debug`` logs it, and every
    plugin reads it)."""

    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        self.secrets = dict(secrets or {})  # the token and client secret: handed over here, never on argv

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[VIA_KEY] = VIA_RUN
        config.stash[SECRETS_KEY] = self.secrets


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers; nothing is resolved or checked until graph cases are collected."""
    config.addinivalue_line("markers", "graph_writes: the case changes the target's state")
    config.addinivalue_line("markers", "graph_unguarded: the case needs no live-tenant guard")
    config.stash[REPORT_KEY] = []


@pytest.hookimpl(wrapper=True)
def pytest_cmdline_main(config: pytest.Config) -> Generator[None, int | pytest.ExitCode, int | pytest.ExitCode]:
    """A run that collected graph cases ends 0 (conformant), 1 (violations) or 2 (anything else: bad options,
    settings or input, nothing selected or checked, interrupted); any other run keeps pytest's code."""
    try:
        code = yield
    except pytest.UsageError as exc:
        if GRAPH_RUN_KEY not in config.stash:
            raise
        for line in exc.args:
            sys.stderr.write(f"ERROR: {line}\n")
        return UsageError.exit_code
    if GRAPH_RUN_KEY not in config.stash or code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return code
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        sys.stderr.write("graph-conformance: error: no case was selected\n")
    return UsageError.exit_code


def _graph_settings(config: pytest.Config) -> Settings:
    """The run's settings, resolved and checked the first time graph cases are collected (never before, so
    the plugin cannot fail a run that collects none); with no target, the embedded reference mock is started."""
    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is not None:
        return settings
    cli = {o.name: config.getoption(_dest(o.flag)) for o in OPTIONS}
    secrets: dict[str, str] = config.stash.get(SECRETS_KEY, {})
    cli.update(secrets)  # given to run: as if typed, never on pytest's command line
    ini = {o.name: config.getini(f"graph_{o.name}") for o in OPTIONS if o.ini}
    record_mode = config.getoption("record_mode", default=None)
    via = config.stash.get(VIA_KEY, VIA_PYTEST)
    settings = resolve(cli, ini, record_mode=record_mode, via=via)
    if settings.replaying and config.getoption("disable_recording", False):
        raise UsageError("--record-mode none replays cassettes; it cannot go with --disable-recording")
    if settings.base_url is None:
        url = _start_embedded_mock(config)
        # the token is passed on as read: a token file (standard input too) is read once
        embedded = {**cli, "base_url": url, "token": settings.token, "token_file": None}
        settings = resolve(embedded, ini, record_mode=record_mode, via=via)
    if settings.in_process:
        _start_app(config, settings)
    config.stash[SETTINGS_KEY] = settings
    _on_termination_interrupt(config)
    return settings


def _start_embedded_mock(config: pytest.Config) -> str:
    """Start the reference mock on a free loopback port for the session (as ``graph-conformance run`` does
    without a target); it stops when the session ends. Its URL is returned."""
    from conformance.mock import create_app
    from conformance.mock.serve import BackgroundServer

    server = BackgroundServer(create_app())
    server.__enter__()
    config.add_cleanup(server.__exit__)
    config.stash[EMBEDDED_KEY] = server.url
    return server.url


def _start_app(config: pytest.Config, settings: Settings) -> None:
    """Start the in-process app's event loop and lifespan for the session; it stops when the session ends."""
    from conformance.inprocess import load_app
    from conformance.transport.app import AppHost

    app = settings.app or ""
    flag = settings.flag("app")
    host = AppHost(load_app(app, flag), app, flag, settings.timeout, settings.flag("timeout"))
    config.add_cleanup(host.close)
    config.stash[APP_KEY] = host


def pytest_addoption(parser: pytest.Parser) -> None:
    """The suite's options and ini keys, from the one option table in :mod:`conformance.config`."""
    group = parser.getgroup("graph-conformance", "Microsoft Graph QR code + PIN conformance")
    for option in OPTIONS:
        if option.kind == "flag":
            group.addoption(option.flag, action="store_true", dest=_dest(option.flag), help=option.help)
        elif option.kind == "list":
            group.addoption(option.flag, action="append", dest=_dest(option.flag), metavar="VALUE", help=option.help)
        else:
            group.addoption(option.flag, dest=_dest(option.flag), metavar=option.name.upper(), help=option.help)
        if option.ini:
            ini_kind: Literal["args", "string"] = "args" if option.kind == "list" else "string"
            parser.addini(f"graph_{option.name}", option.help, type=ini_kind)


def _load_cases(config: pytest.Config) -> list[Case]:
    if CASES_KEY in config.stash:
        return config.stash[CASES_KEY]
    from conformance.contract import default_schema_dir, read_documents, type_names
    from conformance.errors import ScenarioError
    from conformance.scenarios import CATALOGUE, PINNED, load_pins, load_scenarios

    settings = config.stash[SETTINGS_KEY]
    documents = read_documents(default_schema_dir())
    known = {n for v in settings.versions for n in type_names(documents, v)}
    try:
        scenarios = load_scenarios(list(settings.scenarios) or [CATALOGUE], known, base=Path(str(config.rootpath)))
    except ScenarioError as exc:
        raise UsageError(f"malformed scenarios ({len(exc.problems)} problems):\n" + "\n".join(exc.problems)) from None
    try:
        config.stash[PINS_KEY] = load_pins(settings.pinned or PINNED, scenarios)
    except ScenarioError as exc:
        raise UsageError("bad pinned alternatives:\n" + "\n".join(exc.problems)) from None
    _load_policy(config, settings, scenarios)
    cases = [Case(s, v) for s in scenarios for v in s.versions if v in settings.versions]
    if not cases:
        raise UsageError(f"no case selected: none of the scenarios runs on API version {', '.join(settings.versions)}")
    config.stash[CASES_KEY] = cases
    return cases


def _load_policy(config: pytest.Config, settings: Settings, scenarios: list[Scenario]) -> None:
    """The rules as markers (registered now, so --strict-markers knows them), ``--rule`` checked, and the
    ``--expect-deviations`` file read against every case the scenarios make."""
    from conformance import deviations, selection
    from conformance.rules import load_rules

    rules = load_rules()
    for line in selection.marker_lines(rules):
        config.addinivalue_line("markers", line)
    selection.check_rules(settings.rules, rules, settings.flag("rules"))
    if settings.expect_deviations is not None:
        every = {f"{s.id}[{v}]": selection.case_rules(s.tags, rules) for s in scenarios for v in s.versions}
        flag = settings.flag("expect_deviations")
        config.stash[DEVIATIONS_KEY] = deviations.load(settings.expect_deviations, every, rules, flag)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--rule``: only the graph cases carrying one of the given rules; the others are deselected."""
    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is None or not settings.rules or PROBLEM_KEY in config.stash:
        return
    wanted = set(settings.rules)
    kept = [i for i in items if _case_of(i) is None or wanted & {m.name for m in i.iter_markers()}]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """A usage error found while collecting graph cases ends the run now, before anything is sent."""
    problem = session.config.stash.get(PROBLEM_KEY, None)
    if problem is not None:
        raise pytest.UsageError(problem)


def _on_termination_interrupt(config: pytest.Config) -> None:
    """SIGTERM and SIGHUP end the run as Ctrl-C does: the case's cleanup runs, then the report."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    received: list[int] = []

    def interrupt(signum: int, frame: Any) -> None:
        if received:
            return  # cleanup is under way: let it finish
        received.append(signum)
        config.stash[INTERRUPTED_KEY] = signal.Signals(signum).name
        deferred = config.stash.get(DEFERRED_KEY, None)
        if deferred is not None:
            deferred.append(signum)  # the tenant is being put back: the interrupt waits until it is
            return
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, interrupt)

    def restore() -> None:
        for number, handler in previous.items():
            signal.signal(number, handler)

    config.add_cleanup(restore)


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    """The header of a graph run, shown whatever the verbosity: the target and how it is reached, what
    may be written, the schemas' digest, the case count, and how to reproduce."""
    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is None or PROBLEM_KEY in config.stash:
        return []
    from conformance.contract import default_schema_dir, digest
    from conformance.scrub import redact_url

    cases = _load_cases(config)
    target = settings.target_kind
    mode = {None: "live (no cassettes)", "none": "replay from cassettes"}.get(
        settings.record_mode, f"record ({settings.record_mode})"
    )
    versions = ",".join(settings.versions) if len(settings.versions) == 1 else "all"
    base_url = redact_url(settings.base_url or "")
    embedded = config.stash.get(EMBEDDED_KEY, None)
    target_flag = "" if embedded is not None else f" --base-url {base_url}"
    if settings.in_process:
        target_flag = f" --app {settings.app}"
    reproduce = f"graph-conformance run{target_flag} --api-version {versions} --user {settings.user}"
    if settings.record_mode:
        reproduce += f" --record-mode {settings.record_mode}"
    if settings.workers > 1:
        reproduce += f" --workers {settings.workers}"
    scenario_count = len({c.scenario.id for c in cases})
    lines = [
        f"graph-conformance: target {base_url} is {'an' if settings.in_process else 'a'} {settings.target_kind}; "
        f"may write: {settings.may_write()}",
        f"graph-conformance {__version__}: target {base_url} ({target}), "
        f"versions {', '.join(settings.versions)}, user {settings.user}, auth {settings.auth}",
        f"graph-conformance: {mode}, cassette folder {settings.cassette_dir}, "
        f"schemas digest {digest(default_schema_dir())}, {scenario_count} scenarios, {len(cases)} cases",
        f"graph-conformance: reproduce with: {reproduce}",
    ]
    if embedded is not None:
        given = "graph-conformance: no --graph-base-url given"
        lines.insert(0, f"{given}: running against the embedded reference mock at {embedded}")
    return lines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``graph_case`` with every scenario x version the settings select."""
    if "graph_case" not in metafunc.fixturenames:
        return
    config = metafunc.config
    config.stash[GRAPH_RUN_KEY] = True
    try:
        settings = _graph_settings(config)
        cases = _load_cases(config)
    except UsageError as exc:
        config.stash.setdefault(PROBLEM_KEY, str(exc))  # raised once collection is over (not as a collection error)
        metafunc.parametrize("graph_case", [])
        return
    from conformance.guard import refusal
    from conformance.rules import load_rules
    from conformance.selection import case_rules

    rules = load_rules()
    params = []
    for case in cases:
        marks: list[Any] = []
        if settings.record_mode:
            marks.append(pytest.mark.vcr)
        if settings.replaying:
            marks.append(pytest.mark.block_network)  # a replay answers from cassettes, never from the network
        if case.scenario.writes:
            marks.append(pytest.mark.graph_writes)
        marks += [getattr(pytest.mark, rule) for rule in case_rules(case.scenario.tags, rules)]
        reason = refusal(settings, case.scenario) or _missing_requirement(settings, case.scenario)
        if reason:
            marks.append(pytest.mark.skip(reason=reason))
        params.append(pytest.param(case, marks=marks, id=case.id))
    metafunc.parametrize("graph_case", params)


# run variables a scenario may need, each given by the setting of the same name, and what it is
RUN_VARIABLES = {
    "user_without_method": "a user without a QR code + PIN method",
    "user_upn": "the userPrincipalName of the user it acts on",
}


def _missing_requirement(settings: Settings, scenario: Scenario) -> str | None:
    """Why a scenario that uses a setting-provided run variable (derived from its templates) cannot run, or None."""
    from conformance.scenarios import scenario_variables

    needs = scenario_variables(scenario)
    for name, what in RUN_VARIABLES.items():
        if name in needs and not getattr(settings, name):
            return f"it needs {what}: give {settings.flag(name)}"
    app_only = settings.auth in ("client-secret", "client-certificate")
    if app_only and scenario.through_me:
        return f"/me needs a delegated token, and {settings.flag('auth')} {settings.auth} gets an app-only one"
    return None


def _case_of(item: pytest.Item) -> Case | None:
    """The graph case a test item runs, if it runs one."""
    callspec = getattr(item, "callspec", None)
    case = callspec.params.get("graph_case") if callspec is not None else None
    return case if isinstance(case, Case) else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Record each graph case's verdict for the JSON report and the summary."""
    report = yield
    case = _case_of(item)
    if case is None:
        return report
    from conformance import deviations
    from conformance.report import CaseReport

    if report.when == "call" or (report.when == "setup" and not report.passed):
        result = item.stash.get(RESULT_KEY, None)
        outcome = result.outcome if result is not None else ("skipped" if report.skipped else "error")
        matched = item.stash.get(MATCHED_KEY, {})
        if result is not None and deviations.all_expected(result, matched):
            outcome = "expected-deviation"
        reason = None
        if report.skipped and isinstance(report.longrepr, tuple):
            reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        elif result is None and report.failed:
            reason = report.longreprtext.strip().splitlines()[-1] if report.longreprtext else None
        entry = CaseReport(case.id, outcome, case.scenario, result, reason, deviations=matched)
        item.config.stash[REPORT_KEY].append(entry)
    crash = getattr(report.longrepr, "reprcrash", None)
    if report.failed and crash is not None:  # JUnit's message attribute: the first violation, without "Failed: "
        crash.message = crash.message.removeprefix("Failed: ")
    return report


def _nothing_checked(config: pytest.Config) -> str | None:
    """When every selected graph case was skipped: a run that checked nothing is no verdict."""
    settings = config.stash.get(SETTINGS_KEY, None)
    entries = config.stash.get(REPORT_KEY, [])
    if settings is None or not settings.base_url or config.option.collectonly or not entries:
        return None
    if any(entry.outcome != "skipped" for entry in entries):
        return None
    return (
        f"graph-conformance: error: nothing was checked: all {len(entries)} selected cases were skipped "
        "(see the reasons above)"
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run that checked nothing (every case skipped) ends as a usage error, not a pass."""
    if session.exitstatus == pytest.ExitCode.OK and _nothing_checked(session.config):
        session.exitstatus = pytest.ExitCode.USAGE_ERROR


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The human summary, the rules a limited run checked, and where the reports (JSON, HTML, Markdown) went."""
    settings = config.stash.get(SETTINGS_KEY, None)
    entries = config.stash.get(REPORT_KEY, [])
    if settings is None or not settings.base_url or config.option.collectonly:
        return
    from conformance import deviations, report
    from conformance.contract import default_schema_dir, digest

    terminalreporter.section("graph-conformance")
    for line in report.human(entries):
        terminalreporter.write_line(line)
    listed = config.stash.get(DEVIATIONS_KEY, [])
    unseen = deviations.unseen(listed, entries)
    for line in deviations.unseen_lines(unseen):
        terminalreporter.write_line(line)
    if not config.option.keyword and not config.option.markexpr and not settings.rules:
        rules_line = report.rules_checked(entries, settings)
        if rules_line:
            terminalreporter.write_line(rules_line)
    nothing = _nothing_checked(config)
    if nothing:
        terminalreporter.write_line(nothing)
    interrupted = config.stash.get(INTERRUPTED_KEY, None)
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        cause = interrupted or "KeyboardInterrupt"
        terminalreporter.write_line(
            f"graph-conformance: interrupted ({cause}): the running case's cleanup ran; "
            "the report covers the cases that finished"
        )
    unseen_json = [d.as_json() for d in unseen]
    if settings.report or settings.report_html or settings.report_markdown:
        from conformance import report_views

        contents = report.document(entries, settings.public(), digest(default_schema_dir()), unseen_json)
        if settings.report:
            report.write_json(settings.report, contents)
            terminalreporter.write_line(f"graph-conformance: JSON report written to {settings.report}")
        for line in report_views.write(contents, settings.report_html, settings.report_markdown):
            terminalreporter.write_line(line)
    if settings.write_deviations:
        found = deviations.entries_from_report([entry.as_json() for entry in entries])
        deviations.write(settings.write_deviations, found, f"a run against {settings.public()['base_url']}")
        terminalreporter.write_line(
            f"graph-conformance: {len(found)} deviations written to {settings.write_deviations}; "
            "write each one's reason before using it"
        )


# --- fixtures, broad to narrow -------------------------------------------------------------------


@pytest.fixture(scope="session")
def graph_settings(request: pytest.FixtureRequest) -> Settings:
    """The run's resolved settings."""
    return _graph_settings(request.config)


@pytest.fixture(scope="session")
def graph_schemas() -> SchemaSet:
    """The derived schemas the checks validate against."""
    from conformance.contract import default_schema_dir
    from conformance.schemas import SchemaSet

    return SchemaSet(default_schema_dir())


@pytest.fixture(scope="session")
def graph_client(graph_settings: Settings, pytestconfig: pytest.Config) -> Iterator[httpx.Client]:
    """The run's bounded httpx client for the target (or the in-process app), with its auth; closed at the end
    of the session."""
    import httpx

    from conformance.auth import build_auth

    auth = build_auth(graph_settings)
    from conformance.transport import BoundedTransport

    host = pytestconfig.stash.get(APP_KEY, None)
    proxy = _environment_proxy(graph_settings.base_url or "", graph_settings.is_loopback)
    timeout, max_bytes = graph_settings.timeout, graph_settings.max_response_bytes
    try:
        if host is not None:
            bounded = host.transport(timeout=timeout, max_bytes=max_bytes)
        else:
            bounded = BoundedTransport(timeout=timeout, max_bytes=max_bytes, proxy=proxy)
    except (ImportError, ValueError) as exc:  # e.g. a socks:// proxy without httpx's socks extra
        pytest.exit(f"graph-conformance: error: cannot use the environment's proxy {proxy!r}: {exc}", returncode=2)
    with httpx.Client(timeout=graph_settings.timeout, auth=auth, follow_redirects=False, transport=bounded) as client:
        yield client
    close = getattr(auth, "close", None)
    if close is not None:
        close()  # msal's keep-alive session to the authority


def _replay_miss(exc: BaseException, settings: Settings, cassette: str) -> str | None:
    """One line for a request a cassette does not hold (or that a replay could only send to the network)."""
    kind = type(exc).__name__
    if kind != "CannotOverwriteExistingCassetteException" and not (
        settings.replaying and isinstance(exc, RuntimeError) and "Network is disabled" in str(exc)
    ):
        return None
    where = settings.cassette_dir / f"{cassette}.yaml"
    return (
        f"cassette {where} holds no answer for a request this case sends (record it with --record-mode once, "
        "with the same scenarios, target and write flags)"
    )


def _environment_proxy(url: str, loopback: bool) -> str | None:
    """The proxy the environment names for ``url`` (HTTPS_PROXY, ALL_PROXY, NO_PROXY...); never for loopback."""
    import urllib.request
    from urllib.parse import urlsplit

    if loopback:
        return None  # a local target is reached directly: no proxy sees its requests or the token
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def _runner(
    config: pytest.Config,
    settings: Settings,
    client: httpx.Client,
    schemas: SchemaSet,
    stopping: Callable[[], bool] | None = None,
) -> Runner:
    """A runner for one case, acting on ``settings.user`` under the run's health, pins and guard."""
    from conformance.guard import send_check
    from conformance.runner import Runner
    from conformance.transport import TargetHealth

    return Runner(
        client,
        base_url=settings.base_url or "",
        user=settings.user,
        schemas=schemas,
        retry_budget=settings.retry_budget,
        send_clock=settings.record_mode is not None,
        pins=config.stash.get(PINS_KEY, []),
        timeout=settings.timeout,
        max_response_bytes=settings.max_response_bytes,
        health=config.stash.setdefault(HEALTH_KEY, TargetHealth()),
        variables={name: getattr(settings, name) or "" for name in RUN_VARIABLES},
        may_send=send_check(settings),
        stopping=stopping,
    )


def _skipped(item: pytest.Item) -> bool:
    """Whether pytest skips the item by its skip and skipif marks (the guard's refusals, a user's own marks)."""
    from _pytest.skipping import evaluate_skip_marks

    try:
        return evaluate_skip_marks(item) is not None
    except Exception:  # a condition pytest cannot evaluate: the item errors, its case must not run
        return True


@pytest.fixture(scope="session")
def graph_workers(
    request: pytest.FixtureRequest, graph_settings: Settings, graph_client: httpx.Client, graph_schemas: SchemaSet
) -> Iterator[Pool[Case] | None]:
    """With ``--workers`` above 1: the worker threads running the selected cases (started by the first case);
    stopped before the client closes. None otherwise: each case runs in its item."""
    if graph_settings.workers == 1:
        yield None
        return
    from conformance import deviations
    from conformance.transport import TargetHealth
    from conformance.workers import Pool, run_case

    config = request.config
    health = config.stash.setdefault(HEALTH_KEY, TargetHealth())
    cases = []
    for item in request.session.items:
        case = _case_of(item)
        if case is not None and not _skipped(item):
            cases.append((item.nodeid, case))

    def execute(case: Case, settings: Settings, stopping: Callable[[], bool]) -> Outcome:
        runner = _runner(config, settings, graph_client, graph_schemas, stopping)
        return run_case(case, settings, graph_client, health, runner)

    def fails(case: Case, outcome: Outcome) -> bool:
        """Whether the item fails, as :func:`graph_run` judges it: with --strict-drift, drift fails it too, and a
        case whose every violation is listed in --expect-deviations does not."""
        result = outcome.result
        if result is None or result.outcome not in ("passed", "failed") or outcome.failure or outcome.error:
            return outcome.fails
        violations = list(result.violations)
        if graph_settings.strict_drift:
            violations += deviations.drift_as_violations([], result.notes)[0]
        if not violations:
            return False
        listed = config.stash.get(DEVIATIONS_KEY, [])
        return len(deviations.judge(listed, case.id, case.scenario.tags, violations)) < len(violations)

    pool = Pool(cases, graph_settings, execute, maxfail=config.option.maxfail or 0, fails=fails)
    pool.start()
    try:
        yield pool
    finally:
        pool.stop()
        pool.join()  # the cases in flight end: an interrupted one runs its cleanup, its guard restores
        from conformance.report import CaseReport

        cause = config.stash.get(INTERRUPTED_KEY, "KeyboardInterrupt")
        stopped_by_interrupt = pool.interrupted_run or request.session.exitstatus == pytest.ExitCode.INTERRUPTED
        # cases in flight when -x's failure ended the run are not reported, as a serial run never started them
        for case, problem in pool.interrupted if stopped_by_interrupt or INTERRUPTED_KEY in config.stash else []:
            error = f"interrupted ({cause}) while it ran; its cleanup ran" + (f"; {problem}" if problem else "")
            config.stash[REPORT_KEY].append(CaseReport(case.id, "interrupted", case.scenario, error=error))


@pytest.fixture
def graph_run(
    request: pytest.FixtureRequest,
    graph_settings: Settings,
    graph_client: httpx.Client,
    graph_schemas: SchemaSet,
    graph_workers: Pool[Case] | None,
    vcr_cassette_dir: str,
    default_cassette_name: str,
) -> Callable[[Case], CaseResult]:
    """Run a case and fail the test with every violation it found."""
    from conformance import deviations, findings
    from conformance.guard import CaseGuard
    from conformance.recording import recorded_clock
    from conformance.report import CaseReport, failure_message
    from conformance.scenarios import utc_now
    from conformance.transport import TargetHealth

    graph_health = request.config.stash.setdefault(HEALTH_KEY, TargetHealth())

    def restore(guard: CaseGuard) -> str | None:
        """The guard's restore, with SIGTERM and SIGHUP held back until it is done."""
        request.config.stash[DEFERRED_KEY] = []
        try:
            return guard.after()
        finally:
            del request.config.stash[DEFERRED_KEY]

    def interrupted(case: Case, message: str, problem: str | None) -> None:
        """Report a case the run was interrupted in (pytest makes no report for it)."""
        error = f"{message}; {problem}" if problem else message
        request.config.stash[REPORT_KEY].append(CaseReport(case.id, "interrupted", case.scenario, error=error))

    def serial(case: Case) -> CaseResult:
        __tracebackhide__ = True
        guard = CaseGuard(graph_client, graph_settings, case.scenario, case.version, graph_health)
        skip = None if graph_health.stop_reason else guard.before()
        if skip:
            pytest.skip(skip)
        missing = None
        try:
            result = _run_case(case)
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM or SIGHUP: the runner's cleanup steps have run
            problem = restore(guard)  # the policy is restored however the case ends
            cause = request.config.stash.get(INTERRUPTED_KEY, "KeyboardInterrupt")
            interrupted(case, f"interrupted ({cause}) while it ran; its cleanup ran", problem)
            raise
        except BaseException as exc:
            problem = restore(guard)
            if problem:
                pytest.fail(f"{case.id}: {problem}", pytrace=False)
            missing = _replay_miss(exc, graph_settings, default_cassette_name)
            if not missing:
                raise
            request.config.stash.setdefault(BAD_INPUT_KEY, []).append(missing)
        if missing:  # outside the except block: one line, without vcrpy's exception chained to it
            pytest.fail(f"{case.id}: {missing}", pytrace=False)
        problem = restore(guard)
        if problem:
            result.error = f"{result.error}; {problem}" if result.error else problem
        held = request.config.stash.get(INTERRUPTED_KEY, None)
        if held:  # a signal came while the tenant was put back: the run ends now that it is
            interrupted(case, f"interrupted ({held}) as it ended; its cleanup and restore ran", problem)
            raise KeyboardInterrupt(held)
        return result

    def parallel(pool: Pool[Case]) -> CaseResult:
        """The outcome of this item's case from the workers, reported as :func:`serial` reports it."""
        __tracebackhide__ = True
        done = pool.outcome(request.node.nodeid)  # interrupted: no case starts, those in flight end first
        if done.skip:
            pytest.skip(done.skip)
        if done.failure:
            pytest.fail(done.failure, pytrace=False)
        if done.error is not None:
            raise done.error
        assert done.result is not None
        return done.result

    def run(case: Case) -> CaseResult:
        __tracebackhide__ = True
        result = serial(case) if graph_workers is None else parallel(graph_workers)
        request.node.stash[RESULT_KEY] = result
        if graph_settings.strict_drift:
            result.violations, result.notes = deviations.drift_as_violations(result.violations, result.notes)
        matched = deviations.apply(request.config.stash.get(DEVIATIONS_KEY, []), case.id, case.scenario.tags, result)
        request.node.stash[MATCHED_KEY] = matched
        for note in result.notes:
            request.node.user_properties.append(("drift", findings.text(note)))
        if result.outcome == "skipped":
            pytest.skip(result.not_applicable or "not applicable")
        if deviations.all_expected(result, matched):
            pytest.xfail(deviations.expected_reason(result.violations, matched))
        if result.outcome != "passed":
            listed = deviations.expected_lines(result.violations, matched)
            pytest.fail("\n".join([failure_message(result), *listed]), pytrace=False)
        return result

    def _run_case(case: Case) -> CaseResult:
        __tracebackhide__ = True
        now = utc_now()
        if graph_settings.record_mode in ("none", "once", "new_episodes"):
            # these modes play back what a cassette holds: its requests must be rendered with its clock
            now = recorded_clock(Path(vcr_cassette_dir) / f"{default_cassette_name}.yaml") or now
        runner = _runner(request.config, graph_settings, graph_client, graph_schemas)
        try:
            return runner.run(case.scenario, case.version, now)
        except ConformanceError as exc:  # e.g. no token could be had
            pytest.fail(f"{case.id}: {scrub.scrub_text(str(exc))}", pytrace=False)

    return run
