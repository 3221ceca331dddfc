"""The template grammar of scenario values, and the ISO 8601 durations of spans.

``{user}``, ``{version}``, a captured variable ``{qr_id}``, and times relative to the case's clock
``{now}``, ``{now+1h}``, ``{now-30m}``, ``{now+395d}`` (units s, m, h, d); ``{{`` and ``}}`` are
literal braces. No eval: a template names a value, nothing else. A duration is read with the
pattern of ``scenario.schema.json``, so what the schema accepts and what :func:`duration` reads
are one grammar.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from conformance.scenarios.model import scenario_schema

_TEMPLATE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_ESCAPES = {"{{": "{", "}}": "}"}
_NOW = re.compile(r"^now(?:([+-])(\d{1,5})([smhd]))?$")  # at most 99999 units: stays within the calendar
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class Context:
    """What templates can refer to while a case runs."""

    user: str
    version: str
    now: datetime
    variables: dict[str, Any] = field(default_factory=dict, repr=False)  # captured values may be PINs


def template_names(text: str) -> Iterator[str]:
    """The names of the templates in ``text`` (``{{`` and ``}}`` are not templates)."""
    for match in _TEMPLATE.finditer(text):
        if match.group(0) not in _ESCAPES:
            yield match.group(1)


def names_a_time(name: str) -> bool:
    """Whether ``name`` is a time template: ``now``, ``now+N`` or ``now-N`` with a unit s, m, h or d."""
    return _NOW.match(name) is not None


def _value_of(name: str, context: Context) -> Any:
    now = _NOW.match(name)
    if now:
        moment = context.now
        if now.group(1):
            delta = timedelta(**{_UNITS[now.group(3)]: int(now.group(2))})
            moment = moment + delta if now.group(1) == "+" else moment - delta
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if name == "user":
        return context.user
    if name == "version":
        return context.version
    if name in context.variables:
        return context.variables[name]
    raise KeyError(name)


def fill(value: Any, context: Context) -> Any:
    """Fill the templates in ``value`` (strings, lists and mappings, recursively)."""
    if isinstance(value, dict):
        return {fill(k, context): fill(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, context) for v in value]
    if not isinstance(value, str):
        return value
    whole = _TEMPLATE.fullmatch(value)
    if whole and whole.group(0) not in _ESCAPES:
        return _value_of(whole.group(1), context)  # a lone template keeps the captured value's type
    return _TEMPLATE.sub(lambda m: _ESCAPES.get(m.group(0)) or str(_value_of(m.group(1), context)), value)


@cache
def _duration_pattern() -> re.Pattern[str]:
    """``$defs.duration.pattern`` of the schema: groups days, the time part, hours, minutes, seconds."""
    return re.compile(scenario_schema()["$defs"]["duration"]["pattern"])


def duration(text: str) -> timedelta:
    """An ISO 8601 duration of days, hours, minutes and seconds (``P395D``, ``PT1H30M``)."""
    match = _duration_pattern().search(text)  # search, as jsonschema applies a pattern
    if not match:
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    parts = zip(("days", "time", "hours", "minutes", "seconds"), match.groups(), strict=True)
    return timedelta(**{unit: int(part[:-1]) for unit, part in parts if part and unit != "time"})


def utc_now() -> datetime:
    """Now in UTC, to the second: the clock a live case starts with."""
    return datetime.now(UTC).replace(microsecond=0)
