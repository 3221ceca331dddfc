"""The reference mock: each documented rule, in-process (Starlette's TestClient is an httpx.Client)."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from conformance.config import DEFAULT_USER
from conformance.mock import MockOptions, create_app
from conformance.mock.rules import DOCUMENTED_RULES
from conformance.report import failure_message
from conformance.schemas import SchemaSet
from tests.helpers import COMMITTED

SCHEMAS = SchemaSet(COMMITTED)
AUTH = {"Authorization": "Bearer any-token"}
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
METHOD = "/{v}/users/{u}/authentication/qrCodePinMethod"


def iso(moment: datetime) -> str:
    """``moment`` in whole seconds with ``Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def client(**options: Any) -> TestClient:
    """A client of a fresh mock whose clock stands at :data:`NOW`, with these options."""
    return TestClient(create_app(MockOptions(clock=NOW, **options)), headers=AUTH)


def put_method(
    c: TestClient, version: str = "v1.0", user: str = "alice@contoso.example", **body: Any
) -> httpx.Response:
    """PUT a method with a 30-day standard code and a valid PIN; ``body`` adds or replaces members."""
    payload = {
        "standardQRCode": {"startDateTime": iso(NOW), "expireDateTime": iso(NOW + timedelta(days=30))},
        "pin": {"code": "58219374"},
        **body,
    }
    return c.put(METHOD.format(v=version, u=user), json=payload)


def envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert ``response`` is ``status`` in Graph's error envelope with ``code``; its body."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert SCHEMAS.errors("v1.0", "graphError", body) == []
    assert body["error"]["code"] == code
    assert set(body["error"]["innerError"]) == {"date", "request-id", "client-request-id"}
    assert response.headers["request-id"] == body["error"]["innerError"]["request-id"]
    return body


@pytest.mark.parametrize("version", ["beta", "v1.0"])
def test_create_returns_the_image_and_pin_once_and_get_never(version: str) -> None:
    c = client()
    created = put_method(c, version)
    assert created.status_code == 201
    body = created.json()
    assert SCHEMAS.errors(version, "qrCodePinAuthenticationMethod", body) == []
    assert created.headers["location"].endswith(
        f"/{version}/users/alice@contoso.example/authentication/qrCodePinMethod"
    )
    image = body["standardQRCode"]["image"]
    assert base64.b64decode(image["binaryValue"], validate=True).startswith(b"<svg")
    raw = base64.b64decode(image["rawContent"], validate=True).decode()
    assert raw.startswith(f"ms-qrpin:v1|alice@contoso.example|{body['standardQRCode']['id']}|")
    assert (image["errorCorrectionLevel"], body["pin"]["code"], body["pin"]["forceChangePinNextSignIn"]) == (
        "l",
        "58219374",
        True,
    )
    assert body["standardQRCode"]["lastUsedDateTime"] == "0001-01-01T00:00:00Z" and body["temporaryQRCode"] is None
    read = c.get(METHOD.format(v=version, u="alice@contoso.example")).json()
    assert read["standardQRCode"]["image"] is None and read["pin"]["code"] is None
    assert SCHEMAS.errors(version, "qrCodePinAuthenticationMethod", read) == []
    # each version shows what its pages document (DECISIONS.md 15, 16)
    assert ("createdDateTime" in read, "lastUsedDateTime" in read, "id" in read["pin"]) == (
        (True, False, True) if version == "v1.0" else (False, True, False)
    )


def test_one_method_per_user_and_the_standard_code_is_required() -> None:
    c = client()
    assert put_method(c).status_code == 201
    envelope(put_method(c), 400, "tooManyQRCodePinMethod")
    envelope(put_method(c, user="bob", standardQRCode=None), 400, "standardQRCodeRequired")
    temporary = {"startDateTime": iso(NOW), "expireDateTime": iso(NOW + timedelta(hours=2))}
    envelope(put_method(c, user="bob", temporaryQRCode=temporary), 400, "standardQRCodeRequired")


