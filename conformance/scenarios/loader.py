"""Scenario files -> :class:`Scenario` objects, with every problem of every file at once as ``file:line``.

Three passes over one file: YAML within limits, composed to nodes for the line of every JSON path
(and for duplicate keys, custom tags and aliases that contain themselves); the schema, whose
friendly messages sit beside their keywords in the schema itself (``x-messages``); then, with every
``{use: NAME}`` replaced by the steps of the shared setup (``setups.yaml``, whose steps keep their
own file and line), what a schema cannot say: template variables, JSON paths, schema names,
undeclared writes, the rule and bounds of an ``each``. A scenario with ``each`` becomes one
scenario per value (:func:`expand_cases`).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from conformance import safeyaml
from conformance.errors import InputError, ScenarioError
from conformance.jsonpath import format_path
from conformance.jsonpath import parse as parse_path
from conformance.rules import RULES_DISPLAY, load_rules
from conformance.safeyaml import kind_of
from conformance.scenarios.cache import ScenarioCache
from conformance.scenarios.model import (
    BUILTIN_VARIABLES,
    CATALOGUE,
    OPERAND_KINDS,
    SETUPS,
    WRITE_METHODS,
    Assertion,
    Binding,
    Expect,
    Expectation,
    Request,
    Scenario,
    Span,
    Step,
    scenario_schema,
)
from conformance.scenarios.templates import names_a_time, strings, template_names
from conformance.versions import Version


@cache
def _validator(definition: str | None = None) -> Any:
    """The validator of a scenario file, or (``definition``) of one of the schema's ``$defs``."""
    from jsonschema import Draft202012Validator, FormatChecker

    schema = scenario_schema()
    if definition is not None:
        schema = {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    return Draft202012Validator(schema, format_checker=FormatChecker(["regex"]))


class _Lines:
    """JSON path (as a tuple) -> 1-based line, from the YAML node tree."""

    def __init__(self) -> None:
        self.lines: dict[tuple[Any, ...], int] = {}
        self.problems: list[tuple[int, str]] = []

    def walk(self, node: yaml.Node, path: tuple[Any, ...], ancestors: frozenset[int] = frozenset()) -> None:
        self.lines[path] = node.start_mark.line + 1
        if id(node) in ancestors:  # an alias that contains itself
            problem = f"{format_path(list(path))}: a YAML alias refers to itself"
            self.problems.append((node.start_mark.line + 1, problem))
            return
        ancestors = ancestors | {id(node)}
        if node.tag.startswith("!") and not node.tag.startswith("tag:yaml.org"):
            self.problems.append(
                (
                    node.start_mark.line + 1,
                    f"{format_path(list(path))}: custom YAML tag {node.tag} is not allowed; write plain data",
                )
            )
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else f"<{key.tag.rsplit(':', 1)[-1]} key>"
                if name in seen:
                    self.problems.append(
                        (
                            key.start_mark.line + 1,
                            f"{format_path(list(path))}: duplicate key '{name}' (first at line {seen[name]})",
                        )
                    )
                seen[name] = key.start_mark.line + 1
                self.lines[(*path, name, "<key>")] = key.start_mark.line + 1
                self.walk(value, (*path, name), ancestors)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.walk(item, (*path, index), ancestors)

    def line(self, path: tuple[Any, ...], key: str | None = None) -> int:
        if key is not None and (*path, key, "<key>") in self.lines:
            return self.lines[(*path, key, "<key>")]
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)


def did_you_mean(word: str, choices: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to ``word``, or nothing when none is close."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "number": "a number",
    "null": "null",
}


_PLACEHOLDER = re.compile(r"\{(instance|instance_json|properties)\}")


def _friendly(template: str, error: Any) -> str:
    """An ``x-messages`` text of the schema with its placeholders filled from ``error``."""
    values = {
        "instance": str(error.instance),
        "instance_json": json.dumps(error.instance),
        "properties": ", ".join(sorted(error.schema.get("properties", {}))),
    }
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def _schema_problems(data: Any, lines: _Lines, definition: str | None = None) -> Iterator[tuple[int, str]]:
    for error in _validator(definition).iter_errors(data):
        yield from _schema_problem(error, lines)


