"""The ``graph-conformance`` command: a thin shell over the library.

Exit codes: 0 conformant / up to date / agrees, 1 violations, drift or differences found, 2 usage or
configuration error, or input refused.
Heavy modules (jsonschema, httpx, msal) are imported inside the subcommands, never at start-up,
so ``graph-conformance --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from conformance import __version__
from conformance.errors import ConformanceError, UsageError

if TYPE_CHECKING:
    from conformance.config import Settings
    from conformance.csdl import CsdlModel


RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
RECORD_MODE_HELP = "record cassettes, or replay them with 'none' (the network is then blocked)"
# the settings of run that a $metadata audit uses: the target, its credentials, recording and the limits
METADATA_OPTIONS = ("base_url", "api_version", "token", "token_file", "cassette_dir", "timeout", "max_response_bytes")
REPEATED = {"scenarios": "PATH", "rules": "RULE"}  # the list settings of run given once per value
SECRET_SETTINGS = ("token", "client_secret")  # handed to the plugin as objects: pytest's argv is logged and shown
NO_AUTOLOAD = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"
SPOOL_IN_MEMORY = 4 * 1024 * 1024  # a larger $metadata is spooled to a temporary file for the passes over bases
SPOOL_CHUNK = 64 * 1024
METADATA_TIMEOUT = "60"  # seconds for one $metadata exchange: real Graph's is tens of MB


def _add_options(
    parser: argparse.ArgumentParser, names: Sequence[str] | None = None, helps: dict[str, str] | None = None
) -> None:
    """The flags of ``run`` from the one settings table (only ``names`` when given; ``helps`` replaces texts).

    Every setting is offered, each under its :attr:`~conformance.config.Option.run` flag, as the plugin offers
    it under its ``--graph-*`` flag: flags store true and lists repeat, on both command lines."""
    from conformance.config import OPTIONS

    for option in OPTIONS:
        if names is not None and option.name not in names:
            continue
        shown = (helps or {}).get(option.name, option.help)
        if option.kind == "flag":
            parser.add_argument(option.run, action="store_true", dest=option.name, help=shown)
        elif option.kind == "list":
            metavar = REPEATED.get(option.name, option.name.upper())
            parser.add_argument(option.run, action="append", dest=option.name, metavar=metavar, help=shown)
        else:
            parser.add_argument(
                option.run, dest=option.name, choices=option.choices, metavar=option.name.upper(), help=shown
            )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graph-conformance",
        description="Contract-conformance suite for the Microsoft Graph QR code + PIN authentication method API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the conformance suite against a target (a thin shell over pytest)",
        usage="graph-conformance run [options] [-- PYTEST_ARGS ...]",
        description="Run the conformance suite. Arguments after -- are passed on to pytest as they are, "
        "e.g. graph-conformance run --base-url URL -- -x --tb=short",
    )
    _add_options(run)
    run.add_argument("--junitxml", type=Path, metavar="PATH", help="write a JUnit XML report here")
    run.add_argument("--record-mode", choices=RECORD_MODES, help=RECORD_MODE_HELP)
    run.add_argument("-k", dest="keyword", metavar="EXPRESSION", help="only cases whose id matches (pytest -k)")
    run.add_argument("-m", dest="markexpr", metavar="EXPRESSION", help="only cases whose rules match (pytest -m)")
    run.add_argument("-v", "--verbose", action="store_true", help="one line per case")

    coverage = commands.add_parser(
        "coverage",
        help="what the scenarios cover: documented operations x statuses, rules, and the pages' normative statements",
    )
    coverage.add_argument(
        "--scenarios", type=Path, action="append", metavar="PATH", help="scenario file or folder (repeatable)"
    )
    coverage.add_argument(
        "--docs", type=Path, metavar="DIR", help="the folder holding graph-docs/ and entra-docs/ (default: ../shared)"
    )
    coverage.add_argument(
        "--inventory", type=Path, metavar="FILE", help="the reviewed statements (default: conformance/statements.yaml)"
    )
    coverage.add_argument(
        "--waivers", type=Path, metavar="FILE", help="the waived statements (default: conformance/waivers.yaml)"
    )

    compare = commands.add_parser("compare", help="what changed between two recorded runs (two cassette folders)")
    compare.add_argument("baseline", type=Path, help="the cassette folder of the baseline run")
    compare.add_argument("current", type=Path, help="the cassette folder of the run to compare with it")

    metadata = commands.add_parser(
        "metadata", help="compare a target's $metadata (CSDL) with the contract: types, properties, navigation"
    )
    from conformance.csdl import MAX_METADATA_BYTES

    helps = {
        "timeout": f"seconds the $metadata exchange of one version may take (default: {METADATA_TIMEOUT})",
        "max_response_bytes": f"largest $metadata read, on the wire and decoded (default: {MAX_METADATA_BYTES})",
    }
    _add_options(metadata, METADATA_OPTIONS, helps)
    metadata.add_argument("--record-mode", choices=RECORD_MODES, help=RECORD_MODE_HELP)

    deviations = commands.add_parser(
        "deviations", help="write a --expect-deviations file from a JSON report's failing cases (reasons to fill in)"
    )
    deviations.add_argument("report", type=Path, help="a JSON report written by run --report-json")
    deviations.add_argument("--out", type=Path, required=True, metavar="FILE", help="the deviations file to write")

    rendered = commands.add_parser(
        "report", help="render a JSON report as an HTML page and a Markdown summary (Markdown to stdout by default)"
    )
    rendered.add_argument("json_report", type=Path, metavar="REPORT.json", help="a JSON report written by run")
    rendered.add_argument("--html", type=Path, metavar="FILE", help="write the self-contained HTML report here")
    rendered.add_argument("--markdown", type=Path, metavar="FILE", help="append the Markdown summary to this file")

    mock = commands.add_parser("mock", help="serve the reference Graph mock (loopback only)")
    mock.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default: 127.0.0.1)")
    mock.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")

    derive = commands.add_parser("derive", help="derive JSON Schemas, operations and conflicts from doc pages")
    derive.add_argument(
        "--docs", type=Path, action="append", required=True, metavar="DIR", help="a folder of doc pages (repeatable)"
    )
    derive.add_argument(
        "--metadata",
        action="append",
        default=[],
        metavar="[VERSION=]FILE",
        help="one version's CSDL $metadata (repeatable): VERSION=FILE, or FILE named beta.xml or v1.0.xml",
    )
    target = derive.add_mutually_exclusive_group()
    target.add_argument(
        "--out", type=Path, metavar="DIR", help="write the derived files here (default: schemas/derived)"
    )
    target.add_argument(
        "--check",
        action="store_true",
        help="compare with the committed schemas instead of writing; exit 1 if they differ",
    )
    derive.add_argument(
        "--against",
        type=Path,
        metavar="DIR",
        help="with --check: the committed folder (default: the installed schemas)",
    )
    return parser


def _derive(args: argparse.Namespace) -> int:
    import json

    from conformance import contract
    from conformance import derive as derivation
    from conformance.derive.disagreements import listing
    from conformance.drift import differences

    if args.against and not args.check:
        raise UsageError("derive: --against goes with --check")
    pages = derivation.load_pages(args.docs)
    models = derivation.read_models(derivation.metadata_files(args.metadata))
    derived = derivation.derive(pages, models)
    read = f"{len(pages)} pages" + (f" and {len(models)} metadata files" if models else "")
    repairs = len(derived.files["repairs.json"]["repairs"])
    conflicts = len(derived.files["conflicts.json"]["conflicts"])
    if args.check:
        against = args.against or contract.default_schema_dir()
        if not against.is_dir():
            raise UsageError(f"derive --check: --against {against}: no such directory")
        committed = contract.read_documents(against)
        fresh = {rel: json.loads(derivation.to_json_text(doc)) for rel, doc in derived.files.items()}
        found = differences(committed, fresh)
        if found:
            print(f"derived schemas in {against} no longer match the docs ({read} read):")
            for line in found:
                print(f"  {line}")
            print(
                "run 'graph-conformance derive --docs ... --metadata ... --out DIR' to update them, and review the diff"
            )
            return 1
        print(
            f"derived schemas in {against} match the docs: {read}, {len(derived.files)} files, "
            f"{repairs} repairs, {conflicts} conflicts"
        )
        return 0
    out = args.out or Path("schemas") / "derived"
    written = derivation.write(derived, out)
    print(
        f"derived {len(written)} files into {out} from {read} ({repairs} repairs recorded, "
        f"{conflicts} conflicts recorded)"
    )
    between = listing(derived.files["conflicts.json"]["conflicts"])
    if between:
        print(f"where the pages and the metadata disagree ({len(between)}; both readings in conflicts.json):")
        for line in between:
            print(f"  {line}")
    return 0


def _run(args: argparse.Namespace) -> int:
    """The suite under pytest, given run's settings as the plugin's flags and ``args.pytest_args`` after them;
    with no target (neither ``--base-url`` nor ``GRAPH_BASE_URL``), against the embedded reference mock."""
    from conformance import config

    if args.token_file == "-":  # standard input is read here: pytest captures it once it starts
        args.token = config.read_token_file("-", config.option("token_file").run)
        args.token_file = None
    given = {o.name: getattr(args, o.name) for o in config.OPTIONS}
    # the same validation the plugin does, so usage errors read like every other CLI error
    settings = config.resolve(given, {}, record_mode=args.record_mode, via=config.VIA_RUN)
    _check_passthrough(args.pytest_args)
    if settings.base_url is None:
        return _run_embedded(args)
    if args.junitxml is not None:
        config.check_writable_file("--junitxml", args.junitxml)
    pytest_args = [
        "--pyargs",
        "conformance.suite",
        "-p",
        "no:cacheprovider",
        "-c",
        os.devnull,
        "--rootdir",
        os.getcwd(),
    ]
    secrets = {name: given[name] for name in SECRET_SETTINGS if given.get(name)}
    for option in config.OPTIONS:
        value = given.get(option.name)
        if value in (None, False, []) or option.name in secrets:
            continue
        if option.kind == "flag":
            pytest_args.append(option.flag)
        elif isinstance(value, list):
            for item in value:
                pytest_args += [option.flag, str(item)]
        else:
            pytest_args += [option.flag, str(value)]
    optional = {"--junitxml": args.junitxml, "--record-mode": args.record_mode, "-k": args.keyword, "-m": args.markexpr}
    for flag, value in optional.items():
        if value is not None:
            pytest_args += [flag, str(value)]
    if args.record_mode == "none":
        pytest_args.append("--block-network")
    pytest_args.append("-v" if args.verbose else "-q")
    # the suite asserts nothing itself (the plugin fails cases with their violations): no module is
    # worth rewriting, and rewriting every plugin module costs a third of a second at startup
    pytest_args += ["-W", "ignore::pytest.PytestAssertRewriteWarning", "--assert=plain"]
    pytest_args += [*_isolation(recording=args.record_mode is not None), *args.pytest_args]
    import pytest

    from conformance.plugin import StartedByRun

    autoload = os.environ.get(NO_AUTOLOAD)
    os.environ[NO_AUTOLOAD] = "1"  # only the plugins _isolation names (the variable, not pytest 8.4's flag)
    try:
        code = pytest.main(pytest_args, plugins=[StartedByRun(secrets)])
    finally:
        if autoload is None:
            del os.environ[NO_AUTOLOAD]
        else:
            os.environ[NO_AUTOLOAD] = autoload
    if code == pytest.ExitCode.OK:
        return 0
    if code == pytest.ExitCode.TESTS_FAILED:
        return 1
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("graph-conformance: error: no case was selected", file=sys.stderr)
    return 2


def _isolation(recording: bool) -> list[str]:
    """The run is the suite and nothing else: the plugins it needs are named (pytest-recording only when
    cassettes are recorded or replayed, registered before the suite's fixtures that outrank its own),
    none other installed in the environment is loaded (one could reorder or re-run cases), no
    conftest.py of the folder it is started in is read (the suite's own is loaded as a plugin); pytest's
    log capture (a failure shows its exchanges, not log lines) and its end-of-session garbage-collection
    hunt for unraisable exceptions are left out."""
    plugins = ["conformance.plugin", *(["pytest_recording.plugin"] if recording else []), "conformance.suite.conftest"]
    left_out = ["no:unraisableexception", "no:logging"]
    return ["--noconftest", *(a for p in [*plugins, *left_out] for a in ("-p", p))]


def _report(args: argparse.Namespace) -> int:
    """Render an existing JSON report: the HTML page and the Markdown summary, or the Markdown on stdout."""
    from conformance import report_views
    from conformance.config import check_writable_file
    from conformance.errors import InputError

    for flag, path in (("--html", args.html), ("--markdown", args.markdown)):
        if path is not None:
            check_writable_file(flag, path)
    contents = report_views.read(args.json_report)
    try:
        if args.html is None and args.markdown is None:
            sys.stdout.write(report_views.render_markdown(contents))
            return 0
        for line in report_views.write(contents, args.html, args.markdown):
            print(line)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a member of an unexpected type
        raise InputError(str(args.json_report), 0, f"not a JSON report this tool wrote ({exc})") from None
    return 0


def _check_passthrough(pytest_args: Sequence[str]) -> None:
    """A setting goes before ``--``, as run's flag: after it, as the plugin's, it would escape run's checks."""
    from conformance.config import OPTIONS

    for arg in pytest_args:
        for option in OPTIONS:
            if arg.split("=", 1)[0] == option.flag:
                raise UsageError(f"run: {option.flag} after --: give it before -- as {option.run}")


def _coverage(args: argparse.Namespace) -> int:
    """What the catalogue covers: operations x statuses, rules, and statements (0 all covered, 1 not, 2 bad input)."""
    from conformance import contract, coverage, statements
    from conformance.scenarios import CATALOGUE, load_scenarios
    from conformance.versions import ALL_VERSIONS

    documents = contract.read_documents(contract.default_schema_dir())
    known = {n for v in ALL_VERSIONS for n in contract.type_names(documents, v)}
    scenarios = load_scenarios(args.scenarios or [CATALOGUE], known)
    rules = coverage.load_rules()
    items = coverage.compute(scenarios, documents, rules)
    found = statements.extract(args.docs or statements.DEFAULT_DOCS)
    waivers = args.waivers or coverage.WAIVERS_PATH
    reviews = coverage.read_reviews(args.inventory or coverage.INVENTORY_PATH)
    reviews += coverage.read_reviews(waivers, waivers=True)
    result = coverage.statement_coverage(found, reviews, items, scenarios, rules)
    for line in [*coverage.table_lines(items), *coverage.statement_lines(result, waivers)]:
        print(line)
    return 0 if all(item.covered_by for item in items) and result.complete else 1


def _metadata(args: argparse.Namespace) -> int:
    """Audit each selected version's ``$metadata`` against the contract: 0 agrees, 1 differs, 2 bad input."""
    from conformance import audit, config, contract, csdl

    given = {name: getattr(args, name) for name in METADATA_OPTIONS}
    given["max_response_bytes"] = given["max_response_bytes"] or str(csdl.MAX_METADATA_BYTES)
    given["timeout"] = given["timeout"] or METADATA_TIMEOUT
    given["user"] = config.DEFAULT_USER  # the audit acts on no user: run's demand for one does not apply
    settings = config.resolve(given, {}, record_mode=args.record_mode, via=config.VIA_RUN)
    if not settings.base_url:
        raise UsageError("metadata: give --base-url (or GRAPH_BASE_URL): the service root of the target")
    documents = contract.read_documents(contract.default_schema_dir())
    findings: list[audit.Finding] = []
    for version in settings.versions:
        model = _fetch_metadata(settings, version, documents)
        found = audit.audit(model, documents, version)
        print(f"{version}:")
        for finding in found:
            print(f"  {finding.text()}")
        findings += found
    print(f"graph-conformance metadata: {audit.summary(findings, len(settings.versions))}")
    return 1 if any(f.verdict == audit.DIFFERS for f in findings) else 0


def _fetch_metadata(settings: Settings, version: str, documents: dict[str, Any]) -> CsdlModel:
    """``GET {base}/{version}/$metadata`` on a bounded client, streamed into the CSDL reader; recorded into
    or replayed from the cassette ``metadata--{version}.yaml`` when a record mode is given; kept in a spool
    file (in memory while small) for another pass when base types must be read."""
    import tempfile

    import httpx

    from conformance import audit
    from conformance.auth import build_auth
    from conformance.errors import CassetteError, TargetError
    from conformance.scrub import redact_url
    from conformance.transport import BoundedTransport

    url = f"{settings.base_url}/{version}/$metadata"
    shown = redact_url(url)
    cassette = settings.cassette_dir / f"metadata--{version}.yaml"
    if settings.replaying and not cassette.is_file():
        raise CassetteError(str(cassette), 0, "no such file (record it first with --record-mode once)")
    transport = BoundedTransport(timeout=settings.timeout, max_bytes=settings.max_response_bytes)
    # no proxy from the environment: httpx would send through it on an unbounded transport
    client = httpx.Client(auth=build_auth(settings), transport=transport, follow_redirects=False, trust_env=False)
    with contextlib.ExitStack() as stack:
        stack.enter_context(client)
        if settings.record_mode is not None:
            stack.enter_context(_cassette(settings, cassette))
        spool = stack.enter_context(tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY))
        try:
            with client.stream("GET", url, headers={"Accept": "application/xml"}) as response:
                if response.status_code != 200:
                    raise TargetError(f"GET {shown}: HTTP {response.status_code}, not the $metadata document")
                chunks = _copied(response.iter_bytes(), spool)  # read as it comes, kept for a pass over base types
                return audit.read_needed(
                    chunks, lambda: _rewound(spool), shown, documents, version, max_bytes=settings.max_response_bytes
                )
        except httpx.HTTPError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else ""
            raise TargetError(f"GET {shown}: {type(exc).__name__}: {reason}".rstrip(": ")) from None
        except Exception as exc:  # vcrpy's miss, or a replay that could only reach the network
            missed = type(exc).__name__ == "CannotOverwriteExistingCassetteException" or "Network is disabled" in str(
                exc
            )
            if not missed:
                raise
            raise CassetteError(str(cassette), 0, f"holds no answer for GET /{version}/$metadata") from None


def _copied(chunks: Iterable[bytes], spool: IO[bytes]) -> Iterator[bytes]:
    """``chunks``, each also written to ``spool``."""
    for chunk in chunks:
        spool.write(chunk)
        yield chunk


def _rewound(spool: IO[bytes]) -> Iterator[bytes]:
    """What was written to ``spool``, again, chunk by chunk."""
    spool.seek(0)
    yield from iter(lambda: spool.read(SPOOL_CHUNK), b"")


def _cassette(settings: Settings, cassette: Path) -> contextlib.ExitStack:
    """vcrpy recording into (or, for record mode ``none``, replaying from) ``cassette``, scrubbed and matched as
    ``run``'s cassettes are; a replay also blocks the network."""
    import vcr  # type: ignore[import-untyped]
    from pytest_recording.network import blocking_context

    from conformance.recording import vcr_config

    mode = settings.record_mode
    if mode == "rewrite":  # pytest-recording's mode, which vcrpy does not know: record afresh
        cassette.unlink(missing_ok=True)
        mode = "new_episodes"
    recorder = vcr.VCR(record_mode=mode, **vcr_config(settings.base_url or ""))
    stack = contextlib.ExitStack()  # the caller's with block closes it
    if settings.replaying:
        stack.enter_context(blocking_context())
    stack.enter_context(recorder.use_cassette(str(cassette)))
    return stack


def _deviations(args: argparse.Namespace) -> int:
    """A deviations file from an existing JSON report: one entry per violation of each failing case."""
    from conformance import config, deviations

    config.check_writable_file("--out", args.out)
    count = deviations.write_from_report(args.report, args.out)
    print(f"graph-conformance: {count} deviations written to {args.out}; write each one's reason before using it")
    return 0


def _run_embedded(args: argparse.Namespace) -> int:
    """No target given: start the reference mock on a free loopback port, run the suite against it, stop it."""
    from conformance.mock import create_app
    from conformance.mock.serve import BackgroundServer

    with BackgroundServer(create_app()) as server:
        print(f"graph-conformance: no --base-url given: running against the embedded reference mock at {server.url}")
        args.base_url = server.url
        return _run(args)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``graph-conformance`` command: parse ``argv``, run the subcommand, return its exit code (0, 1 or 2).

    What follows the first ``--`` is not parsed here: ``run`` passes it on to pytest."""
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    args.pytest_args = argv[cut + 1 :]
    try:
        if cut < len(argv) and args.command != "run":
            raise UsageError(f"{args.command or 'graph-conformance'}: only run takes arguments after -- (for pytest)")
        if args.command == "derive":
            return _derive(args)
        if args.command == "run":
            return _run(args)
        if args.command == "compare":
            from conformance.compare import compare

            changes = compare(args.baseline, args.current)
            for line in changes:
                print(line)
            print(
                f"graph-conformance compare: {len(changes)} changes"
                if changes
                else "graph-conformance compare: no change"
            )
            return 1 if changes else 0
        if args.command == "coverage":
            return _coverage(args)
        if args.command == "metadata":
            return _metadata(args)
        if args.command == "deviations":
            return _deviations(args)
        if args.command == "report":
            return _report(args)
        if args.command == "mock":
            from conformance.mock.serve import serve

            return serve(args.host, args.port)
        parser.print_help()
        return 2
    except ConformanceError as exc:
        print(f"graph-conformance: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
