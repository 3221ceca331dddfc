"""Typed findings: each check names its kind, and findings are rendered in one place."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from typing import Any

from conformance import findings
from conformance.checks import NOT_JSON, Response, check_step
from conformance.contract import default_schema_dir
from conformance.findings import Note, NoteKind, Violation, ViolationKind
from conformance.scenarios import Context, parse_scenario
from conformance.schemas import SchemaSet

SCHEMAS = SchemaSet(default_schema_dir())
CONTEXT = Context("u1", "beta", datetime(2026, 11, 22, 12, 0, tzinfo=UTC))


def findings_of(expect: str, status: int, body: Any, content_type: str = "application/json") -> list[Any]:
    """Every finding of one GET step with the given ``expect`` block against one answer."""
    text = textwrap.dedent(
        """\
        id: case
        title: A case
        docs: [graph-docs/beta/api/qrcode-get.md:72]
        versions: [beta]
        steps:
          - name: read
            request: {method: GET, path: "/users/{user}/authentication/qrCodePinMethod/standardQRCode"}
            expect:
        """
    ) + textwrap.indent(textwrap.dedent(expect), " " * 6)
    scenario, problems = parse_scenario(text, "case.yaml", set(SCHEMAS.type_names("beta")))
    assert problems == [] and scenario is not None
    response = Response(status, content_type, body, "" if body is NOT_JSON else "{}")
    return list(check_step(scenario.steps[0], response, CONTEXT, SCHEMAS, scenario.docs))


def kinds(found: list[Any]) -> list[tuple[str, str]]:
    return [(str(f.kind), f.where) for f in found]


def test_each_check_names_its_kind() -> None:
    assert kinds(findings_of("status: 200\ncontent_type: application/json\n", 500, None, "text/plain")) == [
        ("status", "status"),
        ("content-type", "content-type"),
    ]
    assert kinds(findings_of("schema: qrCode\n", 200, NOT_JSON)) == [("body", "$")]
    answer = {"id": 7, "startDateTime": "soon", "brandNew": 1}
    assert kinds(findings_of("schema: qrCode\n", 200, answer)) == [
        ("schema", "$.id"),
        ("schema", "$.startDateTime"),
        ("undocumented", "$.brandNew"),
    ]
    assert kinds(findings_of("error: {code: pinTooShort}\n", 400, {"error": {"code": "other", "message": "m"}})) == [
        ("error-code", "$.error.code")
    ]
    span = "span: [{from: $.startDateTime, to: $.expireDateTime, at_most: P1D}]\nbody: {$.id: {equals: q1}}\n"
    long = {"id": "q2", "startDateTime": "2026-01-01T00:00:00Z", "expireDateTime": "2026-06-01T00:00:00Z"}
    assert kinds(findings_of(span, 200, long)) == [("assertion", "$.id"), ("span", "$.expireDateTime - $.startDateTime")]


def test_a_missing_required_member_is_named_at_its_own_path_in_the_suites_words() -> None:
    found = findings_of("error: {code: pinTooShort}\n", 400, {"code": "pinTooShort"})
    assert [(str(f.kind), f.where, f.expected, f.got) for f in found] == [
        ("error-envelope", "$.error", "Graph's error envelope: a required member", "nothing (absent)")
    ]
    assert not any("required [" in f.expected for f in found)  # jsonschema's own wording stays inside


def test_findings_render_in_one_place() -> None:
    violation = Violation(ViolationKind.STATUS, "read", "status", "200", "500 (generalException)", "page.md:3")
    note = Note(NoteKind.UNDOCUMENTED, "read", "$.x", "not documented for qrCode")
    assert findings.brief(violation) == "status: expected 200, got 500 (generalException)"
    assert findings.text(violation) == "status: expected 200, got 500 (generalException)\n    doc: page.md:3"
    assert findings.text(note) == "$.x: not documented for qrCode (warning)"
    assert findings.as_json(violation) == {
        "kind": "status",
        "step": "read",
        "where": "status",
        "expected": "200",
        "got": "500 (generalException)",
        "doc": "page.md:3",
    }
    assert findings.as_json(note) == {
        "kind": "undocumented",
        "step": "read",
        "where": "$.x",
        "message": "not documented for qrCode",
    }
