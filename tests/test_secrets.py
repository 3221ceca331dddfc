"""Secrets, everywhere: bodies in any encoding, vcrpy's logs, ``pytest -l``, userinfo, echoed tokens.

The end-to-end tests record against the reference mock on a real uvicorn server, wrapped so that it
answers with a byte order mark (UTF-8, UTF-16 or UTF-32), echoes the bearer token in response
headers and hands out a canary PIN on reset. Every PIN and image it served, and the token, are then
searched for in every artefact: cassettes (binary bodies decoded), JUnit XML, the JSON report, log
files and everything printed.
"""

from __future__ import annotations

import base64
import codecs
import copy
import json
import logging
import pickle
import pprint
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from textwrap import dedent
from typing import Any

import httpx
import pytest
import yaml

from conformance import recording, scrub
from conformance.auth import MsalAuth, StaticToken, build_auth
from conformance.config import PLACEHOLDER_TOKEN, resolve
from conformance.mock import MockOptions, create_app
from conformance.mock.state import Pin, new_pin
from conformance.report import failure_message
from conformance.scenarios import CATALOGUE, Context
from conformance.scenarios import Request as StepRequest
from tests.graphapp import Server
from tests.helpers import REPLAY_OFFLINE, SUITE, case_count, outcomes, reports, run_scenario
from tests.tokenserver import make_authority, self_signed

JWT = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJl"  # header.payload.signature, never remembered
ENCODINGS = ("utf-8-sig", "utf-16", "utf-32", "utf-16-be", "utf-32-be")


def unique_token() -> str:
    return f"canary-token-{uuid.uuid4().hex[:10]}"


# --- searching artefacts ------------------------------------------------------------------------------