def _schema_problem(error: Any, lines: _Lines) -> Iterator[tuple[int, str]]:
    """One schema error in the loader's words; a ``oneOf`` of a value or a list of values is worded by
    the branch the value's kind selects (a list: the list branch)."""
    path = tuple(error.absolute_path)
    where = format_path(list(path))
    kind = error.validator
    friendly = error.schema.get("x-messages", {}).get(kind) if isinstance(error.schema, dict) else None
    if friendly:
        yield lines.line(path), f"{where}: {_friendly(friendly, error)}"
        return
    if kind == "oneOf" and error.context:
        lists = [i for i, branch in enumerate(error.validator_value) if branch.get("type") == "array"]
        branch = lists[0] if isinstance(error.instance, list) and lists else 0
        chosen = [
            found for sub in error.context if sub.schema_path[0] == branch for found in _schema_problem(sub, lines)
        ]
        yield from chosen or [(lines.line(path), f"{where}: {error.message}")]
    elif kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        for key in sorted(str(k) for k in set(error.instance) - set(allowed)):
            fix = did_you_mean(key, allowed) or f" (allowed: {', '.join(allowed)})"
            yield lines.line(path, key), f"{where}: unknown key '{key}'{fix}"
    elif kind == "required":
        missing = re.search(r"'([^']+)' is a required property", error.message)
        name = missing.group(1) if missing else error.message
        yield lines.line(path), f"{where}: missing required key '{name}'"
    elif kind == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        wanted = " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in expected)
        yield lines.line(path), f"{where}: expected {wanted}, got {kind_of(error.instance)}"
    elif kind == "enum":
        choices = [str(c) for c in error.validator_value]
        hint = did_you_mean(str(error.instance), choices)
        yield lines.line(path), f"{where}: {json.dumps(error.instance)} is not one of {', '.join(choices)}{hint}"
    else:
        yield lines.line(path), f"{where}: {error.message}"


Problem = tuple[str, int, str]  # file, line, message
_BOUND_TEMPLATE = re.compile(r"^\{([a-z_][a-z0-9_]*)\}$")
BOUND_UNITS = ("digits", "number", "hours", "days")
# the cases of a rule's bounds: label, the bound it sits at, and how far from it
BOUND_CASES = (
    ("below-min", "min", -1),
    ("at-min", "min", 0),
    ("above-min", "min", 1),
    ("below-max", "max", -1),
    ("at-max", "max", 0),
    ("above-max", "max", 1),
)


@dataclass(frozen=True)
class _Located:
    """A step as written (plain data) and where: its file, that file's lines, its JSON path there and,
    for a step of a shared setup, where the scenario uses it."""

    raw: Any
    file: str
    lines: _Lines
    path: tuple[Any, ...]
    used_at: str = ""

    @property
    def line(self) -> int:
        return self.lines.line(self.path)

    def problem(self, rest: tuple[Any, ...], message: str) -> Problem:
        """A problem at ``rest`` below this step, in the file the step is written in."""
        used = f" (in the setup used at {self.used_at})" if self.used_at else ""
        return self.file, self.lines.line((*self.path, *rest)), f"{format_path([*self.path, *rest])}: {message}{used}"


@dataclass(frozen=True)
class Setups:
    """The shared setups: name -> its steps, every ``use`` among them already replaced."""

    file: str
    steps: dict[str, tuple[_Located, ...]]


