"""One exchange against one step's expectations -> every violation and every note.

Checks are generators: a step's expectations are all checked, and every failure is reported as a
typed :class:`~conformance.findings.Violation`, with the JSON path, what was expected, what came,
and the doc page that says so, once (a step never reports the same place and expectation twice;
``error:`` checks the error envelope, so ``schema: graphError`` beside it adds nothing). Of an
expectation's alternatives the one whose statuses hold the answer's is checked. Properties the
derived schemas do not mention are drift notes, not failures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from conformance import jsonpath, scrub
from conformance.findings import Note, NoteKind, Violation, ViolationKind
from conformance.scenarios import Context, Step, duration, fill
from conformance.scenarios.model import OPERAND_KINDS, Assertion, Expect, Expectation, Span, alternatives
from conformance.schemas import SchemaSet
from conformance.times import read_time

NOT_JSON = object()
ERROR_SCHEMA = "graphError"  # Graph's error envelope, which ``error:`` checks itself


@dataclass(frozen=True)
class Response:
    """What came back, as the checks see it."""

    status: int
    content_type: str
    body: Any  # parsed JSON, None for an empty body, NOT_JSON otherwise
    text: str = field(repr=False)  # as received: secrets not scrubbed


def choose(expectation: Expectation, status: int) -> Expect | None:
    """What an answer of ``status`` is checked against: a single expectation itself; of alternatives, the
    first whose statuses hold ``status`` (one without a status holds every status), or None."""
    if not isinstance(expectation, tuple):
        return expectation
    return next((e for e in expectation if not e.status or status in e.status), None)


def check_step(
    step: Step,
    response: Response,
    context: Context,
    schemas: SchemaSet,
    docs: tuple[str, ...],
    expectation: Expectation | None = None,
) -> Iterator[Violation | Note]:
    """Every violation and note of one answer against a step's expectation (``step.expect`` unless
    given), ``docs[0]`` cited by default.

    Of alternatives, the one whose statuses hold the answer's is checked in full; when none does, one
    status violation lists every accepted status. A step never reports the same (where, expected) twice."""
    expectation = step.expect if expectation is None else expectation
    doc = docs[0] if docs else None
    chosen = choose(expectation, response.status)
    if chosen is None:
        accepted = [s for alternative in alternatives(expectation) for s in alternative.status]
        wanted = " or ".join(str(s) for s in dict.fromkeys(accepted))
        yield Violation(
            ViolationKind.STATUS, step.name, "status", wanted, f"{response.status}{_error_hint(response)}", doc
        )
        return
    seen: set[tuple[str, str]] = set()
    for finding in _check(step, chosen, response, context, schemas, doc):
        if isinstance(finding, Violation):
            if (finding.where, finding.expected) in seen:
                continue
            seen.add((finding.where, finding.expected))
        yield finding


def _check(
    step: Step, expect: Expect, response: Response, context: Context, schemas: SchemaSet, doc: str | None
) -> Iterator[Violation | Note]:
    if expect.status and response.status not in expect.status:
        wanted = " or ".join(str(s) for s in expect.status)
        yield Violation(
            ViolationKind.STATUS, step.name, "status", wanted, f"{response.status}{_error_hint(response)}", doc
        )
    if expect.content_type is not None:
        media = response.content_type.split(";")[0].strip().lower()
        if media != expect.content_type.lower():
            yield Violation(
                ViolationKind.CONTENT_TYPE,
                step.name,
                "content-type",
                expect.content_type,
                media or "no Content-Type",
                doc,
            )
    if expect.needs_json and (response.body is NOT_JSON or response.body is None):
        got = (
            "an empty body"
            if response.body is None
            else f"a non-JSON body ({scrub.describe(scrub.scrub_text(response.text)[:60])})"
        )
        yield Violation(ViolationKind.BODY, step.name, "$", "a JSON body", got, doc)
        return
    if expect.schema and not (expect.error_codes and expect.schema == ERROR_SCHEMA):  # error: checks the envelope
        yield from _schema(step, response.body, expect.schema, context.version, schemas)
    if expect.error_codes:
        yield from _error(step, response.body, expect.error_codes, context.version, schemas, doc)
    for assertion in expect.body:
        yield from _assertion(step, response.body, assertion, context, doc)
    for span in expect.span:
        yield from _span(step, response.body, span, doc)


def _error_hint(response: Response) -> str:
    body = response.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict) and isinstance(body["error"].get("code"), str):
        return f" ({body['error']['code']})"
    return ""


def _provenance(schema: dict[str, Any]) -> str | None:
    sources = schema.get("x-provenance") or []
    return f"{sources[0]['page']}:{sources[0]['line']}" if sources else None


def _schema(step: Step, body: Any, name: str, version: str, schemas: SchemaSet) -> Iterator[Violation | Note]:
    document = schemas.schema(version, name)
    for error in (leaf for top in schemas.errors(version, name, body) for leaf in _leaves(top)):
        for parts, expected, got in _described(error):
            doc = _provenance(error.schema) or _provenance(_property_schema(document, parts)) or _first_source(document)
            yield Violation(ViolationKind.SCHEMA, step.name, jsonpath.format_path(parts), expected, got, doc)
    yield from _drift(step, body, document, version, schemas, [])


def _leaves(error: Any) -> list[Any]:
    """For a failed anyOf (a nullable typed property), the errors of the non-null branch."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        real = [e for e in error.context if not (e.validator == "type" and e.validator_value == "null")]
        deeper = [leaf for e in real for leaf in _leaves(e)]
        if deeper:
            return deeper
    return [error]


