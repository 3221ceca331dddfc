"""Every place where the sources disagree (``conflicts.json``), each alternative with all its sources.

Within a version, among the pages: an enum given with different member lists, a property given
different types (by the type's pages, or by its own page and a base's), a type given more than one
base, an operation given more than one success status. Across versions: a published operation whose
success statuses differ between beta and v1.0. Between the pages and the version's metadata
(``doc-vs-metadata``, with a ``topic`` and the two readings, :mod:`conformance.derive.disagreements`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conformance.derive.disagreements import doc_vs_metadata, pages_only
from conformance.derive.facts import TYPES, EnumFacts, Facts, OperationFacts, TypeFacts, sorted_sources, source
from conformance.derive.inheritance import inherited_properties
from conformance.derive.operations import display_key
from conformance.versions import ALL_VERSIONS, Version


def find_conflicts(facts: Facts) -> list[dict[str, Any]]:
    """Every conflict in ``facts``, sorted by version, kind and subject."""
    found: list[dict[str, Any]] = []
    for version in ALL_VERSIONS:
        found.extend(_enum_members(version, facts.enums[version], facts))
        for name in TYPES:
            found.extend(_property_types(version, facts.types[version], name))
            found.extend(_base_types(version, facts.types[version][name], facts))
        found.extend(_success_statuses(version, facts.operations[version]))
        found.extend(doc_vs_metadata(version, facts))
    found.extend(_success_statuses_across_versions(facts.operations))
    return sorted(found, key=lambda c: (c["version"], c["kind"], c["subject"]))


def _enum_members(version: str, enums: dict[str, EnumFacts], facts: Facts) -> Iterator[dict[str, Any]]:
    for name in sorted(enums):
        variants = pages_only(enums[name].members, facts)
        if len(variants) > 1:
            yield {
                "kind": "enum-members",
                "version": version,
                "subject": name,
                "alternatives": [
                    {"members": list(m), "sources": sorted_sources(s)} for m, s in sorted(variants.items())
                ],
            }


def _property_types(version: str, types: dict[str, TypeFacts], name: str) -> Iterator[dict[str, Any]]:
    """A property given different types, by the type's own pages or by its own page and a base's."""
    own, inherited = types[name].properties, inherited_properties(types, name)
    for prop in sorted(set(own) | set(inherited)):
        from_base = list(inherited[prop].facts) if prop in inherited else []
        given = sorted(
            (f for f in [*own.get(prop, []), *from_base] if not f.from_metadata), key=lambda f: (f.page, f.line)
        )
        if len({(f.graph_type, f.collection) for f in given}) > 1:
            yield {
                "kind": "property-type",
                "version": version,
                "subject": f"{name}.{prop}",
                "alternatives": [
                    {
                        "type": f"{f.graph_type} collection" if f.collection else f.graph_type,
                        "sources": [source(f.page, f.line)],
                    }
                    for f in given
                ],
            }


def _base_types(version: str, type_facts: TypeFacts, facts: Facts) -> Iterator[dict[str, Any]]:
    bases = pages_only(type_facts.base_types, facts)
    if len(bases) > 1:
        yield {
            "kind": "base-type",
            "version": version,
            "subject": type_facts.name,
            "alternatives": [{"type": base, "sources": sorted_sources(bases[base])} for base in sorted(bases)],
        }


def _success_statuses(version: str, ops: dict[tuple[str, str], OperationFacts]) -> Iterator[dict[str, Any]]:
    for op in ops.values():
        if len(op.success) > 1:
            yield {
                "kind": "success-status",
                "version": version,
                "subject": display_key(op),
                "alternatives": [{"status": s, "sources": sorted_sources(op.success[s])} for s in sorted(op.success)],
            }


def _success_statuses_across_versions(
    ops: dict[Version, dict[tuple[str, str], OperationFacts]],
) -> Iterator[dict[str, Any]]:
    for key in sorted(set(ops[Version.BETA]) & set(ops[Version.V1])):
        beta, v1 = ops[Version.BETA][key], ops[Version.V1][key]
        if beta.published and v1.published and set(beta.success) != set(v1.success):
            yield {
                "kind": "success-status-across-versions",
                "version": "beta,v1.0",
                "subject": f"{key[0]} {key[1]}",
                "alternatives": [
                    {
                        "version": v,
                        "statuses": sorted(o.success),
                        "sources": sorted_sources(s for st in o.success.values() for s in st),
                    }
                    for v, o in ((Version.BETA, beta), (Version.V1, v1))
                ],
            }