def load_setups(path: Path = SETUPS) -> Setups:
    """The shared setups of ``path``; raises :class:`ScenarioError` with every problem (unknown names, cycles)."""
    display = safeyaml.display_path(path)
    try:
        text = safeyaml.read(path, display, safeyaml.SCENARIO_LIMITS)
        node = safeyaml.compose(text, display, safeyaml.SCENARIO_LIMITS)
        data = safeyaml.safe_load(text, display, safeyaml.SCENARIO_LIMITS) if node is not None else {}
    except InputError as exc:
        raise ScenarioError([_yaml_problem(exc)]) from None
    lines = _Lines()
    if node is not None:
        lines.walk(node, ())
    problems = list(lines.problems)
    if not problems and not isinstance(data, dict):
        problems.append((1, f"$: expected a mapping of setup names to lists of steps, got {kind_of(data)}"))
    elif not problems:
        problems.extend(_schema_problems(data, lines, "setups"))
    if problems:
        raise ScenarioError([f"{display}:{line}: {message}" for line, message in sorted(problems, key=lambda p: p[0])])
    resolved: dict[str, tuple[_Located, ...]] = {}
    failures: dict[str, None] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> tuple[_Located, ...]:
        if name not in resolved:
            steps: list[_Located] = []
            for index, item in enumerate(data[name]):
                if "use" not in item:
                    steps.append(_Located(item, display, lines, (name, index)))
                    continue
                other, path = item["use"], (name, index, "use")
                where = f"{display}:{lines.line(path)}: {format_path(list(path))}"
                if other not in data:
                    known = sorted(data)
                    hint = did_you_mean(other, known)
                    failures[f"{where}: unknown setup '{other}'{hint}; known setups: {', '.join(known)}"] = None
                elif other in (*chain, name):
                    circle = " -> ".join(
                        (*chain[chain.index(other) :], name, other) if other in chain else (name, other)
                    )
                    failures[
                        f"{where}: setups must not use each other in a circle ({circle}); remove one of these uses"
                    ] = None
                else:
                    steps.extend(resolve(other, (*chain, name)))
            resolved[name] = tuple(steps)
        return resolved[name]

    for name in data:
        resolve(name, ())
    if failures:
        raise ScenarioError(list(failures))
    return Setups(display, resolved)


def _expand_uses(
    data: dict[str, Any], display: str, lines: _Lines, setups: Setups
) -> tuple[dict[str, list[_Located]], list[Problem]]:
    """The steps of each phase, every ``{use: NAME}`` replaced by the setup's steps in place."""
    phases: dict[str, list[_Located]] = {}
    problems: list[Problem] = []
    for key in ("given", "steps", "cleanup"):
        phases[key] = []
        for index, item in enumerate(data.get(key, [])):
            if "use" not in item:
                phases[key].append(_Located(item, display, lines, (key, index)))
            elif item["use"] in setups.steps:
                used_at = f"{display}:{lines.line((key, index))} {format_path([key, index])}"
                phases[key].extend(replace(step, used_at=used_at) for step in setups.steps[item["use"]])
            else:
                known = sorted(setups.steps)
                path = (key, index, "use")
                problem = (
                    f"{format_path(list(path))}: unknown setup '{item['use']}'{did_you_mean(item['use'], known)}; "
                    f"known setups (in {setups.file}): {', '.join(known)}"
                )
                problems.append((display, lines.line(path), problem))
    return phases, problems


