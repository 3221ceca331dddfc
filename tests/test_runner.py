"""The runner and checks on an injected httpx.Client (MockTransport): every violation, with context."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from textwrap import dedent

import httpx
import pytest

from conformance import scrub
from conformance.report import failure_message
from conformance.runner import Runner, retry_delay
from tests.helpers import GET_QR, NOW, QR, SCHEMAS, read_qr, run_scenario, scenario


def test_a_conformant_answer_passes_and_every_request_carries_a_client_request_id() -> None:
    body = read_qr("expect: {status: 200, schema: qrCode, body: {$.image: {is_null: true}}}")
    result, seen = run_scenario(body, lambda r: httpx.Response(200, json=QR))
    assert (result.outcome, result.violations, result.notes) == ("passed", [], [])
    assert str(seen[0].url) == "http://127.0.0.1:9/beta/users/u1/authentication/qrCodePinMethod/standardQRCode"
    assert len(seen[0].headers["client-request-id"]) == 36


def test_every_violation_is_reported_with_path_expected_got_and_doc() -> None:
    body = read_qr(
        """\
        expect:
          status: 200
          schema: qrCode
          body:
            $.image: {is_null: true}
            $.id: {matches: '^[0-9a-f-]{36}$'}
          span: [{from: $.startDateTime, to: $.expireDateTime, at_most: P30D}]
        """
    )
    bad = {
        **QR,
        "startDateTime": "2026-01-01 00:00",
        "image": {"binaryValue": "not base64!", "errorCorrectionLevel": "x"},
    }
    result, _ = run_scenario(body, lambda r: httpx.Response(200, json=bad, headers={"request-id": "rid-7"}))
    assert result.outcome == "failed"
    assert [(v.where, v.expected, v.got, v.doc) for v in result.violations] == [
        (
            "$.image.binaryValue",
            "base64",
            "<redacted binaryValue: a 11-character string>",
            "graph-docs/beta/resources/qrcodeimagedetails.md:26",
        ),
        (
            "$.image.errorCorrectionLevel",
            "one of h, l, m, q, unknownFutureValue",
            '"x"',
            "graph-docs/beta/resources/qrcodeimagedetails.md:27",
        ),
        ("$.startDateTime", "an RFC 3339 date-time", '"2026-01-01 00:00"', "graph-docs/beta/resources/qrcode.md:40"),
        ("$.image", "null", "an object (binaryValue, errorCorrectionLevel)", "graph-docs/beta/api/qrcode-get.md:72"),
        ("$.id", "a string matching /^[0-9a-f-]{36}$/", '"q1"', "graph-docs/beta/api/qrcode-get.md:72"),
        (
            "$.expireDateTime - $.startDateTime",
            "two date-times with offsets",
            '"2026-01-01 00:00" and "2026-06-01T00:00:00Z"',
            "graph-docs/beta/api/qrcode-get.md:72",
        ),
    ]
    report = failure_message(result)
    assert 'step "read"' in report and "request-id rid-7" in report and "client-request-id " in report
    assert "GET http://127.0.0.1:9/beta/users/u1/authentication/qrCodePinMethod/standardQRCode -> 200" in report


def test_status_mismatch_names_the_error_code_and_a_non_json_body_is_a_violation() -> None:
    body = read_qr("expect: {status: [200, 204], schema: qrCode}")
    result, _ = run_scenario(body, lambda r: httpx.Response(500, text="Internal error"))
    assert [(v.where, v.expected, v.got) for v in result.violations] == [
        ("status", "200 or 204", "500"),
        ("$", "a JSON body", 'a non-JSON body ("Internal error")'),
    ]
    envelope = {"error": {"code": "itemNotFound", "message": "m"}}
    result, _ = run_scenario(read_qr("expect: {status: 200}"), lambda r: httpx.Response(404, json=envelope))
    assert [(v.where, v.got) for v in result.violations] == [("status", "404 (itemNotFound)")]


def test_error_expectations_check_the_envelope_and_the_code() -> None:
    body = read_qr("expect: {status: 400, error: {code: pinTooShort}}")
    result, _ = run_scenario(
        body, lambda r: httpx.Response(400, json={"error": {"code": "tooManyQRCodePinMethod", "message": "m"}})
    )
    # beta pages document no error codes, so the scenario's own page is cited
    assert [(v.where, v.expected, v.got, v.doc) for v in result.violations] == [
        ("$.error.code", "pinTooShort", '"tooManyQRCodePinMethod"', "graph-docs/beta/api/qrcode-get.md:72")
    ]
    result, _ = run_scenario(body, lambda r: httpx.Response(400, json={"code": "pinTooShort"}))
    assert [(v.where, v.expected, v.got) for v in result.violations] == [
        ("$.error", "Graph's error envelope: a required member", "nothing (absent)")
    ]


@pytest.mark.parametrize(
    ("assertion", "answer"),
    [("{equals: false}", 0), ("{equals: true}", 1), ("{one_of: [true]}", 1), ("{equals: [1, 2]}", [True, 2])],
)
def test_booleans_are_not_numbers(assertion: str, answer: object) -> None:
    result, _ = run_scenario(
        read_qr(f"expect: {{body: {{$.x: {assertion}}}}}"),
        lambda r: httpx.Response(200, json={**QR, "x": answer}),
    )
    assert [v.where for v in result.violations] == ["$.x"]


def test_undocumented_properties_are_drift_warnings_not_failures() -> None:
    answer = {**QR, "isUsable": True, "@odata.context": "c", "image": {"binaryValue": "AAAA", "brandNew": 1}}
    result, _ = run_scenario(
        read_qr("expect: {status: 200, schema: qrCode}"), lambda r: httpx.Response(200, json=answer)
    )
    assert result.outcome == "passed"
    assert [(w.where, w.message) for w in result.notes] == [
        ("$.image.brandNew", "not documented for qrCodeImageDetails"),
        ("$.isUsable", "not documented for qrCode"),
    ]


def test_captures_flow_into_later_steps_and_cleanup_always_runs() -> None:
    body = dedent(
        """\
        writes: true
        steps:
          - request: {method: GET, path: /a}
            capture: {qr_id: $.id}
          - request: {method: GET, path: "/b/{qr_id}"}
            expect: {status: 200}
        cleanup:
          - request: {method: DELETE, path: "/c/{qr_id}"}
            expect: {status: 204}
        """
    )
    answers = {
        "/beta/a": httpx.Response(200, json={"id": "q9"}),
        "/beta/b/q9": httpx.Response(500),
        "/beta/c/q9": httpx.Response(204),
    }
    result, seen = run_scenario(body, lambda r: answers[r.url.path])
    assert [r.url.path for r in seen] == ["/beta/a", "/beta/b/q9", "/beta/c/q9"]
    assert [(v.where, v.got) for v in result.violations] == [("status", "500")]


def test_a_failed_setup_is_an_error_and_cleanup_still_runs() -> None:
    body = dedent(
        """\
        writes: true
        given:
          - request: {method: DELETE, path: /a}
            expect: {status: [204, 404]}
        steps:
          - request: {method: GET, path: /b}
        cleanup:
          - request: {method: DELETE, path: /c}
        """
    )
    result, seen = run_scenario(body, lambda r: httpx.Response(500 if r.url.path == "/beta/a" else 204))
    assert result.outcome == "error"
    assert (
        result.error
        == 'setup step "given 1: DELETE /a" failed: status: expected 204 or 404, got 500\n    doc: graph-docs/beta/api/qrcode-get.md:72'
    )
    assert [r.url.path for r in seen] == ["/beta/a", "/beta/c"]


def test_an_unreachable_target_is_an_error_that_says_what_was_sent() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    result, _ = run_scenario(GET_QR, refuse)
    assert result.outcome == "error"
    assert result.error is not None
    assert result.error.startswith(
        "ConnectError: Connection refused — while sending GET http://127.0.0.1:9/beta/users/u1/"
    )


@pytest.mark.parametrize(
    ("header", "expected"), [("3", 3.0), ("2.128", 2.128), ("0", 0.0), ("soon", None), ("-1", None)]
)
def test_retry_after_values(header: str, expected: float | None) -> None:
    assert retry_delay(header) == expected


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
    assert retry_delay("Sun, 22 Nov 2026 12:00:05 GMT", now=now) == 5.0
    assert retry_delay("Sun, 22 Nov 2026 11:00:00 GMT", now=now) == 0.0


def throttled(values: list[str | None], then: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    pending = list(values)

    def handler(request: httpx.Request) -> httpx.Response:
        if pending:
            value = pending.pop(0)
            return httpx.Response(429, headers={"Retry-After": value} if value is not None else {})
        return then

    return handler


def test_retry_after_is_honoured_within_the_budget() -> None:
    slept: list[float] = []
    result, seen = run_scenario(
        read_qr("expect: {status: 200}"),
        throttled(["1", "2.128"], httpx.Response(200, json=QR)),
        sleep=slept.append,
    )
    assert (result.outcome, slept, len(seen)) == ("passed", [1.0, 2.128], 3)
    assert "after 2 retries" in result.exchanges[0].summary()


def test_throttling_beyond_the_budget_is_reported() -> None:
    slept: list[float] = []
    result, seen = run_scenario(
        read_qr("expect: {status: 200}"),
        throttled(["2", "2", "2", "2"], httpx.Response(200)),
        sleep=slept.append,
        retry_budget=3,
    )
    assert slept == [2.0] and len(seen) == 2
    assert [(v.where, v.expected, v.got) for v in result.violations] == [
        ("status", "200", "429"),
        ("status", "an answer within the retry budget (3s)", "429 after 1 retries"),
    ]


def test_a_429_without_retry_after_is_a_violation() -> None:
    slept: list[float] = []
    result, _ = run_scenario(
        read_qr("expect: {status: 200}"), throttled([None], httpx.Response(200, json=QR)), sleep=slept.append
    )
    assert slept == [1.0]
    assert [(v.where, v.expected, v.got) for v in result.violations] == [
        ("Retry-After", "a Retry-After header on 429", "none")
    ]


def test_secrets_never_reach_the_failure_message() -> None:
    pin, image = "90817263", scrub.IMAGE_PLACEHOLDER.replace("U", "Q")
    body = dedent(
        f"""\
        writes: true
        steps:
          - request:
              method: PUT
              path: /m
              json: {{pin: {{code: '{pin}'}}}}
            expect:
              status: 201
              body: {{$.pin.code: {{is_null: true}}, $.image.binaryValue: {{is_null: true}}}}
        """
    )
    answer = {"pin": {"code": pin}, "image": {"binaryValue": image}}
    result, seen = run_scenario(body, lambda r: httpx.Response(400, json=answer))
    assert json.loads(seen[0].content) == {"pin": {"code": pin}}  # the real PIN was sent
    report = failure_message(result)
    assert pin not in report and image not in report
    assert "REDACTED-PIN" in report and "<redacted code: a 8-character string>" in report


def test_a_redacted_value_from_a_cassette_is_a_warning_for_value_checks_only() -> None:
    body = read_qr(
        """\
        expect:
          body:
            $.image.binaryValue: {matches: '^PHN2'}
            $.id: {is_null: true}
        """
    )
    answer = {**QR, "image": {"binaryValue": scrub.IMAGE_PLACEHOLDER}}
    result, _ = run_scenario(body, lambda r: httpx.Response(200, json=answer))
    assert [(w.where, w.message) for w in result.notes] == [
        ("$.image.binaryValue", "value is redacted in the cassette; 'matches' was checked when it was recorded")
    ]
    assert [v.where for v in result.violations] == ["$.id"]


def test_cleanup_runs_when_the_run_is_interrupted() -> None:
    body = dedent(
        """\
        writes: true
        steps:
          - request: {method: GET, path: /a}
        cleanup:
          - request: {method: DELETE, path: /c}
        """
    )
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/beta/a":
            raise KeyboardInterrupt  # Ctrl-C while a step is in flight
        return httpx.Response(204)

    runner = Runner(
        httpx.Client(transport=httpx.MockTransport(handler)), base_url="http://127.0.0.1:9", user="u1", schemas=SCHEMAS
    )
    with pytest.raises(KeyboardInterrupt):
        runner.run(scenario(body), "beta", NOW)
    assert seen == ["/beta/a", "/beta/c"]


@pytest.mark.parametrize(
    "form",
    ["2026-11-22T12:00:00Z", "2026-11-22T12:00:00+00:00", "2026-11-22T12:00:00.0000000Z", "2026-11-22T14:00:00+02:00"],
)
def test_equal_date_times_compare_as_instants(form: str) -> None:
    body = read_qr("expect: {body: {$.startDateTime: {equals: '{now}'}}}")
    result, _ = run_scenario(body, lambda r: httpx.Response(200, json={**QR, "startDateTime": form}))
    assert result.violations == []


@pytest.mark.parametrize("form", ["2026-11-22T12:00:01Z", "2026-11-22T12:00:00", "2026-11-22 12:00:00Z"])
def test_other_instants_or_forms_without_offset_are_not_equal(form: str) -> None:
    body = read_qr("expect: {body: {$.startDateTime: {equals: '{now}'}}}")
    result, _ = run_scenario(body, lambda r: httpx.Response(200, json={**QR, "startDateTime": form}))
    assert [v.where for v in result.violations] == ["$.startDateTime"]


def test_a_span_over_absent_members_is_a_violation_not_a_crash() -> None:
    body = read_qr("expect: {span: [{from: $.startDateTime, to: $.nope, at_most: P1D}]}")
    result, _ = run_scenario(body, lambda r: httpx.Response(200, json=QR))
    assert [(v.where, v.got) for v in result.violations] == [
        ("$.nope - $.startDateTime", '"2026-01-01T00:00:00Z" and nothing (absent)')
    ]


def test_comparing_with_a_variable_that_was_never_captured_is_a_violation() -> None:
    body = dedent(
        """\
        steps:
          - request: {method: GET, path: /a}
            capture: {qr_id: $.id}
          - request: {method: GET, path: /b}
            expect: {body: {$.id: {equals: '{qr_id}'}}}
        """
    )
    result, _ = run_scenario(body, lambda r: httpx.Response(200, json={"other": 1}))
    assert [(v.where, v.expected, v.got) for v in result.violations] == [
        ("$.id", "a value to capture as 'qr_id'", "nothing (absent)"),
        ("$.id", "a value to compare with {qr_id}", "nothing (absent), and {qr_id} was never captured"),
    ]