def texts_of(data: bytes) -> list[str]:
    """Every reading of some bytes a leak could hide in: each Unicode encoding, and YAML's base64."""
    readings = [data.decode(e, "ignore") for e in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")]
    readings += [data[1:].decode(e, "ignore") for e in ("utf-16-le", "utf-16-be")]
    text = data.decode("utf-8", "ignore")
    if text.lstrip().startswith("interactions:"):  # a cassette: bodies may be !!binary
        for interaction in (yaml.safe_load(text) or {}).get("interactions", []):
            for side in ("request", "response"):
                body = interaction[side].get("body")
                body = body.get("string") if isinstance(body, dict) else body
                if isinstance(body, bytes):
                    readings.extend(texts_of(body))
    return readings


def leaks(artefacts: dict[str, bytes], canaries: set[str]) -> list[tuple[str, str]]:
    """(artefact, canary) for every canary found in any reading of any artefact."""
    found = []
    for name, data in artefacts.items():
        readings = texts_of(data)
        found += [(name, c) for c in sorted(canaries) if any(c in text for text in readings)]
    return found


def artefacts_in(folder: Path, *skip: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not any(s == p or s in p.parents for s in skip)
    }


def test_the_leak_search_reads_every_encoding_and_binary_cassette_bodies() -> None:
    pin = new_pin(8)
    body = json.dumps({"code": pin}).encode("utf-16")
    cassette = yaml.safe_dump({"interactions": [{"request": {}, "response": {"body": {"string": body}}}]}).encode()
    assert b"!!binary" in cassette and pin.encode() not in cassette  # a naive grep would miss it
    assert leaks({"c.yaml": cassette}, {pin}) == [("c.yaml", pin)]
    assert leaks({"c.txt": json.dumps({"code": pin}).encode("utf-32")}, {pin}) == [("c.txt", pin)]
    assert leaks({"c.txt": b"nothing"}, {pin}) == []


# --- bodies whatever their encoding ----------------------------------------------------------------------


def served(pin: str, image: str) -> str:
    return json.dumps(
        {"id": "m1", "pin": {"code": pin}, "standardQRCode": {"image": {"binaryValue": image, "rawContent": image}}}
    )


@pytest.mark.parametrize("encoding", [*ENCODINGS, "utf-8"])
def test_a_response_body_is_scrubbed_in_its_own_encoding_and_byte_order_mark(encoding: str) -> None:
    pin, image = new_pin(8), base64.b64encode(uuid.uuid4().bytes).decode()
    bom = {"utf-16-be": codecs.BOM_UTF16_BE, "utf-32-be": codecs.BOM_UTF32_BE}.get(encoding, b"")
    raw = bom + served(pin, image).encode(encoding)
    assert leaks({"served": raw}, {pin, image}) != []  # the broken input: what a target sends
    response = {"status": {"code": 201}, "headers": {"Content-Type": ["application/json"]}, "body": {"string": raw}}
    recorded = recording.before_record_response(copy.deepcopy(response))["body"]["string"]
    assert leaks({"recorded": recorded}, {pin, image}) == []
    assert recorded.startswith(raw[:4] if encoding.startswith("utf-32") else raw[:2])  # same mark, same encoding
    text, _, _ = scrub.decode_body(recorded)
    assert json.loads(text)["pin"]["code"] == scrub.PIN_PLACEHOLDER
    assert json.loads(text)["standardQRCode"]["image"]["binaryValue"] == scrub.IMAGE_PLACEHOLDER


@pytest.mark.parametrize(
    ("charset", "encoding"),
    [
        ("utf-16", "utf-16-le"),
        ("utf-32", "utf-32-le"),
        ("latin-1", "latin-1"),
        ("base64", "latin-1"),
        ("nope", "latin-1"),
    ],
)
def test_a_declared_charset_without_a_mark_is_read_as_declared(charset: str, encoding: str) -> None:
    pin = new_pin(8)
    raw = json.dumps({"code": pin, "note": "é"}, ensure_ascii=False).encode(encoding)
    scrubbed = scrub.scrub_body(raw, f"application/json; charset={charset}")
    assert leaks({"raw": raw}, {pin}) != [] and leaks({"scrubbed": scrubbed}, {pin}) == []
    assert json.loads(scrubbed.decode(encoding)) == {"code": "REDACTED-PIN", "note": "é"}  # same encoding, no mark


@pytest.mark.parametrize(
    "text",
    [
        '{"code":"%s","forceChangePinNextSignIn":true',  # cut off
        ')]}\'\n{"pin": {"code": "%s"}}',  # text before the JSON
        '{"pin":{"code":%s}} trailing',  # a number, text after
        '{"currentPin" : "%s", "newPin":"%s"',  # spaces around the colon
        '{"error":{"code":"%s"',  # an error envelope cut off: over-scrubbed rather than leaked
        '{"pin":{"code":"%s',  # cut off inside the value
        '{"c\\u006fde":"%s" oops',  # an escaped member name
        '{"message":"you sent {\\"newPin\\":\\"%s\\"}"}',  # a message quoting a request body (valid JSON)
    ],
)
def test_secret_members_are_scrubbed_from_text_that_is_not_json(text: str) -> None:
    pin = new_pin(8)
    body = text.replace("%s", pin)
    assert pin in body
    assert pin not in scrub.scrub_text(body)
    assert pin not in scrub.scrub_text("\ufeff" + body)
    assert leaks({"b": scrub.scrub_body(body.encode("utf-16"))}, {pin}) == []


def test_images_in_text_that_is_not_json_are_scrubbed() -> None:
    image = base64.b64encode(uuid.uuid4().bytes * 4).decode()
    body = f'garbage {{"binaryValue": "{image}", "rawContent":"{image}"'
    assert image not in scrub.scrub_text(body)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: bearer abc.def-123", "Authorization: Bearer REDACTED-TOKEN"),
        ('{"note": "sent Bearer eyJabc.def"}', '{"note":"sent Bearer REDACTED-TOKEN"}'),
        ("currentPin=58219374&newPin=38475912", "currentPin=REDACTED-TOKEN&newPin=REDACTED-TOKEN"),
    ],
)
def test_tokens_and_pins_are_scrubbed_in_any_case_and_any_string(text: str, expected: str) -> None:
    assert scrub.scrub_text(text) == expected


def test_pins_sent_or_answered_as_numbers_are_scrubbed() -> None:
    assert scrub.scrub_json({"pin": {"code": 58219374}, "newPin": 1234}) == {
        "pin": {"code": "REDACTED-PIN"},
        "newPin": "REDACTED-PIN",
    }
    body = dedent(
        """\
        writes: true
        steps:
          - request: {method: PUT, path: /m, json: {pin: {code: 58219374}}}
            expect: {status: 201}
        """
    )
    result, _ = run_scenario(body, lambda r: httpx.Response(400, json={"pin": {"code": 58219374}}))
    assert "58219374" not in failure_message(result)


