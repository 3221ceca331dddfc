"""Scenario files: the malformed corpus gives exact messages; valid files load; templates render."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from conformance import contract
from conformance.errors import ScenarioError
from conformance.scenarios import Context, duration, fill, load_scenarios, parse_scenario
from conformance.scenarios.model import SCHEMA_PATH, scenario_schema
from tests.helpers import FIXTURES, MINIMAL_HEAD

MALFORMED = FIXTURES / "malformed"
EXPECTED = json.loads((MALFORMED / "expected.json").read_text())
METHOD = FIXTURES / "scenarios" / "method.yaml"
KNOWN = set(contract.type_names(contract.read_documents(contract.default_schema_dir()), "beta"))


def test_the_malformed_corpus_is_large_enough_and_fully_expected() -> None:
    files = sorted(p.name for p in MALFORMED.glob("*.yaml"))
    assert len(files) >= 20
    assert sorted(EXPECTED) == files


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_malformed_file_gives_its_exact_messages(name: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenarios([MALFORMED / name], KNOWN, base=MALFORMED)
    assert caught.value.problems == EXPECTED[name]


def test_every_problem_of_every_file_is_reported_at_once() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenarios([MALFORMED], KNOWN, base=MALFORMED)
    assert caught.value.problems == [p for name in sorted(EXPECTED) for p in EXPECTED[name]]
    assert caught.value.exit_code == 2


def test_duplicate_ids_across_files_name_both_places(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        id: same
        title: t
        docs: [a.md]
        versions: [beta]
        steps:
          - request: {method: GET, path: /x}
        """
    )
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yaml").write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenarios([tmp_path], KNOWN, base=tmp_path)
    assert caught.value.problems == ["b.yaml:1: $.id: 'same' is already the id of a.yaml:1"]


