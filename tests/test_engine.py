"""The scenario engine's syntax: shared setups, PIN templates, typed and alternative expectations,
verb alternatives, boundary and value-set cases, not_equals and run variables. Each feature is shown
to fail on a wrong answer with a clear message, and each malformed use to name file:line, the JSON
path and the fix."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.checks import Response, check_step
from conformance.config import DEFAULT_USER_UPN, resolve
from conformance.findings import ViolationKind
from conformance.guard import write_scope
from conformance.runner import CaseResult, Runner
from conformance.scenarios import (
    CATALOGUE,
    Assertion,
    Context,
    Expect,
    Scenario,
    expand_cases,
    fill,
    load_scenarios,
    load_setups,
    parse_scenario,
)
from conformance.scenarios.model import SETUPS
from conformance.scenarios.templates import OTHER_PIN_DIGITS, PIN_DIGITS
from tests.helpers import CASE_HEAD, NOW, SCHEMAS, run_scenario, scenario

KNOWN = set(SCHEMAS.type_names("beta"))
POLICY = "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/qrCodePin"
RULES = {
    "pin-length": {"rule": "r", "docs": [], "bounds": {"unit": "digits", "min": "{pin_length}", "max": 20}},
    "hours": {"rule": "r", "docs": [], "bounds": {"unit": "hours", "min": 1, "max": 12}},
    "at-least": {"rule": "r", "docs": [], "bounds": {"unit": "number", "min": 8}},
    "no-bounds": {"rule": "r", "docs": []},
}


def problems(body: str, setups: Path | None = None, rules: dict[str, Any] | None = None) -> list[str]:
    """The problems of the scenario ``CASE_HEAD`` + ``body``, which must not load."""
    shared = load_setups(setups) if setups else None
    parsed, found = parse_scenario(CASE_HEAD + textwrap.dedent(body), "case.yaml", KNOWN, shared, rules or RULES)
    assert parsed is None
    return found


def cases(body: str, rules: dict[str, Any] | None = RULES) -> list[Scenario]:
    """The cases of the scenario ``CASE_HEAD`` + ``body``, which must load (``rules`` None: the packaged rules)."""
    parsed, found = parse_scenario(CASE_HEAD + textwrap.dedent(body), "case.yaml", KNOWN, None, rules)
    assert found == [] and parsed is not None
    return expand_cases(parsed)


def run(case: Scenario, handler: Callable[[httpx.Request], httpx.Response]) -> tuple[CaseResult, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.Client(transport=httpx.MockTransport(recording))
    runner = Runner(client, base_url="http://127.0.0.1:9/", user="u1", schemas=SCHEMAS)
    return runner.run(case, "beta", NOW), seen


def shown(result: CaseResult) -> list[tuple[str, str, str, str]]:
    return [(v.step, v.where, v.expected, v.got) for v in result.violations]


# --- 1a: shared setups -------------------------------------------------------------------------------


def test_the_packaged_setups_load_with_the_five_of_the_design() -> None:
    setups = load_setups()
    assert {"a-method", "clean-slate", "fresh-method", "no-method", "policy"} <= set(setups.steps)
    fresh = [(s.raw["request"]["method"], s.raw["request"]["path"]) for s in setups.steps["fresh-method"]]
    assert fresh == [
        ("GET", POLICY),
        ("DELETE", "/users/{user}/authentication/qrCodePinMethod"),
        ("PUT", "/users/{user}/authentication/qrCodePinMethod"),
    ]
    assert setups.steps["policy"][0].raw["capture"] == {
        "pin_length": "$.pinLength",
        "lifetime_days": "$.standardQRCodeLifetimeInDays",
        "policy_state": "$.state",
    }


def test_a_use_is_replaced_in_place_by_the_setup_steps_which_keep_their_file_and_line() -> None:
    (case,) = cases(
        """\
        writes: true
        given:
          - {use: fresh-method}
        steps:
          - request: {method: GET, path: "/x/{pin_length}"}
        cleanup:
          - {use: no-method}
        """
    )
    setup_lines = {
        line.split("- name:", 1)[1].strip(): n
        for n, line in enumerate(SETUPS.read_text().splitlines(), 1)
        if line.startswith("  - name:")
    }
    policy, no_method, a_method = load_setups().steps["fresh-method"]
    assert [(s.name, s.file.endswith("setups.yaml"), s.line) for s in case.given] == [
        (step.raw["name"], True, setup_lines[step.raw["name"]]) for step in (policy, no_method, a_method)
    ]
    assert [(s.phase, s.name) for s in case.cleanup] == [("cleanup", no_method.raw["name"])]
    assert (case.steps[0].file, case.steps[0].line) == ("case.yaml", 9)


def _setups(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "setups.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_an_unknown_setup_names_the_line_the_path_and_the_known_names(tmp_path: Path) -> None:
    setups = _setups(tmp_path, "policy:\n  - request: {method: GET, path: /p}\n")
    assert problems("steps:\n  - {use: polcy}\n", setups) == [
        f"case.yaml:6: $.steps[0].use: unknown setup 'polcy' (did you mean 'policy'?); known setups (in {setups}): policy"
    ]


def test_a_use_stands_alone() -> None:
    assert problems("steps:\n  - {use: policy, name: x}\n") == [
        "case.yaml:6: $.steps[0]: {use: NAME} stands alone: give the setup's name and no other key"
    ]


def test_setups_that_use_each_other_in_a_circle_are_refused_with_the_circle(tmp_path: Path) -> None:
    setups = _setups(
        tmp_path,
        """\
        a:
          - {use: b}
        b:
          - request: {method: GET, path: /p}
          - {use: a}
        c:
          - {use: c}
          - {use: nope}
        """,
    )
    with pytest.raises(Exception) as caught:
        load_setups(setups)
    assert caught.value.problems == [  # type: ignore[attr-defined]
        f"{setups}:5: $.b[1].use: setups must not use each other in a circle (a -> b -> a); remove one of these uses",
        f"{setups}:7: $.c[0].use: setups must not use each other in a circle (c -> c); remove one of these uses",
        f"{setups}:8: $.c[1].use: unknown setup 'nope'; known setups: a, b, c",
    ]


def test_a_problem_in_a_setup_step_names_the_setups_file_and_where_it_is_used(tmp_path: Path) -> None:
    setups = _setups(tmp_path, "gone:\n  - request: {method: DELETE, path: /p}\n    expect: {schema: qrCod}\n")
    assert problems("steps:\n  - request: {method: GET, path: /a}\ncleanup:\n  - {use: gone}\n", setups) == [
        f"{setups}:2: $.gone[0].request.method: DELETE changes the target, but the scenario does not say "
        "'writes: true' (in the setup used at case.yaml:8 $.cleanup[0])",
        f"{setups}:3: $.gone[0].expect.schema: unknown schema 'qrCod' (did you mean 'qrCode'?) "
        "(in the setup used at case.yaml:8 $.cleanup[0])",
    ]


def test_a_malformed_setups_file_gives_its_lines(tmp_path: Path) -> None:
    setups = _setups(tmp_path, "Bad:\n  - request: {method: GET}\n")
    with pytest.raises(Exception) as caught:
        load_setups(setups)
    assert caught.value.problems == [  # type: ignore[attr-defined]
        f"{setups}:1: $: 'Bad' is not a setup name; use lower case letters, digits and dashes",
        f"{setups}:2: $.Bad[0].request: missing required key 'path'",
    ]


# --- 1b: PIN templates -------------------------------------------------------------------------------


def _trivial(pin: str) -> str | None:
    """Why a PIN is trivial under the strictest reading, or None."""
    values = [int(c) for c in pin]
    for i in range(len(values) - 2):
        step = values[i + 1] - values[i]
        if step in (1, -1) and values[i + 2] - values[i + 1] == step:
            return f"a run at {i}"
    for unit in (1, 2, 3):
        for i in range(len(pin) - 2 * unit + 1):
            if pin[i : i + unit] == pin[i + unit : i + 2 * unit]:
                return f"a repeated {unit}-digit unit at {i}"
    if re.search(r"0123456789|9876543210", pin):
        return "a full sequence"
    return None


@pytest.mark.parametrize("length", range(7, 25))
def test_every_prefix_of_both_pin_strings_is_a_valid_pin_and_they_differ(length: int) -> None:
    pin, other = PIN_DIGITS[:length], OTHER_PIN_DIGITS[:length]
    assert (pin.isdigit(), other.isdigit(), _trivial(pin), _trivial(other)) == (True, True, None, None)
    assert pin != other


def test_the_triviality_reading_of_the_test_catches_what_it_must() -> None:
    for pin in ("5821234", "98765", "11", "1212", "123123", "5849494"):
        assert _trivial(pin) is not None, pin


@pytest.mark.parametrize(("captured", "length"), [({}, 8), ({"pin_length": 12}, 12), ({"pin_length": 6}, 8)])
def test_pin_templates_follow_the_captured_pin_length(captured: dict[str, Any], length: int) -> None:
    context = Context("u", "beta", NOW, captured)
    assert fill({"a": "{pin}", "b": "{other_pin}"}, context) == {"a": PIN_DIGITS[:length], "b": OTHER_PIN_DIGITS[:length]}


# --- 1f: typed expect, one defect once ---------------------------------------------------------------


def test_expect_is_typed_and_frozen() -> None:
    step = scenario(
        textwrap.dedent(
            """\
            steps:
              - request: {method: GET, path: /a}
                expect: {status: [200, 204], schema: qrCode, body: {$.id: {equals: x}}, error: {code: [a, b]}}
            """
        )
    ).steps[0]
    assert step.expect == Expect(
        status=(200, 204), schema="qrCode", body=(Assertion("$.id", "equals", "x"),), error_codes=("a", "b")
    )
    with pytest.raises(AttributeError):
        step.expect.status = (1,)  # type: ignore[misc, union-attr]


def test_a_missing_error_envelope_is_one_violation_even_with_schema_graph_error() -> None:
    body = "steps:\n  - request: {method: GET, path: /a}\n    expect: {status: 400, schema: graphError, error: {code: badRequest}}\n"
    result, _ = run_scenario(body, lambda r: httpx.Response(400, json={"message": "no envelope"}))
    assert [(v.kind, v.where, v.got) for v in result.violations] == [
        (ViolationKind.ERROR_ENVELOPE, "$.error", "nothing (absent)")
    ]


def test_a_step_never_reports_the_same_place_and_expectation_twice() -> None:
    step = scenario("steps:\n  - request: {method: GET, path: /a}\n").steps[0]
    twice = Expect(status=(200,), body=(Assertion("$.id", "equals", "x"), Assertion("$.id", "equals", "x")))
    answer = Response(200, "application/json", {"id": "y"}, '{"id": "y"}')
    found = list(check_step(step, answer, Context("u", "beta", NOW), SCHEMAS, ("a.md",), twice))
    assert [(v.where, v.expected, v.got) for v in found] == [("$.id", '"x"', '"y"')]


# --- 1d: alternative expectations --------------------------------------------------------------------

ALTERNATIVES = """\
writes: true
steps:
  - name: create
    request: {method: PUT, path: /m}
    expect:
      - {status: 201, body: {$.id: {present: true}}}
      - {status: 400, error: {code: tooManyQRCodePinMethod}}
    capture: {id: $.id}
