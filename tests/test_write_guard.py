"""The write guard's decisions, and the settings checked before a run starts.

The guard classifies the host httpx really connects to; anything it cannot prove to be loopback is
live. The drill in test_live_safety.py shows the same decisions end to end through a TLS impostor.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent, indent

import httpx
import pytest

from conformance.config import is_loopback_host, resolve, target_host
from conformance.errors import UsageError
from conformance.guard import refusal, write_scope
from conformance.scenarios import CATALOGUE, load_scenarios, parse_scenario
from tests.helpers import MINIMAL_HEAD, graph_conformance

LIVE = [
    "https://graph.microsoft.com",
    "https://graph\uff0emicrosoft\uff0ecom",
    "https://graph\u3002microsoft\uff61com",
    "https://GRAPH.microsoft.com.",
    "https://127.0.0.1@graph.microsoft.com",
    "https://localhost:secret@graph.microsoft.com/",
    "https://gr\u00e4ph.example",
    "http://10.0.0.8:8000",
    "http://2130706433:8000",  # 127.0.0.1 to some resolvers, but not provably loopback: live
    "http://0x7f000001",
    "http://127.1",
    "http://[fe80::1]:80",
]
LOOPBACK = [
    "http://127.0.0.1:8000",
    "http://127.9.9.9",
    "http://[::1]:8000",
    "http://localhost:8000",
    "http://LOCALHOST.:8000",
    "http://[::ffff:127.0.0.1]:8000",
    "http://graph.microsoft.com@127.0.0.1:8000",
]


@pytest.mark.parametrize("url", LIVE + LOOPBACK)
def test_the_guard_classifies_the_host_httpx_connects_to(url: str) -> None:
    assert target_host(url) == httpx.URL(url).raw_host.decode("ascii").lower().rstrip(".")


@pytest.mark.parametrize("url", LIVE)
def test_anything_not_provably_loopback_is_live(url: str) -> None:
    assert not is_loopback_host(target_host(url))
    settings = resolve({"base_url": url, "user": "tester@contoso.example"}, {}, environ={})
    assert settings.guarded and settings.write_refusal() is not None


@pytest.mark.parametrize("url", LOOPBACK)
def test_loopback_targets_may_be_written(url: str) -> None:
    settings = resolve({"base_url": url}, {}, environ={})
    assert settings.is_loopback and settings.write_refusal() is None


WRITES_HEAD = MINIMAL_HEAD + "writes: true\nsteps:\n"


def scenario(*steps: str) -> object:
    """A scenario that declares writes, with these steps (each a YAML list item)."""
    parsed, problems = parse_scenario(WRITES_HEAD + indent("".join(steps), "  "), "x.yaml")
    assert problems == []
    return parsed


USER = "- request: {method: DELETE, path: '/users/{user}/authentication/qrCodePinMethod'}\n"
ME = "- request: {method: PUT, path: /me/authentication/qrCodePinMethod, json: {}}\n"
POLICY = "- request: {method: PATCH, path: /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/qrCodePin, json: {}}\n"
OTHER = "- request: {method: DELETE, path: '/users/someone-else/authentication/qrCodePinMethod'}\n"
READ_ME = "- request: {method: GET, path: /me/authentication/qrCodePinMethod}\n"


def live(*flags: str, allowed: str = "tester@contoso.example") -> object:
    cli: dict[str, object] = {"base_url": "https://graph.microsoft.com", "user": "tester@contoso.example"}
    cli.update({flag: True for flag in flags})
    cli["allowed_users"] = [allowed]
    return resolve(cli, {}, environ={})


@pytest.mark.parametrize(
    ("steps", "flags", "allowed", "reason"),
    [
        (USER, (), "tester@contoso.example", "need --graph-allow-writes"),
        (USER, ("allow_writes",), "other@contoso.example", "is not in --graph-allowed-users"),
        (USER, ("allow_writes",), "tester@contoso.example", None),
        (ME, ("allow_writes",), "tester@contoso.example", "add 'me' to --graph-allowed-users"),
        (ME, ("allow_writes",), "me", None),
        (POLICY, ("allow_writes",), "tester@contoso.example", "that needs --graph-allow-policy-writes"),
        (POLICY, ("allow_writes", "allow_policy_writes"), "tester@contoso.example", None),
        (OTHER, ("allow_writes", "allow_policy_writes"), "someone-else,me", "which is neither the allow-listed user"),
        (USER, ("allow_writes", "read_only"), "tester@contoso.example", "this is a read-only run (--graph-read-only)"),
    ],
)
def test_what_a_live_run_may_write(steps: str, flags: tuple[str, ...], allowed: str, reason: str | None) -> None:
    got = refusal(live(*flags, allowed=allowed), scenario(steps))  # type: ignore[arg-type]
    assert (got is None) if reason is None else (got is not None and reason in got), got


def test_write_scope_reads_every_phase_and_ignores_reads() -> None:
    parsed = scenario(READ_ME, USER, POLICY.replace("PATCH", "DELETE"))
    scope = write_scope(parsed)  # type: ignore[arg-type]
    assert (scope.user, scope.me, scope.policy, scope.unknown) == (True, False, True, ())
    assert scope.method_roots == ("/users/{user}/authentication/qrCodePinMethod",)


def test_bad_report_and_cassette_paths_stop_the_run_before_it_starts(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    target = ["run", "--base-url", "http://127.0.0.1:9"]  # nothing listens: a run that started would say so
    bad_report = graph_conformance(*target, "--report-json", str(tmp_path / "a-file" / "r.json"), cwd=tmp_path)
    assert bad_report.returncode == 2
    assert f"error: --report-json {tmp_path}/a-file/r.json: cannot write there" in bad_report.stderr
    folder_report = graph_conformance(*target, "--report-json", str(tmp_path), cwd=tmp_path)
    assert (folder_report.returncode, "is a folder; give a file path" in folder_report.stderr) == (2, True)
    cassettes = graph_conformance(
        *target, "--record-mode", "once", "--cassette-dir", str(tmp_path / "a-file"), cwd=tmp_path
    )
    assert (cassettes.returncode, "is a file; give a folder" in cassettes.stderr) == (2, True)
    below_a_file = graph_conformance(
        *target, "--record-mode", "once", "--cassette-dir", str(tmp_path / "a-file" / "c"), cwd=tmp_path
    )
    assert below_a_file.returncode == 2 and "cannot record cassettes there" in below_a_file.stderr
    junit = graph_conformance(*target, "--junitxml", str(tmp_path / "a-file" / "j.xml"), cwd=tmp_path)
    assert (junit.returncode, "--junitxml" in junit.stderr and "cannot write there" in junit.stderr) == (2, True)
    for result in (bad_report, folder_report, cassettes, below_a_file, junit):
        assert "ConnectError" not in result.stdout + result.stderr


def test_an_empty_selection_exits_2_saying_so(tmp_path: Path) -> None:
    beta_only = tmp_path / "beta.yaml"
    beta_only.write_text(
        dedent(
            """\
            id: x
            title: t
            docs: [a.md]
            versions: [beta]
            steps:
              - request: {method: GET, path: /a}
            """
        )
    )
    by_version = graph_conformance("run", "--scenarios", str(beta_only), "--api-version", "v1.0", cwd=tmp_path)
    assert by_version.returncode == 2 and "no case selected" in by_version.stdout + by_version.stderr
    by_keyword = graph_conformance("run", "-k", "no-such-case", cwd=tmp_path)
    assert by_keyword.returncode == 2 and "no case was selected" in by_keyword.stderr


def test_the_token_comes_from_a_file_or_standard_input(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("canary-file-token-0b3e7f\n")
    settings = resolve({"base_url": "http://127.0.0.1:9", "token_file": str(token)}, {}, environ={})
    assert (settings.token, settings.auth) == ("canary-file-token-0b3e7f", "token")
    assert "canary-file-token-0b3e7f" not in repr(settings)
    token.write_text("")
    with pytest.raises(UsageError, match="must hold exactly one token"):
        resolve({"base_url": "http://127.0.0.1:9", "token_file": str(token)}, {}, environ={})
    with pytest.raises(UsageError, match="not both"):
        resolve({"base_url": "http://127.0.0.1:9", "token_file": str(token), "token": "t"}, {}, environ={})


def test_run_reads_the_token_from_standard_input_and_never_shows_it(tmp_path: Path) -> None:
    from conformance.mock import MockOptions, create_app
    from conformance.mock.serve import BackgroundServer

    secret = "canary-stdin-token-7c2d91"
    with BackgroundServer(create_app(MockOptions(token=secret))) as server:
        args = ["run", "--base-url", server.url, "--token-file", "-", "-k", "policy-read", "--report-json", "r.json"]
        accepted = graph_conformance(*args, cwd=tmp_path, stdin=secret + "\n")
        refused = graph_conformance(*args, cwd=tmp_path, stdin="another-token-entirely\n")
    assert accepted.returncode == 0, accepted.stdout[-2000:]
    assert refused.returncode == 1  # the mock accepts only the token that came on standard input
    for result in (accepted, refused):
        assert secret not in result.stdout + result.stderr
    assert secret not in (tmp_path / "r.json").read_text()


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "1e10"])
def test_timeouts_must_be_finite_and_sane(value: str, tmp_path: Path) -> None:
    result = graph_conformance("run", "--base-url", "http://127.0.0.1:9", "--timeout", value, cwd=tmp_path)
    assert result.returncode == 2 and f"error: --timeout {value!r}: give a number from" in result.stderr


def test_a_look_alike_of_localhost_is_not_loopback() -> None:
    settings = resolve({"base_url": "http://\u2113ocalhost:8000", "user": "u"}, {}, environ={})
    assert not settings.is_loopback and settings.guarded


def test_a_password_in_the_base_url_is_never_sent_nor_shown(tmp_path: Path) -> None:
    from conformance.mock import create_app
    from conformance.mock.serve import BackgroundServer

    with BackgroundServer(create_app()) as server:
        url = server.url.replace("http://", "http://alice:hunter2pw-canary@")
        args = ["run", "--base-url", url, "-k", "needs-a-token", "--report-json", "r.json", "--junitxml", "j.xml"]
        result = graph_conformance(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]  # the no-credentials step really sent none
    for text in (result.stdout, result.stderr, (tmp_path / "r.json").read_text(), (tmp_path / "j.xml").read_text()):
        assert "hunter2pw-canary" not in text


def test_an_environment_proxy_never_sees_a_loopback_target(tmp_path: Path) -> None:
    import os

    from conformance.mock import create_app
    from conformance.mock.serve import BackgroundServer

    seen = []

    async def recorder(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.append(scope.get("path"))
        await send({"type": "http.response.start", "status": 502, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with BackgroundServer(recorder) as proxy, BackgroundServer(create_app()) as server:
        env = {**os.environ, "HTTP_PROXY": proxy.url, "HTTPS_PROXY": proxy.url, "NO_PROXY": ""}
        result = graph_conformance("run", "--base-url", server.url, "-k", "policy-read", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout[-2000:]
    assert seen == []


def test_a_run_that_checked_nothing_exits_2(tmp_path: Path) -> None:
    result = graph_conformance("run", "--read-only", "-k", "policy-update", cwd=tmp_path)
    assert result.returncode == 2
    selected = sum(len(s.versions) for s in load_scenarios([CATALOGUE]) if "policy-update" in s.id)
    assert f"nothing was checked: all {selected} selected cases were skipped" in result.stdout