def test_a_missing_path_is_a_problem_too(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenarios([tmp_path / "nope.yaml"], KNOWN, base=tmp_path)
    assert caught.value.problems == [f"{tmp_path / 'nope.yaml'}: no such scenario file or folder"]


def test_a_valid_scenario_loads_with_lines_and_phases() -> None:
    (scenario,) = load_scenarios([METHOD], KNOWN, base=FIXTURES)
    assert (scenario.id, scenario.versions, scenario.writes, scenario.location) == (
        "method-create-read-delete",
        ("beta", "v1.0"),
        True,
        "scenarios/method.yaml:1",
    )
    steps = (*scenario.given, *scenario.steps, *scenario.cleanup)
    assert [(s.phase, s.name) for s in steps] == [
        ("given", "given 1: DELETE /users/{user}/authentication/qrCodePinMethod"),
        ("step", "create"),
        ("step", "read back"),
        ("cleanup", "cleanup 1: DELETE /users/{user}/authentication/qrCodePinMethod"),
    ]
    starts = [
        n for n, line in enumerate(METHOD.read_text().splitlines(), 1) if line.startswith(("  - request:", "  - name:"))
    ]
    assert [s.line for s in steps] == starts


def test_templates_render_with_the_case_clock_and_captures() -> None:
    now = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    context = Context("u@contoso.example", "beta", now, {"qr_id": "abc", "count": 3})
    value = {
        "a": "{now}",
        "b": "{now+1h}",
        "c": "{now-30m}",
        "d": "{now+395d}",
        "e": "/users/{user}/{qr_id}",
        "f": "{count}",
        "g": "{{literal}}",
        "h": ["{version}"],
    }
    assert fill(value, context) == {
        "a": "2026-11-22T23:00:00Z",
        "b": "2026-11-23T00:00:00Z",
        "c": "2026-11-22T22:30:00Z",
        "d": "2027-12-22T23:00:00Z",
        "e": "/users/u@contoso.example/abc",
        "f": 3,
        "g": "{literal}",
        "h": ["beta"],
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P395D", timedelta(days=395)),
        ("PT12H", timedelta(hours=12)),
        ("PT1H30M", timedelta(minutes=90)),
        ("P1DT2H3M4S", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert duration(text) == expected


@pytest.mark.parametrize("text", ["P", "PT", "395D", "P1W", "PT1.5H"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not an ISO 8601 duration"):
        duration(text)


def test_cleanup_may_use_any_capture_but_steps_only_earlier_ones() -> None:
    text = textwrap.dedent(
        """\
        id: x
        title: t
        docs: [a.md]
        versions: [beta]
        writes: true
        steps:
          - request: {method: GET, path: "/a/{late}"}
          - request: {method: GET, path: /b}
            capture: {late: $.id}
        cleanup:
          - request: {method: DELETE, path: "/c/{late}"}
        """
    )
    scenario, problems = parse_scenario(text, "x.yaml", KNOWN)
    assert scenario is None
    assert problems == [
        "x.yaml:7: $.steps[0].request.path: unknown template variable '{late}'; known here: other_pin, pin, user, user_upn, user_without_method, version"
    ]


# --- the schema: one duration grammar, a friendly message beside every pattern ------------------------


DURATION_SAMPLES = [
    *("P395D", "PT12H", "PT1H30M", "P1DT2H3M4S", "PT0S", "P0D", "PT90M", "P1DT1S"),
    *("P", "PT", "P1DT", "395D", "P1W", "PT1.5H", "P1H", "PT1D", "p1d", "P-1D", "P1D ", " P1D", "P1D\n", "", "P1M2D"),
]


@pytest.mark.parametrize("text", DURATION_SAMPLES)
def test_the_schema_and_duration_read_durations_alike(text: str) -> None:
    accepted_by_schema = Draft202012Validator(scenario_schema()["$defs"]["duration"]).is_valid(text)
    try:
        duration(text)
    except ValueError:
        assert not accepted_by_schema
    else:
        assert accepted_by_schema


def _nodes(schema: Any, where: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every subschema of ``schema`` with where it is."""
    if isinstance(schema, dict):
        yield where, schema
        for key, value in schema.items():
            if key != "x-messages":
                yield from _nodes(value, f"{where}.{key}")
    elif isinstance(schema, list):
        for index, item in enumerate(schema):
            yield from _nodes(item, f"{where}[{index}]")


# keywords whose failures the loader words from the schema's x-messages (the rest it words itself)
FRIENDLY = ("pattern", "const", "format", "anyOf", "minProperties", "maxProperties")


def test_every_pattern_and_special_keyword_in_the_schema_carries_its_message() -> None:
    nodes = list(_nodes(scenario_schema()))
    missing = [
        f"{where}: {kind}"
        for where, node in nodes
        for kind in FRIENDLY
        if kind in node and kind not in node.get("x-messages", {})
    ]
    assert missing == []
    assert "oneOf" in scenario_schema()["$defs"]["statuses"]["x-messages"]
    anchored = re.findall(r'"pattern": "\^', SCHEMA_PATH.read_text())
    assert sum("pattern" in node for _, node in nodes) == len(anchored)  # the walk reaches every pattern


def test_every_message_in_the_schema_belongs_to_a_keyword_beside_it_and_fills_known_placeholders() -> None:
    for where, node in _nodes(scenario_schema()):
        for kind, message in node.get("x-messages", {}).items():
            assert kind in node, f"{where}: a message for {kind}, which is not there"
            placeholders = set(re.findall(r"\{(\w+)\}", message)) - {"user"}  # {user} is literal: a template
            assert placeholders <= {"instance", "instance_json", "properties"}, where


HEAD = textwrap.dedent(
    """\
    id: x
    title: t
    docs: [a.md]
    versions: [beta]
    """
)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            HEAD.replace("[a.md]", "['a b']") + "steps: [{request: {method: GET, path: /a}}]\n",
            "x.yaml:3: $.docs[0]: 'a b' is not a doc page; write its path, or path:line",
        ),
        (
            HEAD + "tags: [Bad]\nsteps: [{request: {method: GET, path: /a}}]\n",
            "x.yaml:5: $.tags[0]: 'Bad' is not a valid tag; use lower case letters, digits and dashes",
        ),
        (
            HEAD + "steps: [{request: {method: GET, path: /a}, capture: {Id: $.id}}]\n",
            "x.yaml:5: $.steps[0].capture: 'Id' is not a variable name; use lower case, digits and _",
        ),
        (
            HEAD + "steps: [{request: {method: GET, path: /a}, expect: {schema: 1abc}}]\n",
            "x.yaml:5: $.steps[0].expect.schema: '1abc' is not a schema name; use letters and digits, starting with a letter",
        ),
        (
            HEAD + "steps: [{request: {method: GET, path: /a}, not_applicable: {status: 99, reason: r}}]\n",
            "x.yaml:5: $.steps[0].not_applicable.status: status must be an HTTP status (100-599) or a list of them, got 99",
        ),
    ],
)
def test_patterns_beyond_the_corpus_give_their_friendly_message(text: str, problem: str) -> None:
    assert parse_scenario(text, "x.yaml") == (None, [problem])




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
    scenario, problems = parse_scenario(MINIMAL_HEAD + "steps:\n" + textwrap.indent(textwrap.dedent(steps), "  "), "x.yaml")
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
            "x.yaml:5: $: unknown key '1' (allowed: cleanup, docs, each, given, id, steps, tags, title, versions, writes)",
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
    scenario, problems = parse_scenario(MINIMAL_HEAD + textwrap.dedent(rest), "x.yaml")
    assert scenario is None and problems[0].startswith(message)