"""


def test_the_matching_alternative_is_checked_in_full_and_the_choice_is_recorded() -> None:
    result, _ = run_scenario(ALTERNATIVES, lambda r: httpx.Response(201, json={"id": "m1"}))
    assert (result.outcome, result.choices) == ("passed", [{"step": "create", "accepted": [201, 400], "chosen": 201}])
    refused = {"error": {"code": "tooManyQRCodePinMethod", "message": "one only"}}
    result, _ = run_scenario(ALTERNATIVES, lambda r: httpx.Response(400, json=refused))
    assert (result.outcome, result.choices[0]["chosen"]) == ("passed", 400)  # no capture from a refusal


def test_a_wrong_answer_to_an_alternative_fails_with_that_alternative_s_message() -> None:
    result, _ = run_scenario(ALTERNATIVES, lambda r: httpx.Response(201, json={"name": "no id"}))
    assert shown(result) == [
        ("create", "$.id", "the member to be present", "nothing (absent)"),
        ("create", "$.id", "a value to capture as 'id'", "nothing (absent)"),
    ]
    wrong_code = {"error": {"code": "badRequest", "message": "m"}}
    result, _ = run_scenario(ALTERNATIVES, lambda r: httpx.Response(400, json=wrong_code))
    assert shown(result) == [("create", "$.error.code", "tooManyQRCodePinMethod", '"badRequest"')]


def test_an_answer_no_alternative_holds_is_one_status_violation_listing_all() -> None:
    result, _ = run_scenario(ALTERNATIVES, lambda r: httpx.Response(409, json={"x": 1}))
    assert shown(result) == [("create", "status", "201 or 400", "409")]


@pytest.mark.parametrize(
    ("expect", "problem"),
    [
        (
            "[{status: 201}]",
            "case.yaml:8: $.steps[0].expect: a list of alternatives (documented behaviours, each with its status) "
            "has two or more; write one expectation as a mapping",
        ),
        ("[{status: 201}, {bogus: 1}]", "case.yaml:8: $.steps[0].expect[1]: unknown key 'bogus' (allowed: body, content_type, error, schema, span, status)"),
        ("[{status: 201}, {schema: qrCod}]", "case.yaml:8: $.steps[0].expect[1].schema: unknown schema 'qrCod' (did you mean 'qrCode'?)"),
    ],
)
def test_malformed_alternatives_name_the_alternative(expect: str, problem: str) -> None:
    assert problems(f"steps:\n  - request: {{method: GET, path: /a}}\n    expect:\n      {expect}\n") == [problem]


# --- 1e: verb alternatives ---------------------------------------------------------------------------

VERBS = """\
writes: true
steps:
  - name: change
    request: {method: [POST, PATCH], path: /m/updatePin, json: {currentPin: "{pin}", newPin: "{other_pin}"}}
    expect: {status: 204}
