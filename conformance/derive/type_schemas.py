"""Type facts → one JSON Schema (draft 2020-12) per type, with the enums it uses as ``$defs``.

A type has its own properties and those its bases declare (:mod:`conformance.derive.inheritance`;
its own declaration wins, and an inherited one names its base in ``x-inherited-from``); the pages
and the metadata each give theirs, and the schema takes what either allows. A property is nullable
unless it is the type's key or a collection (OData: a collection is an array, never null) or only
the metadata types it, saying ``Nullable="false"`` (the pages' reading of a typed property is that
it may be null); one the sources type in more than one way accepts any of those types; one only
examples show is kept, untyped. Required: what every complete example carries, and what the metadata
says is never null (keys included) unless a response example omits it (``x-required-provenance``).
"""

from __future__ import annotations

from typing import Any

from conformance.derive.facts import TYPES, EnumFacts, PropertyFact, TypeFacts, sorted_sources, source
from conformance.derive.inheritance import declared, inherited_key, inherited_properties

SCHEMA_BASE = "https://graph-conformance.invalid/schemas"
_INT32 = {"minimum": -(2**31), "maximum": 2**31 - 1}
SCALARS: dict[str, dict[str, Any]] = {
    "String": {"type": "string"},
    "DateTimeOffset": {"type": "string", "format": "date-time"},
    "Binary": {"type": "string", "contentEncoding": "base64"},
    "Int32": {"type": "integer", **_INT32},
    "Boolean": {"type": "boolean"},
}


def enum_schemas(enums: dict[str, EnumFacts]) -> dict[str, dict[str, Any]]:
    """Each enum's schema: every member any of its member lists gives, with every source."""
    result: dict[str, dict[str, Any]] = {}
    for name in sorted(enums):
        variants = enums[name].members
        members = sorted({m for variant in variants for m in variant})
        all_sources = sorted_sources(s for group in variants.values() for s in group)
        result[name] = {"type": "string", "enum": members, "x-provenance": all_sources}
    return result


def type_document(
    version: str, types: dict[str, TypeFacts], name: str, enums: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The schema document of type ``name`` in one version; ``types`` are that version's type facts
    (bases included), ``enums`` its enum schemas."""
    facts = types[name]
    inherited = inherited_properties(types, name)
    key = inherited_key(types, name)
    properties: dict[str, Any] = {}
    used_enums: set[str] = set()
    never_null: dict[str, list[dict[str, Any]]] = {}
    for prop in sorted(set(facts.properties) | set(inherited)):
        from_pages = declared(types, name, prop, lambda f: not f.from_metadata)
        from_metadata = declared(types, name, prop, lambda f: f.from_metadata)
        given = from_pages + from_metadata
        if from_metadata and not any(f.nullable for f in from_metadata):
            never_null[prop] = [source(f.page, f.line) for f in from_metadata]
        nullable = prop != key and not all(f.collection for f in given) and (bool(from_pages) or prop not in never_null)
        properties[prop] = _property_schema(given, set(enums), nullable)
        if prop not in facts.properties:
            properties[prop]["x-inherited-from"] = f"microsoft.graph.{inherited[prop].base}"
        used_enums.update(f.graph_type for f in given if f.graph_type in enums)
    for prop in sorted(set(facts.seen) - set(properties)):
        # Shown in examples, typed by no table: documented to exist, type unknown.
        properties[prop] = {"x-example-only": True, "x-examples": sorted_sources(facts.seen[prop])}
    if facts.odata_forms:
        forms = sorted(facts.odata_forms)
        properties["@odata.type"] = {
            "type": "string",
            "enum": forms,
            "x-provenance": sorted_sources(s for f in forms for s in facts.odata_forms[f]),
        }
    shown = set.intersection(*facts.complete_examples) if facts.complete_examples else set()
    kept = {p: never_null[p] for p in never_null if all(p in members for members, _ in facts.answers)}
    required = sorted(shown | set(kept))
    document: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}/{version}/{facts.name}.json",
        "title": f"microsoft.graph.{facts.name} ({version})",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": True,
        "x-graph-type": f"microsoft.graph.{facts.name}",
        "x-key-property": key,
        "x-sources": sorted_sources(facts.sources),
    }
    if kept:
        document["x-required-provenance"] = {p: sorted_sources(kept[p]) for p in sorted(kept)}
    bases = [
        {"type": f"microsoft.graph.{base}", "x-provenance": sorted_sources(facts.base_types[base])}
        for base in sorted(facts.base_types)
    ]
    if bases:
        document["x-base-type"] = bases[0] if len(bases) == 1 else bases
    if used_enums:
        document["$defs"] = {name: enums[name] for name in sorted(used_enums)}
    return document


def _property_schema(facts: list[PropertyFact], enum_names: set[str], nullable: bool) -> dict[str, Any]:
    variants = sorted({(fact.graph_type, fact.collection) for fact in facts})
    schemas = [_type_schema(graph_type, collection, enum_names) for graph_type, collection in variants]
    schema: dict[str, Any] = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    if nullable:
        schema = _nullable(schema)
    graph_types = sorted({f"{t} collection" if c else t for t, c in variants})
    schema["x-graph-type"] = graph_types[0] if len(graph_types) == 1 else graph_types
    schema["x-provenance"] = sorted_sources(source(f.page, f.line) for f in facts)
    return schema


def _type_schema(graph_type: str, collection: bool, enum_names: set[str]) -> dict[str, Any]:
    if graph_type in SCALARS:
        item: dict[str, Any] = dict(SCALARS[graph_type])
    elif graph_type in TYPES:
        item = {"$ref": f"{graph_type}.json"}
    elif graph_type in enum_names:
        item = {"$ref": f"#/$defs/{graph_type}"}
    else:
        item = {"type": "object"}  # a type these pages do not describe
    return {"type": "array", "items": item} if collection else item


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if isinstance(schema.get("type"), str) and "$ref" not in schema:
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}
