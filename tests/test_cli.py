"""The command line, run as a user runs it: exit codes, messages, and no tracebacks."""

from __future__ import annotations

import filecmp
import json
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from textwrap import dedent

import pytest

from tests.helpers import (
    COMMITTED,
    DOC_DIRS,
    DOC_PAGES,
    FIXTURES,
    METADATA,
    REPO,
    case_count,
    free_port,
    graph_conformance,
)

DOCS_ARGS = [a for d in DOC_DIRS for a in ("--docs", str(d))] + [a for m in METADATA for a in ("--metadata", str(m))]
DERIVED_FILES = sorted(COMMITTED.rglob("*.json"))
REPAIRS = json.loads((COMMITTED / "repairs.json").read_text())["repairs"]
CONFLICTS = json.loads((COMMITTED / "conflicts.json").read_text())["conflicts"]
MALFORMED_PROBLEMS = json.loads((FIXTURES / "malformed" / "expected.json").read_text())


def same_tree(a: Path, b: Path) -> list[str]:
    """Differences between two folders, like ``diff -r`` (empty when identical)."""
    comparison = filecmp.dircmp(a, b)
    out = [f"only in {a}: {n}" for n in comparison.left_only] + [f"only in {b}: {n}" for n in comparison.right_only]
    out += [f"differs: {n}" for n in comparison.diff_files if not filecmp.cmp(a / n, b / n, shallow=False)]
    for sub in comparison.common_dirs:
        out += same_tree(a / sub, b / sub)
    return out


def test_console_script_is_declared() -> None:
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "graph-conformance"]
    assert script.value == "conformance.cli:main"


