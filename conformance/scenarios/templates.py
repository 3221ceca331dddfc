"""The template grammar of scenario values, and the ISO 8601 durations of spans.

``{user}``, ``{version}``, a captured variable ``{qr_id}``, and times relative to the case's clock
``{now}``, ``{now+1h}``, ``{now-30m}``, ``{now+395d}`` (units s, m, h, d); ``{{`` and ``}}`` are
literal braces. ``{pin}`` and ``{other_pin}`` are two different valid PINs of ``max(8, pin_length)``
digits (``pin_length`` as captured, 8 when not): prefixes of two fixed digit strings, so a replayed
case sends what was recorded. No eval: a template names a value, nothing else. A duration is read with the
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

from conformance.scenarios.model import OPERAND_KINDS, Scenario, Step, alternatives, scenario_schema

_TEMPLATE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_ESCAPES = {"{{": "{", "}}": "}"}
_NOW = re.compile(r"^now(?:([+-])(\d{1,5})([smhd]))?$")  # at most 99999 units: stays within the calendar
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

# Every prefix of 7 or more digits of these is a PIN under the strictest reading of the rules: no two
# neighbouring digits equal or one apart (so no ascending or descending run), no digit pair twice,
# no 1-3 digit unit repeated. They differ from their first digit on, so {pin} != {other_pin}.
PIN_DIGITS = "515714802419279184749728"
OTHER_PIN_DIGITS = "305191827374808402647036"
DEFAULT_PIN_LENGTH = 8


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


def strings(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every string in ``value`` (mapping keys too) with where it is: what templates can be in."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key, path)
            yield from strings(item, (*path, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from strings(item, (*path, index))


def step_variables(step: Step) -> set[str]:
    """The variables a loaded step's templates name: in its request and in its assertions' operands."""
    written = (step.expect,) if step.expect_outside is None else (step.expect, step.expect_outside)
    operands = [a.operand for e in written for alt in alternatives(e) for a in alt.body if a.kind in OPERAND_KINDS]
    request = [step.request.path, step.request.headers, step.request.json]
    return {name for _, text in strings([request, operands]) for name in template_names(text)}


def scenario_variables(scenario: Scenario) -> set[str]:
    """The variables the templates of every step of ``scenario`` name."""
    return {name for step in scenario.every_step for name in step_variables(step)}


def names_a_time(name: str) -> bool:
    """Whether ``name`` is a time template: ``now``, ``now+N`` or ``now-N`` with a unit s, m, h or d."""
    return _NOW.match(name) is not None


def _value_of(name: str, context: Context) -> Any:
    now = _NOW.match(name)
    if now:
        if not now.group(1):
            return time_after(context.now, 0, "s")
        amount = int(now.group(2))
        return time_after(context.now, amount if now.group(1) == "+" else -amount, now.group(3))
    if name == "user":
        return context.user
    if name in ("pin", "other_pin"):
        length = max(DEFAULT_PIN_LENGTH, _int(context.variables.get("pin_length"), DEFAULT_PIN_LENGTH))
        return digits(length, PIN_DIGITS if name == "pin" else OTHER_PIN_DIGITS)
    if name == "version":
        return context.version
    if name in context.variables:
        return context.variables[name]
    raise KeyError(name)


def _int(value: Any, default: int) -> int:
    """``value`` as an integer (a captured number, or digits), else ``default``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else default


def digits(count: int, source: str = PIN_DIGITS) -> str:
    """A string of ``count`` digits: the first ``count`` of ``source`` (continued with its own digits when longer)."""
    if count < 0:
        raise ValueError(f"no string has {count} digits")
    repeated = source * (count // len(source) + 1)
    return repeated[:count]


def time_after(now: datetime, amount: int, unit: str) -> str:
    """The RFC 3339 time ``amount`` units (s, m, h or d; negative: before) after ``now``, as ``{now+Nu}`` gives it."""
    return (now + timedelta(**{_UNITS[unit]: amount})).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