def test_an_error_code_in_parseable_json_is_kept_and_deep_nesting_does_not_crash() -> None:
    assert scrub.scrub_text('\ufeff{"error":{"code":"pinTooShort"}}') == '{"error":{"code":"pinTooShort"}}'
    deep = "[" * 100_000 + '{"code":"12345678"}' + "]" * 100_000
    assert "12345678" not in scrub.scrub_text(deep)


def test_bodies_with_nothing_to_scrub_keep_their_exact_bytes() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    assert scrub.scrub_body(png, "image/png") == png
    odd = b"\xff\xfe{\x00}"  # UTF-16 cut off mid-character
    assert scrub.scrub_body(odd) == odd
    assert scrub.scrub_body(b"") == b""


def test_a_request_body_keeps_its_bytes_and_loses_its_pins() -> None:
    pin = new_pin(8)
    request = recording.before_record_request("http://127.0.0.1:9")
    vcr_request = __import__("vcr.request", fromlist=["Request"]).Request(
        "POST",
        "http://127.0.0.1:9/beta/x",
        json.dumps({"currentPin": pin}).encode("utf-16"),
        {"Content-Type": "application/json; charset=utf-16", "X-Echo": f"Bearer {unique_token()}"},
    )
    recorded = request(vcr_request)
    assert leaks({"r": recorded.body}, {pin}) == [] and recorded.body.startswith(codecs.BOM_UTF16_LE)
    assert recorded.headers["X-Echo"] == scrub.BEARER_PLACEHOLDER


def test_a_body_in_a_content_coding_vcrpy_left_is_decoded_or_dropped() -> None:
    import gzip

    pin = new_pin(8)
    twice = gzip.compress(gzip.compress(json.dumps({"code": pin}).encode()))
    response = {"headers": {"Content-Encoding": ["gzip, gzip"]}, "body": {"string": twice}}
    recorded = recording.before_record_response(response)
    assert json.loads(recorded["body"]["string"]) == {"code": scrub.PIN_PLACEHOLDER}
    unknown = {"headers": {"Content-Encoding": ["zstd"]}, "body": {"string": b"(\xb5/\xfd" + pin.encode()}}
    dropped = recording.before_record_response(unknown)
    assert dropped["body"]["string"] == b"" and "x-conformance-scrubbed" in dropped["headers"]


# --- values in memory -----------------------------------------------------------------------------------


def test_protected_values_compare_send_and_serialise_as_themselves_but_never_show() -> None:
    from _pytest._io.saferepr import saferepr, saferepr_unlimited

    pin, image = "1" + new_pin(7), base64.b64encode(uuid.uuid4().bytes).decode()  # no leading 0: also a number
    body = json.loads(served(pin, image)) | {"newPin": int(pin), "error": {"code": "kept"}}
    shown = [repr(body), saferepr(body), saferepr_unlimited(body), pprint.pformat(body)]
    assert all(pin in s and image in s for s in shown)  # the broken variant: plain values show
    protected = scrub.protect(body)
    shown = [repr(protected), saferepr(protected), saferepr_unlimited(protected), pprint.pformat(protected)]
    assert not [s for s in shown if pin in s or image in s]
    assert "<redacted PIN: 8 characters>" in shown[0] and "<redacted PIN: a number>" in shown[0]
    assert protected == body and json.dumps(protected) == json.dumps(body)
    assert protected["error"]["code"] == "kept" and type(protected["error"]["code"]) is str
    code = protected["pin"]["code"]
    assert (code == pin, str(code), f"{code}", hash(code) == hash(pin)) == (True, pin, pin, True)
    number = protected["newPin"]
    assert (number == int(pin), str(number), f"/x/{number}", json.dumps(number)) == (True, pin, f"/x/{pin}", pin)
    assert repr(copy.deepcopy(code)) == repr(pickle.loads(pickle.dumps(code))) == "<redacted PIN: 8 characters>"
    assert (
        httpx.Request("POST", "http://127.0.0.1:9", json=protected).content
        == httpx.Request("POST", "http://127.0.0.1:9", json=body).content
    )
    assert pin not in scrub.describe(code) and pin not in json.dumps(scrub.scrub_json({"x": code}))
    assert scrub.describe(scrub.protect({"code": scrub.PIN_PLACEHOLDER})["code"], "code") == '"REDACTED-PIN"'