@pytest.mark.parametrize(
    "pin",
    [
        "1234567",
        "5821937a",
        "11111111",
        "12121212",
        "12312312",
        "123123123",
        "1" * 9 + "2" * 12,
        "580123456789",  # a full run inside the PIN
        "589876543210",
        "58121212",  # a pair three times in a row, inside the PIN
        "58342342",  # a triple twice in a row
    ],
)
def test_bad_pins_are_refused_with_pin_too_short(pin: str) -> None:
    envelope(put_method(client(), pin={"code": pin}), 400, "pinTooShort")


@pytest.mark.parametrize("pin", ["12345678", "98765432", "1234567890", "58121274", "12312458", "0123456788"])
def test_pins_the_page_does_not_forbid_are_accepted(pin: str) -> None:
    # entra-docs/concept-authentication-qr-code.md:52 checks full runs and repeated sequences only (DECISIONS.md 23)
    assert put_method(client(), pin={"code": pin}).status_code == 201


def test_pin_rules() -> None:
    refusal = DOCUMENTED_RULES.pin_refusal
    assert refusal("58219374", 8) is None and refusal("582193745821", 8) is None
    assert refusal("58219374", 10) == "PIN needs to be at least 10 digits long"
    assert refusal("١٢٣٤٥٦٧٨", 8) == "PIN needs to be digit only"  # non-ASCII digits
    assert refusal("5" + "8219374" * 3, 8) == "PIN can be at most 20 digits long"


def test_a_pin_is_generated_when_none_is_given_and_follows_the_policy_length() -> None:
    c = client()
    c.patch(
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/qrCodePin",
        json={"@odata.type": "#microsoft.graph.qrCodePinAuthenticationMethodConfiguration", "pinLength": 12},
    )
    created = put_method(c, pin=None).json()
    assert DOCUMENTED_RULES.pin_refusal(created["pin"]["code"], 12) is None and len(created["pin"]["code"]) == 12
    envelope(put_method(c, user="bob"), 400, "pinTooShort")  # 8 digits no longer suffice


def test_standard_code_rules() -> None:
    c = client()
    put_method(c)
    path = METHOD.format(v="v1.0", u="alice@contoso.example") + "/standardQRCode"
    original = c.get(path).json()
    envelope(
        c.patch(path, json={"startDateTime": iso(NOW), "expireDateTime": iso(NOW + timedelta(days=5))}),
        400,
        "ActiveQRCodeExisted",
    )
    updated = c.patch(path, json={"expireDateTime": iso(NOW + timedelta(days=60))})
    assert updated.status_code == 200 and updated.json()["image"] is None
    assert updated.json()["startDateTime"] == original["startDateTime"] and updated.json()["expireDateTime"] == iso(
        NOW + timedelta(days=60)
    )
    envelope(c.patch(path, json={"expireDateTime": iso(NOW + timedelta(days=396))}), 400, "qrCodeLifeTimeExceedLimit")
    assert c.delete(path).status_code == 204
    envelope(c.get(path), 404, "itemNotFound")
    envelope(c.delete(path), 404, "itemNotFound")
    long = {"startDateTime": iso(NOW), "expireDateTime": iso(NOW + timedelta(days=395, seconds=1))}
    envelope(c.patch(path, json=long), 400, "qrCodeLifeTimeExceedLimit")
    created = c.patch(
        path, json={"startDateTime": "2026-11-22T12:00:00+00:00", "expireDateTime": "2027-11-22T12:00:00.1234567Z"}
    )
    assert created.status_code == 201 and created.json()["image"] is not None
    assert created.json()["startDateTime"] == "2026-11-22T12:00:00Z"


