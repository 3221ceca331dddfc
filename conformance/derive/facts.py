"""What the sources say, per API version, each fact with the page and line that says it.

Two sources fill a :class:`Facts`: the doc pages (:mod:`conformance.derive.pages`) and Microsoft's
CSDL metadata (:mod:`conformance.derive.metadata`); a metadata fact cites its file and line the way
a page fact cites its page, and :attr:`Facts.metadata_files` tells the two apart. The documents are
built from the facts alone and never read a source.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from conformance.versions import ALL_VERSIONS, Version

# The types that get a schema document: the QR types, and the types their collections hold.
# Other described types (the base types: entity, authenticationMethod, ...) are facts only.
TYPES = (
    "qrCode",
    "qrCodeImageDetails",
    "qrPin",
    "qrCodePinAuthenticationMethod",
    "qrCodePinAuthenticationMethodConfiguration",
    "authenticationMethodTarget",
    "excludeTarget",
)


def source(page: str, line: int) -> dict[str, Any]:
    """The provenance of one fact: the page and line that say it."""
    return {"page": page, "line": line}


def sorted_sources(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Provenance entries without repeats, by page, then line."""
    unique = {json.dumps(i, sort_keys=True): i for i in items}
    return sorted(unique.values(), key=lambda i: (i.get("page", ""), i.get("line", 0), json.dumps(i, sort_keys=True)))


@dataclass(frozen=True)
class PropertyFact:
    """One place that gives a property's type."""

    graph_type: str
    collection: bool
    page: str
    line: int
    nullable: bool | None = None  # as the source states it: the metadata always does, a page never

    @property
    def from_metadata(self) -> bool:
        """Whether the metadata gives this fact (only the metadata states nullability)."""
        return self.nullable is not None


@dataclass
class TypeFacts:
    """What the sources of one API version say about one type; ``base_types``: the bases it names, with sources."""

    name: str
    properties: dict[str, list[PropertyFact]] = field(default_factory=lambda: defaultdict(list))
    odata_forms: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    seen: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    shown_null: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    complete_examples: list[set[str]] = field(default_factory=list)
    answers: list[tuple[set[str], dict[str, Any]]] = field(
        default_factory=list
    )  # every response example: members, source
    key_property: str | None = None
    sources: list[dict[str, Any]] = field(default_factory=list)
    base_types: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))


@dataclass
class EnumFacts:
    """The member lists given for one enum, each with the places that give it."""

    members: dict[tuple[str, ...], list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))


@dataclass
class OperationFacts:
    """What the sources say about one operation: one method on one canonical path."""

    method: str
    canonical: str
    templates: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    success: dict[int, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    errors: list[dict[str, Any]] = field(default_factory=list)
    request_types: set[str] = field(default_factory=set)
    request_notes: list[dict[str, Any]] = field(default_factory=list)
    response_types: set[str] = field(default_factory=set)
    pages: set[str] = field(default_factory=set)
    published: bool = False
    metadata: list[dict[str, Any]] = field(default_factory=list)  # where the metadata gives it (a bound action)


@dataclass
class Facts:
    """Everything the sources say, per API version; ``examples`` are the response bodies to validate.

    ``types`` holds every type a source describes (the :data:`TYPES` always), base types included.
    ``capabilities``: the verbs the metadata's capability annotations allow, by canonical path;
    ``navigation``: the metadata's paths reached by navigation, canonical path -> (type, source);
    ``metadata_files``: the display path of each version's metadata file (its facts cite it).
    """

    types: dict[Version, dict[str, TypeFacts]] = field(
        default_factory=lambda: {v: {t: TypeFacts(t) for t in TYPES} for v in ALL_VERSIONS}
    )
    enums: dict[Version, dict[str, EnumFacts]] = field(
        default_factory=lambda: {v: defaultdict(EnumFacts) for v in ALL_VERSIONS}
    )
    operations: dict[Version, dict[tuple[str, str], OperationFacts]] = field(
        default_factory=lambda: {v: {} for v in ALL_VERSIONS}
    )
    errors: dict[Version, list[dict[str, Any]]] = field(default_factory=lambda: {v: [] for v in ALL_VERSIONS})
    examples: list[dict[str, Any]] = field(default_factory=list)
    capabilities: dict[Version, dict[str, dict[str, list[dict[str, Any]]]]] = field(
        default_factory=lambda: {v: {} for v in ALL_VERSIONS}
    )
    navigation: dict[Version, dict[str, tuple[str, dict[str, Any]]]] = field(
        default_factory=lambda: {v: {} for v in ALL_VERSIONS}
    )
    metadata_files: dict[Version, str] = field(default_factory=dict)

    def from_metadata(self, cited: dict[str, Any] | PropertyFact) -> bool:
        """Whether a fact (a source entry or a property fact) comes from a metadata file."""
        page = cited.page if isinstance(cited, PropertyFact) else cited.get("page")
        return page in self.metadata_files.values()