"""


def _routes(*verbs: str) -> Callable[[httpx.Request], httpx.Response]:
    return lambda r: httpx.Response(204) if r.method in verbs else httpx.Response(405, json={"error": {"code": "x", "message": "m"}})


def test_verbs_are_tried_in_order_until_one_is_routed_and_the_choice_is_recorded() -> None:
    result, seen = run_scenario(VERBS, _routes("PATCH"))
    assert [r.method for r in seen] == ["POST", "PATCH"]
    assert (result.outcome, result.choices) == ("passed", [{"step": "change", "accepted": ["POST", "PATCH"], "chosen": "PATCH"}])
    result, seen = run_scenario(VERBS, _routes("POST", "PATCH"))
    assert ([r.method for r in seen], result.choices[0]["chosen"]) == (["POST"], "POST")


def test_no_verb_routed_is_one_violation() -> None:
    result, seen = run_scenario(VERBS, _routes())
    assert [r.method for r in seen] == ["POST", "PATCH"]
    assert shown(result) == [("change", "method", "one of POST or PATCH to work", "POST 405, PATCH 405")]


def test_a_routed_verb_with_a_wrong_answer_fails_on_that_answer() -> None:
    result, _ = run_scenario(VERBS, lambda r: httpx.Response(200, json={}) if r.method == "POST" else httpx.Response(204))
    assert shown(result) == [("change", "status", "204", "200")]


def test_a_list_of_verbs_is_a_write_when_any_verb_is() -> None:
    assert problems("steps:\n  - request: {method: [GET, PATCH], path: /x}\n") == [
        "case.yaml:6: $.steps[0].request.method: PATCH changes the target, but the scenario does not say 'writes: true'"
    ]
    listed = scenario("writes: true\nsteps:\n  - request: {method: [GET, PATCH], path: \"/users/{user}/x\"}\n")
    assert write_scope(listed).user
    refused: list[str] = []

    def may_send(method: str, url: str) -> str | None:
        refused.append(method)
        return "no writes" if method == "PATCH" else None

    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(204)))
    runner = Runner(client, base_url="http://127.0.0.1:9/", user="u1", schemas=SCHEMAS, may_send=may_send)
    result = runner.run(listed, "beta", NOW)
    assert result.exchanges == [] and "refused to send GET" in (result.error or "")


@pytest.mark.parametrize(
    ("method", "problem"),
    [
        ("[POST]", "case.yaml:7: $.steps[0].request.method: a list of verbs (the documented verbs of one operation, tried in order) has two or more; write one verb without a list"),
        ("[POST, FETCH]", "case.yaml:7: $.steps[0].request.method[1]: \"FETCH\" is not one of GET, PUT, PATCH, POST, DELETE (did you mean 'PATCH'?)"),
    ],
)
def test_malformed_verb_lists(method: str, problem: str) -> None:
    assert problems(f"writes: true\nsteps:\n  - request: {{method: {method}, path: /a}}\n") == [problem]


# --- 1c: boundaries and value sets ------------------------------------------------------------------

PIN_BOUNDS = """\
writes: true
each: {name: pin_code, rule: pin-length}
given:
  - request: {method: GET, path: /policy}
    capture: {pin_length: $.pinLength}
