"""Microsoft's CSDL ``$metadata``, read as a stream and as untrusted input.

A ``$metadata`` document may come from the target under test, so it is read with expat directly:
any DOCTYPE (and so any entity, internal or external) is refused before it can expand, parameter
entities are never parsed, nesting is bounded, and so is the size: bytes are counted as they are fed.
The document is parsed chunk by chunk (real Graph's is tens of MB), and only what the suite needs is
kept: entity and complex types (properties, navigation properties, keys, base types), enum types,
actions and the capability annotations of ``Annotations`` blocks; ``keep`` narrows the types kept.

Every fact carries the line it was read at, so derived facts can cite ``file:line``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from conformance.errors import InputError

MAX_METADATA_BYTES = 64 * 1024 * 1024  # real Graph's beta $metadata is about 17 MB
MAX_DEPTH = 64  # CSDL nests a dozen levels at most
CHUNK = 64 * 1024
_TYPE_ELEMENTS = ("EntityType", "ComplexType")
_MEMBERS = ("Property", "NavigationProperty")


@dataclass(frozen=True)
class CsdlProperty:
    """A structural or navigation property as the metadata declares it."""

    name: str
    type: str
    collection: bool
    nullable: bool  # CSDL's default: nullable unless Nullable="false"
    navigation: bool
    contains_target: bool
    line: int


@dataclass
class CsdlType:
    """An entity or complex type."""

    kind: str  # "EntityType" or "ComplexType"
    name: str
    base: str | None
    abstract: bool
    line: int
    key: list[str] = field(default_factory=list)
    properties: dict[str, CsdlProperty] = field(default_factory=dict)


@dataclass
class CsdlEnum:
    """An enum type and its members' values."""

    name: str
    line: int
    members: dict[str, int] = field(default_factory=dict)


@dataclass
class CsdlAction:
    """An action; a bound one is an operation (POST) on its binding parameter's type."""

    name: str
    bound: bool
    line: int
    parameters: dict[str, CsdlProperty] = field(default_factory=dict)  # the binding parameter first
    return_type: str | None = None

    @property
    def binding_type(self) -> str | None:
        """The type the action is bound to, or None for an unbound action."""
        return next(iter(self.parameters.values())).type if self.bound and self.parameters else None


@dataclass
class CsdlModel:
    """What one ``$metadata`` document says, by short type name (``qrCode``, not ``graph.qrCode``)."""

    source: str
    namespace: str | None = None
    types: dict[str, CsdlType] = field(default_factory=dict)
    enums: dict[str, CsdlEnum] = field(default_factory=dict)
    actions: list[CsdlAction] = field(default_factory=list)
    annotations: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # target -> (term, line)


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