def test_temporary_code_rules() -> None:
    moment = [NOW]
    c = TestClient(create_app(MockOptions()), headers=AUTH)
    c.app.state.store.clock = lambda: moment[0]  # type: ignore[attr-defined]
    put_method(c)
    path = METHOD.format(v="beta", u="alice@contoso.example") + "/temporaryQRCode"
    envelope(c.get(path), 404, "itemNotFound")
    too_long = {"startDateTime": iso(NOW), "expireDateTime": iso(NOW + timedelta(hours=12, minutes=1))}
    envelope(c.patch(path, json=too_long), 400, "qrCodeLifeTimeExceedLimit")
    envelope(
        c.patch(path, json={"startDateTime": iso(NOW), "expireDateTime": iso(NOW + timedelta(minutes=30))}),
        400,
        "invalidRequest",
    )
    good = {"startDateTime": iso(NOW), "expireDateTime": iso(NOW + timedelta(hours=12))}
    assert c.patch(path, json=good).status_code == 201
    envelope(c.patch(path, json={"expireDateTime": iso(NOW + timedelta(hours=2))}), 400, "ActiveQRCodeExisted")
    moment[0] = NOW + timedelta(hours=13)  # the temporary code has expired: a new one may be created
    later = {"startDateTime": iso(moment[0]), "expireDateTime": iso(moment[0] + timedelta(hours=1))}
    assert c.patch(path, json=later).status_code == 201


def test_pin_reset_and_update() -> None:
    c = client()
    put_method(c)
    base = METHOD.format(v="v1.0", u="alice@contoso.example")
    reset = c.patch(base + "/pin")  # no body at all, as the Entra how-to sends it
    assert reset.status_code == 201 and SCHEMAS.errors("v1.0", "qrPin", reset.json()) == []
    code = reset.json()["code"]
    assert code != "58219374" and reset.json()["forceChangePinNextSignIn"] is True
    envelope(
        c.post(base + "/pin/updatePin", json={"currentPin": "00000000", "newPin": "38475912"}), 400, "invalidRequest"
    )
    envelope(c.post(base + "/pin/updatePin", json={"currentPin": code, "newPin": "1234"}), 400, "pinTooShort")
    assert c.post(base + "/pin/updatePin", json={"currentPin": code, "newPin": "38475912"}).status_code == 204
    assert c.patch(base + "/pin/UPDATEPIN", json={"currentPin": "38475912", "newPin": "49586023"}).status_code == 204
    pin = c.get(base).json()["pin"]
    assert (pin["code"], pin["forceChangePinNextSignIn"]) == (None, False)


def test_policy_per_version() -> None:
    c = client()
    v1 = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/qrCodePin"
    beta = "/beta/policies/authenticationmethodspolicy/authenticationmethodconfigurations/qrcodepin"
    assert (c.get(v1).json()["id"], c.get(beta).json()["id"]) == ("qrCodePin", "QRCodePin")
    assert SCHEMAS.errors("v1.0", "qrCodePinAuthenticationMethodConfiguration", c.get(v1).json()) == []
    odata = {"@odata.type": "#microsoft.graph.qrCodePinAuthenticationMethodConfiguration"}
    envelope(c.patch(v1, json={"pinLength": 10}), 400, "invalidRequest")  # v1.0 requires @odata.type
    updated = c.patch(v1, json={**odata, "pinLength": 10})
    assert (updated.status_code, updated.json()["pinLength"]) == (200, 10)
    assert c.patch(beta, json={"standardQRCodeLifetimeInDays": 30}).status_code == 204
    for bad in (
        {"pinLength": 7},
        {"pinLength": 21},
        {"standardQRCodeLifetimeInDays": 396},
        {"state": "on"},
        {"pinLength": True},
    ):
        envelope(c.patch(beta, json=bad), 400, "invalidRequest")
    assert c.delete(v1).status_code == 204
    assert {k: c.get(beta).json()[k] for k in ("pinLength", "standardQRCodeLifetimeInDays", "state")} == {
        "pinLength": 8,
        "standardQRCodeLifetimeInDays": 365,
        "state": "disabled",
    }