steps:
  - name: create
    request: {method: PUT, path: /m, json: {pin: {code: "{pin_code}"}, n: "{pin_code_n}"}}
    expect: {status: 201}
    expect_outside: {status: 400, error: {code: pinTooShort}}
  - name: only outside
    when: outside
    request: {method: GET, path: /outside}
"""


def _pin_target(pin_length: Any, shortest: int) -> Callable[[httpx.Request], httpx.Response]:
    """A target whose policy says ``pin_length`` and that accepts PINs of ``shortest`` to 20 digits."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/policy"):
            return httpx.Response(200, json={"pinLength": pin_length})
        if request.method == "PUT":
            code = json.loads(request.content)["pin"]["code"]
            if shortest <= len(code) <= 20:
                return httpx.Response(201, json={})
            return httpx.Response(400, json={"error": {"code": "pinTooShort", "message": "m"}})
        return httpx.Response(200, json={})

    return answer


def test_a_rule_s_bounds_make_six_cases_with_ids_and_bindings() -> None:
    found = cases(PIN_BOUNDS)
    assert [c.id for c in found] == [f"case--{label}" for label in ("below-min", "at-min", "above-min", "below-max", "at-max", "above-max")]
    assert {(c.binding.anchor, c.binding.offset) for c in found if c.binding} == {
        (a, o) for a in ("min", "max") for o in (-1, 0, 1)
    }
    assert [c.id for c in cases(PIN_BOUNDS.replace("pin-length", "at-least"))] == ["case--below-min", "case--at-min", "case--above-min"]


