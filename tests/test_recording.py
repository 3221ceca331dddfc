"""Record against a real uvicorn server, stop it, replay offline against another base URL.

Canary secrets are planted in the run (token, PIN, QR image) and every artefact is searched."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.graphapp import Server, make_app
from tests.helpers import REPLAY_OFFLINE, SUITE, case_count, copy_fixture_scenarios, outcomes, reports

CANARY_TOKEN = "eyJcanary.token-0123456789abcdefghijklmnopqrstuvwxyz"
CANARY_PIN = "73910466"
CANARY_IMAGE = b"<svg>CANARY-QR-IMAGE-4242</svg>"


def test_record_then_replay_offline_elsewhere_with_no_secret_anywhere(pytester: pytest.Pytester) -> None:
    scenarios = copy_fixture_scenarios(pytester.path / "scenarios")
    method = scenarios / "method.yaml"
    method.write_text(method.read_text().replace("58219374", CANARY_PIN))
    common = [*SUITE, "--graph-scenarios", str(scenarios), "--graph-cassette-dir", "cassettes"]

    app = make_app(token=CANARY_TOKEN, image=CANARY_IMAGE, leak_pin=True, gzip=True)
    with Server(app) as server:
        recorded = pytester.runpytest_subprocess(
            *common,
            "--graph-base-url",
            server.url,
            "--graph-token",
            CANARY_TOKEN,
            "--record-mode",
            "once",
            *reports("record"),
        )
    # the target leaks the PIN on GET: both read-backs fail, the 401 case passes
    leaked = {"passed": case_count(scenarios / "unauthenticated.yaml"), "failed": case_count(method)}
    recorded.assert_outcomes(**leaked)
    cassettes = sorted(p.name for p in (pytester.path / "cassettes").iterdir())
    assert cassettes == [
        "method-create-read-delete--beta.yaml",
        "method-create-read-delete--v1.0.yaml",
        "method-needs-a-token--beta.yaml",
    ]

    replayed = pytester.runpytest_subprocess(
        *common,
        *REPLAY_OFFLINE,
        *reports("replay"),
    )
    replayed.assert_outcomes(**leaked)
    assert outcomes(pytester.path / "replay.json") == outcomes(pytester.path / "record.json")
    replayed.stdout.fnmatch_lines(['*$.pin.code: expected null, got "REDACTED-PIN"'])

    canaries = [
        CANARY_TOKEN,
        CANARY_PIN,
        CANARY_IMAGE.decode(),
        base64.b64encode(CANARY_IMAGE).decode(),
        base64.b64encode(b"ms-qrpin:v1|" + CANARY_IMAGE).decode(),
    ]
    outputs = [p for p in pytester.path.rglob("*") if p.is_file() and scenarios not in p.parents]  # not the inputs
    assert {p.suffix for p in outputs} >= {".yaml", ".json", ".xml"}
    artefacts = {p: p.read_text(errors="replace") for p in outputs}
    artefacts[Path("record stdout")] = recorded.stdout.str() + recorded.stderr.str()
    artefacts[Path("replay stdout")] = replayed.stdout.str() + replayed.stderr.str()
    leaks = [(str(path), canary) for path, text in artefacts.items() for canary in canaries if canary in text]
    assert leaks == []
    cassette = (pytester.path / "cassettes" / "method-create-read-delete--beta.yaml").read_text()
    assert "Bearer REDACTED-TOKEN" in cassette and "REDACTED-PIN" in cassette
    assert "https://graph.conformance.invalid/beta/users/" in cassette and "127.0.0.1" not in cassette


def test_replay_without_a_cassette_fails_clearly_and_sends_nothing(pytester: pytest.Pytester) -> None:
    scenarios = copy_fixture_scenarios(pytester.path / "scenarios")
    result = pytester.runpytest_subprocess(
        *SUITE,
        "--graph-scenarios",
        str(scenarios),
        *REPLAY_OFFLINE,
        "--graph-cassette-dir",
        "empty",
        "-k",
        "needs-a-token",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*cassette empty/method-needs-a-token--beta.yaml holds no answer for a request*"])
    assert "Traceback" not in result.stdout.str() and "During handling" not in result.stdout.str()
    assert result.ret == 2  # a missing recording is bad input


def test_vcrpys_header_filter_replaces_credentials_and_drops_cookies_and_host_at_record_and_replay() -> None:
    import vcr
    from vcr.request import Request

    from conformance import recording, scrub

    token = "eyJcanary.header-token-0123456789abcdef"
    config = recording.vcr_config("http://127.0.0.1:9")
    prepare = vcr.VCR(**config)._build_before_record_request(config)  # what vcrpy runs before recording and matching
    sent = Request(
        "GET",
        "http://127.0.0.1:9/beta/me",
        b"",
        {"Authorization": f"Bearer {token}", "Proxy-Authorization": "Basic c2VjcmV0", "Cookie": "s=1", "Host": "x:9"},
    )
    recorded = prepare(sent)
    assert {k.lower(): v for k, v in recorded.headers.items()} == {
        "authorization": scrub.BEARER_PLACEHOLDER,
        "proxy-authorization": scrub.BEARER_PLACEHOLDER,
    }
    assert recorded.uri == f"{recording.CANONICAL_ORIGIN}/beta/me" and token not in str(recorded.headers)
    assert sent.headers["Cookie"] == "s=1"  # vcrpy filters a copy: what is sent keeps its headers
