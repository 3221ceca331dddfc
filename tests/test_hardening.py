"""Regression tests for defects found by an independent review: secrets in odd places, checks that
passed when they should not, and inputs that crashed instead of getting a clear error."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from conformance import scrub
from conformance.mock import create_app
from conformance.report import failure_message
from conformance.scenarios import Context, Request, parse_scenario
from tests.conftest import REPO
from tests.test_runner import GET_QR, QR, run

HEAD = "id: x\ntitle: t\ndocs: [a.md]\nversions: [beta]\n"


def test_one_of_never_shows_a_captured_pin() -> None:
    body = (
        "steps:\n  - request: {method: GET, path: /a}\n    capture: {pin: $.pin.code}\n"
        "  - request: {method: GET, path: /b}\n    expect: {body: {$.code: {one_of: ['{pin}', '11112222']}}}\n"
    )
    result, _ = run(body, lambda r: httpx.Response(200, json={"pin": {"code": "58219374"}, "code": "00000000"}))
    assert "58219374" not in failure_message(result) and "11112222" not in failure_message(result)
    assert [v.where for v in result.violations] == ["$.code"]


def test_pins_sent_or_answered_as_numbers_are_scrubbed() -> None:
    assert scrub.scrub_json({"pin": {"code": 58219374}, "newPin": 1234}) == {
        "pin": {"code": "REDACTED-PIN"},
        "newPin": "REDACTED-PIN",
    }
    body = "writes: true\nsteps:\n  - request: {method: PUT, path: /m, json: {pin: {code: 58219374}}}\n    expect: {status: 201}\n"
    result, _ = run(body, lambda r: httpx.Response(400, json={"pin": {"code": 58219374}}))
    assert "58219374" not in failure_message(result)


def test_reprs_hold_no_captured_value_and_no_request_body() -> None:
    context = Context("u", "beta", datetime(2026, 1, 1, tzinfo=UTC), {"pin": "39471091"})
    request = Request("PUT", "/m", {}, {"pin": {"code": "39471091"}}, True)
    assert "39471091" not in repr(context) and "39471091" not in repr(request)


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


@pytest.mark.parametrize(
    ("assertion", "answer"),
    [("{equals: false}", 0), ("{equals: true}", 1), ("{one_of: [true]}", 1), ("{equals: [1, 2]}", [True, 2])],
)
def test_booleans_are_not_numbers(assertion: str, answer: object) -> None:
    result, _ = run(
        GET_QR + f"    expect: {{body: {{$.x: {assertion}}}}}\n",
        lambda r: httpx.Response(200, json={**QR, "x": answer}),
    )
    assert [v.where for v in result.violations] == ["$.x"]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            "  - request: {method: GET, path: /a}\n    expect: {body: {'$[x]': {present: true}}}\n",
            "x.yaml:7: $.steps[0].expect.body: cannot read JSON path '$[x]' at character 2; write $.name, $[\"a name\"] or $.list[0]",
        ),
        (
            "  - request: {method: GET, path: /a}\n    capture: {a: $$}\n",
            "x.yaml:7: $.steps[0].capture.a: cannot read JSON path '$$' at character 2; write $.name, $[\"a name\"] or $.list[0]",
        ),
        (
            '  - request: {method: GET, path: "/a/{now+999999d}"}\n',
            "x.yaml:6: $.steps[0].request.path: bad time template '{now+999999d}': write now, now+N or now-N with a unit s, m, h or d",
        ),
    ],
)
def test_bad_paths_and_huge_offsets_are_load_time_problems(steps: str, message: str) -> None:
    scenario, problems = parse_scenario(HEAD + "steps:\n" + steps, "x.yaml")
    assert (scenario, problems) == (None, [message])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            HEAD + "1: x\nsteps:\n  - request: {method: GET, path: /a}\n",
            "x.yaml:5: $: unknown key '1' (allowed: cleanup, docs, given, id, steps, tags, title, versions, writes)",
        ),
        (
            HEAD + "? [a, b]\n: x\nsteps:\n  - request: {method: GET, path: /a}\n",
            "x.yaml:5: not valid YAML: found unhashable key",
        ),
        (
            HEAD + "tags: &a [*a]\nsteps:\n  - request: {method: GET, path: /a}\n",
            "x.yaml:5: $.tags[0]: a YAML alias refers to itself",
        ),
    ],
)
def test_odd_yaml_keys_and_aliases_are_problems_not_crashes(text: str, message: str) -> None:
    scenario, problems = parse_scenario(text, "x.yaml")
    assert scenario is None and problems[0].startswith(message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", "--base-url", "http://[::1"],
            "graph-conformance: error: --graph-base-url 'http://[::1': give the service root as http(s)://host[:port][/path], e.g. https://graph.microsoft.com",
        ),
        (["mock", "--port", "70000"], "graph-conformance: error: --port 70000: give a port from 0 to 65535"),
    ],
)
def test_bad_urls_and_ports_are_usage_errors(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "conformance", *args], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert (result.returncode, result.stderr.strip()) == (2, message)


def test_compare_on_a_broken_cassette_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.yaml").write_text("interactions: [")
    (tmp_path / "b" / "x.yaml").write_text("interactions: []\n")
    result = subprocess.run(
        [sys.executable, "-m", "conformance", "compare", str(tmp_path / "a"), str(tmp_path / "b")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 2 and "compare: " in result.stderr and "not a readable cassette" in result.stderr
    assert "Traceback" not in result.stderr


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
