"""Cases selected by rule: each graph case carries the ``rules.yaml`` rules its scenario covers (the rule
ids among its tags) as pytest markers, so ``-m pin-not-trivial`` or ``--rule pin-not-trivial`` selects them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from conformance.errors import UsageError


def case_rules(tags: Iterable[str], rules: Mapping[str, Any]) -> tuple[str, ...]:
    """The rule ids among a scenario's ``tags``, in the order it lists them."""
    return tuple(t for t in tags if t in rules)


def marker_lines(rules: Mapping[str, Any]) -> list[str]:
    """The ``markers`` ini lines registering each rule id, described by its rule."""
    return [f"{rule_id}: {' '.join(str(entry.get('rule', '')).split())}" for rule_id, entry in rules.items()]


def check_rules(given: Iterable[str], rules: Mapping[str, Any], flag: str) -> None:
    """Every rule id given to ``flag`` must be one of ``rules.yaml``'s; else a usage error naming the nearest."""
    known = sorted(rules)
    for rule in given:
        if rule not in rules:
            near = difflib.get_close_matches(rule, known, n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(near)}? " if near else ""
            raise UsageError(
                f"{flag} {rule!r}: no such rule; {hint}the rules are the ids of conformance/rules.yaml "
                "(graph-conformance coverage lists them)"
            )
