"""Where the pages and a version's metadata disagree: ``doc-vs-metadata`` conflicts, each with a
``topic``, the subject, and the two readings (``pages`` and ``metadata``), each with its sources.

Topics: ``property-type``, ``nullability`` (the metadata says never null, the pages type the property
and so allow null), ``presence`` (never null, but a response example omits it),
``property-missing-from-pages``, ``property-missing-from-metadata`` (for the schema types),
``base-type``, ``enum-members``, ``navigation`` (pages document operations under a path the metadata's
navigation does not reach) and ``verbs`` (on one path, a verb the pages give that the metadata does not
allow, or a GET, DELETE or POST (an action) the metadata gives that the pages do not).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from conformance.derive.facts import TYPES, Facts, PropertyFact, TypeFacts, sorted_sources, source
from conformance.derive.inheritance import base_chain, declared, inherited_key, inherited_properties
from conformance.derive.metadata import ENTRY_PATH
from conformance.derive.operations import canonical_path, path_verbs
from conformance.versions import Version

_Key = TypeVar("_Key")
_STRICT_VERBS = ("GET", "DELETE", "POST")  # Update allows PATCH or PUT: the pages giving one of them agree


def pages_only(given: dict[_Key, list[dict[str, Any]]], facts: Facts) -> dict[_Key, list[dict[str, Any]]]:
    """``given`` (anything -> its sources) with the metadata's sources dropped, and what is left without any."""
    kept = {k: [s for s in found if not facts.from_metadata(s)] for k, found in given.items()}
    return {k: found for k, found in kept.items() if found}


def doc_vs_metadata(version: Version, facts: Facts) -> Iterator[dict[str, Any]]:
    """Every disagreement between the pages and the metadata of ``version`` (none without its metadata)."""
    if version not in facts.metadata_files:
        return
    types = facts.types[version]
    for name in TYPES:
        yield from _properties(version, types, name, facts)
        yield from _bases(version, types[name], facts)
    yield from _enums(version, facts)
    yield from _paths(version, facts)


def _conflict(
    version: str, topic: str, subject: str, pages: tuple[str, Any], metadata: tuple[str, Any]
) -> dict[str, Any]:
    return {
        "kind": "doc-vs-metadata",
        "version": version,
        "topic": topic,
        "subject": subject,
        "alternatives": [
            {"source": "pages", "reading": pages[0], "sources": sorted_sources(pages[1])},
            {"source": "metadata", "reading": metadata[0], "sources": sorted_sources(metadata[1])},
        ],
    }


def _cited(given: list[PropertyFact]) -> list[dict[str, Any]]:
    return [source(f.page, f.line) for f in given]


def _typed(given: list[PropertyFact]) -> str:
    return ", ".join(sorted({f"{f.graph_type} collection" if f.collection else f.graph_type for f in given}))


def _properties(version: str, types: dict[str, TypeFacts], name: str, facts: Facts) -> Iterator[dict[str, Any]]:
    type_facts, key = types[name], inherited_key(types, name)
    chain = [name, *base_chain(types, name)]
    page_sources = [s for t in chain for s in types[t].sources if not facts.from_metadata(s)]
    metadata_sources = [s for s in type_facts.sources if facts.from_metadata(s)]
    every = set(type_facts.properties) | set(inherited_properties(types, name)) | set(type_facts.seen)
    for prop in sorted(every - {"@odata.type"}):
        subject = f"{name}.{prop}"
        pages = declared(types, name, prop, lambda f: not f.from_metadata)
        metadata = declared(types, name, prop, lambda f: f.from_metadata)
        shown = type_facts.seen.get(prop, [])
        if (
            pages
            and metadata
            and {(f.graph_type, f.collection) for f in pages} != {(f.graph_type, f.collection) for f in metadata}
        ):
            yield _conflict(
                version, "property-type", subject, (_typed(pages), _cited(pages)), (_typed(metadata), _cited(metadata))
            )
        never_null = bool(metadata) and not any(f.nullable for f in metadata)
        if never_null and pages and prop != key and not all(f.collection for f in pages):
            evidence = _cited(pages) + type_facts.shown_null.get(prop, [])
            yield _conflict(
                version, "nullability", subject, ("may be null", evidence), ('Nullable="false"', _cited(metadata))
            )
        omitted = [s for members, s in type_facts.answers if prop not in members]
        if never_null and omitted:
            yield _conflict(
                version,
                "presence",
                subject,
                ("a response example omits it", omitted),
                ('Nullable="false"', _cited(metadata)),
            )
        if metadata and not pages and page_sources:
            reading = "no property table types it" + (" (examples show it)" if shown else "")
            yield _conflict(
                version,
                "property-missing-from-pages",
                subject,
                (reading, page_sources + shown),
                (_typed(metadata), _cited(metadata)),
            )
        if (pages or shown) and not metadata and metadata_sources:
            reading = _typed(pages) if pages else "shown in examples only, untyped"
            yield _conflict(
                version,
                "property-missing-from-metadata",
                subject,
                (reading, _cited(pages) or shown),
                (f"{name} and its bases declare no such property", metadata_sources),
            )


