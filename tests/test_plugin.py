"""The pytest plugin, driven through pytester: options, ids, header, help, safety, reports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent

import pytest

from tests.graphapp import Server, make_app
from tests.helpers import FIXTURES, SUITE, copy_fixture_scenarios


@pytest.fixture(scope="module")
def target() -> Iterator[Server]:
    with Server(make_app()) as server:
        yield server


@pytest.fixture
def scenarios(pytester: pytest.Pytester) -> Path:
    return copy_fixture_scenarios(pytester.path / "scenarios")


def test_help_lists_the_grouped_prefixed_options(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(
        [
            "Microsoft Graph QR code + PIN conformance:",
            "*--graph-base-url=BASE_URL*",
            "*--graph-api-version=API_VERSION*",
            "*--graph-allow-writes*",
            "*--conformance-report=REPORT*",
        ]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--graph-base-url", "ftp://x"],
            "ERROR: --graph-base-url 'ftp://x': give the service root as http(s)://host[:port][/path], e.g. https://graph.microsoft.com",
        ),
        (
            ["--graph-base-url", "http://127.0.0.1:1/beta"],
            "ERROR: --graph-base-url 'http://127.0.0.1:1/beta': give the service root without the version (the suite adds /beta or /v1.0)",
        ),
        (["--graph-api-version", "v2"], "ERROR: --graph-api-version 'v2': choose one of beta, v1.0, all"),
        (
            ["--graph-auth", "token"],
            "ERROR: --graph-auth token needs --graph-token, --graph-token-file or GRAPH_ACCESS_TOKEN",
        ),
        (
            ["--graph-auth", "client-secret", "--graph-tenant", "t"],
            "ERROR: --graph-auth client-secret needs --graph-client-id, --graph-client-secret",
        ),
        (["--graph-timeout", "soon"], "ERROR: --graph-timeout 'soon': give a number of seconds"),
        (
            ["--graph-base-url", "https://graph.microsoft.com"],
            "ERROR: --graph-user is required against graph.microsoft.com (not loopback): the user the scenarios act on",
        ),
    ],
)
def test_bad_options_are_usage_errors_that_exit_2(pytester: pytest.Pytester, args: list[str], message: str) -> None:
    result = pytester.runpytest_subprocess(*SUITE, *args)
    assert result.ret == 2
    assert message in result.stderr.lines
    assert "Traceback" not in result.stderr.str()


def test_settings_come_from_ini_and_environment_below_the_command_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, target: Server, scenarios: Path
) -> None:
    pytester.makeini(
        f"""\
        [pytest]
        graph_base_url = http://127.0.0.1:1
        graph_scenarios = {scenarios}
        """
    )
    monkeypatch.setenv("GRAPH_USER", "env-user@contoso.example")
    result = pytester.runpytest_subprocess(*SUITE, "--graph-base-url", target.url, "--collect-only")
    result.stdout.fnmatch_lines(
        [
            f"graph-conformance 0.1.0: target {target.url} (loopback mock), versions beta, v1.0, user env-user@contoso.example, auth none"
        ]
    )


def test_cases_are_parametrized_with_readable_ids_and_a_reproducible_header(
    pytester: pytest.Pytester, target: Server, scenarios: Path
) -> None:
    result = pytester.runpytest_subprocess(
        *SUITE, "--graph-base-url", target.url, "--graph-scenarios", str(scenarios), "-v"
    )
    result.stdout.fnmatch_lines(
        [
            f"graph-conformance 0.1.0: target {target.url} (loopback mock), versions beta, v1.0, user 00000000-0000-4000-8000-00000000c0de, auth none",
            "graph-conformance: live (no cassettes), cassette folder cassettes, schemas digest *, 2 scenarios, 3 cases",
            f"graph-conformance: reproduce with: graph-conformance run --base-url {target.url} --api-version all --user 00000000-0000-4000-8000-00000000c0de",
            "*::test_scenario[[]method-create-read-delete[[]beta]] PASSED*",
            "*::test_scenario[[]method-create-read-delete[[]v1.0]] PASSED*",
            "*::test_scenario[[]method-needs-a-token[[]beta]] PASSED*",
            "graph-conformance: 3 passed, 0 failed, 0 errors, 0 skipped, 0 drift warnings, 0 values checked at recording",
        ]
    )
    result.assert_outcomes(passed=3)


def test_version_selection_and_keyword(pytester: pytest.Pytester, target: Server, scenarios: Path) -> None:
    result = pytester.runpytest_subprocess(
        *SUITE, "--graph-base-url", target.url, "--graph-scenarios", str(scenarios), "--graph-api-version", "v1.0"
    )
    result.assert_outcomes(passed=1)
    result = pytester.runpytest_subprocess(
        *SUITE, "--graph-base-url", target.url, "--graph-scenarios", str(scenarios), "-k", "needs-a-token"
    )
    result.assert_outcomes(passed=1, deselected=2)


def test_malformed_scenarios_stop_the_run_as_a_usage_error(pytester: pytest.Pytester, target: Server) -> None:
    result = pytester.runpytest_subprocess(
        *SUITE, "--graph-base-url", target.url, "--graph-scenarios", str(FIXTURES / "malformed" / "10-expect-typo.yaml")
    )
    assert result.ret == 2
    result.stderr.fnmatch_lines(
        [
            "ERROR: malformed scenarios (1 problems):",
            "*10-expect-typo.yaml:9: $.steps[[]0].expect: unknown key 'bodySchem' (did you mean 'body'?)",
        ]
    )


def test_writes_are_skipped_against_live_graph_unless_allowed_for_an_allow_listed_user(
    pytester: pytest.Pytester, scenarios: Path
) -> None:
    base = [
        "--graph-base-url",
        "https://graph.microsoft.com",
        "--graph-user",
        "tester@contoso.example",
        "--graph-scenarios",
        str(scenarios),
        "--collect-only",
        "-q",
    ]
    collected = pytester.runpytest_subprocess(*SUITE, *base, "-rs")
    collected.stdout.fnmatch_lines(["*3 tests collected*"])
    skipped = pytester.runpytest_subprocess(*SUITE, *base[:-2], "-k", "create", "-rs")
    skipped.stdout.fnmatch_lines(
        ["*writes to graph.microsoft.com (not loopback) need --graph-allow-writes"]
    )
    skipped.assert_outcomes(skipped=2, deselected=1)
    not_listed = pytester.runpytest_subprocess(
        *SUITE,
        *base[:-2],
        "-k",
        "create",
        "--graph-allow-writes",
        "--graph-allowed-users",
        "other@contoso.example",
        "-rs",
    )
    not_listed.stdout.fnmatch_lines(
        [
            "*user 'tester@contoso.example' is not in --graph-allowed-users; writes run only for allow-listed test users"
        ]
    )
    not_listed.assert_outcomes(skipped=2, deselected=1)


def test_violations_fail_with_the_full_story_and_the_json_report(pytester: pytest.Pytester, scenarios: Path) -> None:
    # a target that leaks the PIN on GET and adds an undocumented property
    with Server(make_app(extra={"brandNew": 1}, leak_pin=True)) as leaky:
        report = pytester.path / "report.json"
        result = pytester.runpytest_subprocess(
            *SUITE,
            "--graph-base-url",
            leaky.url,
            "--graph-scenarios",
            str(scenarios),
            "--conformance-report",
            str(report),
            "--junitxml",
            str(pytester.path / "junit.xml"),
        )
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*method-create-read-delete[[]beta] — A method is created with its PIN and image once; reading it back shows neither (scenarios/method.yaml:1)",
            '*step "read back"',
            "*GET http://127.0.0.1:*/beta/users/00000000-0000-4000-8000-00000000c0de/authentication/qrCodePinMethod -> 200 (*client-request-id *)",
            "*$.pin.code: expected null, got <redacted code: a 8-character string>",
            "*doc: graph-docs/v1.0/api/authentication-put-qrcodepinmethod.md:70",
            "*$.brandNew: not documented for qrCodePinAuthenticationMethod (warning)",
            "graph-conformance: 1 passed, 2 failed, 0 errors, 0 skipped, 4 drift warnings, 0 values checked at recording",
            "  FAILED method-create-read-delete[[]beta]: $.pin.code: expected null, got <redacted code: a 8-character string>",
        ]
    )
    document = json.loads(report.read_text())
    assert document["summary"] == {
        "passed": 1,
        "failed": 2,
        "expected_deviations": 0,
        "errors": 0,
        "skipped": 0,
        "not_run": 0,
        "interrupted": 0,
        "warnings": 4,
        "drift": 4,
        "checked_at_recording": 0,
    }
    case = next(c for c in document["cases"] if c["id"] == "method-create-read-delete[beta]")
    assert case["outcome"] == "failed"
    assert case["violations"] == [
        {
            "kind": "assertion",
            "step": "read back",
            "where": "$.pin.code",
            "expected": "null",
            "got": "<redacted code: a 8-character string>",
            "doc": "graph-docs/v1.0/api/authentication-put-qrcodepinmethod.md:70",
        }
    ]
    assert {(w["kind"], w["where"]) for w in case["warnings"]} == {("undocumented", "$.brandNew")}
    assert "58219374" not in report.read_text() and "58219374" not in result.stdout.str()
    assert "58219374" not in (pytester.path / "junit.xml").read_text()


def test_an_unreachable_target_is_reported_per_case(pytester: pytest.Pytester, scenarios: Path) -> None:
    report = pytester.path / "report.json"
    result = pytester.runpytest_subprocess(
        *SUITE,
        "--graph-base-url",
        "http://127.0.0.1:9",
        "--graph-scenarios",
        str(scenarios),
        "--graph-timeout",
        "2",
        "--conformance-report",
        str(report),
    )
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(["*error: ConnectError: * — while sending DELETE http://127.0.0.1:9/beta/users/*"])
    summary = json.loads(report.read_text())["summary"]
    # two transport failures in a row: the target is unreachable, and the remaining case is not sent
    assert (summary["errors"], summary["not_run"]) == (1, 2)
    result.stdout.fnmatch_lines(["*NOT RUN *: not run: target unreachable (ConnectError*"])


def test_the_report_names_the_alternative_chosen_and_a_pin_forbids_one(pytester: pytest.Pytester) -> None:
    from conformance.mock import create_app

    pinned = pytester.path / "pinned.yaml"
    pinned.write_text(
        dedent(
            """\
            pins:
              - scenario: standard-code-rules
                step: the expiry moves within the limit
                forbid: [200]
                reason: decided for the test
            """
        )
    )
    with Server(create_app()) as mock:
        common = [*SUITE, "--graph-base-url", mock.url, "-k", "standard-code-rules", "--conformance-report", "r.json"]
        free = pytester.runpytest_subprocess(*common)
        free.assert_outcomes(passed=2)
        choices = [c["choices"] for c in json.loads((pytester.path / "r.json").read_text())["cases"]]
        assert (
            choices == [[{"step": "the expiry moves within the limit", "accepted": [200, 201, 204], "chosen": 200}]] * 2
        )
        free.stdout.fnmatch_lines(
            [
                '  alternative: standard-code-rules[[]beta] "the expiry moves within the limit" answered 200 (documented: 200/201/204)'
            ]
        )
        pinned_run = pytester.runpytest_subprocess(*common, "--graph-pinned", str(pinned))
    pinned_run.assert_outcomes(failed=2)
    pinned_run.stdout.fnmatch_lines(
        ["*status: expected 201 or 204 (pinned: decided for the test), got 200", "*doc: conformance/pinned.yaml"]
    )


def test_a_pin_naming_an_unknown_scenario_or_step_is_a_usage_error(pytester: pytest.Pytester, target: Server) -> None:
    pinned = pytester.path / "pinned.yaml"
    pinned.write_text(
        dedent(
            """\
            pins:
              - {scenario: standard-code-rule, step: x, forbid: [200], reason: r}
              - {scenario: standard-code-rules, step: nope, forbid: [200], reason: r}
            """
        )
    )
    result = pytester.runpytest_subprocess(*SUITE, "--graph-base-url", target.url, "--graph-pinned", str(pinned))
    assert result.ret == 2
    result.stderr.fnmatch_lines(
        [
            "ERROR: bad pinned alternatives:",
            "*pinned.yaml: pins[[]0]: unknown scenario 'standard-code-rule' (did you mean 'standard-code-rules'?)",
            "*pinned.yaml: pins[[]1]: scenario 'standard-code-rules' has no step 'nope'",
        ]
    )