def test_reprs_hold_no_captured_value_and_no_request_body() -> None:
    context = Context("u", "beta", datetime(2026, 1, 1, tzinfo=UTC), {"pin": "39471091"})
    request = StepRequest("PUT", "/m", {}, {"pin": {"code": "39471091"}}, True)
    assert "39471091" not in repr(context) and "39471091" not in repr(request)


def test_one_of_never_shows_a_captured_pin() -> None:
    body = dedent(
        """\
        steps:
          - request: {method: GET, path: /a}
            capture: {pin: $.pin.code}
          - request: {method: GET, path: /b}
            expect: {body: {$.code: {one_of: ['{pin}', '11112222']}}}
        """
    )
    answer = {"pin": {"code": "58219374"}, "code": "00000000"}
    result, _ = run_scenario(body, lambda r: httpx.Response(200, json=answer))
    assert "58219374" not in failure_message(result) and "11112222" not in failure_message(result)
    assert [v.where for v in result.violations] == ["$.code"]


# --- userinfo ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("https://alice:s3cret@graph.example:8443/root", "https://REDACTED:REDACTED@graph.example:8443/root"),
        ("http://alice@127.0.0.1:8000", "http://REDACTED@127.0.0.1:8000"),
        ("http://al%40ice:p%3Ass@[::1]:8080/a/b?x=1#f", "http://REDACTED:REDACTED@[::1]:8080/a/b?x=1#f"),
        ("http://u:p@[2001:db8::1]/", "http://REDACTED:REDACTED@[2001:db8::1]/"),
        ("https://a:b@c@host/users/x@contoso.example", "https://REDACTED:REDACTED@host/users/x@contoso.example"),
        ("https://graph.microsoft.com/v1.0/users/x@contoso.example", None),  # an '@' in the path is kept
        ("http://[::1]:8000/beta", None),
        ("not a url", None),
        ("http://u:p@[::1/broken", "http://REDACTED@[::1/broken"),
    ],
)
def test_userinfo_is_redacted_and_the_rest_of_the_url_kept(url: str, redacted: str | None) -> None:
    assert scrub.redact_url(url) == (redacted or url)


# --- remembered secrets and echoed tokens ------------------------------------------------------------------


def test_a_remembered_secret_is_scrubbed_from_text_json_headers_and_messages() -> None:
    token = unique_token()

    def places() -> list[str]:
        return [
            scrub.scrub_text(f"echo {token}!"),
            json.dumps(scrub.scrub_json({"note": f"x{token}x", token: 1})),
            json.dumps(scrub.scrub_headers({"x-echo": token, "request-id": f"id-{token}"})),
            scrub.describe({token: 1}),
            scrub.describe(f"sent {token}"),
        ]

    shown = places()
    assert [p for p in shown if token in p] == shown  # the broken variant: not remembered yet
    scrub.remember(token)
    scrub.remember("short")  # ignored: would be found inside ordinary text
    assert [p for p in places() if token in p] == []
    assert scrub.scrub_text("a short story") == "a short story"
    assert scrub.scrub_text(token.upper()) == token.upper()  # exact, case-sensitive


def test_bearer_tokens_and_jwts_are_scrubbed_from_any_header_but_auth_params_are_kept() -> None:
    opaque = unique_token()
    headers = {
        "x-echo-authorization": f"Bearer {opaque}",
        "x-ms-token": JWT,
        "Authorization": "Basic YWxpY2U6czNjcmV0",
        "WWW-Authenticate": 'Bearer realm="", error="invalid_token", authorization_uri="https://login.example"',
        "request-id": "0b6f0d3c-9b47-4c2b-8f2e-2a1f0c9d8e7a",
    }
    assert scrub.scrub_headers(headers) == {
        "x-echo-authorization": "Bearer REDACTED-TOKEN",
        "x-ms-token": "REDACTED-TOKEN",
        "Authorization": "Bearer REDACTED-TOKEN",
        "WWW-Authenticate": headers["WWW-Authenticate"],
        "request-id": headers["request-id"],
    }
    response = {"headers": {k: [v] for k, v in headers.items()}, "body": {"string": b""}}
    recorded = recording.before_record_response(response)["headers"]
    assert "Authorization" not in recorded and recorded["x-echo-authorization"] == ["Bearer REDACTED-TOKEN"]
    assert recorded["x-ms-token"] == ["REDACTED-TOKEN"] and recorded["request-id"] == [headers["request-id"]]


