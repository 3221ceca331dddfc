"""Scenario files -> :class:`Scenario` objects, with every problem of every file at once as ``file:line``.

Three passes over one file: YAML within limits, composed to nodes for the line of every JSON path
(and for duplicate keys, custom tags and aliases that contain themselves); the schema, whose
friendly messages sit beside their keywords in the schema itself (``x-messages``); then what a
schema cannot say: template variables, JSON paths, schema names, undeclared writes.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from conformance import safeyaml
from conformance.errors import InputError, ScenarioError
from conformance.jsonpath import format_path
from conformance.jsonpath import parse as parse_path
from conformance.safeyaml import kind_of
from conformance.scenarios.model import BUILTIN_VARIABLES, WRITE_METHODS, Request, Scenario, Step, scenario_schema
from conformance.scenarios.templates import names_a_time, template_names
from conformance.versions import Version


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator, FormatChecker

    return Draft202012Validator(scenario_schema(), format_checker=FormatChecker(["regex"]))


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


def _schema_problems(data: Any, lines: _Lines) -> Iterator[tuple[int, str]]:
    for error in _validator().iter_errors(data):
        path = tuple(error.absolute_path)
        where = format_path(list(path))
        kind = error.validator
        friendly = error.schema.get("x-messages", {}).get(kind) if isinstance(error.schema, dict) else None
        if friendly:
            yield lines.line(path), f"{where}: {_friendly(friendly, error)}"
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


def _template_problems(
    data: dict[str, Any], lines: _Lines, known_schemas: set[str] | None
) -> Iterator[tuple[int, str]]:
    """Templates must name known variables; schema names must exist; writes must be declared.

    Runs on data that may also have schema problems, so every access is guarded."""
    captured: set[str] = set()
    all_captured: set[str] = set()
    writes = data.get("writes", False) is True
    for phase in ("given", "steps", "cleanup"):
        steps = data.get(phase, [])
        if phase == "cleanup":
            captured = all_captured  # cleanup may use anything any step captured
        for index, step in enumerate(steps if isinstance(steps, list) else []):
            if not isinstance(step, dict):
                continue
            path = (phase, index)
            request: dict[str, Any] = step["request"] if isinstance(step.get("request"), dict) else {}
            expect: dict[str, Any] = step["expect"] if isinstance(step.get("expect"), dict) else {}
            strings = list(_strings(request, (*path, "request")))
            body: dict[str, Any] = expect["body"] if isinstance(expect.get("body"), dict) else {}
            for json_path, assertion in body.items():
                for kind in ("equals", "one_of"):
                    if isinstance(assertion, dict) and kind in assertion:
                        strings += list(_strings(assertion[kind], (*path, "expect", "body", json_path, kind)))
            for where, text in strings:
                for name in template_names(text):
                    if names_a_time(name) or name in BUILTIN_VARIABLES or name in captured:
                        continue
                    if name.startswith("now"):
                        problem = f"bad time template '{{{name}}}': write now, now+N or now-N with a unit s, m, h or d"
                    else:
                        options = sorted(captured | set(BUILTIN_VARIABLES))
                        hint = did_you_mean(name, options)
                        problem = f"unknown template variable '{{{name}}}'{hint}; known here: {', '.join(options)}"
                    yield lines.line(where), f"{format_path(list(where))}: {problem}"
            paths: list[tuple[Any, tuple[Any, ...]]] = [(p, (*path, "expect", "body")) for p in body]
            capture = step.get("capture")
            paths += [
                (p, (*path, "capture", name)) for name, p in (capture.items() if isinstance(capture, dict) else [])
            ]
            spans: list[Any] = expect["span"] if isinstance(expect.get("span"), list) else []
            paths += [
                (s[side], (*path, "expect", "span", i, side))
                for i, s in enumerate(spans)
                if isinstance(s, dict)
                for side in ("from", "to")
                if side in s
            ]
            for text, where in paths:
                if isinstance(text, str) and text.startswith("$"):
                    try:
                        parse_path(text)
                    except ValueError as exc:
                        yield (
                            lines.line(where),
                            f'{format_path(list(where))}: {exc}; write $.name, $["a name"] or $.list[0]',
                        )
            method = request.get("method")
            if method in WRITE_METHODS and not writes:
                yield (
                    lines.line((*path, "request", "method")),
                    (
                        f"{format_path([*path, 'request', 'method'])}: {method} changes the target, "
                        "but the scenario does not say 'writes: true'"
                    ),
                )
            schema = expect.get("schema")
            if known_schemas is not None and isinstance(schema, str) and schema not in known_schemas:
                yield (
                    lines.line((*path, "expect", "schema")),
                    f"{format_path([*path, 'expect', 'schema'])}: unknown schema '{schema}'"
                    + did_you_mean(schema, sorted(known_schemas)),
                )
            capture = step.get("capture")
            for name in capture if isinstance(capture, dict) else {}:
                captured = captured | {name}
                all_captured.add(name)


def _strings(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, path)
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _step(raw: dict[str, Any], line: int, phase: str, index: int) -> Step:
    request = raw["request"]
    return Step(
        name=raw.get("name") or f"{phase} {index + 1}: {request['method']} {request['path']}",
        request=Request(
            request["method"],
            request["path"],
            dict(request.get("headers", {})),
            request.get("json"),
            "json" in request,
            request.get("auth", True),
        ),
        expect=dict(raw.get("expect") or {}),
        capture=dict(raw.get("capture") or {}),
        line=line,
        phase=phase,
        not_applicable=_not_applicable(raw.get("not_applicable")),
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


def parse_scenario(text: str, display: str, known_schemas: set[str] | None = None) -> tuple[Scenario | None, list[str]]:
    """Parse one file; return the scenario (None if malformed) and every problem found."""
    try:  # size, depth and alias expansion are checked before anything is composed
        node = safeyaml.compose(text, display, safeyaml.SCENARIO_LIMITS, allow_recursion=True)
    except InputError as exc:
        return None, [_yaml_problem(exc)]
    if node is None:
        return None, [f"{display}:1: the file is empty; a scenario needs id, title, docs, versions and steps"]
    lines = _Lines()
    lines.walk(node, ())
    problems = list(lines.problems)
    if not problems:
        try:
            data = safeyaml.safe_load(text, display, safeyaml.SCENARIO_LIMITS)
        except InputError as exc:  # e.g. an unhashable key, which only the constructor refuses
            return None, [_yaml_problem(exc)]
        if not isinstance(data, dict):
            problems.append((1, f"$: expected a mapping with id, title, docs, versions and steps, got {kind_of(data)}"))
        else:
            problems.extend(_schema_problems(data, lines))
            problems.extend(_template_problems(data, lines, known_schemas))
    if problems:
        return None, [f"{display}:{line}: {message}" for line, message in sorted(problems, key=lambda p: p[0])]

    def steps(phase: str, key: str) -> tuple[Step, ...]:
        return tuple(_step(s, lines.line((key, i)), phase, i) for i, s in enumerate(data.get(key, [])))

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
    )
    return scenario, []


def load_scenarios(
    paths: list[Path], known_schemas: set[str] | None = None, base: Path | None = None
) -> list[Scenario]:
    """Every scenario under ``paths`` (files or folders of ``*.yaml``); raises with all problems."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{path}: no such scenario file or folder")
    scenarios: list[Scenario] = []
    seen: dict[str, str] = {}
    for file in files:
        display = _display(file, base)
        try:
            text = safeyaml.read(file, display, safeyaml.SCENARIO_LIMITS)
        except InputError as exc:  # not a regular file, not UTF-8, or too big
            problems.append(str(exc))
            continue
        scenario, found = parse_scenario(text, display, known_schemas)
        problems.extend(found)
        if scenario:
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
