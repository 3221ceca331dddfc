"""Failures a person can act on: the answer's body, a curl line, JUnit messages that start with the
violation, and warnings counted by kind; planted secrets appear in none of them."""

from __future__ import annotations

import base64
import json
import shlex
import xml.etree.ElementTree as ET
from textwrap import dedent

import httpx
import pytest

from conformance import scrub
from conformance.findings import Note, NoteKind
from conformance.report import BODY_SHOWN, CaseReport, curl, failure_message, human, shown_body, summary
from conformance.runner import CaseResult, Exchange, Runner
from tests.graphapp import Server, make_app
from tests.helpers import NOW, SCHEMAS, SUITE, copy_fixture_scenarios, scenario

CANARY_TOKEN = "canary-token-5f0c9d1e7b2a4c68"  # unique: found anywhere it leaked
CANARY_PIN = "73920461"
CANARY_IMAGE = b"canary-qr-image-0b7e"
FIXTURE_PIN = "58219374"  # the PIN tests/fixtures/scenarios/method.yaml sends


def canaries() -> list[str]:
    return [CANARY_TOKEN, CANARY_PIN, base64.b64encode(CANARY_IMAGE).decode()]


def put_pin(answer: httpx.Response) -> tuple[str, Exchange]:
    """A PUT sending the canary PIN (as ``code`` and ``newPin``) with the canary token, answered by
    ``answer``: the failure message and the exchange."""
    body = dedent(
        f"""\
        writes: true
        steps:
          - name: "set it's PIN"
            request:
              method: PUT
              path: /m
              headers: {{x-note: "it's a 'quoted' $HOME value"}}
              json: {{pin: {{code: '{CANARY_PIN}'}}, change: [{{newPin: {CANARY_PIN}}}]}}
            expect: {{status: 201}}
        """
    )
    client = httpx.Client(
        transport=httpx.MockTransport(lambda request: answer), headers={"Authorization": f"Bearer {CANARY_TOKEN}"}
    )
    result = Runner(client, base_url="http://127.0.0.1:9/", user="u1", schemas=SCHEMAS).run(scenario(body), "beta", NOW)
    assert result.outcome == "failed"
    return failure_message(result), result.exchanges[0]


def test_the_message_starts_with_the_violation_and_shows_the_body_and_a_curl_line() -> None:
    wrong = {"error": {"code": "badRequest", "message": "no"}, "pin": {"code": CANARY_PIN}}
    message, exchange = put_pin(httpx.Response(400, json=wrong))
    lines = message.splitlines()
    assert lines[0] == 'status: expected 201, got 400 (badRequest) (step "set it\'s PIN")'
    assert lines[1].startswith("case[beta] — ")
    body = next(line for line in lines if line.startswith("    body: "))
    assert json.loads(body.removeprefix("    body: ")) == {
        "error": {"code": "badRequest", "message": "no"},
        "pin": {"code": scrub.PIN_PLACEHOLDER},
    }
    reproduce = next(line for line in lines if line.startswith("    reproduce: "))
    assert reproduce.removeprefix("    reproduce: ") == curl(exchange)
    assert not any(secret in message for secret in canaries())


def test_the_curl_line_is_one_shell_command_with_the_token_and_pins_left_to_fill_in() -> None:
    _, exchange = put_pin(httpx.Response(400, json={}))
    line = curl(exchange)
    assert "\n" not in line and CANARY_TOKEN not in line and CANARY_PIN not in line
    words = shlex.split(line)  # as a POSIX shell splits it (without expanding $TOKEN)
    assert words[:4] == ["curl", "-X", "PUT", "http://127.0.0.1:9/beta/m"]
    headers = [words[i + 1] for i, word in enumerate(words) if word == "-H"]
    assert headers == [
        "Authorization: Bearer $TOKEN",
        "x-note: it's a 'quoted' $HOME value",
        "Content-Type: application/json",
    ]
    assert '-H "Authorization: Bearer $TOKEN"' in line  # double quotes: the shell puts the token in
    assert "'x-note: it'\"'\"'s a '\"'\"'quoted'\"'\"' $HOME value'" in line  # single quotes: nothing expanded
    assert json.loads(words[words.index("--data-raw") + 1]) == {
        "pin": {"code": "<code>"},
        "change": [{"newPin": "<newPin>"}],
    }


