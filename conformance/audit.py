"""The committed contract against a service's ``$metadata``: what each says about the same types.

Pure: a :class:`~conformance.csdl.CsdlModel` and the contract documents in, :class:`Finding`\\ s out;
:func:`read_needed` reads a document keeping only the types the audit needs and their bases.
For every type of the contract (but the error envelope) it says whether the metadata has it, then,
property by property, what differs: a property on one side only (the metadata's inherited through
``BaseType`` chains count), another type, or nullability. Both sides are put in one vocabulary:
``string``, ``string/date-time``, ``integer``, ``boolean``, ``base64 string``, a type's or enum's
name, ``array of ...``. The contract allowing null where the metadata says ``Nullable="false"`` is
no difference (a service that follows the metadata conforms): it is listed as *metadata stricter*.
Last, whether ``authentication`` navigates to ``qrCodePinMethod``, the path every operation uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from conformance import csdl
from conformance.contract import allows_null, type_names
from conformance.csdl import CsdlModel, CsdlProperty, CsdlType
from conformance.errors import InputError

ENVELOPE = "graphError"  # the error envelope is not a type of the metadata
MAX_BASE_PASSES = 8  # passes over a document for base types; Graph chains a type to its root in three or fewer
NAVIGATION = ("authentication", "qrCodePinMethod", "qrCodePinAuthenticationMethod")  # owner, property, target
_EDM = {
    "String": "string",
    "DateTimeOffset": "string/date-time",
    "Date": "string/date",
    "TimeOfDay": "string/time",
    "Duration": "string/duration",
    "Guid": "string/uuid",
    "Int16": "integer",
    "Int32": "integer",
    "Int64": "integer",
    "Byte": "integer",
    "SByte": "integer",
    "Boolean": "boolean",
    "Binary": "base64 string",
    "Double": "number",
    "Single": "number",
    "Decimal": "number",
}
_PREFIXES = ("Edm.", "microsoft.graph.", "graph.")

AGREES, DIFFERS, STRICTER = "agrees", "differs", "metadata stricter"


@dataclass(frozen=True)
class Finding:
    """One thing the audit found about one type or property (``subject``) in one version."""

    version: str
    subject: str  # "qrCode", "qrPin.code", "authentication.qrCodePinMethod"
    verdict: str  # AGREES, DIFFERS or STRICTER
    detail: str

    def text(self) -> str:
        """The finding as one line of the report."""
        return f"{self.subject}: {self.verdict}: {self.detail}"


def contract_types(documents: dict[str, Any], version: str) -> dict[str, dict[str, Any]]:
    """The contract's type schemas of ``version`` by type name, the error envelope left out."""
    return {name: documents[f"{version}/{name}.json"] for name in type_names(documents, version) if name != ENVELOPE}


