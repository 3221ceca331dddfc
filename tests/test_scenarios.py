"""Scenario files: the malformed corpus gives exact messages; valid files load; templates render."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conformance import contract
from conformance.errors import ScenarioError
from conformance.scenarios import Context, duration, fill, load_scenarios, parse_scenario
from tests.conftest import FIXTURES

MALFORMED = FIXTURES / "malformed"
EXPECTED = json.loads((MALFORMED / "expected.json").read_text())
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
    text = "id: same\ntitle: t\ndocs: [a.md]\nversions: [beta]\nsteps:\n  - request: {method: GET, path: /x}\n"
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
    (scenario,) = load_scenarios([FIXTURES / "scenarios" / "method.yaml"], KNOWN, base=FIXTURES)
    assert (scenario.id, scenario.versions, scenario.writes, scenario.location) == (
        "method-create-read-delete",
        ("beta", "v1.0"),
        True,
        "scenarios/method.yaml:1",
    )
    assert [(s.phase, s.name, s.line) for s in (*scenario.given, *scenario.steps, *scenario.cleanup)] == [
        ("given", "given 1: DELETE /users/{user}/authentication/qrCodePinMethod", 9),
        ("step", "create", 12),
        ("step", "read back", 28),
        ("cleanup", "cleanup 1: DELETE /users/{user}/authentication/qrCodePinMethod", 38),
    ]


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
    text = (
        "id: x\ntitle: t\ndocs: [a.md]\nversions: [beta]\nwrites: true\nsteps:\n"
        '  - request: {method: GET, path: "/a/{late}"}\n'
        "  - request: {method: GET, path: /b}\n    capture: {late: $.id}\n"
        'cleanup:\n  - request: {method: DELETE, path: "/c/{late}"}\n'
    )
    scenario, problems = parse_scenario(text, "x.yaml", KNOWN)
    assert scenario is None
    assert problems == [
        "x.yaml:7: $.steps[0].request.path: unknown template variable '{late}'; known here: user, user_without_method, version"
    ]