def test_a_long_body_is_cut_saying_how_much_and_control_characters_are_escaped() -> None:
    long = json.dumps({"message": "\x1b[31m" + "x" * 5000}, separators=(",", ":"))
    shown = shown_body(long)
    assert shown.startswith('{"message":"\\u001b[31mxxx')  # JSON escapes it; raw text is escaped here
    assert shown.endswith(f"… ({len(long) - BODY_SHOWN} more characters cut, {len(long)} in all)")
    assert len(shown) < BODY_SHOWN + 60
    assert shown_body("plain \x1b[2J text") == "plain \\x1b[2J text"
    assert shown_body("") == "(empty)"
    secret = f'{{"code": "{CANARY_PIN}", "padding": "{"y" * 3000}"}} trailing'  # not JSON: scrubbed as text
    assert CANARY_PIN not in shown_body(secret)
    assert CANARY_PIN not in shown_body(json.dumps({"pad": "y" * (BODY_SHOWN - 12), "newPin": CANARY_PIN}))


def test_warnings_are_counted_and_labelled_by_kind() -> None:
    result = result_with_notes()
    cases = [CaseReport(result.case_id, "passed", result.scenario, result)]
    assert summary(cases)["warnings"] == 3
    assert (summary(cases)["drift"], summary(cases)["checked_at_recording"]) == (1, 2)
    lines = human(cases)
    assert lines[0] == (
        "graph-conformance: 1 passed, 0 failed, 0 errors, 0 skipped, 1 drift warnings, 2 values checked at recording"
    )
    assert "  drift: $.brandNew: not documented (1 case)" in lines
    assert "  checked at recording: $.pin.code: redacted in the cassette (1 case)" in lines


def result_with_notes() -> CaseResult:
    """A passed case with one drift note and two values checked at recording."""
    _, exchange = put_pin(httpx.Response(400, json={}))
    result = CaseResult(
        scenario(dedent("steps:\n  - request: {method: GET, path: /m}\n    expect: {status: 200}\n")), "beta"
    )
    result.notes = [
        Note(NoteKind.UNDOCUMENTED, "read", "$.brandNew", "not documented"),
        Note(NoteKind.REDACTED, "read", "$.pin.code", "redacted in the cassette"),
        Note(NoteKind.REDACTED, "read", "$.image.binaryValue", "redacted in the cassette"),
    ]
    result.exchanges = [exchange]
    return result


def test_a_wrong_body_fails_with_its_body_a_curl_line_and_a_junit_message_starting_with_the_violation(
    pytester: pytest.Pytester,
) -> None:
    scenarios = copy_fixture_scenarios(pytester.path / "scenarios")
    method = scenarios / "method.yaml"
    method.write_text(method.read_text().replace(FIXTURE_PIN, CANARY_PIN))
    junit, report = pytester.path / "junit.xml", pytester.path / "report.json"
    # a variant that answers a wrong body: GET shows the PIN it was given
    with Server(make_app(leak_pin=True, token=CANARY_TOKEN, image=CANARY_IMAGE)) as leaky:
        result = pytester.runpytest_subprocess(
            *SUITE,
            "--graph-base-url",
            leaky.url,
            "--graph-token",
            CANARY_TOKEN,
            "--graph-scenarios",
            str(scenarios),
            "--conformance-report",
            str(report),
            "--junitxml",
            str(junit),
        )
    result.assert_outcomes(passed=1, failed=2)
    violation = "$.pin.code: expected null, got <redacted code: a 8-character string>"
    result.stdout.fnmatch_lines(
        [
            f'*{violation} (step "read back")',
            '*step "read back"',
            "*GET http://127.0.0.1:*/qrCodePinMethod -> 200 (*",
            f"*{violation}",
            '*body: {"id":*"pin":{"code":"REDACTED-PIN"*',
            '*reproduce: curl -X GET http://127.0.0.1:*/qrCodePinMethod -H "Authorization: Bearer $TOKEN"*',
        ]
    )
    failures = [f for case in ET.parse(junit).getroot().iter("testcase") for f in case.iter("failure")]
    assert len(failures) == 2
    for failure in failures:
        assert failure.get("message", "").startswith(f'{violation} (step "read back")')
    written = "\n".join([result.stdout.str(), result.stderr.str(), junit.read_text(), report.read_text()])
    assert not [secret for secret in canaries() if secret in written]
