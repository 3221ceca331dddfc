"""Odd inputs get a clear answer, not a crash: scenario text the loader refuses with file:line, and
requests the reference mock refuses or ignores."""

from __future__ import annotations

from textwrap import dedent, indent

import pytest
from starlette.testclient import TestClient

from conformance.mock import create_app
from conformance.scenarios import parse_scenario

HEAD = dedent(
    """\
    id: x
    title: t
    docs: [a.md]
    versions: [beta]
    """
)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            """\
            - request: {method: GET, path: /a}
              expect: {body: {'$[x]': {present: true}}}
            """,
            "x.yaml:7: $.steps[0].expect.body: cannot read JSON path '$[x]' at character 2; write $.name, $[\"a name\"] or $.list[0]",
        ),
        (
            """\
            - request: {method: GET, path: /a}
              capture: {a: $$}
            """,
            "x.yaml:7: $.steps[0].capture.a: cannot read JSON path '$$' at character 2; write $.name, $[\"a name\"] or $.list[0]",
        ),
        (
            """\
            - request: {method: GET, path: "/a/{now+999999d}"}
            """,
            "x.yaml:6: $.steps[0].request.path: bad time template '{now+999999d}': write now, now+N or now-N with a unit s, m, h or d",
        ),
    ],
)
def test_bad_paths_and_huge_offsets_are_load_time_problems(steps: str, message: str) -> None:
    scenario, problems = parse_scenario(HEAD + "steps:\n" + indent(dedent(steps), "  "), "x.yaml")
    assert (scenario, problems) == (None, [message])


@pytest.mark.parametrize(
    ("rest", "message"),
    [
        (
            """\
            1: x
            steps:
              - request: {method: GET, path: /a}
            """,
            "x.yaml:5: $: unknown key '1' (allowed: cleanup, docs, given, id, steps, tags, title, versions, writes)",
        ),
        (
            """\
            ? [a, b]
            : x
            steps:
              - request: {method: GET, path: /a}
            """,
            "x.yaml:5: not valid YAML: found unhashable key",
        ),
        (
            """\
            tags: &a [*a]
            steps:
              - request: {method: GET, path: /a}
            """,
            "x.yaml:5: $.tags[0]: a YAML alias refers to itself",
        ),
    ],
)
def test_odd_yaml_keys_and_aliases_are_problems_not_crashes(rest: str, message: str) -> None:
    scenario, problems = parse_scenario(HEAD + dedent(rest), "x.yaml")
    assert scenario is None and problems[0].startswith(message)


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
