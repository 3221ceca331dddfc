"""What a type inherits: its bases followed transitively through the type facts, and their properties.

A base is any type a source names for it (``TypeFacts.base_types``); a base no source describes, or
one already on the chain (a cycle), ends that branch. The nearest base that declares a property
gives it; the type's own declaration is not looked up here (it always wins, see ``type_schemas``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conformance.derive.facts import PropertyFact, TypeFacts


@dataclass(frozen=True)
class Inherited:
    """A property as the nearest base that declares it gives it."""

    base: str
    facts: tuple[PropertyFact, ...]


def base_chain(types: dict[str, TypeFacts], name: str) -> list[str]:
    """The bases of ``name`` that the facts describe, nearest first, each once (breadth first, by name)."""
    chain: list[str] = []
    frontier = [name]
    while frontier:
        following: list[str] = []
        for current in frontier:
            for base in sorted(types[current].base_types) if current in types else []:
                if base != name and base not in chain and base in types:
                    chain.append(base)
                    following.append(base)
        frontier = following
    return chain


def inherited_properties(types: dict[str, TypeFacts], name: str) -> dict[str, Inherited]:
    """Every property a base of ``name`` declares, as the nearest such base gives it, by property name."""
    inherited: dict[str, Inherited] = {}
    for base in base_chain(types, name):
        for prop, facts in types[base].properties.items():
            inherited.setdefault(prop, Inherited(base, tuple(facts)))
    return inherited


def inherited_key(types: dict[str, TypeFacts], name: str) -> str | None:
    """The key property of ``name``: its own, else the nearest base's that names one."""
    for candidate in [name, *base_chain(types, name)]:
        if candidate in types and types[candidate].key_property:
            return types[candidate].key_property
    return None


def declared(
    types: dict[str, TypeFacts], name: str, prop: str, keep: Callable[[PropertyFact], bool]
) -> list[PropertyFact]:
    """The facts ``keep`` selects that declare ``prop``: the type's own, else the nearest base's that has any."""
    for candidate in [name, *base_chain(types, name)]:
        chosen = [f for f in types[candidate].properties.get(prop, []) if keep(f)] if candidate in types else []
        if chosen:
            return chosen
    return []