def _described(error: Any) -> Iterator[tuple[list[Any], str, str]]:
    """A schema error in the suite's words: (JSON path parts, what was expected, what came).

    A missing required member is reported at the member's own path, once per member."""
    parts = list(error.absolute_path)
    if error.validator == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        for member in (m for m in error.validator_value if m not in present):
            yield [*parts, member], "a required member", "nothing (absent)"
        return
    key = next((p for p in reversed(parts) if isinstance(p, str)), None)
    yield parts, _expected(error), scrub.describe(error.instance, key)


def _expected(error: Any) -> str:
    """What the schema keyword that failed asks for, in words."""
    schema, value = error.schema, error.validator_value
    if error.validator == "format":
        return f"an RFC 3339 {value}"
    if error.validator == "contentEncoding":
        return "base64"
    if error.validator == "type":
        return " or ".join(value if isinstance(value, list) else [value])
    if error.validator == "enum":
        return "one of " + ", ".join(str(v) for v in value)
    if error.validator == "anyOf":
        graph_type = schema.get("x-graph-type", "the documented type")
        return f"{graph_type} or null" if {"type": "null"} in schema.get("anyOf", []) else str(graph_type)
    words = {
        "minimum": f"a number of at least {value}",
        "maximum": f"a number of at most {value}",
        "minLength": f"a string of at least {value} characters",
        "maxLength": f"a string of at most {value} characters",
        "const": f"the value {value!r}",
    }
    return words.get(error.validator, f"what the schema's '{error.validator}' keyword allows ({value!r})")


def _property_schema(document: dict[str, Any], parts: list[Any]) -> dict[str, Any]:
    prop = document.get("properties", {}).get(parts[0]) if parts else None
    return prop if isinstance(prop, dict) else {}


def _first_source(document: dict[str, Any]) -> str | None:
    sources = document.get("x-sources") or []
    return f"{sources[0]['page']}:{sources[0]['line']}" if sources else None


def _ref_type(schema: dict[str, Any]) -> str | None:
    for candidate in [schema, *schema.get("anyOf", [])]:
        ref = candidate.get("$ref", "") if isinstance(candidate, dict) else ""
        if ref.endswith(".json"):
            return str(ref.removesuffix(".json"))
    return None


def _drift(
    step: Step, body: Any, document: dict[str, Any], version: str, schemas: SchemaSet, parts: list[Any]
) -> Iterator[Note]:
    if not isinstance(body, dict):
        return
    properties = document.get("properties", {})
    name = document.get("x-graph-type", "this type").rsplit(".", 1)[-1]
    for key, value in body.items():
        if "@" in key:
            continue  # instance annotations (@odata.context, x@odata.nextLink) are not properties
        if key not in properties:
            yield Note(
                NoteKind.UNDOCUMENTED, step.name, jsonpath.format_path([*parts, key]), f"not documented for {name}"
            )
            continue
        nested = _ref_type(properties[key])
        if nested and isinstance(value, dict | list):
            for index, item in enumerate(value if isinstance(value, list) else [value]):
                where = [*parts, key, index] if isinstance(value, list) else [*parts, key]
                yield from _drift(step, item, schemas.schema(version, nested), version, schemas, where)


