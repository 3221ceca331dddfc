"""The plugin as a pytest user meets it: inert in other test suites, the embedded mock when no target is
given, and graph-conformance's exit codes (0 conformant, 1 violations, 2 anything else)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.graphapp import Server, make_app
from tests.helpers import SUITE, copy_fixture_scenarios, graph_conformance

UNRELATED = """\
def test_unrelated():
    assert 1 + 1 == 2
"""
EMBEDDED = re.compile(
    r"graph-conformance: no --graph-base-url given: running against the embedded reference mock at "
    r"(?P<url>http://127\.0\.0\.1:\d+)"
)


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        (  # a live target without the --graph-user it needs
            {"GRAPH_BASE_URL": "https://graph.microsoft.com"},
            "ERROR: --graph-user is required against graph.microsoft.com (not loopback): the user the scenarios act on",
        ),
        (
            {"GRAPH_BASE_URL": "ftp://nowhere", "GRAPH_API_VERSION": "v2", "GRAPH_AUTH": "token"},
            "ERROR: GRAPH_API_VERSION 'v2': choose one of beta, v1.0, all",
        ),
        (
            {"GRAPH_BASE_URL": "https://graph.microsoft.com/v1.0", "GRAPH_USER": "tester@contoso.example"},
            "ERROR: GRAPH_BASE_URL 'https://graph.microsoft.com/v1.0': give the service root without the version "
            "(the suite adds /beta or /v1.0)",
        ),
    ],
    ids=["live-target-without-user", "bad-version", "versioned-url"],
)
def test_graph_settings_in_the_environment_leave_other_test_suites_untouched(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], message: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(test_unrelated=UNRELATED)
    unrelated = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert unrelated.ret == pytest.ExitCode.OK
    unrelated.assert_outcomes(passed=1)
    assert "graph-conformance:" not in unrelated.stdout.str() and unrelated.stderr.lines == []
    # pytest's own exit codes stay as they are in a run that collects no graph case
    assert pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "nothing").ret == 5
    # the same settings stop a run that collects graph cases: on one line naming the variable, with exit 2
    graph = pytester.runpytest_subprocess(*SUITE)
    assert graph.ret == 2
    assert graph.stderr.lines == [message]
    assert "Traceback" not in graph.stdout.str()


def test_a_bad_ini_value_is_named_as_the_ini_key(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """\
        [pytest]
        graph_api_version = v3
        """
    )
    result = pytester.runpytest_subprocess(*SUITE)
    assert result.ret == 2
    assert result.stderr.lines == ["ERROR: ini graph_api_version 'v3': choose one of beta, v1.0, all"]
    # the command line outranks the ini file
    assert pytester.runpytest_subprocess(*SUITE, "--graph-api-version", "v1.0", "--collect-only").ret == 0


def test_without_a_target_the_suite_runs_against_the_embedded_mock_as_run_does(tmp_path: Path) -> None:
    plugin_dir, run_dir = tmp_path / "plugin", tmp_path / "run"
    plugin_dir.mkdir()
    run_dir.mkdir()
    plugin = subprocess.run(
        [sys.executable, "-m", "pytest", *SUITE, "-q", "--conformance-report", "report.json"],
        cwd=plugin_dir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert plugin.returncode == 0, plugin.stdout[-3000:]
    header = EMBEDDED.search(plugin.stdout)
    assert header is not None, plugin.stdout[:2000]
    url = header["url"]
    assert (
        f"graph-conformance 0.1.0: target {url} (loopback mock), versions beta, v1.0, "
        "user 00000000-0000-4000-8000-00000000c0de, auth none"
    ) in plugin.stdout.splitlines()
    run = graph_conformance("run", "--report-json", "report.json", cwd=run_dir, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]

    def verdicts(folder: Path) -> dict[str, str]:
        cases = json.loads((folder / "report.json").read_text())["cases"]
        return {case["id"]: case["outcome"] for case in cases}

    by_plugin, by_run = verdicts(plugin_dir), verdicts(run_dir)
    assert by_plugin == by_run
    assert list(by_plugin.values()).count("passed") >= 100


def test_the_embedded_mock_stops_when_the_session_ends(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess(*SUITE, "-k", "standard-qr-lifecycle")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2)
    header = EMBEDDED.search(result.stdout.str())
    assert header is not None
    host, port = header["url"].removeprefix("http://").split(":")
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect((host, int(port)))


def test_a_graph_run_exits_0_1_or_2(pytester: pytest.Pytester) -> None:
    scenarios = copy_fixture_scenarios(pytester.path / "scenarios")
    with Server(make_app()) as good, Server(make_app(extra={"brandNew": 1}, leak_pin=True)) as leaky:
        common = [*SUITE, "--graph-scenarios", str(scenarios)]
        conformant = pytester.runpytest_subprocess(*common, "--graph-base-url", good.url)
        violations = pytester.runpytest_subprocess(*common, "--graph-base-url", leaky.url)
        nothing = pytester.runpytest_subprocess(*common, "--graph-base-url", good.url, "-k", "no-such-case")
    assert conformant.ret == 0
    conformant.assert_outcomes(passed=3)
    assert violations.ret == 1
    violations.assert_outcomes(passed=1, failed=2)
    assert nothing.ret == 2  # pytest alone would say 5 (no tests ran)
    assert nothing.stderr.lines[-1] == "graph-conformance: error: no case was selected"


def test_a_usage_error_names_the_flag_on_one_line(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(*SUITE, "--graph-base-url", "http://127.0.0.1:9", "--graph-retry-budget", "-1")
    assert result.ret == 2
    assert result.stderr.lines == ["ERROR: --graph-retry-budget '-1': give a number from 0 to 3600"]
    assert "Traceback" not in result.stdout.str()
