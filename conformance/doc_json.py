"""Tolerant reading of JSON found in documentation pages.

Doc examples carry a handful of known defects. This module repairs exactly those, records every
repair with the page line it happened on, and refuses anything else with ``page:line:column``:

- ``trailing-comma``: a comma right before ``}`` or ``]``;
- ``missing-comma``: two object members on separate lines with no comma between them;
- ``truncated-value``: a string value cut short with a trailing ``...``;
- ``placeholder-value``: a type name standing in for a value (``"String (timestamp)"``, ``"Binary"``);
- ``value-wrapper``: a single entity wrapped in ``{"value": {...}}`` (see :func:`unwrap_value`).

Truncated and placeholder values become :class:`Unknown` markers: the property is known to exist,
its value is not. :func:`strip_unknown` removes them before a value is validated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from conformance.errors import DocJsonError

PLACEHOLDERS = frozenset({"String (timestamp)", "String (identifier)", "String", "Binary", "Boolean", "Integer"})
_VALUE_ENDINGS = frozenset('"0123456789}]el')  # last character of a complete JSON value
_MAX_REPAIRS = 50


@dataclass(frozen=True)
class Repair:
    """One change made to doc JSON so that it parses; ``line`` is the page line."""

    kind: str
    page: str
    line: int
    detail: str

    def as_dict(self) -> dict[str, Any]:
        """The repair as an entry of ``repairs.json``."""
        return {"kind": self.kind, "page": self.page, "line": self.line, "detail": self.detail}


@dataclass(frozen=True)
class Unknown:
    """A value the page does not really give (placeholder or truncated)."""

    reason: str
    raw: str


def _line_col(text: str, pos: int, first_line: int) -> tuple[int, int]:
    line = first_line + text.count("\n", 0, pos)
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


def _prev_nonspace(text: str, pos: int) -> int:
    i = pos - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    return i


def loads(text: str, page: str, first_line: int) -> tuple[Any, list[Repair]]:
    """Parse ``text`` (starting at page line ``first_line``), repairing only known defects."""
    repairs: list[Repair] = []
    current = text
    # Each edit is (position in the text as it was then, +1 inserted / -1 removed); undoing them in
    # reverse maps a position in ``current`` back to the page.
    edits: list[tuple[int, int]] = []

    def original_pos(pos: int) -> int:
        for at, delta in reversed(edits):
            if delta < 0 and pos >= at:
                pos += 1
            elif delta > 0 and pos > at:
                pos -= 1
        return pos

    for _ in range(_MAX_REPAIRS):
        try:
            value = json.loads(current)
            break
        except json.JSONDecodeError as exc:
            pos = exc.pos
            prev = _prev_nonspace(current, pos)
            char = current[pos] if pos < len(current) else ""
            if char in "}]" and char and prev >= 0 and current[prev] == ",":
                line, _ = _line_col(text, original_pos(prev), first_line)
                repairs.append(Repair("trailing-comma", page, line, f"removed ',' before '{char}'"))
                edits.append((prev, -1))
                current = current[:prev] + current[prev + 1 :]
                continue
            if (
                exc.msg == "Expecting ',' delimiter"
                and char == '"'
                and prev >= 0
                and current[prev] in _VALUE_ENDINGS
                and "\n" in current[prev:pos]
            ):
                line, _ = _line_col(text, original_pos(prev), first_line)
                repairs.append(Repair("missing-comma", page, line, "inserted ',' between members"))
                edits.append((prev + 1, 1))
                current = current[: prev + 1] + "," + current[prev + 1 :]
                continue
            line, col = _line_col(text, original_pos(pos), first_line)
            raise DocJsonError(page, line, col, f"invalid JSON ({exc.msg}) that no known repair covers") from None
    else:  # pragma: no cover - a page would need more than 50 defects in one block
        raise DocJsonError(page, first_line, 1, "too many JSON defects in one block")

    value = _mark_unknowns(value, text, page, first_line, repairs)
    return value, repairs


def _find_line(text: str, needle: str, first_line: int) -> int:
    pos = text.find(needle)
    return first_line if pos < 0 else _line_col(text, pos, first_line)[0]


def _mark_unknowns(value: Any, text: str, page: str, first_line: int, repairs: list[Repair]) -> Any:
    if isinstance(value, dict):
        return {k: _mark_unknowns(v, text, page, first_line, repairs) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_unknowns(v, text, page, first_line, repairs) for v in value]
    if isinstance(value, str):
        encoded = json.dumps(value)
        if value in PLACEHOLDERS:
            line = _find_line(text, encoded, first_line)
            repairs.append(Repair("placeholder-value", page, line, f"placeholder {encoded} is not a value"))
            return Unknown("placeholder", value)
        if value.endswith("...") or value.endswith("\u2026"):
            line = _find_line(text, encoded, first_line)
            repairs.append(Repair("truncated-value", page, line, "value cut short with '...'"))
            return Unknown("truncated", value)
    return value


def unwrap_value(value: Any, page: str, line: int, repairs: list[Repair]) -> Any:
    """Unwrap ``{"value": {...}}`` around a single entity, recording the repair."""
    if isinstance(value, dict) and list(value) == ["value"] and isinstance(value["value"], dict):
        repairs.append(Repair("value-wrapper", page, line, "single entity wrapped in 'value'"))
        return value["value"]
    return value


def strip_unknown(value: Any) -> Any:
    """A copy of ``value`` without the members whose value the page does not give."""
    if isinstance(value, dict):
        return {k: strip_unknown(v) for k, v in value.items() if not isinstance(v, Unknown)}
    if isinstance(value, list):
        return [strip_unknown(v) for v in value if not isinstance(v, Unknown)]
    return value