def test_bound_values_resolve_after_the_given_steps_and_choose_the_side() -> None:
    sent: dict[str, tuple[int, int, list[str]]] = {}
    for case in cases(PIN_BOUNDS):
        result, seen = run(case, _pin_target(12, 12))
        assert result.outcome == "passed", (case.id, shown(result), result.error)
        put = json.loads(next(r for r in seen if r.method == "PUT").content)
        sent[case.id.split("--")[1]] = (len(put["pin"]["code"]), put["n"], [r.url.path for r in seen][2:])
    assert sent == {
        "below-min": (11, 11, ["/beta/outside"]),
        "at-min": (12, 12, []),
        "above-min": (13, 13, []),
        "below-max": (19, 19, []),
        "at-max": (20, 20, []),
        "above-max": (21, 21, ["/beta/outside"]),
    }
    assert PIN_DIGITS.startswith(put["pin"]["code"][:12])


def test_a_target_that_accepts_a_value_outside_the_bounds_fails_that_case() -> None:
    below_min = cases(PIN_BOUNDS)[0]
    result, _ = run(below_min, _pin_target(12, 8))  # accepts 11 digits though the policy asks for 12
    assert shown(result)[0] == ("create", "status", "400", "201")


def test_an_unresolvable_bound_is_an_error_of_the_case() -> None:
    result, _ = run(cases(PIN_BOUNDS)[1], _pin_target(None, 8))
    assert result.outcome == "error"
    assert result.error == "each: the min bound '{pin_length}' of rule 'pin-length' cannot be resolved: {pin_length} is NoneType, not an integer"