class _Reader:
    """expat handlers that build a :class:`CsdlModel`."""

    def __init__(self, parser: expat.XMLParserType, model: CsdlModel, keep: Callable[[str], bool] | None) -> None:
        self.parser = parser
        self.model = model
        self.keep = keep
        self.depth = 0
        self.prefixes: tuple[str, ...] = ()
        self.type: CsdlType | None = None
        self.enum: CsdlEnum | None = None
        self.action: CsdlAction | None = None
        self.target: str | None = None
        self.target_depth = 0
        self.in_key = False

    def short(self, name: str) -> str:
        """``graph.qrCode`` / ``microsoft.graph.qrCode`` -> ``qrCode``; ``Edm.String`` stays."""
        for prefix in self.prefixes:
            if name.startswith(prefix + "."):
                return name[len(prefix) + 1 :]
        return name

    def typed(self, attributes: dict[str, str]) -> tuple[str, bool]:
        raw = attributes.get("Type", "")
        if raw.startswith("Collection(") and raw.endswith(")"):
            return self.short(raw[len("Collection(") : -1]), True
        return self.short(raw), False

    def member(self, tag: str, attributes: dict[str, str]) -> CsdlProperty:
        type_name, collection = self.typed(attributes)
        return CsdlProperty(
            name=attributes.get("Name", ""),
            type=type_name,
            collection=collection,
            nullable=attributes.get("Nullable", "true").lower() != "false",
            navigation=tag == "NavigationProperty",
            contains_target=attributes.get("ContainsTarget", "false").lower() == "true",
            line=self.parser.CurrentLineNumber,
        )

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(f"elements nested more than {MAX_DEPTH} deep")
        tag = name.rsplit("|", 1)[-1]
        line = self.parser.CurrentLineNumber
        if tag == "Schema":
            self.model.namespace = self.model.namespace or attributes.get("Namespace")
            self.prefixes = tuple(p for p in (attributes.get("Namespace"), attributes.get("Alias")) if p)
        elif tag in _TYPE_ELEMENTS:
            type_name = attributes.get("Name", "")
            if self.keep is None or self.keep(type_name):
                base = attributes.get("BaseType")
                abstract = attributes.get("Abstract", "false").lower() == "true"
                self.type = CsdlType(tag, type_name, self.short(base) if base else None, abstract, line)
                self.model.types[type_name] = self.type
        elif tag in _MEMBERS and self.type is not None:
            prop = self.member(tag, attributes)
            self.type.properties[prop.name] = prop
        elif tag == "Key":
            self.in_key = True
        elif tag == "PropertyRef" and self.in_key and self.type is not None:
            self.type.key.append(attributes.get("Name", ""))
        elif tag == "EnumType":
            enum_name = attributes.get("Name", "")
            if self.keep is None or self.keep(enum_name):
                self.enum = CsdlEnum(enum_name, line)
                self.model.enums[enum_name] = self.enum
        elif tag == "Member" and self.enum is not None:
            try:
                value = int(attributes.get("Value", str(len(self.enum.members))))
            except ValueError:
                raise _Refused(f"enum member {attributes.get('Name', '')!r} has no whole-number value") from None
            self.enum.members[attributes.get("Name", "")] = value
        elif tag == "Action":
            self.action = CsdlAction(attributes.get("Name", ""), attributes.get("IsBound", "false") == "true", line)
        elif tag == "Parameter" and self.action is not None:
            parameter = self.member("Property", attributes)
            self.action.parameters[parameter.name] = parameter
        elif tag == "ReturnType" and self.action is not None:
            self.action.return_type = attributes.get("Type")
        elif tag == "Annotations":
            self.target, self.target_depth = attributes.get("Target", ""), self.depth
        elif tag == "Annotation" and self.target is not None and self.depth == self.target_depth + 1:
            self.model.annotations.setdefault(self.target, []).append((attributes.get("Term", ""), line))

    def end(self, name: str) -> None:
        self.depth -= 1
        tag = name.rsplit("|", 1)[-1]
        if tag in _TYPE_ELEMENTS:
            self.type = None
        elif tag == "Key":
            self.in_key = False
        elif tag == "EnumType":
            self.enum = None
        elif tag == "Action":
            if self.action is not None and (
                self.keep is None or self.keep(self.action.name) or self.keep(self.action.binding_type or "")
            ):
                self.model.actions.append(self.action)
            self.action = None
        elif tag == "Annotations":
            self.target = None


def _doctype(*_: object) -> None:
    raise _Refused("a DOCTYPE declaration: a $metadata document has none, and entities are refused")


def _external(*_: object) -> int:
    raise _Refused("an external entity reference")


def read(
    chunks: Iterable[bytes],
    display: str,
    *,
    max_bytes: int = MAX_METADATA_BYTES,
    keep: Callable[[str], bool] | None = None,
) -> CsdlModel:
    """A ``$metadata`` document, fed chunk by chunk, as a :class:`CsdlModel`.

    Raises :class:`~conformance.errors.InputError` naming ``display`` and the line for a document
    that is not well-formed, truncated, larger than ``max_bytes``, nested too deep, or that declares
    a DOCTYPE or entities."""
    parser = expat.ParserCreate(namespace_separator="|")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    model = CsdlModel(display)
    reader = _Reader(parser, model, keep)
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.StartDoctypeDeclHandler = _doctype
    parser.EntityDeclHandler = _doctype
    parser.ExternalEntityRefHandler = _external
    seen = 0
    try:
        for chunk in chunks:
            seen += len(chunk)
            if seen > max_bytes:
                raise _Refused(f"larger than the limit of {max_bytes} bytes")
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Refused as refused:
        raise InputError(display, parser.CurrentLineNumber, f"$metadata refused: {refused.message}") from None
    except expat.ExpatError as error:
        ended = error.code in (expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS],) or (
            error.code == expat.errors.codes[expat.errors.XML_ERROR_UNCLOSED_TOKEN]
        )
        what = "the document ends early (truncated)" if ended else "not well-formed XML"
        message = f"$metadata refused: {what}: {expat.errors.messages[error.code]} (column {error.offset + 1})"
        raise InputError(display, error.lineno, message) from None
    if model.namespace is None:
        raise InputError(display, 1, "$metadata refused: no <Schema> element: not a CSDL document")
    return model


def read_file(
    path: Path,
    display: str | None = None,
    *,
    max_bytes: int = MAX_METADATA_BYTES,
    keep: Callable[[str], bool] | None = None,
) -> CsdlModel:
    """:func:`read` on a file, in chunks."""
    shown = display or path.as_posix()
    try:
        with path.open("rb") as stream:
            return read(iter(lambda: stream.read(CHUNK), b""), shown, max_bytes=max_bytes, keep=keep)
    except OSError as error:
        raise InputError(shown, 0, f"cannot read: {error.strerror or error}") from None