def _error(
    step: Step, body: Any, codes: tuple[str, ...], version: str, schemas: SchemaSet, doc: str | None
) -> Iterator[Violation]:
    for error in schemas.errors(version, ERROR_SCHEMA, body):
        for parts, wanted, got in _described(error):
            wanted = f"Graph's error envelope: {wanted}"
            yield Violation(ViolationKind.ERROR_ENVELOPE, step.name, jsonpath.format_path(parts), wanted, got, doc)
    got = jsonpath.find(body, "$.error.code")
    if got is not jsonpath.MISSING and got not in codes:
        documented = schemas.schema(version, ERROR_SCHEMA)["properties"]["error"]["properties"]["code"].get(
            "x-documented-codes", {}
        )
        sources = [s for c in codes for s in documented.get(c, [])]
        cite = f"{sources[0]['page']}:{sources[0]['line']}" if sources else doc
        yield Violation(
            ViolationKind.ERROR_CODE, step.name, "$.error.code", " or ".join(codes), scrub.describe(got), cite
        )


def _assertion(
    step: Step, body: Any, assertion: Assertion, context: Context, doc: str | None
) -> Iterator[Violation | Note]:
    path, kind, operand = assertion.path, assertion.kind, assertion.operand
    value = jsonpath.find(body, path)
    parts = jsonpath.parse(path)
    key = next((p for p in reversed(parts) if isinstance(p, str)), None)
    got = "nothing (absent)" if value is jsonpath.MISSING else scrub.describe(value, key)
    if kind in OPERAND_KINDS:
        try:
            operand = fill(operand, context)
        except KeyError as missing:
            yield Violation(
                ViolationKind.TEMPLATE,
                step.name,
                path,
                f"a value to compare with {{{missing.args[0]}}}",
                f"{got}, and {{{missing.args[0]}}} was never captured",
                doc,
            )
            return
    if scrub.is_placeholder(value) and kind in ("equals", "not_equals", "matches", "one_of", "hidden"):
        yield Note(
            NoteKind.REDACTED,
            step.name,
            path,
            f"value is redacted in the cassette; '{kind}' was checked when it was recorded",
        )
        return
    if kind == "absent":
        ok, wanted = value is jsonpath.MISSING, "no such member"
    elif kind == "present":
        ok, wanted = value is not jsonpath.MISSING, "the member to be present"
    elif kind == "is_null":
        ok, wanted = value is None, "null"
    elif kind == "not_null":
        ok, wanted = value is not jsonpath.MISSING and value is not None, "a value (not null)"
    elif kind == "equals":
        ok, wanted = _same(value, operand), scrub.describe(operand, key)
    elif kind == "not_equals":
        ok = value is not jsonpath.MISSING and not _same(value, operand)
        wanted = f"a value other than {scrub.describe(operand, key)}"
    elif kind == "hidden":
        ok, wanted = value in (jsonpath.MISSING, None, ""), "no value shown (absent, null or an empty string)"
    elif kind == "between":
        low, high = operand
        number = isinstance(value, int | float) and not isinstance(value, bool)
        ok, wanted = number and low <= value <= high, f"a number from {low:g} to {high:g}"
    elif kind == "matches":
        ok = isinstance(value, str) and re.search(operand, value) is not None
        wanted = f"a string matching /{operand}/"
    else:  # one_of
        ok, wanted = (
            any(_same(value, c) for c in operand),
            "one of " + ", ".join(scrub.describe(c, key) for c in operand),
        )
    if not ok:
        yield Violation(ViolationKind.ASSERTION, step.name, path, wanted, got, doc)


def _same(value: Any, target: Any) -> bool:
    """Equal values; two date-times with offsets are equal when they are the same instant
    (``Z``, ``+00:00`` and 7-digit fractions are all Graph's forms of one time)."""
    if value is jsonpath.MISSING:
        return False
    if json.dumps(value, sort_keys=True) == json.dumps(target, sort_keys=True):  # JSON equality: true is not 1
        return True
    left, right = read_time(value), read_time(target)
    return (
        left is not None
        and right is not None
        and left.tzinfo is not None
        and right.tzinfo is not None
        and left == right
    )


def _span(step: Step, body: Any, span: Span, doc: str | None) -> Iterator[Violation]:
    start, end = read_time(jsonpath.find(body, span.start)), read_time(jsonpath.find(body, span.end))
    where = f"{span.end} - {span.start}"
    if start is None or end is None or start.tzinfo is None or end.tzinfo is None:
        shown = [jsonpath.find(body, side) for side in (span.start, span.end)]
        got = " and ".join("nothing (absent)" if v is jsonpath.MISSING else scrub.describe(v) for v in shown)
        yield Violation(ViolationKind.SPAN, step.name, where, "two date-times with offsets", got, doc)
        return
    length = end - start
    if span.at_most is not None and length > duration(span.at_most):
        yield Violation(ViolationKind.SPAN, step.name, where, f"at most {span.at_most}", str(length), doc)
    if span.at_least is not None and length < duration(span.at_least):
        yield Violation(ViolationKind.SPAN, step.name, where, f"at least {span.at_least}", str(length), doc)
