"""The value of one case of a scenario-level ``each``, bound when the case runs.

A rule's bounds (``rules.yaml``) may name a captured variable (``min: "{pin_length}"``), so a case's
value is known only after its given steps: :func:`bind` resolves it then, puts it (and, for a rule,
``<name>_n``, the number itself) among the case's variables, and says on which side of the bounds
it is. The unit says what the number becomes: ``digits`` a string of that many digits (a prefix of
``{pin}``'s), ``number`` the integer, ``hours`` / ``days`` the time that far after the case's clock.
"""

from __future__ import annotations

import re
from typing import Any

from conformance.scenarios.model import Binding
from conformance.scenarios.templates import Context, digits, fill, time_after

_TEMPLATE = re.compile(r"^\{([a-z_][a-z0-9_]*)\}$")
_TIME_UNITS = {"hours": "h", "days": "d"}


class Unbound(ValueError):
    """A case whose value cannot be resolved (a bound names a variable never captured, or not a number)."""


def bind(binding: Binding, context: Context) -> bool:
    """Bind the case's value in ``context.variables``; True when it is inside the bounds. Raises :class:`Unbound`."""
    if binding.rule is None:
        try:
            context.variables[binding.name] = fill(binding.value, context)
        except KeyError as missing:
            raise Unbound(f"the value of case '{binding.label}' needs {{{missing.args[0]}}}, never captured") from None
        return not binding.outside
    low, high = (
        _bound(binding, side, value, context) for side, value in zip(("min", "max"), binding.bounds, strict=True)
    )
    anchor = low if binding.anchor == "min" else high
    assert anchor is not None  # a case exists only at a bound the rule gives
    number = anchor + binding.offset
    context.variables[binding.name] = _value(binding, number, context)
    context.variables[f"{binding.name}_n"] = number
    return (low is None or number >= low) and (high is None or number <= high)


def _bound(binding: Binding, side: str, value: int | str | None, context: Context) -> int | None:
    if value is None or isinstance(value, int):
        return value
    template = _TEMPLATE.match(value)
    name = template.group(1) if template else value
    where = f"the {side} bound {value!r} of rule '{binding.rule}'"
    if name not in context.variables:
        raise Unbound(f"{where} cannot be resolved: {{{name}}} was never captured")
    resolved: Any = context.variables[name]
    if isinstance(resolved, str) and resolved.isdigit():
        resolved = int(resolved)
    if not isinstance(resolved, int) or isinstance(resolved, bool):
        raise Unbound(f"{where} cannot be resolved: {{{name}}} is {type(resolved).__name__}, not an integer")
    return resolved


def _value(binding: Binding, number: int, context: Context) -> Any:
    if binding.unit == "digits":
        if number < 0:
            raise Unbound(f"case '{binding.label}' of rule '{binding.rule}' needs {number} digits")
        return digits(number)
    if binding.unit in _TIME_UNITS:
        return time_after(context.now, number, _TIME_UNITS[binding.unit])
    return number
