"""Microsoft's CSDL metadata as a source of facts: one file per API version, read into :class:`Facts`.

Each ``--metadata`` file is one version's ``$metadata`` (read by :mod:`conformance.csdl`, which
refuses hostile input with file:line). Its version is told by ``VERSION=FILE`` or, without one, by
the file's name (``beta.xml``, ``v1.0.xml``); a name that tells none, an explicit version another
name contradicts, or a second file for one version is refused. A fact cites the file as its folder
and name (``graph-metadata/beta.xml``) and the line, like a page fact.

What is read: every entity and complex type (its base, key and properties: type, collection,
nullability), every enum (members in value order), the paths navigation reaches from
``/users/{id}/authentication`` through containment, the verbs the capability annotations allow on
those paths (Read: GET; Update: PATCH, or PUT, which OData's UpdateMethod default also allows;
Delete: DELETE; Insert: POST), and each bound action as a POST on every path of its binding type.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance import csdl
from conformance.derive.facts import Facts, OperationFacts, PropertyFact, TypeFacts, source
from conformance.derive.operations import canonical_path
from conformance.errors import UsageError
from conformance.versions import ALL_VERSIONS, Version

# The excerpts keep no EntityContainer and no user type: navigation is followed from the user's
# authentication, the only entry the QR code + PIN paths have.
ENTRY_PATH, ENTRY_TYPE = "/users/{id}/authentication", "authentication"
_VERBS = {
    "ReadRestrictions": ("GET",),
    "UpdateRestrictions": ("PATCH", "PUT"),
    "DeleteRestrictions": ("DELETE",),
    "InsertRestrictions": ("POST",),
}
_SINGLETONS = ("me",)  # a container child that is not an entity set: no key follows it


@dataclass(frozen=True)
class MetadataFile:
    """One version's metadata file, and how its facts cite it."""

    version: Version
    path: Path
    display: str


def metadata_files(specs: list[str]) -> list[MetadataFile]:
    """Each ``--metadata`` value (``FILE`` or ``VERSION=FILE``) with its version, by version.

    A :class:`UsageError` for a version that cannot be told, an explicit version the file's name
    contradicts, a second file for a version, or a file that does not exist."""
    found: dict[Version, MetadataFile] = {}
    for spec in specs:
        given, _, named = spec.partition("=") if "=" in spec else ("", "", spec)
        path = Path(named)
        by_name = _version_named(path.name)
        by_flag = _version_named(given) if given else None
        if given and by_flag is None:
            raise UsageError(f"derive: --metadata {spec}: {given!r} is not an API version (beta, v1.0)")
        if by_flag and by_name and by_flag != by_name:
            raise UsageError(f"derive: --metadata {spec}: ambiguous: the file's name says {by_name}")
        version = by_flag or by_name
        if version is None:
            raise UsageError(
                f"derive: --metadata {spec}: cannot tell the API version: name the file beta.xml or v1.0.xml, "
                "or give VERSION=FILE"
            )
        if version in found:
            raise UsageError(f"derive: --metadata {spec}: a second file for {version} ({found[version].path})")
        if not path.is_file():
            raise UsageError(f"derive: --metadata {spec}: no such file")
        found[version] = MetadataFile(version, path, f"{path.resolve().parent.name}/{path.name}")
    return [found[v] for v in ALL_VERSIONS if v in found]


def _version_named(text: str) -> Version | None:
    stem = text.removesuffix(".xml")
    return next((v for v in ALL_VERSIONS if v.value == stem), None)


def read_models(files: list[MetadataFile]) -> list[tuple[Version, csdl.CsdlModel]]:
    """Each file read by :func:`conformance.csdl.read_file` (hostile input: an ``InputError`` with file:line)."""
    return [(f.version, csdl.read_file(f.path, f.display)) for f in files]


def read_metadata_facts(models: list[tuple[Version, csdl.CsdlModel]], facts: Facts) -> None:
    """Add what each version's metadata says to ``facts`` (read after the pages: a page's key stays)."""
    for version, model in models:
        facts.metadata_files[version] = model.source
        _read_types(model, facts.types[version])
        for name in sorted(model.enums):
            enum = model.enums[name]
            members = tuple(sorted(enum.members, key=lambda m: (enum.members[m], m)))
            facts.enums[version][name].members[members].append(source(model.source, enum.line))
        paths = dict(_navigation(model))
        facts.navigation[version].update({canonical_path(p): (t, s) for p, (t, s) in paths.items()})
        _read_capabilities(model, facts.capabilities[version])
        _read_actions(model, paths, facts.operations[version])


