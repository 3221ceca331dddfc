"""The mock's ``$metadata``: a CSDL document built from the committed contract, so that an audit of the
mock agrees with the contract by construction.

Each type schema of a version (but the error envelope) becomes an ``EntityType`` (it has a key
property) or a ``ComplexType``, each documented property a ``Property`` (or a contained
``NavigationProperty`` when it names an entity type), ``Nullable="false"`` where the contract admits
no null; each enum of ``$defs`` an ``EnumType``. ``authentication`` navigates to ``qrCodePinMethod``
in both versions, since the mock serves the method in both. Every name and value is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from conformance.contract import allows_null, type_names

ENVELOPE = "graphError"
NAMESPACE = "microsoft.graph"
_EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
_EDM = "http://docs.oasis-open.org/odata/ns/edm"


def _qualified(name: str) -> str:
    """An ``x-graph-type`` name as CSDL writes it: Edm's primitives are PascalCase, Graph's types camelCase."""
    return f"Edm.{name}" if name[:1].isupper() else f"graph.{name}"


def _element(tag: str, attributes: Mapping[str, str], children: list[str] | None = None) -> str:
    written = "".join(f" {name}={quoteattr(value)}" for name, value in attributes.items())
    if not children:
        return f"<{tag}{written}/>"
    return f"<{tag}{written}>" + "".join(children) + f"</{tag}>"


def _member(name: str, prop: Mapping[str, Any], entities: set[str]) -> str | None:
    graph_type = prop.get("x-graph-type")
    if name.startswith("@") or prop.get("x-example-only") or not isinstance(graph_type, str):
        return None
    collection = graph_type.endswith(" collection") or graph_type.startswith("Collection(")
    inner = graph_type.removesuffix(" collection").removeprefix("Collection(").removesuffix(")")
    written = f"Collection({_qualified(inner)})" if collection else _qualified(inner)
    attributes = {"Name": name, "Type": written}
    if not allows_null(prop):
        attributes["Nullable"] = "false"
    if inner in entities:
        return _element("NavigationProperty", {**attributes, "ContainsTarget": "true"})
    return _element("Property", attributes)


def _type(name: str, schema: Mapping[str, Any], entities: set[str]) -> str:
    properties = schema.get("properties", {})
    members = [m for n, p in properties.items() if isinstance(p, dict) and (m := _member(n, p, entities))]
    key = str(schema.get("x-key-property"))
    if name not in entities:
        return _element("ComplexType", {"Name": name}, members)
    keyed = [_element("Key", {}, [_element("PropertyRef", {"Name": key})])] if key in properties else []
    return _element("EntityType", {"Name": name}, keyed + members)


def _enum(name: str, schema: Mapping[str, Any]) -> str:
    members = [_element("Member", {"Name": str(v), "Value": str(i)}) for i, v in enumerate(schema.get("enum", []))]
    return _element("EnumType", {"Name": name}, members)


def metadata_document(documents: dict[str, Any], version: str) -> bytes:
    """The CSDL ``$metadata`` of ``version`` from the contract documents (``contract.read_documents``)."""
    types = {name: documents[f"{version}/{name}.json"] for name in type_names(documents, version) if name != ENVELOPE}
    entities = {name for name, schema in types.items() if schema.get("x-key-property")}
    enums = {name: enum for schema in types.values() for name, enum in schema.get("$defs", {}).items()}
    navigation = _element(
        "NavigationProperty",
        {"Name": "qrCodePinMethod", "Type": "graph.qrCodePinAuthenticationMethod", "ContainsTarget": "true"},
    )
    authentication = _element(
        "EntityType",
        {"Name": "authentication"},
        [
            _element("Key", {}, [_element("PropertyRef", {"Name": "id"})]),
            _element("Property", {"Name": "id", "Type": "Edm.String", "Nullable": "false"}),
            navigation,
        ],
    )
    body = [_enum(n, e) for n, e in sorted(enums.items())]
    body += [_type(n, s, entities) for n, s in types.items()] + [authentication]
    schema = _element("Schema", {"Namespace": NAMESPACE, "Alias": "graph", "xmlns": _EDM}, body)
    services = _element("edmx:DataServices", {}, [schema])
    root = _element("edmx:Edmx", {"Version": "4.0", "xmlns:edmx": _EDMX}, [services])
    comment = f"<!-- {escape(f'reference mock: {version}, built from the committed contract')} -->"
    return f'<?xml version="1.0" encoding="utf-8"?>\n{comment}\n{root}\n'.replace("><", ">\n<").encode("utf-8")