def test_paths_and_ids_are_case_insensitive_and_me_is_the_default_user() -> None:
    c = client()
    assert put_method(c, user="6C2F8B36-B6F0-46FA-9548-1EBA48BEBBDE").status_code == 201
    assert c.get("/V1.0/USERS/6c2f8b36-b6f0-46fa-9548-1eba48bebbde/Authentication/QRCODEPINMETHOD").status_code == 200
    assert put_method(c, user=DEFAULT_USER).status_code == 201
    assert c.get("/beta/me/authentication/qrCodePinMethod/standardQRCode").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/beta/users/a/authentication/qrCodePinMethod", None, 404, "itemNotFound"),
        ("POST", "/beta/users/a/authentication/qrCodePinMethod", {}, 405, "MethodNotAllowed"),
        ("GET", "/beta/users/a/authentication/qrCodePinMethod/pin", None, 405, "MethodNotAllowed"),
        ("GET", "/v2.0/users/a/authentication/qrCodePinMethod", None, 400, "BadRequest"),
        ("GET", "/beta/groups/a", None, 404, "itemNotFound"),
        ("GET", "/beta/users/a/authentication/qrCodePinMethod/other", None, 404, "itemNotFound"),
    ],
)
def test_errors_are_in_graphs_envelope(method: str, path: str, body: Any, status: int, code: str) -> None:
    envelope(client().request(method, path, json=body), status, code)


def test_malformed_json_is_400() -> None:
    c = client()
    response = c.put(
        METHOD.format(v="beta", u="a"), content=b'{"standardQRCode": ', headers={"Content-Type": "application/json"}
    )
    envelope(response, 400, "BadRequest")
    envelope(c.put(METHOD.format(v="beta", u="a"), json=[1]), 400, "invalidRequest")
    envelope(
        c.patch(METHOD.format(v="beta", u="a") + "/standardQRCode", json={"expireDateTime": "tomorrow"}),
        404,
        "itemNotFound",
    )
    put_method(c, "beta", "a")
    bad_date = c.patch(
        METHOD.format(v="beta", u="a") + "/temporaryQRCode",
        json={"startDateTime": "2026-11-22 12:00", "expireDateTime": iso(NOW)},
    )
    envelope(bad_date, 400, "invalidRequest")


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer ", "Bearer wrong-token"])
def test_no_valid_bearer_token_is_401(header: str | None) -> None:
    c = TestClient(create_app(MockOptions(token="the-token")))
    headers = {"client-request-id": "cr-1"} | ({"Authorization": header} if header else {})
    body = envelope(c.get(METHOD.format(v="v1.0", u="a"), headers=headers), 401, "InvalidAuthenticationToken")
    assert body["error"]["innerError"]["client-request-id"] == "cr-1"
    assert c.get(METHOD.format(v="v1.0", u="a"), headers={"Authorization": "Bearer the-token"}).status_code == 404


def test_knobs_throttle_extra_properties_and_clock() -> None:
    c = client(throttle=["2.128", "1"], extra={"isUsable": True})
    first, second = c.get(METHOD.format(v="beta", u="a")), c.get(METHOD.format(v="beta", u="a"))
    assert [(r.status_code, r.headers["retry-after"]) for r in (first, second)] == [(429, "2.128"), (429, "1")]
    created = put_method(c).json()
    assert created["isUsable"] is True and created["createdDateTime"] == "2026-11-22T12:00:00.0000000Z"
    assert client().get("/beta/users/a/authentication/qrCodePinMethod").status_code == 404  # knobs are off by default