def _bases(version: str, type_facts: TypeFacts, facts: Facts) -> Iterator[dict[str, Any]]:
    from_pages = pages_only(type_facts.base_types, facts)
    from_metadata = {b: [s for s in found if facts.from_metadata(s)] for b, found in type_facts.base_types.items()}
    from_metadata = {b: found for b, found in from_metadata.items() if found}
    page_sources = [s for s in type_facts.sources if not facts.from_metadata(s)]
    if from_metadata and page_sources and set(from_pages) != set(from_metadata):
        pages_reading = ", ".join(sorted(from_pages)) or "no base type named"
        yield _conflict(
            version,
            "base-type",
            type_facts.name,
            (pages_reading, [s for found in from_pages.values() for s in found] or page_sources),
            (", ".join(sorted(from_metadata)), [s for found in from_metadata.values() for s in found]),
        )


def _enums(version: Version, facts: Facts) -> Iterator[dict[str, Any]]:
    for name in sorted(facts.enums[version]):
        variants = facts.enums[version][name].members
        from_pages = pages_only(variants, facts)
        from_metadata = {m: [s for s in found if facts.from_metadata(s)] for m, found in variants.items()}
        from_metadata = {m: found for m, found in from_metadata.items() if found}
        pages_members = {m for variant in from_pages for m in variant}
        metadata_members = {m for variant in from_metadata for m in variant}
        if from_pages and from_metadata and pages_members != metadata_members:
            yield _conflict(
                version,
                "enum-members",
                name,
                (", ".join(sorted(pages_members)), [s for found in from_pages.values() for s in found]),
                (", ".join(sorted(metadata_members)), [s for found in from_metadata.values() for s in found]),
            )


def _paths(version: Version, facts: Facts) -> Iterator[dict[str, Any]]:
    ops, navigation = facts.operations[version], facts.navigation[version]
    capabilities = facts.capabilities[version]
    entry = canonical_path(ENTRY_PATH)
    entry_type = facts.types[version].get("authentication")
    entry_sources = [s for s in entry_type.sources if facts.from_metadata(s)] if entry_type else []
    unreached: dict[str, list[dict[str, Any]]] = {}  # the first path navigation misses -> the pages below it
    verbs_below: dict[str, set[str]] = {}
    parents: dict[str, list[dict[str, Any]]] = {}  # -> where its parent is declared (which lacks it)
    for canonical in sorted({op.canonical for op in ops.values() if op.pages}):
        if not canonical.startswith(entry + "/") or not entry_sources:
            continue
        verbs = path_verbs(canonical, ops, capabilities)
        segments = canonical[len(entry) + 1 :].split("/")
        prefixes = [f"{entry}/{'/'.join(segments[: i + 1])}" for i in range(len(segments))]
        missing = next((p for p in prefixes if p not in navigation), None)
        if missing is not None and not verbs["metadata"]:
            parent = missing.rpartition("/")[0]
            unreached.setdefault(missing, []).extend(s for found in verbs["pages"].values() for s in found)
            verbs_below.setdefault(missing, set()).update(verbs["pages"])
            parents[missing] = [navigation[parent][1]] if parent in navigation else entry_sources
            continue
        extra = set(verbs["pages"]) - set(verbs["metadata"])
        lacking = {v for v in verbs["metadata"] if v in _STRICT_VERBS} - set(verbs["pages"])
        if extra or lacking:
            reached = [navigation[canonical][1]] if canonical in navigation else []
            metadata_reading = ", ".join(verbs["metadata"]) or "no capability annotation on this path"
            yield _conflict(
                version,
                "verbs",
                canonical,
                (", ".join(verbs["pages"]), [s for found in verbs["pages"].values() for s in found]),
                (metadata_reading, [s for found in verbs["metadata"].values() for s in found] or reached),
            )
    for missing in sorted(unreached):
        operations = ", ".join(sorted(verbs_below[missing]))
        yield _conflict(
            version,
            "navigation",
            missing,
            (f"documents operations on or below it ({operations})", unreached[missing]),
            ("no containment navigation property reaches it", parents[missing]),
        )


def listing(conflicts: list[dict[str, Any]]) -> list[str]:
    """The ``doc-vs-metadata`` conflicts as lines: version, topic, subject, then each source's reading
    with its first citations (``+N`` when it has more)."""

    def reading(alternative: dict[str, Any]) -> str:
        cited = [f"{s['page']}:{s['line']}" for s in alternative["sources"]]
        more = f" +{len(cited) - 2}" if len(cited) > 2 else ""
        return f"{alternative['source']}: {alternative['reading']} ({', '.join(cited[:2])}{more})"

    return [
        f"{c['version']} {c['topic']} {c['subject']}: " + " | ".join(reading(a) for a in c["alternatives"])
        for c in conflicts
        if c.get("kind") == "doc-vs-metadata"
    ]
