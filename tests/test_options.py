"""One option table for both command lines, as a user meets it: every setting is accepted by
``graph-conformance run`` and by the plugin and lands in the same field; the command line outranks the
environment, which outranks the ini file; messages name the flag the user typed; arguments after ``--``
go to pytest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.config import OPTIONS, VIA_PYTEST, VIA_RUN, Option, resolve
from conformance.scenarios import PINNED
from tests.graphapp import Server, make_app
from tests.helpers import REPO, SUITE, copy_fixture_scenarios, graph_conformance

PROBE = ["-p", "tests.settings_probe", "--collect-only"]  # writes settings.json once the cases are collected
TOKEN_IN_FILE = "token-read-from-the-file"
# the Settings field an option lands in, when it is not the option's own name
FIELDS = {"api_version": "versions", "token_file": "token"}
RUN_ERROR = "graph-conformance: error: "
RULES = ("one-method-per-user", "standard-code-required")  # given to --rule, carried by the fixture's method.yaml
CASE = "method-create-read-delete[beta]"  # a case of the fixture scenarios, for the deviations file


def _environment(**variables: str) -> dict[str, str]:
    """This process's environment without GRAPH_* settings, with ``variables``, and the tests importable."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRAPH_")}
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), environ.get("PYTHONPATH")]))
    return {**environ, **variables}


def _samples(folder: Path) -> dict[str, Any]:
    """For every option a valid value that differs from its default and can be recognised in the settings."""
    token_file = folder / "token.txt"
    token_file.write_text(TOKEN_IN_FILE + "\n")
    for name in ("certificate", "ca_bundle"):  # files read when the first case runs: they must exist
        (folder / name).write_text("")
    scenarios = copy_fixture_scenarios(folder / "scenarios")
    method = scenarios / "method.yaml"  # carries the two rules selected, so --rule keeps its cases
    method.write_text(method.read_text().replace("\ntitle:", f"\ntags: [{', '.join(RULES)}]\ntitle:", 1))
    deviations = folder / "deviations.yaml"
    deviations.write_text(f"deviations:\n  - case: {CASE}\n    where: status\n    reason: known\n")
    special: dict[str, Any] = {
        "base_url": "https://graph.example.test",
        "auth": "client-certificate",  # the flows' settings are given too: msal is not asked before a case runs
        "scenarios": [str(scenarios)],
        "rules": list(RULES),
        "expect_deviations": str(deviations),
        "pinned": str(PINNED),
        "report": str(folder / "report.json"),
        "authority_host": "https://login.example.test",
        "token_file": str(token_file),
        "app": "tests.inprocess_apps:reference",
        "workers": "3",  # on a live target, one user per worker: --user and the two --allowed-users
    }
    samples: dict[str, Any] = {}
    for option in OPTIONS:
        if option.name in special:
            samples[option.name] = special[option.name]
        elif option.kind == "flag":
            samples[option.name] = True
        elif option.choices:
            samples[option.name] = next(c for c in option.choices if c != option.default)
        elif option.kind in ("float", "int"):
            samples[option.name] = "7" if option.kind == "int" else "7.5"
        elif option.kind == "list":
            samples[option.name] = [f"{option.name}-1", f"{option.name}-2"]
        elif option.kind == "path":
            samples[option.name] = str(folder / option.name)
        else:
            samples[option.name] = f"{option.name}-value"
    return samples


def _arguments(values: dict[str, Any], spelled: str) -> list[str]:
    """``values`` as command-line arguments, each option spelled as ``run`` or the plugin spells it."""
    arguments: list[str] = []
    for option in OPTIONS:
        if option.name not in values:
            continue
        flag = option.run if spelled == VIA_RUN else option.flag
        value = values[option.name]
        if value is True:
            arguments.append(flag)
        else:
            for item in value if isinstance(value, list) else [value]:
                arguments += [flag, item]
    return arguments


def _landed(option: Option, sample: Any) -> Any:
    """What the field of ``option`` holds in the settings (as the probe writes them) after ``sample``."""
    if option.name == "api_version":
        return [sample]
    if option.name == "token_file":
        return TOKEN_IN_FILE
    if option.kind in ("float", "int"):
        return float(sample) if option.kind == "float" else int(sample)
    return sample