def _expectations(step: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Every expectation mapping of a step (``expect``, ``expect_outside``, each alternative of a list)."""
    for key in ("expect", "expect_outside"):
        written = step.get(key)
        if isinstance(written, dict):
            yield (key,), written
        elif isinstance(written, list):
            yield from (((key, index), alternative) for index, alternative in enumerate(written))


def _bound_names(each: Any) -> set[str]:
    """The variables an ``each`` binds: its name, and ``<name>_n`` for a rule's bounds."""
    if not isinstance(each, dict):
        return set()
    return {each["name"], *([f"{each['name']}_n"] if "rule" in each else [])}


def _template_problems(
    data: dict[str, Any], phases: dict[str, list[_Located]], known_schemas: set[str] | None
) -> Iterator[Problem]:
    """Templates must name known variables; schema names must exist; writes must be declared;
    ``when`` and ``expect_outside`` need an ``each``."""
    captured: set[str] = set()
    all_captured: set[str] = set()
    writes = data.get("writes", False) is True
    bound = _bound_names(data.get("each"))
    for phase in ("given", "steps", "cleanup"):
        if phase == "cleanup":
            captured = all_captured  # cleanup may use anything any step captured
        for located in phases[phase]:
            step = located.raw
            request: dict[str, Any] = step["request"]
            known = captured | (bound if phase != "given" else set())
            texts = list(strings(request, ("request",)))
            paths: list[tuple[Any, tuple[Any, ...]]] = []
            for rest, expect in _expectations(step):
                for json_path, assertion in expect.get("body", {}).items():
                    paths.append((json_path, (*rest, "body")))
                    for kind in OPERAND_KINDS:
                        if kind in assertion:
                            texts += list(strings(assertion[kind], (*rest, "body", json_path, kind)))
                paths += [
                    (span[side], (*rest, "span", index, side))
                    for index, span in enumerate(expect.get("span", []))
                    for side in ("from", "to")
                ]
                schema = expect.get("schema")
                if known_schemas is not None and schema is not None and schema not in known_schemas:
                    hint = did_you_mean(schema, sorted(known_schemas))
                    yield located.problem((*rest, "schema"), f"unknown schema '{schema}'{hint}")
            for where, text in texts:
                for name in template_names(text):
                    if names_a_time(name) or name in BUILTIN_VARIABLES or name in known:
                        continue
                    if name.startswith("now"):
                        problem = f"bad time template '{{{name}}}': write now, now+N or now-N with a unit s, m, h or d"
                    elif name in bound:
                        problem = (
                            f"'{{{name}}}' is bound by each only after the given steps; use it in steps or cleanup"
                        )
                    else:
                        options = sorted(known | set(BUILTIN_VARIABLES))
                        hint = did_you_mean(name, options)
                        problem = f"unknown template variable '{{{name}}}'{hint}; known here: {', '.join(options)}"
                    yield located.problem(where, problem)
            paths += [(text, ("capture", name)) for name, text in step.get("capture", {}).items()]
            for text, where in paths:
                if isinstance(text, str) and text.startswith("$"):
                    try:
                        parse_path(text)
                    except ValueError as exc:
                        yield located.problem(where, f'{exc}; write $.name, $["a name"] or $.list[0]')
            methods = request["method"] if isinstance(request["method"], list) else [request["method"]]
            writing = [m for m in methods if m in WRITE_METHODS]
            if writing and not writes:
                message = f"{' and '.join(writing)} changes the target, but the scenario does not say 'writes: true'"
                yield located.problem(("request", "method"), message)
            for key in ("when", "expect_outside"):
                if key in step and not bound:
                    message = (
                        f"'{key}' needs a scenario-level 'each' (a rule's bounds or a value set); remove it or add each"
                    )
                    yield located.problem((key,), message)
                elif key in step and phase == "given":
                    message = f"'{key}' has no side in given: the value of each is bound after the given steps"
                    yield located.problem((key,), message)
            for name in step.get("capture", {}):
                captured = captured | {name}
                all_captured.add(name)


def _captured(steps: list[_Located]) -> set[str]:
    return {name for located in steps for name in located.raw.get("capture", {})}


def _each_problems(
    data: dict[str, Any], display: str, lines: _Lines, phases: dict[str, list[_Located]], rules: dict[str, Any] | None
) -> Iterator[Problem]:
    """The rule of an ``each`` must exist and have bounds whose templates the given steps capture; labels are unique."""
    each = data.get("each")
    if not isinstance(each, dict):
        return
    if "values" in each:
        seen: dict[str, int] = {}
        for index, entry in enumerate(each["values"]):
            line = lines.line(("each", "values", index, "label"))
            if entry["label"] in seen:
                where = format_path(["each", "values", index, "label"])
                yield (
                    display,
                    line,
                    f"{where}: duplicate label '{entry['label']}' (first at line {seen[entry['label']]})",
                )
            seen.setdefault(entry["label"], line)
        return
    rule_id, where, line = each["rule"], "$.each.rule", lines.line(("each", "rule"))
    rules = load_rules() if rules is None else rules
    if rule_id not in rules:
        hint = did_you_mean(rule_id, sorted(rules))
        yield display, line, f"{where}: unknown rule '{rule_id}'{hint}; the rules are in {RULES_DISPLAY}"
        return
    bounds = rules[rule_id].get("bounds") if isinstance(rules[rule_id], dict) else None
    if not isinstance(bounds, dict) or not ({"min", "max"} & set(bounds)):
        fix = "give each a values list instead, or ask for bounds on the rule"
        yield display, line, f"{where}: rule '{rule_id}' has no bounds (min, max) in {RULES_DISPLAY}; {fix}"
        return
    if bounds.get("unit") not in BOUND_UNITS:
        unit = json.dumps(bounds.get("unit"))
        yield (
            display,
            line,
            f"{where}: rule '{rule_id}' in {RULES_DISPLAY}: bounds unit {unit} is not one of {', '.join(BOUND_UNITS)}",
        )
    captured = _captured(phases["given"])
    for side in ("min", "max"):
        value = bounds.get(side)
        template = _BOUND_TEMPLATE.match(value) if isinstance(value, str) else None
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            continue
        if template is None:
            problem = (
                f'its {side} bound {json.dumps(value)} is neither an integer nor a template such as "{{pin_length}}"'
            )
        elif template.group(1) not in captured:
            problem = (
                f"its {side} bound '{value}' names a variable no given step captures; "
                f"capture '{template.group(1)}' in given (e.g. {{use: policy}})"
            )
        else:
            continue
        yield display, line, f"{where}: rule '{rule_id}' ({RULES_DISPLAY}): {problem}"


def _expect(raw: dict[str, Any]) -> Expect:
    status = raw.get("status")
    code = raw["error"]["code"] if "error" in raw else []
    return Expect(
        status=tuple(status if isinstance(status, list) else [] if status is None else [status]),
        content_type=raw.get("content_type"),
        schema=raw.get("schema"),
        body=tuple(
            Assertion(str(path), kind, operand)
            for path, assertion in raw.get("body", {}).items()
            for kind, operand in assertion.items()
        ),
        span=tuple(Span(s["from"], s["to"], s.get("at_most"), s.get("at_least")) for s in raw.get("span", [])),
        error_codes=tuple(code if isinstance(code, list) else [code]),
    )


def _expectation(raw: Any) -> Expectation:
    if isinstance(raw, list):
        return tuple(_expect(alternative) for alternative in raw)
    return _expect(raw or {})


def _step(located: _Located, phase: str, index: int) -> Step:
    raw = located.raw
    request = raw["request"]
    methods = tuple(request["method"] if isinstance(request["method"], list) else [request["method"]])
    return Step(
        name=raw.get("name") or f"{phase} {index + 1}: {' or '.join(methods)} {request['path']}",
        request=Request(
            methods,
            request["path"],
            dict(request.get("headers", {})),
            request.get("json"),
            "json" in request,
            request.get("auth", True),
        ),
        expect=_expectation(raw.get("expect")),
        capture=dict(raw.get("capture") or {}),
        line=located.line,
        phase=phase,
        not_applicable=_not_applicable(raw.get("not_applicable")),
        expect_outside=_expectation(raw["expect_outside"]) if "expect_outside" in raw else None,
        when=raw.get("when"),
        file=located.file,
    )


def _not_applicable(raw: dict[str, Any] | None) -> tuple[frozenset[int], str] | None:
    if raw is None:
        return None
    status = raw["status"]
    return frozenset(status if isinstance(status, list) else [status]), str(raw["reason"])


def _yaml_problem(error: InputError) -> str:
    """The one-line problem for a file that is not YAML, or is beyond the limits of a scenario file."""
    if error.message.startswith("not valid YAML") and "'{'" in error.message:
        return f'{error} (quote strings that hold templates, e.g. path: "/users/{{user}}")'
    return str(error)


def _cases(each: dict[str, Any] | None, rules: dict[str, Any] | None) -> tuple[Binding, ...]:
    """The cases of a (checked) ``each``: one binding per value."""
    if each is None:
        return ()
    name = each["name"]
    if "values" in each:
        return tuple(
            Binding(name, v["label"], value=v["value"], outside=bool(v.get("outside"))) for v in each["values"]
        )
    bounds = (load_rules() if rules is None else rules)[each["rule"]]["bounds"]
    limits = (bounds.get("min"), bounds.get("max"))
    return tuple(
        Binding(name, label, rule=each["rule"], unit=bounds["unit"], bounds=limits, anchor=anchor, offset=offset)
        for label, anchor, offset in BOUND_CASES
        if bounds.get(anchor) is not None
    )


def parse_scenario(
    text: str,
    display: str,
    known_schemas: set[str] | None = None,
    setups: Setups | None = None,
    rules: dict[str, Any] | None = None,
) -> tuple[Scenario | None, list[str]]:
    """Parse one file; return the scenario (None if malformed) and every problem found.

    ``setups`` and ``rules`` default to the packaged ``setups.yaml`` and ``rules.yaml``. A scenario
    with ``each`` comes back with its ``cases``; :func:`expand_cases` makes one scenario of each."""
    try:  # size, depth and alias expansion are checked before anything is composed
        node = safeyaml.compose(text, display, safeyaml.SCENARIO_LIMITS, allow_recursion=True)
    except InputError as exc:
        return None, [_yaml_problem(exc)]
    if node is None:
        return None, [f"{display}:1: the file is empty; a scenario needs id, title, docs, versions and steps"]
    lines = _Lines()
    lines.walk(node, ())
    problems: list[Problem] = [(display, line, message) for line, message in lines.problems]
    phases: dict[str, list[_Located]] = {}
    if not problems:
        try:
            data = safeyaml.safe_load(text, display, safeyaml.SCENARIO_LIMITS)
        except InputError as exc:  # e.g. an unhashable key, which only the constructor refuses
            return None, [_yaml_problem(exc)]
        if not isinstance(data, dict):
            message = f"$: expected a mapping with id, title, docs, versions and steps, got {kind_of(data)}"
            problems.append((display, 1, message))
        else:
            problems.extend((display, line, message) for line, message in _schema_problems(data, lines))
        if not problems:
            if setups is None:
                try:
                    setups = load_setups()
                except ScenarioError as exc:
                    return None, exc.problems
            phases, problems = _expand_uses(data, display, lines, setups)
            if not problems:
                problems.extend(_template_problems(data, phases, known_schemas))
                problems.extend(_each_problems(data, display, lines, phases, rules))
    if problems:
        ordered = sorted(problems, key=lambda p: (p[0] != display, p[0], p[1]))
        return None, list(dict.fromkeys(f"{file}:{line}: {message}" for file, line, message in ordered))

    def steps(phase: str, key: str) -> tuple[Step, ...]:
        return tuple(_step(located, phase, i) for i, located in enumerate(phases[key]))

    scenario = Scenario(
        id=data["id"],
        title=data["title"],
        docs=tuple(data["docs"]),
        versions=tuple(Version(v) for v in data["versions"]),
        tags=tuple(data.get("tags", [])),
        writes=bool(data.get("writes", False)),
        given=steps("given", "given"),
        steps=steps("step", "steps"),
        cleanup=steps("cleanup", "cleanup"),
        file=display,
        line=lines.line(("id",)),
        cases=_cases(data.get("each"), rules),
    )
    return scenario, []


def expand_cases(scenario: Scenario) -> list[Scenario]:
    """One scenario per case of its ``each`` (id ``<id>--<label>``, the binding kept), or the scenario itself."""
    if not scenario.cases:
        return [scenario]
    return [replace(scenario, id=f"{scenario.id}--{b.label}", binding=b, cases=()) for b in scenario.cases]


def load_scenarios(
    paths: list[Path],
    known_schemas: set[str] | None = None,
    base: Path | None = None,
    setups: Path = SETUPS,
    rules: dict[str, Any] | None = None,
    cached_under: Path = CATALOGUE,
) -> list[Scenario]:
    """Every scenario under ``paths`` (files or folders of ``*.yaml``), each ``each`` expanded to its cases;
    raises with all problems. Files under ``cached_under`` (the packaged catalogue) are parsed once and
    kept in the user's cache (:mod:`conformance.scenarios.cache`); a user's own may hold PINs: never copied."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{path}: no such scenario file or folder")
    scenario_cache = ScenarioCache(known_schemas, rules)
    shared = scenario_cache.load_setups(setups, SETUPS, load_setups)  # raises with every problem of the file
    scenarios: list[Scenario] = []
    seen: dict[str, str] = {}
    packaged = cached_under.resolve()
    for file in files:
        display = _display(file, base)
        try:
            text = safeyaml.read(file, display, safeyaml.SCENARIO_LIMITS)
        except InputError as exc:  # not a regular file, not UTF-8, or too big
            problems.append(str(exc))
            continue
        if file.resolve().is_relative_to(packaged):
            parsed, found = scenario_cache.parsed(text, display, parse_scenario)
        else:
            parsed, found = parse_scenario(text, display, known_schemas, shared, rules)
        problems.extend(found)
        for scenario in expand_cases(parsed) if parsed else []:
            if scenario.id in seen:
                problems.append(f"{scenario.location}: $.id: '{scenario.id}' is already the id of {seen[scenario.id]}")
            else:
                seen[scenario.id] = scenario.location
                scenarios.append(scenario)
    if problems:
        raise ScenarioError(problems)
    return scenarios


def _display(file: Path, base: Path | None) -> str:
    base = base or Path.cwd()
    try:
        return file.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return file.as_posix()
