"""What checking an answer finds, typed, and the one place findings are rendered.

A :class:`Violation` fails its case; a :class:`Note` does not (a property the docs do not mention,
a value a cassette holds redacted). Each carries a kind saying which check found it, the step,
where in the exchange (a JSON path, ``status``, ``content-type`` ...), and for a violation what was
expected, what came, and the doc page (``page:line``) that says so. Checks build them; the failure
message, the human summary and the JSON report all render them here, with :func:`text`,
:func:`brief` and :func:`as_json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ViolationKind(StrEnum):
    """Which check a violation comes from."""

    STATUS = "status"  # a status the docs do not give for this request
    CONTENT_TYPE = "content-type"
    BODY = "body"  # no JSON body where one is expected, or a body too large or too deep to read
    SCHEMA = "schema"  # the body breaks the derived schema of its type
    ERROR_ENVELOPE = "error-envelope"  # an error body that is not Graph's error envelope
    ERROR_CODE = "error-code"  # an error code the docs do not give here
    ASSERTION = "assertion"  # a scenario's expectation on a body member
    SPAN = "span"  # the time between two date-times of the body
    CAPTURE = "capture"  # a value the scenario captures for later steps is absent
    TEMPLATE = "template"  # a template needed a value no step captured
    PINNED = "pinned"  # a documented alternative the maintainers forbid (pinned.yaml)
    RETRY = "retry"  # throttling: no usable Retry-After, or still throttled within the budget
    UNDOCUMENTED = "undocumented"  # a property the docs do not mention, with --strict-drift (else a note)


class NoteKind(StrEnum):
    """What a note reports."""

    UNDOCUMENTED = "undocumented"  # drift: a property the derived schemas do not mention
    REDACTED = "redacted"  # a value the cassette holds redacted; its check ran when it was recorded


@dataclass(frozen=True)
class Violation:
    """A way the answer breaks the contract: the case fails."""

    kind: ViolationKind
    step: str
    where: str  # a JSON path, or "status", "content-type", "Retry-After", "request" ...
    expected: str
    got: str
    doc: str | None = None  # page:line of the source that says so


@dataclass(frozen=True)
class Note:
    """Something worth reporting that does not fail the case."""

    kind: NoteKind
    step: str
    where: str
    message: str


Finding = Violation | Note


def brief(finding: Finding) -> str:
    """One line: ``where: expected X, got Y`` for a violation, ``where: message`` for a note."""
    if isinstance(finding, Violation):
        return f"{finding.where}: expected {finding.expected}, got {finding.got}"
    return f"{finding.where}: {finding.message}"


def text(finding: Finding) -> str:
    """As a failure message shows it: the brief line, then the citing doc page (or ``(warning)``)."""
    if isinstance(finding, Note):
        return f"{brief(finding)} (warning)"
    return f"{brief(finding)}\n    doc: {finding.doc}" if finding.doc else brief(finding)


def as_json(finding: Finding) -> dict[str, Any]:
    """The JSON report's form of a finding."""
    if isinstance(finding, Violation):
        return {
            "kind": str(finding.kind),
            "step": finding.step,
            "where": finding.where,
            "expected": finding.expected,
            "got": finding.got,
            "doc": finding.doc,
        }
    return {"kind": str(finding.kind), "step": finding.step, "where": finding.where, "message": finding.message}