def test_hours_bounds_are_times_after_the_case_clock() -> None:
    body = "writes: true\neach: {name: expiry, rule: hours}\nsteps:\n  - request: {method: POST, path: /t, json: {e: \"{expiry}\"}}\n"
    sent = []
    for case in cases(body):
        _, seen = run(case, lambda r: httpx.Response(200, json={}))
        sent.append(json.loads(seen[0].content)["e"])
    assert sent == [f"2026-11-22T{h:02d}:00:00Z" for h in (12, 13, 14, 23)] + ["2026-11-23T00:00:00Z", "2026-11-23T01:00:00Z"]


VALUES = """\
writes: true
each:
  name: code
  values:
    - {label: ascending, value: "0123456789", outside: true}
    - {label: fine, value: "{pin}"}
steps:
  - request: {method: PUT, path: /m, json: {pin: {code: "{code}"}}}
    expect: {status: 201}
    expect_outside: {status: 400}
"""


def test_a_value_set_makes_one_case_per_value_and_outside_chooses_expect_outside() -> None:
    found = cases(VALUES)
    assert [c.id for c in found] == ["case--ascending", "case--fine"]
    refuse = lambda r: httpx.Response(400 if b"0123456789" in r.content else 201, json={})  # noqa: E731
    assert [run(c, refuse)[0].outcome for c in found] == ["passed", "passed"]
    accept_all = lambda r: httpx.Response(201, json={})  # noqa: E731
    result, _ = run(found[0], accept_all)
    assert shown(result) == [("step 1: PUT /m", "status", "400", "201")]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "each: {name: v, rule: pin-lenght}\nsteps:\n  - request: {method: GET, path: /a}\n",
            "case.yaml:5: $.each.rule: unknown rule 'pin-lenght' (did you mean 'pin-length'?); the rules are in conformance/rules.yaml",
        ),
        (
            "each: {name: v, rule: no-bounds}\nsteps:\n  - request: {method: GET, path: /a}\n",
            "case.yaml:5: $.each.rule: rule 'no-bounds' has no bounds (min, max) in conformance/rules.yaml; give each a values list instead, or ask for bounds on the rule",
        ),
        (
            "each: {name: v, rule: pin-length}\nsteps:\n  - request: {method: GET, path: /a}\n",
            "case.yaml:5: $.each.rule: rule 'pin-length' (conformance/rules.yaml): its min bound '{pin_length}' names a variable no given step captures; capture 'pin_length' in given (e.g. {use: policy})",
        ),
        (
            "each: {name: v}\nsteps:\n  - request: {method: GET, path: /a}\n",
            "case.yaml:5: $.each: each needs a name and one of: rule (the bounds of a rule in rules.yaml), values (a list)",
        ),
        (
            "steps:\n  - request: {method: GET, path: /a}\n    when: outside\n",
            "case.yaml:7: $.steps[0].when: 'when' needs a scenario-level 'each' (a rule's bounds or a value set); remove it or add each",
        ),
        (
            "each: {name: v, values: [{label: a, value: 1}, {label: a, value: 2}]}\nsteps:\n  - request: {method: GET, path: /a}\n",
            "case.yaml:5: $.each.values[1].label: duplicate label 'a' (first at line 5)",
        ),
        (
            "each: {name: v, values: [{label: a, value: 1}]}\ngiven:\n  - request: {method: GET, path: \"/{v}\"}\nsteps:\n  - request: {method: GET, path: /a}\n",
            "case.yaml:7: $.given[0].request.path: '{v}' is bound by each only after the given steps; use it in steps or cleanup",
        ),
        (
            "each: {name: v, values: [{label: a, value: 1}]}\ngiven:\n  - request: {method: GET, path: /g}\n    when: inside\nsteps:\n  - request: {method: GET, path: /a}\n",
            "case.yaml:8: $.given[0].when: 'when' has no side in given: the value of each is bound after the given steps",
        ),
    ],
)
def test_malformed_each_names_the_place_and_the_fix(body: str, problem: str) -> None:
    assert problems(body) == [problem]


