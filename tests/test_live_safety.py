"""The live-safety drill: the whole run against an impostor of graph.microsoft.com on loopback.

Every request that would have reached Microsoft Graph is counted by the impostor (tests/tlsproxy.py).
Without the write flags no write may reach it, whatever the spelling of the host; with them, only
the writes they allow, and the tenant's state (methods, policy) afterwards equals the state before.
"""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from conformance.config import DEFAULT_USER
from conformance.mock import MockOptions, create_app
from tests.helpers import free_port, graph_conformance
from tests.tlsproxy import GraphImpostor

TESTER = "tester@contoso.example"
TOKEN = "canary-drill-token-5d1e9a7c3b"
SPELLINGS = [
    "https://graph.microsoft.com",
    "https://graph\uff0emicrosoft\uff0ecom",  # full-width full stops
    "https://graph\u3002microsoft\uff61com",  # ideographic and half-width full stops
    "https://GRAPH.Microsoft.COM",  # upper case
    "https://graph.microsoft.com:443/",
    "https://127.0.0.1@graph.microsoft.com",  # userinfo that looks like loopback
    "https://localhost:pw@graph.microsoft.com",
]
# a trailing dot reaches Graph's address, though TLS then refuses the name: no write may be tried
UNVERIFIABLE = ["https://graph.microsoft.com.", "https://Graph.Microsoft.Com./"]