def _settings_via_both(folder: Path, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The settings ``graph-conformance run`` and ``pytest`` resolve from ``values``, each read by the probe."""
    by_run, by_pytest = folder / "run", folder / "pytest"
    by_run.mkdir()
    by_pytest.mkdir()
    run = graph_conformance("run", *_arguments(values, VIA_RUN), "--", *PROBE, cwd=by_run, env=_environment())
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr
    plugin = subprocess.run(
        [sys.executable, "-m", "pytest", *SUITE, *_arguments(values, VIA_PYTEST), *PROBE],
        cwd=by_pytest,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert plugin.returncode == 0, plugin.stdout[-2000:] + plugin.stderr
    return json.loads((by_run / "settings.json").read_text()), json.loads((by_pytest / "settings.json").read_text())


def test_every_option_is_accepted_by_run_and_the_plugin_and_lands_in_the_same_field(tmp_path: Path) -> None:
    samples = _samples(tmp_path)
    # a token and a token file are not given together: the file goes in a second run, on a loopback target;
    # an in-process app is a target instead of a base URL: it goes in a third
    groups = [
        {name: value for name, value in samples.items() if name not in ("token_file", "app")},
        {"token_file": samples["token_file"], "base_url": "http://127.0.0.1:9"},
        {"app": samples["app"]},
    ]
    assert {name for group in groups for name in group} == {option.name for option in OPTIONS}
    for number, group in enumerate(groups):
        folder = tmp_path / f"group-{number}"
        folder.mkdir()
        by_run, by_pytest = _settings_via_both(folder, group)
        assert (by_run.pop("via"), by_pytest.pop("via")) == (VIA_RUN, VIA_PYTEST)
        assert by_run == by_pytest
        for option in OPTIONS:
            if option.name in group:
                field = FIELDS.get(option.name, option.name)
                assert by_run[field] == _landed(option, group[option.name]), (option.name, by_run[field])


INI = """\
[pytest]
graph_base_url = http://127.0.0.1:1
graph_api_version = beta
graph_scenarios = {scenarios}
"""


def test_the_command_line_outranks_the_environment_which_outranks_the_ini_file(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(INI.format(scenarios=copy_fixture_scenarios(pytester.path / "scenarios")))

    def header() -> str:
        result = pytester.runpytest_subprocess(*SUITE, *cli, "--collect-only")
        assert result.ret == 0, result.stdout.str()[-2000:]
        return next(line for line in result.stdout.lines if line.startswith("graph-conformance 0.1.0: target"))

    cli: list[str] = []
    assert header().startswith("graph-conformance 0.1.0: target http://127.0.0.1:1 (loopback mock), versions beta,")
    monkeypatch.setenv("GRAPH_BASE_URL", "http://127.0.0.1:2")
    monkeypatch.setenv("GRAPH_API_VERSION", "v1.0")
    assert header().startswith("graph-conformance 0.1.0: target http://127.0.0.1:2 (loopback mock), versions v1.0,")
    cli = ["--graph-base-url", "http://127.0.0.1:3", "--graph-api-version", "beta"]
    assert header().startswith("graph-conformance 0.1.0: target http://127.0.0.1:3 (loopback mock), versions beta,")


def test_run_takes_its_target_from_the_environment_below_its_flags(tmp_path: Path) -> None:
    environment = _environment(GRAPH_BASE_URL="https://graph.example.test", GRAPH_USER="env-user@contoso.example")
    from_environment = graph_conformance("run", "--read-only", "--", *PROBE, cwd=tmp_path, env=environment)
    assert from_environment.returncode == 0, from_environment.stdout[-2000:] + from_environment.stderr
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert (settings["base_url"], settings["user"]) == ("https://graph.example.test", "env-user@contoso.example")
    flags = ["--base-url", "http://127.0.0.1:9", "--user", "flag-user@contoso.example", "--read-only"]
    from_flags = graph_conformance("run", *flags, "--", *PROBE, cwd=tmp_path, env=environment)
    assert from_flags.returncode == 0, from_flags.stdout[-2000:] + from_flags.stderr
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert (settings["base_url"], settings["user"]) == ("http://127.0.0.1:9", "flag-user@contoso.example")


REQUIRED_USER = "is required against graph.example.test (not loopback): the user the scenarios act on"


@pytest.mark.parametrize(
    ("arguments", "environment", "message"),
    [
        (["--base-url", "https://graph.example.test"], {}, f"--user {REQUIRED_USER}"),
        ([], {"GRAPH_BASE_URL": "https://graph.example.test"}, f"--user {REQUIRED_USER}"),
        (
            ["--auth", "client-secret", "--tenant", "t"],
            {},
            "--auth client-secret needs --client-id, --client-secret",
        ),
        ([], {"GRAPH_AUTH": "client-certificate"}, "GRAPH_AUTH client-certificate needs --tenant, --client-id, "
         "--certificate, --certificate-thumbprint"),
        (["--auth", "token"], {}, "--auth token needs --token, --token-file or GRAPH_ACCESS_TOKEN"),
        (["--token", "t", "--token-file", "missing.txt"], {}, "give --token or --token-file, not both"),
        (["--token-file", "missing.txt"], {}, "--token-file missing.txt: give a regular file of at most 64 KiB"),
        (
            [],
            {"GRAPH_ACCESS_TOKEN_FILE": "missing.txt"},
            "GRAPH_ACCESS_TOKEN_FILE missing.txt: give a regular file of at most 64 KiB",
        ),
        (["--api-version", "all", "--retry-budget", "-1"], {}, "--retry-budget '-1': give a number from 0 to 3600"),
        (
            ["--auth", "client-certificate", "--tenant", "t", "--client-id", "c", "--certificate", "missing.pem"],
            {"GRAPH_CLIENT_CERTIFICATE_THUMBPRINT": "ab"},
            "--certificate missing.pem: no readable file there",
        ),
        (  # checked for the msal flows, which read it (a token run ignores it)
            ["--auth", "device-code", "--tenant", "t", "--client-id", "c"],
            {"GRAPH_CA_BUNDLE": "missing.pem"},
            "GRAPH_CA_BUNDLE missing.pem: no readable file there",
        ),
        ([], {"GRAPH_API_VERSION": "v2"}, "GRAPH_API_VERSION 'v2': choose one of beta, v1.0, all"),
        (["--base-url", "http://127.0.0.1:9/beta"], {}, "--base-url 'http://127.0.0.1:9/beta': give the service "
         "root without the version (the suite adds /beta or /v1.0)"),
    ],
)
def test_run_names_its_own_flags_or_the_variable_that_was_set(
    tmp_path: Path, arguments: list[str], environment: dict[str, str], message: str
) -> None:
    result = graph_conformance("run", *arguments, cwd=tmp_path, env=_environment(**environment))
    assert (result.returncode, result.stderr) == (2, RUN_ERROR + message + "\n")
    assert "--graph-" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("arguments", "environment", "message"),
    [
        (["--graph-base-url", "https://graph.example.test"], {}, f"--graph-user {REQUIRED_USER}"),
        ([], {"GRAPH_BASE_URL": "https://graph.example.test"}, f"--graph-user {REQUIRED_USER}"),
        (
            ["--graph-auth", "client-secret", "--graph-tenant", "t"],
            {},
            "--graph-auth client-secret needs --graph-client-id, --graph-client-secret",
        ),
        ([], {"GRAPH_AUTH": "device-code"}, "GRAPH_AUTH device-code needs --graph-tenant, --graph-client-id"),
        (
            ["--graph-token", "t", "--graph-token-file", "missing.txt"],
            {},
            "give --graph-token or --graph-token-file, not both",
        ),
        (
            [],
            {"GRAPH_ACCESS_TOKEN_FILE": "missing.txt"},
            "GRAPH_ACCESS_TOKEN_FILE missing.txt: give a regular file of at most 64 KiB",
        ),
    ],
)
def test_the_plugin_names_its_own_flags_or_the_variable_that_was_set(
    tmp_path: Path, arguments: list[str], environment: dict[str, str], message: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *SUITE, *arguments],
        cwd=tmp_path,
        env=_environment(**environment),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stderr) == (2, f"ERROR: {message}\n")


def test_skip_reasons_name_the_flag_of_the_command_line_used() -> None:
    live = {"base_url": "https://graph.example.test", "user": "tester@contoso.example", "allowed_users": ["x"]}
    for via, writes, listed in [
        (VIA_RUN, "--allow-writes", "--allowed-users"),
        (VIA_PYTEST, "--graph-allow-writes", "--graph-allowed-users"),
    ]:
        settings = resolve(live, {}, environ={}, via=via)
        assert settings.write_refusal() == f"writes to graph.example.test (not loopback) need {writes}"
        assert settings.may_write() == f"nothing (no {writes}): read-only checks only"
        allowed = resolve({**live, "allow_writes": True}, {}, environ={}, via=via)
        assert allowed.write_refusal(user=True) == (
            f"user 'tester@contoso.example' is not in {listed}; writes run only for allow-listed test users"
        )


# --- arguments after -- ---------------------------------------------------------------------------------


def test_arguments_after_a_double_dash_go_to_pytest(tmp_path: Path) -> None:
    scenarios = copy_fixture_scenarios(tmp_path / "scenarios")
    with Server(make_app(extra={"brandNew": 1}, leak_pin=True)) as leaky:
        common = ["run", "--base-url", leaky.url, "--scenarios", str(scenarios)]
        whole = graph_conformance(*common, cwd=tmp_path)
        first_failure = graph_conformance(*common, "--", "-x", "--tb=line", "-p", "no:randomly", cwd=tmp_path)
    assert whole.returncode == 1 and "1 passed, 2 failed" in whole.stdout, whole.stdout[-2000:]
    assert first_failure.returncode == 1
    assert "stopping after 1 failures" in first_failure.stdout, first_failure.stdout[-2000:]
    assert "1 failed" in first_failure.stdout and "2 failed" not in first_failure.stdout


def test_run_keeps_its_own_k_and_v_before_the_double_dash(tmp_path: Path) -> None:
    result = graph_conformance("run", "-k", "standard-qr-lifecycle", "-v", "--", "--collect-only", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    collected = [line.strip() for line in result.stdout.splitlines() if "<Function" in line]
    assert collected == ["<Function test_scenario[standard-qr-lifecycle[beta]]>", "<Function test_scenario[standard-qr-lifecycle[v1.0]]>"]


def test_a_pytest_usage_error_after_a_double_dash_exits_2_with_pytests_message(tmp_path: Path) -> None:
    result = graph_conformance("run", "--", "--no-such-pytest-option", cwd=tmp_path)
    assert result.returncode == 2  # pytest alone would say 4
    assert "error: unrecognized arguments: --no-such-pytest-option" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["run", "--", "--graph-user", "u"], "run: --graph-user after --: give it before -- as --user"),
        (["run", "--", "--conformance-report=r.json"], "run: --conformance-report after --: give it before -- as --report-json"),
        (["mock", "--", "-x"], "mock: only run takes arguments after -- (for pytest)"),
    ],
)
def test_a_setting_after_a_double_dash_is_refused(tmp_path: Path, arguments: list[str], message: str) -> None:
    result = graph_conformance(*arguments, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, RUN_ERROR + message + "\n")


CANARY_TOKEN = "canary-token-3f9a1c77e0d24b"


@pytest.mark.parametrize("given", [["--token", CANARY_TOKEN], ["--token-file", "-"]], ids=["flag", "stdin"])
def test_run_hands_its_token_to_the_plugin_off_pytests_command_line(tmp_path: Path, given: list[str]) -> None:
    """pytest's argv is logged by --debug and read by every plugin: run's secrets never go there."""
    result = graph_conformance(
        "run", *given, "-k", "method-lifecycle", "--report-json", "report.json", "--", "--debug=debug.log",
        cwd=tmp_path, stdin=CANARY_TOKEN + "\n", env=_environment(),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert json.loads((tmp_path / "report.json").read_text())["settings"]["auth"] == "token"  # it was used
    log = (tmp_path / "debug.log").read_text()
    assert "--graph-token" not in log and "conformance.suite" in log  # the log holds the command line
    for artefact in (log, result.stdout, result.stderr, (tmp_path / "report.json").read_text()):
        assert CANARY_TOKEN not in artefact


def test_a_token_flag_outranks_a_token_file_named_in_the_environment(tmp_path: Path) -> None:
    result = graph_conformance(
        "run", "--token", CANARY_TOKEN, "-k", "method-lifecycle", cwd=tmp_path,
        env=_environment(GRAPH_ACCESS_TOKEN_FILE=str(tmp_path / "no-such-file")),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    both = graph_conformance("run", "--token", CANARY_TOKEN, "--token-file", "x", cwd=tmp_path, env=_environment())
    assert both.returncode == 2 and "give --token or --token-file, not both" in both.stderr


def test_an_msal_file_left_in_the_environment_costs_a_run_without_msal_nothing(tmp_path: Path) -> None:
    missing = {"GRAPH_CA_BUNDLE": "missing.pem", "GRAPH_CLIENT_CERTIFICATE": "missing.pem"}
    result = graph_conformance("run", "-k", "method-lifecycle", cwd=tmp_path, env=_environment(**missing))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