def test_the_run_remembers_the_token_the_client_secret_and_a_url_password() -> None:
    token, secret, password = unique_token(), f"secret-{uuid.uuid4().hex}", f"pw-{uuid.uuid4().hex[:12]}"
    everything = f"{token} {secret} {password}"
    assert scrub.scrub_text(everything) == everything
    build_auth(resolve({"base_url": f"http://u:{password}@127.0.0.1:1", "token": token}, {}, environ={}))
    build_auth(resolve({"base_url": "http://127.0.0.1:1"}, {}, environ={"GRAPH_CLIENT_SECRET": secret}))
    assert scrub.scrub_text(everything) == "REDACTED-TOKEN REDACTED-TOKEN REDACTED-TOKEN"
    StaticToken(PLACEHOLDER_TOKEN)
    assert scrub.scrub_text(PLACEHOLDER_TOKEN) == PLACEHOLDER_TOKEN  # not a secret: kept readable


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, str]]:
    folder = tmp_path_factory.mktemp("tls")
    key, cert = self_signed(folder)
    issued = f"issued-opaque-{uuid.uuid4().hex}"
    app = make_authority(client_id="c1", secret="client-secret-0123", token=issued, calls=[])
    with Server(app, ssl_keyfile=str(key), ssl_certfile=str(cert)) as server:
        yield server.url, cert, issued


def test_a_token_msal_obtained_is_remembered(authority: tuple[str, Path, str]) -> None:
    url, cert, issued = authority
    assert scrub.scrub_text(f"x {issued}") == f"x {issued}"
    settings = resolve(
        {
            "base_url": "http://127.0.0.1:1",
            "auth": "client-secret",
            "tenant": "contoso",
            "client_id": "c1",
            "client_secret": "client-secret-0123",
            "authority_host": url,
            "ca_bundle": str(cert),
            "timeout": "5",
        },
        {},
        environ={},
    )
    auth = build_auth(settings)
    assert isinstance(auth, MsalAuth)
    try:
        assert auth.token() == issued
    finally:
        auth.close()
    assert scrub.scrub_text(f"x {issued}") == "x REDACTED-TOKEN"


# --- vcrpy's logging ---------------------------------------------------------------------------------------


def test_vcrpy_logs_a_recorded_response_unscrubbed_unless_quieted(caplog: pytest.LogCaptureFixture) -> None:
    from vcr.cassette import Cassette
    from vcr.request import Request

    pin = new_pin(8)
    loggers = [logging.getLogger(n) for n in ("vcr", "vcr.cassette")]
    saved = [(lg, lg.level, list(lg.filters)) for lg in loggers]
    response = {"status": {"code": 201, "message": "Created"}, "headers": {}, "body": {"string": served(pin, "x")}}
    try:
        for lg in loggers:  # vcrpy as it comes: nothing quiets it
            lg.setLevel(logging.NOTSET)
            lg.filters.clear()
        with caplog.at_level(logging.DEBUG):
            Cassette("unused.yaml").append(Request("GET", "http://127.0.0.1:9/x", b"", {}), dict(response))
        assert pin in caplog.text  # the broken variant: vcrpy logs the body before any hook scrubs it
        caplog.clear()
        recording.quiet_vcr_logging()
        with caplog.at_level(logging.DEBUG):
            Cassette("unused.yaml").append(Request("GET", "http://127.0.0.1:9/x", b"", {}), dict(response))
            logging.getLogger("vcr.cassette").warning("kept, scrubbed: %s", json.dumps({"newPin": pin}))
            logging.getLogger("httpcore.http11").debug("headers=%r", [(b"x-echo", f"Bearer {unique_token()}")])
        assert pin not in caplog.text and "Appending request" not in caplog.text
        assert "kept, scrubbed" in caplog.text and "Bearer REDACTED-TOKEN" in caplog.text
    finally:
        for lg, level, filters in saved:
            lg.setLevel(level)
            lg.filters[:] = filters
        recording.quiet_vcr_logging()