def test_the_catalogue_rules_bounds_load_with_the_policy_setup() -> None:
    found = cases(
        """\
        writes: true
        each: {name: pin_code, rule: pin-digits-and-length}
        given: [{use: clean-slate}]
        steps:
          - request: {method: PUT, path: "/users/{user}/authentication/qrCodePinMethod", json: {pin: {code: "{pin_code}"}}}
            expect: {status: 201}
            expect_outside: {status: 400, error: {code: pinTooShort}}
        """,
        rules=None,
    )
    assert len(found) == 6 and found[0].binding is not None and found[0].binding.bounds == ("{pin_length}", 20)


# --- 1g: not_equals, and run variables --------------------------------------------------------------

NOT_EQUALS = """\
steps:
  - request: {method: GET, path: /a}
    capture: {first: $.state}
  - name: again
    request: {method: GET, path: /a}
    expect: {body: {$.state: {not_equals: "{first}"}}}
"""


def test_not_equals_passes_on_a_different_value_and_fails_on_the_same_or_none() -> None:
    answers = iter([{"state": "a"}, {"state": "b"}, {"state": "a"}, {"state": "a"}, {"state": "a"}, {}])
    outcomes = [run_scenario(NOT_EQUALS, lambda r: httpx.Response(200, json=next(answers)))[0] for _ in range(3)]
    assert [shown(r) for r in outcomes] == [
        [],
        [("again", "$.state", 'a value other than "a"', '"a"')],
        [("again", "$.state", 'a value other than "a"', "nothing (absent)")],
    ]


def test_user_upn_defaults_against_a_loopback_mock_and_is_a_flag_otherwise() -> None:
    assert resolve({"base_url": "http://127.0.0.1:8000"}, {}, {}).user_upn == DEFAULT_USER_UPN
    live = resolve({"base_url": "https://graph.microsoft.com", "user": "u@contoso.example", "auth": "token", "token": "t"}, {}, {})
    assert live.user_upn is None
    assert resolve({"base_url": "https://graph.microsoft.com", "user": "u", "user_upn": "w@x", "auth": "token", "token": "t"}, {}, {}).user_upn == "w@x"


def test_a_case_that_uses_user_upn_is_skipped_without_it() -> None:
    from conformance.plugin import _missing_requirement

    by_upn = scenario("steps:\n  - request: {method: GET, path: \"/users/{user_upn}/authentication/qrCodePinMethod\"}\n")
    live = resolve({"base_url": "https://graph.microsoft.com", "user": "u", "auth": "token", "token": "t"}, {}, {})
    assert _missing_requirement(live, by_upn) == "it needs the userPrincipalName of the user it acts on: give --graph-user-upn"
    assert _missing_requirement(resolve({"base_url": "http://127.0.0.1:8000"}, {}, {}), by_upn) is None


def test_the_catalogue_still_loads() -> None:
    assert load_scenarios([CATALOGUE], KNOWN)