def _read_types(model: csdl.CsdlModel, types: dict[str, TypeFacts]) -> None:
    for name in sorted(model.types):
        declared = model.types[name]
        type_facts = types.setdefault(name, TypeFacts(name))
        cited = source(model.source, declared.line)
        type_facts.sources.append(cited)
        if declared.base:
            type_facts.base_types[declared.base].append(cited)
        if declared.key and not type_facts.key_property:
            type_facts.key_property = declared.key[0]
        for prop in declared.properties.values():
            type_facts.properties[prop.name].append(
                PropertyFact(prop.type.removeprefix("Edm."), prop.collection, model.source, prop.line, prop.nullable)
            )


def _members(model: csdl.CsdlModel, name: str) -> Iterator[csdl.CsdlProperty]:
    """The properties of type ``name`` and of its bases, nearest first (a cycle ends the chain)."""
    seen: set[str] = set()
    current: str | None = name
    while current in model.types and current not in seen:
        seen.add(current)
        yield from model.types[current].properties.values()
        current = model.types[current].base


def _navigation(model: csdl.CsdlModel) -> Iterator[tuple[str, tuple[str, dict[str, Any]]]]:
    """Every path containment navigation reaches from the entry: (path template, (type, source))."""
    if ENTRY_TYPE not in model.types:
        return
    frontier: list[tuple[str, str, tuple[str, ...]]] = [(ENTRY_PATH, ENTRY_TYPE, (ENTRY_TYPE,))]
    while frontier:
        path, type_name, chain = frontier.pop(0)
        for prop in _members(model, type_name):
            if not (prop.navigation and prop.contains_target) or prop.type not in model.types:
                continue
            child = f"{path}/{prop.name}" + ("/{id}" if prop.collection else "")
            yield child, (prop.type, source(model.source, prop.line))
            if prop.type not in chain:
                frontier.append((child, prop.type, (*chain, prop.type)))


def _target_path(target: str) -> str | None:
    """``<namespace>.<Container>/users/authentication/x`` -> ``/users/{id}/authentication/x``; None for a
    target that is a type or a property, not a path from the container."""
    container, _, rest = target.partition("/")
    if not rest or "." not in container:
        return None
    head, _, tail = rest.partition("/")
    key = "" if head in _SINGLETONS else "/{id}"
    return f"/{head}{key}" + (f"/{tail}" if tail else "")


def _read_capabilities(model: csdl.CsdlModel, capabilities: dict[str, dict[str, list[dict[str, Any]]]]) -> None:
    for target in sorted(model.annotations):
        path = _target_path(target)
        if path is None or target.partition("/")[0].rpartition(".")[2] in model.types:
            continue
        for term, line in model.annotations[target]:
            for verb in _VERBS.get(term.rpartition(".")[2], ()):
                capabilities.setdefault(canonical_path(path), {}).setdefault(verb, []).append(
                    source(model.source, line)
                )


def _read_actions(
    model: csdl.CsdlModel,
    paths: dict[str, tuple[str, dict[str, Any]]],
    ops: dict[tuple[str, str], OperationFacts],
) -> None:
    """A bound action: a POST on every path of its binding type; its other parameters are the body."""
    for action in sorted(model.actions, key=lambda a: (a.name, a.line)):
        if not action.bound or action.binding_type is None:
            continue
        cited = source(model.source, action.line)
        parameters = list(action.parameters)[1:]
        for path in sorted(p for p, (t, _) in paths.items() if t == action.binding_type):
            template = f"{path}/{action.name}"
            key = ("POST", canonical_path(template))
            op = ops.setdefault(key, OperationFacts("POST", key[1]))
            op.templates[template].append(cited)
            op.metadata.append(cited)
            if action.return_type is None:  # OData: an action that returns nothing answers 204 No Content
                op.success[204].append({**cited, "from": "metadata"})
            else:
                op.response_types.add(action.return_type.rpartition(".")[2])
            note = (
                f"the request body holds action parameters ({', '.join(parameters)}), not a typed object"
                if parameters
                else "the action takes no parameters"
            )
            op.request_notes.append({"note": note, **cited})