# --- end to end: a hostile target, every artefact ---------------------------------------------------------


class Hostile:
    """The reference mock answering JSON with a byte order mark in ``encoding``, echoing the bearer token
    in response headers (and, with ``echo_request_id``, as the ``request-id``). ``served`` collects every
    PIN and image value it answered with."""

    def __init__(self, app: Any, encoding: str, echo_request_id: bool = False) -> None:
        self.app, self.encoding, self.echo_request_id = app, encoding, echo_request_id
        self.served: set[str] = set()
        self.marked = 0

    def collect(self, value: Any, parent: str | None = None) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("code", "binaryValue", "rawContent") and isinstance(item, str) and parent != "error":
                    self.served.add(item)
                self.collect(item, key)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authorization = dict(scope["headers"]).get(b"authorization", b"")
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = [(k, v) for k, v in started.get("headers", []) if k.lower() != b"content-length"]
            if body and dict(headers).get(b"content-type", b"").startswith(b"application/json"):
                self.collect(json.loads(body))
                body = body.decode().encode(self.encoding)
                if self.encoding.endswith("-be"):
                    body = (codecs.BOM_UTF16_BE if "16" in self.encoding else codecs.BOM_UTF32_BE) + body
                if not self.encoding.startswith("utf-8"):
                    charset = self.encoding.removesuffix("-be").encode()
                    headers = [(k, v.replace(b"charset=utf-8", b"charset=" + charset)) for k, v in headers]
                self.marked += 1
            headers += [(b"content-length", str(len(body)).encode()), (b"x-echo-authorization", authorization)]
            headers += [(b"x-echo-token", authorization.removeprefix(b"Bearer ")), (b"x-ms-token", JWT.encode())]
            if self.echo_request_id:
                headers = [(k, v) for k, v in headers if k.lower() != b"request-id"]
                headers.append((b"request-id", authorization.removeprefix(b"Bearer ")))
            await send({**started, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


def hostile_target(token: str, reset_pin: str, encoding: str, echo_request_id: bool = False) -> Hostile:
    """The hostile target; its PIN resets answer ``reset_pin``, and updatePin keeps the force flag set
    (a broken target), so the last step of the PIN scenario fails after the reset."""
    app = create_app(MockOptions(token=token))
    store = app.state.store

    def reset(user: str) -> Pin:
        with store.lock:
            method = store.get_method(user)
            method.pin = Pin(method.pin.id, reset_pin, method.pin.created, store.clock(), True)
            return method.pin

    update = store.update_pin

    def update_keeps_flag(user: str, body: Any) -> None:
        update(user, body)
        store.methods[user].pin.force_change = True

    store.reset_pin, store.update_pin = reset, update_keeps_flag
    return Hostile(app, encoding, echo_request_id)


def pin_scenarios(folder: Path) -> set[str]:
    """The catalogue's PIN scenario with PINs unique to this test; returns the PINs it sends."""
    folder.mkdir()
    first, second = new_pin(8), new_pin(8)
    while second == first:
        second = new_pin(8)
    text = (CATALOGUE / "pin-reset-and-change.yaml").read_text()
    created = (  # the shared setup's method, made with this test's PIN
        "  - {use: clean-slate}\n"
        "  - request:\n"
        "      method: PUT\n"
        '      path: "/users/{user}/authentication/qrCodePinMethod"\n'
        f'      json: {{standardQRCode: {{startDateTime: "{{now}}", expireDateTime: "{{now+30d}}"}}, pin: {{code: "{first}"}}}}\n'
        "    expect: {status: 201}\n"
    )
    assert "  - {use: fresh-method}\n" in text and "{other_pin}" in text
    text = text.replace("  - {use: fresh-method}\n", created)
    (folder / "pin.yaml").write_text(text.replace("{pin}", first).replace("{other_pin}", second))
    return {first, second}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32-be"])
def test_recording_a_hostile_target_with_every_log_on_writes_no_secret(
    pytester: pytest.Pytester, encoding: str
) -> None:
    token, reset_pin = unique_token(), new_pin(8)
    scenarios = pytester.path / "scenarios"
    sent_pins = pin_scenarios(scenarios)
    target = hostile_target(token, reset_pin, encoding)
    common = [*SUITE, "--graph-scenarios", str(scenarios), "--graph-cassette-dir", "cassettes"]
    logs = ["--log-level=INFO", "-o", "log_cli=true", "--log-cli-level=DEBUG"]
    with Server(target) as server:
        recorded = pytester.runpytest_subprocess(
            *common,
            *logs,
            "--log-file=record.log",
            "--log-file-level=DEBUG",
            "--graph-base-url",
            server.url,
            "--graph-token",
            token,
            "--record-mode",
            "once",
            *reports("record"),
        )
    recorded.assert_outcomes(
        failed=case_count(scenarios)
    )  # the force flag stays set after updatePin: the last step fails
    assert target.marked > 0 and reset_pin in target.served and sent_pins & target.served  # canaries were served
    replayed = pytester.runpytest_subprocess(
        *common,
        *logs,
        "--log-file=replay.log",
        "--log-file-level=DEBUG",
        *REPLAY_OFFLINE,
        *reports("replay"),
    )
    replayed.assert_outcomes(failed=case_count(scenarios))
    assert outcomes(pytester.path / "replay.json") == outcomes(pytester.path / "record.json")

    artefacts = artefacts_in(pytester.path, scenarios)
    assert {
        "record.log",
        "record.xml",
        "record.json",
        "replay.log",
        "cassettes/pin-reset-and-change--beta.yaml",
    } <= set(artefacts)
    log = artefacts["record.log"].decode()
    assert "DEBUG" in log and "HTTP Request: PATCH" in log  # the logs really ran at DEBUG
    for run, result in (("record", recorded), ("replay", replayed)):
        artefacts[f"{run} output"] = (result.stdout.str() + result.stderr.str()).encode()
    assert leaks(artefacts, {token, JWT, reset_pin, *sent_pins, *target.served}) == []
    cassette = yaml.safe_load(artefacts["cassettes/pin-reset-and-change--beta.yaml"])
    bodies = [i["response"]["body"]["string"] for i in cassette["interactions"]]
    reset = [scrub.decode_body(b if isinstance(b, bytes) else b.encode())[0] for b in bodies if b]
    assert any('"code":"REDACTED-PIN"' in text for text in reset)  # scrubbed, not dropped
    headers = cassette["interactions"][0]["response"]["headers"]
    assert headers["x-echo-token"] == ["REDACTED-TOKEN"] and headers["x-ms-token"] == ["REDACTED-TOKEN"]


def test_show_locals_and_an_echoed_request_id_show_no_secret(pytester: pytest.Pytester) -> None:
    token, reset_pin = unique_token(), new_pin(8)
    scenarios = pytester.path / "scenarios"
    sent_pins = pin_scenarios(scenarios)
    target = hostile_target(token, reset_pin, "utf-8-sig", echo_request_id=True)
    with Server(target) as server:
        result = pytester.runpytest_subprocess(
            *SUITE,
            "--graph-scenarios",
            str(scenarios),
            "--graph-base-url",
            server.url,
            "--graph-token",
            token,
            "-l",
            "--full-trace",
            "-vv",
            "--junitxml",
            "junit.xml",
            "--conformance-report",
            "report.json",
        )
    result.assert_outcomes(failed=case_count(scenarios))
    assert reset_pin in target.served and sent_pins & target.served
    artefacts = artefacts_in(pytester.path, scenarios)
    artefacts["output"] = (result.stdout.str() + result.stderr.str()).encode()
    assert leaks(artefacts, {token, reset_pin, *sent_pins, *target.served}) == []
    xml = artefacts["junit.xml"].decode()
    assert "exchanges=[Exchange(" in xml and "request-id REDACTED-TOKEN" in xml  # locals were shown, ids scrubbed


def test_an_empty_or_null_secret_member_is_kept_as_it_came() -> None:
    # a PIN shown as "" or null hides nothing; keeping it lets a replay judge the answer as recorded
    assert scrub.scrub_json({"pin": {"code": "", "id": "p"}, "image": {"binaryValue": None}}) == {
        "pin": {"code": "", "id": "p"},
        "image": {"binaryValue": None},
    }
    assert scrub.scrub_json({"pin": {"code": "58219374"}}) == {"pin": {"code": "REDACTED-PIN"}}