def needed_names(types: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """The metadata names the audit reads beyond base types: the contract's types, the enums they use, the owner
    of the navigation."""
    names = {NAVIGATION[0], *types}
    for schema in types.values():
        names.update(schema.get("$defs", {}))
    return names


def read_needed(
    chunks: Iterable[bytes],
    again: Callable[[], Iterable[bytes]],
    display: str,
    documents: dict[str, Any],
    version: str,
    *,
    max_bytes: int = csdl.MAX_METADATA_BYTES,
) -> CsdlModel:
    """The ``$metadata`` in ``chunks`` read keeping only what the audit of ``version`` needs, base types included.

    A type says its base only once it is kept, and a base may come before the types deriving from it:
    each level of bases not yet kept costs one more pass over ``again()`` (the same document), at most
    :data:`MAX_BASE_PASSES` in all; :class:`~conformance.errors.InputError` for deeper chains."""
    wanted = needed_names(contract_types(documents, version))
    model = csdl.read(chunks, display, max_bytes=max_bytes, keep=wanted.__contains__)
    for _ in range(MAX_BASE_PASSES):
        missing = {t.base for t in model.types.values() if t.base and t.base not in wanted}
        if not missing:
            return model
        wanted |= missing
        model = csdl.read(again(), display, max_bytes=max_bytes, keep=wanted.__contains__)
    raise InputError(display, 0, f"$metadata refused: base types chained more than {MAX_BASE_PASSES} deep")


def edm_label(name: str, collection: bool = False) -> str:
    """A metadata or ``x-graph-type`` type name in the audit's vocabulary: ``Edm.Int32`` -> ``integer``."""
    for prefix in _PREFIXES:
        name = name.removeprefix(prefix)
    label = _EDM.get(name, name)
    return f"array of {label}" if collection else label


def _graph_type_label(graph_type: str) -> str:
    """``x-graph-type`` as the derived schemas write it (``String``, ``qrCode``, ``excludeTarget collection``)."""
    if graph_type.endswith(" collection"):
        return edm_label(graph_type.removesuffix(" collection"), collection=True)
    if graph_type.startswith("Collection(") and graph_type.endswith(")"):
        return edm_label(graph_type[len("Collection(") : -1], collection=True)
    return edm_label(graph_type)


def _schema_label(schema: Mapping[str, Any]) -> str:
    """A JSON Schema's type in the audit's vocabulary, for a property without ``x-graph-type``."""
    for branch in schema.get("anyOf", []):
        if isinstance(branch, dict) and branch.get("type") != "null":
            return _schema_label(branch)
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return ref.rsplit("/", 1)[-1].removesuffix(".json")
    kinds = schema.get("type", [])
    kind = next((k for k in ([kinds] if isinstance(kinds, str) else kinds) if k != "null"), "any")
    if kind == "array":
        return f"array of {_schema_label(schema.get('items', {}))}"
    if kind == "string" and schema.get("contentEncoding") == "base64":
        return "base64 string"
    if kind == "string" and "format" in schema:
        return f"string/{schema['format']}"
    return str(kind)


def contract_properties(schema: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
    """A type schema's documented properties: name -> (type label, allows null); annotations (``@odata.type``)
    and properties seen only in examples are not part of the contract."""
    found = {}
    for name, prop in schema.get("properties", {}).items():
        if name.startswith("@") or not isinstance(prop, dict) or prop.get("x-example-only"):
            continue
        graph_type = prop.get("x-graph-type")
        label = _graph_type_label(graph_type) if isinstance(graph_type, str) else _schema_label(prop)
        found[name] = (label, allows_null(prop))
    return found


def metadata_properties(
    model: CsdlModel, csdl_type: CsdlType
) -> tuple[dict[str, tuple[CsdlProperty, str]], str | None]:
    """A type's properties with those it inherits: name -> (property, the type declaring it), and the first
    base type the model does not hold (its properties unknown), or None."""
    found: dict[str, tuple[CsdlProperty, str]] = {}
    current: CsdlType | None = csdl_type
    seen: set[str] = set()
    while current is not None and current.name not in seen:
        seen.add(current.name)
        for name, prop in current.properties.items():
            found.setdefault(name, (prop, current.name))  # a derived type's declaration wins
        if current.base is None:
            return found, None
        base = model.types.get(current.base)
        if base is None:
            return found, current.base
        current = base
    return found, None


def _where(prop: CsdlProperty, owner: str, type_name: str) -> str:
    return f"line {prop.line}" if owner == type_name else f"inherited from {owner}, line {prop.line}"


def _compare_type(version: str, name: str, schema: Mapping[str, Any], model: CsdlModel) -> Iterator[Finding]:
    csdl_type = model.types.get(name)
    if csdl_type is None:
        yield Finding(version, name, DIFFERS, "not in the metadata")
        return
    declared, missing_base = metadata_properties(model, csdl_type)
    documented = contract_properties(schema)
    found = list(_compare_properties(version, name, documented, declared))
    both = documented.keys() & declared.keys()
    agreeing = len(both - {f.subject.split(".", 1)[1] for f in found if f.verdict == DIFFERS})
    where = f"{csdl_type.kind}, line {csdl_type.line}"
    yield Finding(
        version, name, AGREES, f"present ({where}); {agreeing} of the contract's {len(documented)} properties agree"
    )
    if missing_base is not None:
        yield Finding(version, name, DIFFERS, f"its base type {missing_base} is not in the metadata")
    yield from found


def _compare_properties(
    version: str,
    name: str,
    documented: dict[str, tuple[str, bool]],
    declared: dict[str, tuple[CsdlProperty, str]],
) -> Iterator[Finding]:
    for prop_name in sorted(documented.keys() | declared.keys()):
        subject = f"{name}.{prop_name}"
        if prop_name not in declared:
            label = documented[prop_name][0]
            yield Finding(version, subject, DIFFERS, f"in the contract ({label}), not in the metadata")
            continue
        prop, owner = declared[prop_name]
        where = _where(prop, owner, name)
        metadata_label = edm_label(prop.type, prop.collection)
        if prop_name not in documented:
            yield Finding(
                version, subject, DIFFERS, f"in the metadata ({metadata_label}, {where}), not in the contract"
            )
            continue
        label, nullable = documented[prop_name]
        metadata_nullable = prop.nullable and not prop.collection  # OData: a collection is never null
        if label != metadata_label:
            yield Finding(
                version, subject, DIFFERS, f"the contract says {label}, the metadata {metadata_label} ({where})"
            )
        if not nullable and metadata_nullable:
            yield Finding(
                version, subject, DIFFERS, f"the contract requires a value, the metadata allows null ({where})"
            )
        elif nullable and not metadata_nullable:
            yield Finding(
                version, subject, STRICTER, f'the contract allows null, the metadata says Nullable="false" ({where})'
            )


def _compare_navigation(version: str, model: CsdlModel) -> Finding:
    owner, name, target = NAVIGATION
    subject = f"{owner}.{name}"
    owner_type = model.types.get(owner)
    if owner_type is None:
        return Finding(version, subject, DIFFERS, f"{owner} is not in the metadata")
    declared, _ = metadata_properties(model, owner_type)
    if name not in declared:
        return Finding(version, subject, DIFFERS, f"{owner} does not navigate to {name}")
    prop, where = declared[name][0], _where(*declared[name], owner)
    if not prop.navigation or prop.collection or prop.type != target:
        shape = edm_label(prop.type, prop.collection)
        kind = "a navigation property" if prop.navigation else "a structural property"
        return Finding(version, subject, DIFFERS, f"{kind} of {shape}, not a single {target} ({where})")
    return Finding(version, subject, AGREES, f"navigates to {target} ({where})")


def audit(model: CsdlModel, documents: dict[str, Any], version: str) -> list[Finding]:
    """Every finding for one version: each contract type (presence, properties), then the navigation."""
    found: list[Finding] = []
    for name, schema in contract_types(documents, version).items():
        found.extend(_compare_type(version, name, schema, model))
    found.append(_compare_navigation(version, model))
    return found


def summary(findings: list[Finding], versions: int) -> str:
    """The last line of the report: how many versions and types, differences and stricter properties."""
    types = len({(f.version, f.subject) for f in findings if "." not in f.subject})
    differences = sum(1 for f in findings if f.verdict == DIFFERS)
    stricter = sum(1 for f in findings if f.verdict == STRICTER)
    counted = f"{versions} version{'s' * (versions != 1)}, {types} types"
    stricter_text = f"{stricter} propert{'ies' if stricter != 1 else 'y'} where the metadata is stricter"
    if differences:
        plural = "s" * (differences != 1)
        return f"the metadata differs from the contract: {differences} difference{plural} ({counted}; {stricter_text})"
    return f"the metadata agrees with the contract ({counted}; {stricter_text})"