def run(impostor: GraphImpostor, base_url: str, *flags: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``graph-conformance run`` against ``base_url`` through the impostor; the token never shows."""
    target = ["--base-url", base_url, "--user", TESTER, "--token", TOKEN, "--timeout", "20"]
    env = {**os.environ, **impostor.env()}
    result = graph_conformance("run", *target, *flags, cwd=cwd, env=env, timeout=300)
    assert TOKEN not in result.stdout + result.stderr
    return result


def state(app: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    store = app.state.store
    with store.lock:
        return copy.deepcopy(store.methods), copy.deepcopy(store.policy)


def put_method(app: Any, user: str) -> None:
    from starlette.testclient import TestClient

    with TestClient(app, headers={"Authorization": "Bearer t"}) as client:
        answer = client.put(
            f"/beta/users/{user}/authentication/qrCodePinMethod",
            json={
                "standardQRCode": {"startDateTime": "2026-01-01T00:00:00Z", "expireDateTime": "2026-12-01T00:00:00Z"}
            },
        )
        assert answer.status_code == 201


@pytest.fixture
def impostor(tmp_path: Path) -> Any:
    with GraphImpostor(tmp_path, create_app(MockOptions(me_user=DEFAULT_USER))) as proxy:
        yield proxy


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_no_write_reaches_graph_without_the_flags_whatever_the_spelling(
    impostor: GraphImpostor, spelling: str, tmp_path: Path
) -> None:
    put_method(impostor.mock.config.app, TESTER)  # reads have something to read
    before = state(impostor.mock.config.app)
    result = run(impostor, spelling, cwd=tmp_path)
    # httpx sends the name as given (a trailing dot included): the proxy sees Graph, however spelled
    assert impostor.connects and {c.replace(".:", ":") for c in impostor.connects} == {"graph.microsoft.com:443"}
    assert impostor.requests, "the run reached the impostor (so the count below means something)"
    assert impostor.writes == []
    assert state(impostor.mock.config.app) == before
    assert "is a Microsoft Graph (live); may write: nothing (no --allow-writes)" in result.stdout
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize("spelling", UNVERIFIABLE)
def test_no_write_is_even_tried_on_a_spelling_that_tls_refuses(
    impostor: GraphImpostor, spelling: str, tmp_path: Path
) -> None:
    result = run(impostor, spelling, cwd=tmp_path)
    assert impostor.connects, "the run tried to reach Graph through the impostor"
    assert {c.replace(".:", ":") for c in impostor.connects} == {"graph.microsoft.com:443"}
    assert impostor.writes == []
    assert "is a Microsoft Graph (live); may write: nothing (no --allow-writes)" in result.stdout
    assert "not run: target unreachable" in result.stdout
    assert result.returncode == 1


def test_read_only_flag_writes_nothing_even_with_every_write_flag(impostor: GraphImpostor, tmp_path: Path) -> None:
    flags = ["--allow-writes", "--allowed-users", f"{TESTER},me", "--allow-policy-writes", "--allow-replace"]
    result = run(impostor, "https://graph.microsoft.com", "--read-only", *flags, cwd=tmp_path)
    assert impostor.requests and impostor.writes == []
    assert result.returncode == 0, result.stdout[-3000:]


def test_allow_writes_touches_only_the_allow_listed_user_and_leaves_the_state_as_it_was(
    impostor: GraphImpostor, tmp_path: Path
) -> None:
    app = impostor.mock.config.app
    before = state(app)
    result = run(impostor, "https://graph.microsoft.com", "--allow-writes", "--allowed-users", TESTER, cwd=tmp_path)
    writes = impostor.writes
    assert writes, "the allowed writes ran"
    assert all(path.startswith(("/beta/users/tester@", "/v1.0/users/tester@")) for _, path in writes), writes
    assert state(app) == before  # the tester had no method before, and has none after
    assert "it writes through /me (the token's owner); add 'me' to --allowed-users" in result.stdout
    assert "it changes the tenant-wide policy; that needs --allow-policy-writes" in result.stdout
    assert result.returncode == 0, result.stdout[-3000:]


def test_an_existing_method_is_never_deleted_without_allow_replace(impostor: GraphImpostor, tmp_path: Path) -> None:
    app = impostor.mock.config.app
    put_method(app, TESTER)
    put_method(app, DEFAULT_USER)  # the token's owner (/me) has one too
    before = state(app)
    flags = ["--allow-writes", "--allowed-users", f"{TESTER},me", "--allow-policy-writes"]
    result = run(impostor, "https://graph.microsoft.com", *flags, cwd=tmp_path)
    method_writes = [w for w in impostor.writes if "/authentication/" in w[1].lower()]
    assert method_writes == []
    assert state(app) == before
    assert f"user '{TESTER}' already has a QR code + PIN method" in result.stdout
    assert "the token's owner (/me) already has a QR code + PIN method" in result.stdout
    assert result.returncode == 0, result.stdout[-3000:]


def test_policy_writes_restore_a_non_default_policy_exactly(impostor: GraphImpostor, tmp_path: Path) -> None:
    app = impostor.mock.config.app
    app.state.store.policy.update(state="enabled", pinLength=8, standardQRCodeLifetimeInDays=100)
    before = state(app)
    flags = ["--allow-writes", "--allowed-users", f"{TESTER},me", "--allow-policy-writes", "-k", "policy"]
    result = run(impostor, "https://graph.microsoft.com", *flags, cwd=tmp_path)
    policy_writes = [w for w in impostor.writes if w[1].lower().startswith(("/beta/policies", "/v1.0/policies"))]
    assert policy_writes, "the policy scenarios ran"
    assert state(app) == before
    assert result.returncode == 0, result.stdout[-3000:]


def test_a_replay_of_a_live_target_is_guarded_and_sends_nothing(impostor: GraphImpostor, tmp_path: Path) -> None:
    put_method(impostor.mock.config.app, TESTER)
    before = state(impostor.mock.config.app)
    for spelling in ("https://graph.microsoft.com:443", "https://GRAPH.microsoft.com"):
        result = run(impostor, spelling, "--record-mode", "none", "--cassette-dir", "empty", cwd=tmp_path)
        assert "may write: nothing (no --allow-writes)" in result.stdout
        assert result.returncode == 2  # nothing recorded to replay: bad input, said once per case
    assert impostor.requests == [] and state(impostor.mock.config.app) == before


def test_a_write_the_paths_did_not_announce_is_refused_as_it_is_sent(impostor: GraphImpostor, tmp_path: Path) -> None:
    app = impostor.mock.config.app
    put_method(app, DEFAULT_USER)  # the token's owner, whom the dot segments below would reach
    before = state(app)
    sneaky = tmp_path / "sneaky.yaml"
    sneaky.write_text(
        dedent(
            """\
            id: sneaky
            title: t
            docs: [a.md]
            versions: [beta]
            writes: true
            steps:
              - request: {method: DELETE, path: '/users/{user}/../../me/authentication/qrCodePinMethod'}
                expect: {status: 204}
              - request: {method: DELETE, path: '/users/{user}/%2e%2e/victim/authentication/qrCodePinMethod'}
                expect: {status: 204}
            """
        )
    )
    flags = ["--allow-writes", "--allowed-users", TESTER, "--scenarios", str(sneaky)]
    result = run(impostor, "https://graph.microsoft.com", *flags, cwd=tmp_path)
    assert impostor.writes == [] and state(app) == before
    assert "refused to send DELETE" in result.stdout and "dot segments or escapes" in result.stdout
    assert result.returncode == 1


def test_me_scenarios_leave_the_token_owner_as_they_found_them(impostor: GraphImpostor, tmp_path: Path) -> None:
    app = impostor.mock.config.app
    before = state(app)
    flags = ["--allow-writes", "--allowed-users", f"{TESTER},me", "-k", "me-qr-and-pin or method-lifecycle-me"]
    result = run(impostor, "https://graph.microsoft.com", *flags, cwd=tmp_path)
    assert {path.split("/")[2] for _, path in impostor.writes} == {"me"}
    assert state(app) == before
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_guards_own_requests_count_towards_an_unreachable_target(tmp_path: Path) -> None:
    dead = free_port()  # nothing listens on it: the "proxy" refuses every connection
    env = {**os.environ, "HTTPS_PROXY": f"http://127.0.0.1:{dead}", "NO_PROXY": ""}
    command = [
        "run",
        "--base-url",
        "https://graph.microsoft.com",
        "--user",
        TESTER,
        "--token",
        TOKEN,
        "--allow-writes",
        "--allowed-users",
        TESTER,
        "--api-version",
        "beta",
    ]
    result = graph_conformance(*command, cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "not run: target unreachable" in result.stdout
    # after two failures (the guard's or the cases'), nothing more is tried: every later case is not run
    lines = result.stdout.splitlines()
    tried = [x for x in lines if x.startswith("  ERROR ") or (x.startswith("  skipped ") and "could not tell" in x)]
    assert 1 <= len(tried) <= 2, result.stdout[-3000:]
    assert any(x.startswith("  NOT RUN ") for x in lines)