def test_derive_out_reproduces_the_committed_schemas_byte_for_byte(tmp_path: Path) -> None:
    result = graph_conformance("derive", *DOCS_ARGS, "--out", str(tmp_path / "derived"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"derived {len(DERIVED_FILES)} files into ")
    assert same_tree(tmp_path / "derived", COMMITTED) == []
    # every doc-vs-metadata conflict is listed, each with the pages' and the metadata's reading and citations
    between = [c for c in CONFLICTS if c["kind"] == "doc-vs-metadata"]
    listed = result.stdout.splitlines()[2:]
    assert between and len(listed) == len(between)
    for conflict, line in zip(between, listed, strict=True):
        assert line.startswith(f"  {conflict['version']} {conflict['topic']} {conflict['subject']}: pages: ")
        assert " | metadata: " in line and "graph-metadata/" in line


def test_derive_out_removes_files_the_docs_no_longer_derive(tmp_path: Path) -> None:
    out = tmp_path / "derived"
    assert graph_conformance("derive", *DOCS_ARGS, "--out", str(out)).returncode == 0
    # an earlier derivation wrote v1.0/oldType.json: the folder's manifest lists it
    manifest = out / ".graph-conformance-manifest"
    listed = json.loads(manifest.read_text(encoding="utf-8"))
    listed["files"].append("v1.0/oldType.json")
    manifest.write_text(json.dumps(listed), encoding="utf-8")
    stale = out / "v1.0" / "oldType.json"
    stale.write_text("{}")
    assert graph_conformance("derive", *DOCS_ARGS, "--out", str(out)).returncode == 0
    assert not stale.exists()
    assert same_tree(out, COMMITTED) == []


def test_derive_check_passes_on_the_committed_schemas() -> None:
    result = graph_conformance("derive", "--check", *DOCS_ARGS)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = f"{len(DOC_PAGES)} pages and {len(METADATA)} metadata files, {len(DERIVED_FILES)} files, {len(REPAIRS)} repairs, {len(CONFLICTS)} conflicts"
    assert f"match the docs: {counts}" in result.stdout


def edited_copy(tmp_path: Path, rel: str, old: str, new: str) -> list[str]:
    for d in DOC_DIRS:
        shutil.copytree(d, tmp_path / d.name)
    page = tmp_path / rel
    page.chmod(0o644)
    text = page.read_text(encoding="utf-8")
    assert text.count(old) == 1
    page.write_text(text.replace(old, new), encoding="utf-8")
    return [a for d in DOC_DIRS for a in ("--docs", str(tmp_path / d.name))] + DOCS_ARGS[2 * len(DOC_DIRS) :]


def test_derive_check_fails_naming_the_property_and_the_page_after_a_type_edit(tmp_path: Path) -> None:
    args = edited_copy(
        tmp_path, "graph-docs/v1.0/resources/qrcode.md", "|expireDateTime|DateTimeOffset|", "|expireDateTime|Int32|"
    )
    result = graph_conformance("derive", "--check", *args, "--against", str(COMMITTED))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    # the metadata still says DateTimeOffset: the schema takes either, citing both
    assert lines[1] == (
        "  v1.0/qrCode.json: property 'expireDateTime' changed type: committed DateTimeOffset, "
        "docs now say ['DateTimeOffset', 'Int32'] (graph-docs/v1.0/resources/qrcode.md:39, graph-metadata/v1.0.xml:75)"
    )
    assert (
        'v1.0/qrCode.json: $.properties.expireDateTime.type: committed ["string", "null"], docs no longer give it'
        in result.stdout
    )


def test_derive_check_fails_when_a_documented_status_changes(tmp_path: Path) -> None:
    args = edited_copy(tmp_path, "graph-docs/beta/api/qrcode-delete.md", "HTTP/1.1 204 No Content", "HTTP/1.1 200 OK")
    result = graph_conformance("derive", "--check", *args, "--against", str(COMMITTED))
    assert result.returncode == 1
    assert "beta/operations.json: $.operations" in result.stdout and "success" in result.stdout


def test_unrepairable_json_exits_2_with_page_line_column(tmp_path: Path) -> None:
    args = edited_copy(
        tmp_path,
        "graph-docs/v1.0/api/qrpin-update.md",
        '"forceChangePinNextSignIn": true',
        '"forceChangePinNextSignIn": tru',
    )
    result = graph_conformance("derive", *args, "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "graph-conformance: error: graph-docs/v1.0/api/qrpin-update.md:108:31: invalid JSON (Expecting value) "
        "that no known repair covers"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["derive", "--docs", "/nonexistent/docs", "--out", "/tmp/x"],
            "graph-conformance: error: derive: --docs /nonexistent/docs: no such directory",
        ),
        (
            ["derive", "--docs", str(FIXTURES / "scenarios"), "--out", "/tmp/x"],
            f"graph-conformance: error: derive: --docs {FIXTURES / 'scenarios'}: no doc pages (*.md, *.txt) found",
        ),
        (
            ["derive", "--docs", str(DOC_DIRS[0]), "--against", "/tmp"],
            "graph-conformance: error: derive: --against goes with --check",
        ),
        (
            ["run", "--base-url", "ftp://x"],
            "graph-conformance: error: --base-url 'ftp://x': give the service root as http(s)://host[:port][/path], e.g. https://graph.microsoft.com",
        ),
        (
            ["run", "--base-url", "http://[::1"],
            "graph-conformance: error: --base-url 'http://[::1': give the service root as http(s)://host[:port][/path], e.g. https://graph.microsoft.com",
        ),
        (["mock", "--port", "70000"], "graph-conformance: error: --port 70000: give a port from 0 to 65535"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(args: list[str], message: str) -> None:
    result = graph_conformance(*args)
    assert (result.returncode, result.stderr.strip()) == (2, message)


def test_compare_on_a_broken_cassette_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.yaml").write_text("interactions: [")
    (tmp_path / "b" / "x.yaml").write_text("interactions: []\n")
    result = graph_conformance("compare", str(tmp_path / "a"), str(tmp_path / "b"))
    assert result.returncode == 2 and "compare: " in result.stderr and "not a readable cassette" in result.stderr


def test_a_page_with_no_version_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "page.md").write_text("---\ntitle: x\n---\n\nno version anywhere\n")
    result = graph_conformance("derive", "--docs", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"graph-conformance: error: {tmp_path.name}/page.md:1: cannot tell the API version "
        "(no beta/v1.0 path, URL or beta disclaimer)"
    )


def test_argparse_usage_error_exits_2() -> None:
    result = graph_conformance("derive", "--check")
    assert result.returncode == 2
    assert "the following arguments are required: --docs" in result.stderr


def test_run_without_a_target_runs_everything_against_the_embedded_mock(tmp_path: Path) -> None:
    result = graph_conformance("run", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "graph-conformance: no --base-url given: running against the embedded reference mock at http://127.0.0.1:"
    )
    from conformance.scenarios import CATALOGUE, load_scenarios

    scenarios = load_scenarios([CATALOGUE])
    # the embedded mock starts empty: the reads of an existing method are not applicable, and say so
    reads = {s.id for s in scenarios if not s.writes and any(step.not_applicable for step in s.steps)}
    expected = sorted(f"{s.id}[{v}]" for s in scenarios for v in s.versions if s.id not in reads)
    skipped = sorted(f"{s.id}[{v}]" for s in scenarios for v in s.versions if s.id in reads)
    counts = f"{len(expected)} passed, 0 failed, 0 errors, {len(skipped)} skipped, 0 drift warnings, 0 values checked at recording"
    assert f"graph-conformance: {counts}" in lines
    passed = sorted(line.split()[-1] for line in lines if line.startswith("  passed  "))
    assert passed == expected and len(passed) >= 32
    not_applicable = sorted(
        line.split()[1][:-1] for line in lines if line.startswith("  skipped ") and "not applicable" in line
    )
    assert not_applicable == skipped


def test_mock_command_serves_logs_without_secrets_and_stops_on_ctrl_c() -> None:
    import signal
    import time

    import httpx

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance", "mock", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                anonymous = httpx.get(f"{base}/beta/users/x/authentication/qrCodePinMethod")
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the mock did not start"
                time.sleep(0.05)
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["code"] == "InvalidAuthenticationToken"
        created = httpx.put(
            f"{base}/v1.0/users/x/authentication/qrCodePinMethod",
            headers={"Authorization": "Bearer canary-token-8c1f"},
            json={
                "standardQRCode": {"startDateTime": "2026-11-22T00:00:00Z", "expireDateTime": "2026-12-22T00:00:00Z"},
                "pin": {"code": "66041937"},
            },
        )
        assert created.status_code == 201
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0
    assert (
        err.splitlines()[0]
        == f"graph-conformance mock: serving the reference Graph mock on http://127.0.0.1:{port} (Ctrl-C stops it)"
    )
    assert err.splitlines()[-1] == "graph-conformance mock: stopped"
    requests = [line for line in err.splitlines() if " -> " in line]
    assert len(requests) == 2
    assert requests[1].split(" ", 2)[2].startswith("PUT /v1.0/users/x/authentication/qrCodePinMethod -> 201 (")
    assert "canary-token-8c1f" not in err + out and "66041937" not in err + out


def test_mock_serves_on_loopback_only() -> None:
    result = graph_conformance("mock", "--host", "0.0.0.0")
    assert (result.returncode, result.stderr.strip()) == (
        2,
        "graph-conformance: error: --host 0.0.0.0: the mock serves on loopback only (127.0.0.1, ::1 or localhost)",
    )


def test_help_does_not_import_heavy_modules() -> None:
    code = dedent(
        """\
        import sys
        from conformance import cli
        try:
            cli.main(['--help'])
        except SystemExit:
            pass
        print(sorted(m for m in ('msal', 'jsonschema', 'httpx', 'yaml', 'starlette') if m in sys.modules))"""
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.stdout.splitlines()[-1] == "[]"


def test_run_exit_codes_against_a_real_server(tmp_path: Path) -> None:
    from tests.graphapp import Server, make_app

    scenarios = str(REPO / "tests" / "fixtures" / "scenarios")
    with Server(make_app()) as good:
        conformant = graph_conformance(
            "run", "--base-url", good.url, "--scenarios", scenarios, "--report-json", "r.json", cwd=tmp_path
        )
        # the packaged catalogue also reads the policy, which this small app does not serve
        violations = graph_conformance("run", "--base-url", good.url, "--api-version", "v1.0", cwd=tmp_path)
        selected_nothing = graph_conformance(
            "run", "--base-url", good.url, "--scenarios", scenarios, "-k", "no-such-case", cwd=tmp_path
        )
    malformed = graph_conformance(
        "run", "--base-url", "http://127.0.0.1:9", "--scenarios", str(FIXTURES / "malformed"), cwd=tmp_path
    )
    assert conformant.returncode == 0, conformant.stdout
    counts = f"{case_count(FIXTURES / 'scenarios')} passed, 0 failed, 0 errors, 0 skipped, 0 drift warnings, 0 values checked at recording"
    assert f"graph-conformance: {counts}" in conformant.stdout
    assert (tmp_path / "r.json").is_file()
    assert violations.returncode == 1, violations.stdout
    assert "FAILED policy-read[v1.0]: status: expected 200, got 404" in violations.stdout
    assert (selected_nothing.returncode, selected_nothing.stderr.strip().splitlines()[-1]) == (
        2,
        "graph-conformance: error: no case was selected",
    )
    assert malformed.returncode == 2
    problems = sum(len(found) for found in MALFORMED_PROBLEMS.values())
    assert f"malformed scenarios ({problems} problems):" in malformed.stderr


def test_plugin_load_and_cli_help_do_not_import_msal_or_heavy_modules() -> None:
    code = dedent(
        """\
        import sys
        import conformance.plugin
        from conformance import cli
        try:
            cli.main(['run', '--help'])
        except SystemExit:
            pass
        print(sorted(m for m in ('msal', 'requests', 'httpx', 'jsonschema', 'yaml', 'vcr', 'starlette') if m in sys.modules))"""
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.stdout.splitlines()[-1] == "[]"
