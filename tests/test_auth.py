"""Auth end to end with the real msal library against a local HTTPS authority on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.auth import MsalAuth, StaticToken, build_auth
from conformance.config import PLACEHOLDER_TOKEN, resolve
from conformance.errors import AuthError
from tests.graphapp import Server, make_app
from tests.helpers import FIXTURES, SUITE, case_count, copy_fixture_scenarios
from tests.tokenserver import make_authority, self_signed

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "canary-client-secret-Zq9~e8Pq"
ISSUED = "eyJissued.by-the-local-authority-0123456789abcdef"


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path, list[dict[str, Any]]]]:
    folder = tmp_path_factory.mktemp("tls")
    key, cert = self_signed(folder)
    calls: list[dict[str, Any]] = []
    app = make_authority(client_id=CLIENT_ID, secret=SECRET, token=ISSUED, calls=calls)
    with Server(app, ssl_keyfile=str(key), ssl_certfile=str(cert)) as server:
        yield server, cert, calls


@pytest.fixture
def make_auth() -> Iterator[Any]:
    """Build the run's auth as the plugin does, and close it afterwards as the plugin does."""
    made: list[Any] = []

    def make(resolved: Any) -> Any:
        made.append(build_auth(resolved))
        return made[-1]

    yield make
    for auth in made:
        if isinstance(auth, MsalAuth):
            auth.close()


def settings(authority_url: str, cert: Path, **more: Any) -> Any:
    cli = {
        "base_url": "http://127.0.0.1:1",
        "auth": "client-secret",
        "tenant": "contoso",
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "authority_host": authority_url,
        "ca_bundle": str(cert),
        "timeout": "5",
        **more,
    }
    return resolve(cli, {}, environ={})


def test_client_credentials_with_real_msal_obtain_a_token_once(
    authority: tuple[Server, Path, list[dict[str, Any]]], make_auth: Any
) -> None:
    server, cert, calls = authority
    calls.clear()
    auth = make_auth(settings(server.url, cert))
    assert isinstance(auth, MsalAuth)
    assert auth.token() == ISSUED
    assert auth.token() == ISSUED  # from msal's cache: no second token request
    assert [(c["grant_type"], c["client_id"], c["scope"]) for c in calls] == [
        ("client_credentials", CLIENT_ID, "https://graph.microsoft.com/.default")
    ]


def test_a_wrong_secret_is_a_clear_error(authority: tuple[Server, Path, list[dict[str, Any]]], make_auth: Any) -> None:
    server, cert, _ = authority
    auth = make_auth(settings(server.url, cert, client_secret="wrong"))
    with pytest.raises(AuthError) as caught:
        auth.token()
    assert str(caught.value) == "no token: invalid_client: AADSTS7000215: Invalid client secret provided."


def test_an_unreachable_authority_fails_fast_and_clearly(tmp_path: Path, make_auth: Any) -> None:
    _, certificate = self_signed(tmp_path)  # a CA bundle that exists: a missing one is a usage error
    auth = make_auth(settings("https://127.0.0.1:9", certificate))
    with pytest.raises(AuthError) as caught:
        auth.token()
    assert str(caught.value).startswith("msal could not reach the authority https://127.0.0.1:9/contoso: ")


def test_client_certificate_with_real_msal(
    authority: tuple[Server, Path, list[dict[str, Any]]], tmp_path: Path, make_auth: Any
) -> None:
    server, cert, calls = authority
    calls.clear()
    key, certificate = self_signed(tmp_path)
    pem = tmp_path / "client.pem"
    pem.write_text(key.read_text() + certificate.read_text())
    auth = make_auth(
        settings(
            server.url,
            cert,
            auth="client-certificate",
            client_secret=None,
            certificate=str(pem),
            certificate_thumbprint="A" * 40,
        )
    )
    assert auth.token() == ISSUED
    assert calls[0]["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert calls[0]["client_assertion"].count(".") == 2  # a signed JWT


def test_device_code_flow_with_real_msal(
    authority: tuple[Server, Path, list[dict[str, Any]]], capsys: pytest.CaptureFixture[str], make_auth: Any
) -> None:
    server, cert, _ = authority
    auth = make_auth(
        settings(server.url, cert, auth="device-code", client_secret=None, scope="UserAuthMethod-QR.ReadWrite")
    )
    assert auth.token() == ISSUED
    assert "enter QRPIN-42" in capsys.readouterr().err


def test_static_and_placeholder_tokens() -> None:
    mock = resolve({"base_url": "http://127.0.0.1:1"}, {}, environ={})
    assert isinstance(build_auth(mock), StaticToken)
    live = resolve({"base_url": "https://graph.microsoft.com", "user": "u@contoso.example"}, {}, environ={})
    assert build_auth(live) is None  # no credentials, no placeholder for real Graph
    replay = resolve(
        {"base_url": "https://graph.microsoft.com", "user": "u", "token": "t"}, {}, environ={}, record_mode="none"
    )
    request = __import__("httpx").Request("GET", "https://graph.microsoft.com/beta/me")
    next(build_auth(replay).auth_flow(request))
    assert request.headers["Authorization"] == f"Bearer {PLACEHOLDER_TOKEN}"


def test_a_whole_run_with_msal_client_credentials_records_no_secret(
    authority: tuple[Server, Path, list[dict[str, Any]]], pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, cert, calls = authority
    calls.clear()
    scenarios = copy_fixture_scenarios(pytester.path / "scenarios")
    monkeypatch.setenv("GRAPH_CLIENT_SECRET", SECRET)  # the secret comes from the environment, as documented
    with Server(make_app(token=ISSUED)) as graph:  # accepts only the token the authority issued
        result = pytester.runpytest_subprocess(
            *SUITE,
            "--graph-base-url",
            graph.url,
            "--graph-scenarios",
            str(scenarios),
            "--graph-auth",
            "client-secret",
            "--graph-tenant",
            "contoso",
            "--graph-client-id",
            CLIENT_ID,
            "--graph-authority-host",
            server.url,
            "--graph-ca-bundle",
            str(cert),
            "--record-mode",
            "once",
            "--graph-cassette-dir",
            "cassettes",
            "--conformance-report",
            "report.json",
        )
    result.assert_outcomes(passed=case_count(FIXTURES / "scenarios"))
    assert len(calls) == 1  # one token for the whole run
    outputs = [p for p in pytester.path.rglob("*") if p.is_file() and scenarios not in p.parents]
    assert {p.name for p in outputs} >= {"report.json", "method-needs-a-token--beta.yaml"}
    texts = [p.read_text(errors="replace") for p in outputs] + [result.stdout.str(), result.stderr.str()]
    assert not [t for t in texts if SECRET in t or ISSUED in t]