def test_concurrent_creates_for_one_user_make_exactly_one_method() -> None:
    from tests.graphapp import Server

    with Server(create_app()) as server, httpx.Client(base_url=server.url, headers=AUTH) as http:
        statuses: list[int] = []
        payload = {
            "standardQRCode": {
                "startDateTime": iso(datetime.now(UTC)),
                "expireDateTime": iso(datetime.now(UTC) + timedelta(days=2)),
            }
        }

        def create() -> None:
            statuses.append(http.put(METHOD.format(v="beta", u="same"), json=payload).status_code)

        threads = [threading.Thread(target=create) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(statuses) == [201] + [400] * 11


def test_the_whole_catalogue_passes_in_process_with_no_drift() -> None:
    from tests.mutants import catalogue, run_catalogue

    scenarios = catalogue()
    results = run_catalogue(create_app(), scenarios)  # with the token the plugin sends to a mock
    assert len(results) == sum(len(s.versions) for s in scenarios) >= 32
    assert [(r.case_id, failure_message(r)) for r in results if r.outcome != "passed" or r.notes] == [
        (r.case_id, failure_message(r))
        for r in results
        if r.not_applicable  # an empty mock has no method to read back
    ]
    assert all(r.outcome == "skipped" and not r.violations for r in results if r.not_applicable)


def test_the_rules_come_in_with_the_options() -> None:
    c = client(rules=replace(DOCUMENTED_RULES, temporary_max=timedelta(hours=2), pin_max=9, policy_pin_length=(8, 9)))
    path = METHOD.format(v="beta", u="alice@contoso.example") + "/temporaryQRCode"
    envelope(put_method(c, pin={"code": "5821937458"}), 400, "pinTooShort")  # 10 digits: over the maximum
    put_method(c, pin={"code": "582193745"})
    three_hours = {"startDateTime": iso(NOW), "expireDateTime": iso(NOW + timedelta(hours=3))}
    refused = envelope(c.patch(path, json=three_hours), 400, "qrCodeLifeTimeExceedLimit")
    assert refused["error"]["message"] == "TemporaryQRCode lifetime exceeds the limit i.e. maximum 2 hours."
    policy = "/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/qrCodePin"
    assert (
        c.patch(policy, json={"pinLength": 10}).json()["error"]["message"]
        == "pinLength must be an integer from 8 to 9."
    )


def test_json_bodies_are_compact_and_typed() -> None:
    response = put_method(client())
    assert response.headers["content-type"].startswith("application/json;odata.metadata=minimal")
    assert json.loads(response.text)["@odata.type"] == "#microsoft.graph.qrCodePinAuthenticationMethod"


def test_the_mock_refuses_a_wrong_non_ascii_current_pin_and_ignores_a_reset_body() -> None:
    client = TestClient(create_app(), headers={"Authorization": "Bearer t"})
    base = "/v1.0/users/u/authentication/qrCodePinMethod"
    client.put(
        base,
        json={"standardQRCode": {"startDateTime": "2026-11-22T00:00:00Z", "expireDateTime": "2026-12-22T00:00:00Z"}},
    )
    wrong = client.post(base + "/pin/updatePin", json={"currentPin": "é1234567", "newPin": "38475912"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (400, "invalidRequest")
    assert client.patch(base + "/pin", content=b"not json").status_code == 201


POLICY = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/qrCodePin"
POLICY_TYPE = {"@odata.type": "#microsoft.graph.qrCodePinAuthenticationMethodConfiguration"}


def test_a_user_is_reached_by_object_id_by_user_principal_name_and_through_me() -> None:
    c = client()
    upn = "Frontline.Worker@contoso.example"  # a UPN in any case
    created = put_method(c, user=upn)
    assert created.status_code == 201
    raw = base64.b64decode(created.json()["standardQRCode"]["image"]["rawContent"]).decode()
    assert raw.startswith("ms-qrpin:v1|frontline.worker@contoso.example|")  # the user's UPN, whatever the key
    by_id = c.get(METHOD.format(v="v1.0", u=DEFAULT_USER))
    by_me = c.get("/v1.0/me/authentication/qrCodePinMethod")
    assert by_id.json()["id"] == by_me.json()["id"] == created.json()["id"]
    envelope(put_method(c, user=DEFAULT_USER), 400, "tooManyQRCodePinMethod")  # one user, one method
    assert c.delete(METHOD.format(v="beta", u=DEFAULT_USER.upper())).status_code == 204
    envelope(c.get(METHOD.format(v="beta", u="frontline.worker@contoso.example")), 404, "itemNotFound")
    # a key the directory does not know is a user of its own, as before
    assert put_method(c, user="someone@contoso.example").status_code == 201
    envelope(c.get(METHOD.format(v="beta", u=DEFAULT_USER)), 404, "itemNotFound")


def test_me_may_be_named_by_its_user_principal_name() -> None:
    c = client(me_user="Frontline.Worker@contoso.example")
    standard = {"startDateTime": iso(NOW), "expireDateTime": iso(NOW + timedelta(days=3))}
    assert c.put("/beta/me/authentication/qrCodePinMethod", json={"standardQRCode": standard}).status_code == 201
    assert c.get(METHOD.format(v="beta", u=DEFAULT_USER)).status_code == 200


@pytest.mark.parametrize(
    ("change", "accepted"),
    [
        ({"pinLength": 7}, False),
        ({"pinLength": 8}, True),
        ({"pinLength": 20}, True),
        ({"pinLength": 21}, False),
        ({"pinLength": 12.5}, False),
        ({"standardQRCodeLifetimeInDays": 0}, False),
        ({"standardQRCodeLifetimeInDays": 1}, True),
        ({"standardQRCodeLifetimeInDays": 395}, True),
        ({"standardQRCodeLifetimeInDays": 396}, False),
        ({"standardQRCodeLifetimeInDays": "100"}, False),
    ],
)
def test_policy_updates_stay_within_the_documented_bounds(change: dict[str, Any], accepted: bool) -> None:
    c = client()
    before = c.get(POLICY).json()
    answer = c.patch(POLICY, json={**POLICY_TYPE, **change})
    if accepted:
        assert answer.status_code == 200 and {k: answer.json()[k] for k in change} == change
    else:
        envelope(answer, 400, "invalidRequest")
        assert c.get(POLICY).json() == before  # nothing changed


def test_the_policy_pin_length_applies_to_new_pins_given_generated_and_changed() -> None:
    c = client()
    assert c.patch(POLICY, json={**POLICY_TYPE, "pinLength": 12}).status_code == 200
    envelope(put_method(c, pin={"code": "58219374582"}), 400, "pinTooShort")  # 11 digits
    assert put_method(c, pin={"code": "582193745821"}).status_code == 201
    base = METHOD.format(v="v1.0", u="alice@contoso.example")
    reset = c.patch(base + "/pin").json()["code"]
    assert len(reset) == 12
    too_short = {"currentPin": reset, "newPin": "38475912604"}
    envelope(c.post(base + "/pin/updatePin", json=too_short), 400, "pinTooShort")
    assert c.post(base + "/pin/updatePin", json={"currentPin": reset, "newPin": "384759126047"}).status_code == 204
    # the policy constrains new PINs only: restoring 8 digits lets 8-digit PINs through again
    assert c.patch(POLICY, json={**POLICY_TYPE, "pinLength": 8}).status_code == 200
    assert c.post(base + "/pin/updatePin", json={"currentPin": "384759126047", "newPin": "38475912"}).status_code == 204


def test_a_reset_never_gives_back_the_pin_it_replaces(monkeypatch: pytest.MonkeyPatch) -> None:
    import conformance.mock.rules as rules

    c = client()
    put_method(c)
    digits = iter("58219374" + "38475912")  # the random source first draws the current PIN again
    monkeypatch.setattr(rules.secrets, "choice", lambda population: next(digits))
    reset = c.patch(METHOD.format(v="v1.0", u="alice@contoso.example") + "/pin")
    assert (reset.status_code, reset.json()["code"]) == (201, "38475912")


@pytest.mark.parametrize(
    ("verbs", "post", "patch"),
    [(("POST", "PATCH"), 204, 204), (("POST",), 204, 405), (("PATCH",), 405, 204), ((), 405, 405)],
)
def test_update_pin_takes_the_verbs_the_rules_allow(verbs: tuple[str, ...], post: int, patch: int) -> None:
    c = client(rules=replace(DOCUMENTED_RULES, update_pin_verbs=verbs))
    created = put_method(c).json()
    path = METHOD.format(v="beta", u="alice@contoso.example") + "/pin/updatePin"
    current, answers = created["pin"]["code"], []
    for verb, new in (("POST", "38475912"), ("PATCH", "49586023")):
        answer = c.request(verb, path, json={"currentPin": current, "newPin": new})
        answers.append(answer.status_code)
        if answer.status_code == 405:
            envelope(answer, 405, "MethodNotAllowed")
        else:
            current = new
    assert answers == [post, patch]


def test_deleting_the_method_takes_its_codes_and_pin_and_it_can_be_created_again() -> None:
    c = client()
    first = put_method(c).json()
    base = METHOD.format(v="v1.0", u="alice@contoso.example")
    temporary = {"startDateTime": iso(NOW), "expireDateTime": iso(NOW + timedelta(hours=2))}
    assert c.patch(base + "/temporaryQRCode", json=temporary).status_code == 201
    assert c.delete(base).status_code == 204
    for part in ("/standardQRCode", "/temporaryQRCode"):
        envelope(c.get(base + part), 404, "itemNotFound")
    envelope(c.patch(base + "/pin"), 404, "itemNotFound")
    change = {"currentPin": "58219374", "newPin": "38475912"}
    envelope(c.post(base + "/pin/updatePin", json=change), 404, "itemNotFound")
    again = put_method(c, pin={"code": "38475912"})
    assert again.status_code == 201
    body = again.json()
    assert body["id"] != first["id"] and body["standardQRCode"]["id"] != first["standardQRCode"]["id"]
    assert body["temporaryQRCode"] is None and body["standardQRCode"]["image"] is not None


def test_deleting_one_code_leaves_the_method_its_pin_and_the_other_code() -> None:
    c = client()
    put_method(c)
    base = METHOD.format(v="beta", u="alice@contoso.example")
    temporary = {"startDateTime": iso(NOW), "expireDateTime": iso(NOW + timedelta(hours=2))}
    temporary_id = c.patch(base + "/temporaryQRCode", json=temporary).json()["id"]
    assert c.delete(base + "/standardQRCode").status_code == 204
    method = c.get(base).json()
    assert method["standardQRCode"] is None and method["temporaryQRCode"]["id"] == temporary_id
    assert c.get(base + "/temporaryQRCode").status_code == 200
    assert c.post(base + "/pin/updatePin", json={"currentPin": "58219374", "newPin": "38475912"}).status_code == 204
    standard = {"startDateTime": iso(NOW), "expireDateTime": iso(NOW + timedelta(days=10))}
    recreated = c.patch(base + "/standardQRCode", json=standard)
    assert recreated.status_code == 201 and recreated.json()["image"] is not None
    assert c.delete(base + "/temporaryQRCode").status_code == 204
    assert c.get(base + "/standardQRCode").json()["id"] == recreated.json()["id"]
    recreated_temporary = c.patch(base + "/temporaryQRCode", json=temporary)
    assert recreated_temporary.status_code == 201 and recreated_temporary.json()["id"] != temporary_id


def test_an_update_answers_the_new_expiry_and_never_the_image() -> None:
    c = client()
    put_method(c)
    path = METHOD.format(v="v1.0", u="alice@contoso.example") + "/standardQRCode"
    for days in (10, 395):
        answer = c.patch(path, json={"expireDateTime": iso(NOW + timedelta(days=days))})
        assert answer.status_code == 200 and answer.json()["image"] is None
        expiry = iso(NOW + timedelta(days=days))
        assert answer.json()["expireDateTime"] == expiry == c.get(path).json()["expireDateTime"]
