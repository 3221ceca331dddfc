"""Derive JSON Schemas, an operations catalogue and a conflicts list from documentation pages.

Input: the pages under one or more ``--docs`` folders (read by :mod:`conformance.docpages`).
Output, per API version, under the output folder (deterministic: sorted keys, no timestamps)::

    <version>/<type>.json        JSON Schema (draft 2020-12) of each documented type
    <version>/graphError.json    the Graph error envelope, with the error codes the pages document
    <version>/operations.json    method, path templates, documented statuses, types, source pages
    conflicts.json               every place where pages disagree, with both (all) sources
    repairs.json                 every repair made to doc JSON and every oddity noted in a page

Types come from the property tables; examples only add what the tables do not say (which
properties appear, ``@odata.type`` spellings, which properties every complete example carries).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import doc_json
from conformance.docpages import HttpExample, Page, Table, read_page
from conformance.errors import DocError, UsageError
from conformance.versions import ALL_VERSIONS, Version

TYPES = (
    "qrCode",
    "qrCodeImageDetails",
    "qrPin",
    "qrCodePinAuthenticationMethod",
    "qrCodePinAuthenticationMethodConfiguration",
)
ERROR_TYPE = "graphError"
SCHEMA_BASE = "https://graph-conformance.invalid/schemas"
_PAGE_SUFFIXES = (".md", ".txt")
_INT32 = {"minimum": -(2**31), "maximum": 2**31 - 1}
_SCALARS: dict[str, dict[str, Any]] = {
    "String": {"type": "string"},
    "DateTimeOffset": {"type": "string", "format": "date-time"},
    "Binary": {"type": "string", "contentEncoding": "base64"},
    "Int32": {"type": "integer", **_INT32},
    "Boolean": {"type": "boolean"},
}
_POSSIBLE_VALUES = re.compile(r"possible values are:?(.*)", re.IGNORECASE)
_BACKTICKED = re.compile(r"`([A-Za-z][A-Za-z0-9]*)`")


def source(page: str, line: int) -> dict[str, Any]:
    return {"page": page, "line": line}


def _sorted_sources(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    unique = {json.dumps(i, sort_keys=True): i for i in items}
    return sorted(unique.values(), key=lambda i: (i.get("page", ""), i.get("line", 0), json.dumps(i, sort_keys=True)))


# --- reading the corpus --------------------------------------------------------------------------


def load_pages(doc_dirs: list[Path]) -> list[Page]:
    """Every page under the given folders; a page's display path starts with its folder's name."""
    if not doc_dirs:
        raise UsageError("derive: give at least one --docs DIR")
    pages: list[Page] = []
    for root in doc_dirs:
        if not root.is_dir():
            raise UsageError(f"derive: --docs {root}: no such directory")
        found = sorted(
            p for p in root.rglob("*") if p.is_file() and p.suffix in _PAGE_SUFFIXES and p.name != "README.md"
        )
        if not found:
            raise UsageError(f"derive: --docs {root}: no doc pages (*.md, *.txt) found")
        for path in found:
            display = f"{root.resolve().name}/{path.relative_to(root).as_posix()}"
            page = read_page(path, display)
            if page.version is None:
                raise DocError(display, 1, "cannot tell the API version (no beta/v1.0 path, URL or beta disclaimer)")
            pages.append(page)
    return pages


# --- types ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PropertyFact:
    graph_type: str
    collection: bool
    page: str
    line: int


@dataclass
class TypeFacts:
    """What the pages of one API version say about one type."""

    name: str
    properties: dict[str, list[PropertyFact]] = field(default_factory=lambda: defaultdict(list))
    odata_forms: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    seen: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    complete_examples: list[set[str]] = field(default_factory=list)
    key_property: str | None = None
    sources: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class EnumFacts:
    members: dict[tuple[str, ...], list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))


def _type_cell(cell: str) -> tuple[str, bool]:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", cell).strip()
    collection = text.endswith(" collection")
    if collection:
        text = text[: -len(" collection")].strip()
    return text.removeprefix("microsoft.graph."), collection


def _property_tables(page: Page) -> Iterator[Table]:
    for table in page.tables:
        if table.header and table.header[0] in ("Property", "Relationship") and len(table.header) >= 3:
            yield table


def _collect_types(pages: list[Page]) -> tuple[dict[str, dict[str, TypeFacts]], dict[str, dict[str, EnumFacts]]]:
    types: dict[str, dict[str, TypeFacts]] = {v: {t: TypeFacts(t) for t in TYPES} for v in ALL_VERSIONS}
    enums: dict[str, dict[str, EnumFacts]] = {v: defaultdict(EnumFacts) for v in ALL_VERSIONS}
    for page in pages:
        assert page.version is not None
        version = page.version
        if page.is_resource and page.resource_name in TYPES:
            facts = types[version][page.resource_name]
            facts.sources.append(source(page.path, 1))
            for rep in page.representations:
                facts.key_property = facts.key_property or rep.key_property
                odata = rep.body.get("@odata.type") if isinstance(rep.body, dict) else None
                if isinstance(odata, str):
                    facts.odata_forms[odata].append(source(page.path, rep.line))
            for table in _property_tables(page):
                for line, cells in table.rows:
                    if len(cells) < 2 or not cells[0]:
                        continue
                    graph_type, collection = _type_cell(cells[1])
                    name = cells[0].replace("*", "").strip()
                    facts.properties[name].append(PropertyFact(graph_type, collection, page.path, line))
                    description = cells[2] if len(cells) > 2 else ""
                    values = _POSSIBLE_VALUES.search(description)
                    if values and graph_type not in _SCALARS:
                        members = tuple(_BACKTICKED.findall(values.group(1)))
                        if members:
                            enums[version][graph_type].members[members].append(source(page.path, line))
        for table in page.tables:
            if table.header[:1] == ("Member",) and table.heading.endswith(" values"):
                enum_name = table.heading.split()[0]
                members = tuple(cells[0].strip("` ") for _, cells in table.rows if cells and cells[0])
                if members:
                    enums[version][enum_name].members[members].append(source(page.path, table.line))
    return types, enums


def _example_type(page: Page, example: HttpExample) -> str | None:
    odata = example.annotation.get("@odata.type")
    if isinstance(odata, str):
        return odata.removeprefix("#").removeprefix("microsoft.graph.")
    if example.kind == "response" and page.response_types:
        return page.response_types[0][0]
    return None


def _walk_example(
    types: dict[str, TypeFacts], type_name: str, value: Any, page: str, line: int, complete: bool
) -> None:
    facts = types.get(type_name)
    if facts is None or not isinstance(value, dict):
        return
    if complete:
        facts.complete_examples.append(set(value))
    for key, item in value.items():
        if key == "@odata.type":
            if isinstance(item, str):
                facts.odata_forms[item].append(source(page, line))
            continue
        if "@" in key:
            continue  # instance annotations such as includeTargets@odata.context
        facts.seen[key].append(source(page, line))
        for fact in facts.properties.get(key, []):
            if fact.graph_type in types:
                for element in item if isinstance(item, list) else [item]:
                    _walk_example(types, fact.graph_type, element, page, line, complete)
                break


def _collect_examples(pages: list[Page], types: dict[str, dict[str, TypeFacts]]) -> list[dict[str, Any]]:
    """Walk every example into the type facts; return the examples for later validation."""
    examples: list[dict[str, Any]] = []
    for page in pages:
        assert page.version is not None
        for example in page.examples:
            type_name = _example_type(page, example)
            if type_name not in TYPES or not isinstance(example.body, dict):
                continue
            line = example.body_line or example.line
            # Only a Markdown response block that does not say "truncated" shows a whole object;
            # the rendered form has lost its annotations, so its examples prove nothing complete.
            complete = (
                example.kind == "response"
                and page.form != "rendered"
                and example.annotation.get("truncated") is not True
            )
            _walk_example(types[page.version], type_name, example.body, page.path, line, complete)
            if example.kind == "response":
                examples.append(
                    {
                        "version": page.version,
                        "type": type_name,
                        "page": page.path,
                        "line": line,
                        "body": doc_json.strip_unknown(example.body),
                    }
                )
    return examples


def _enum_schemas(
    version: str, enums: dict[str, EnumFacts], conflicts: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for name in sorted(enums):
        variants = enums[name].members
        if len(variants) > 1:
            conflicts.append(
                {
                    "kind": "enum-members",
                    "version": version,
                    "subject": name,
                    "alternatives": [
                        {"members": list(m), "sources": _sorted_sources(s)} for m, s in sorted(variants.items())
                    ],
                }
            )
        members = sorted({m for variant in variants for m in variant})
        all_sources = _sorted_sources(s for group in variants.values() for s in group)
        result[name] = {"type": "string", "enum": members, "x-provenance": all_sources}
    return result


def _property_schema(facts: list[PropertyFact], enum_names: set[str], nullable: bool) -> tuple[dict[str, Any], bool]:
    """The schema of one property; the flag says whether its pages disagree on its type."""
    variants: dict[tuple[str, bool], list[PropertyFact]] = defaultdict(list)
    for fact in facts:
        variants[(fact.graph_type, fact.collection)].append(fact)
    schemas = [_type_schema(graph_type, collection, enum_names) for graph_type, collection in sorted(variants)]
    schema: dict[str, Any] = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    if nullable:
        schema = _nullable(schema)
    graph_types = sorted({f"{t} collection" if c else t for t, c in variants})
    schema["x-graph-type"] = graph_types[0] if len(graph_types) == 1 else graph_types
    schema["x-provenance"] = _sorted_sources(source(f.page, f.line) for f in facts)
    return schema, len(variants) > 1


def _type_schema(graph_type: str, collection: bool, enum_names: set[str]) -> dict[str, Any]:
    if graph_type in _SCALARS:
        item: dict[str, Any] = dict(_SCALARS[graph_type])
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


def _type_document(
    version: str, facts: TypeFacts, enum_schemas: dict[str, dict[str, Any]], conflicts: list[dict[str, Any]]
) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    used_enums: set[str] = set()
    for name in sorted(facts.properties):
        nullable = name != (facts.key_property or "")
        schema, disagree = _property_schema(facts.properties[name], set(enum_schemas), nullable)
        if disagree:
            conflicts.append(
                {
                    "kind": "property-type",
                    "version": version,
                    "subject": f"{facts.name}.{name}",
                    "alternatives": [
                        {
                            "type": f"{f.graph_type} collection" if f.collection else f.graph_type,
                            "sources": [source(f.page, f.line)],
                        }
                        for f in sorted(facts.properties[name], key=lambda f: (f.page, f.line))
                    ],
                }
            )
        used_enums.update(
            t for t, _ in {(f.graph_type, f.collection) for f in facts.properties[name]} if t in enum_schemas
        )
        properties[name] = schema
    for name in sorted(set(facts.seen) - set(facts.properties)):
        # Shown in examples, typed by no table: documented to exist, type unknown.
        properties[name] = {"x-example-only": True, "x-examples": _sorted_sources(facts.seen[name])}
    if facts.odata_forms:
        forms = sorted(facts.odata_forms)
        properties["@odata.type"] = {
            "type": "string",
            "enum": forms,
            "x-provenance": _sorted_sources(s for f in forms for s in facts.odata_forms[f]),
        }
    required = sorted(set.intersection(*facts.complete_examples)) if facts.complete_examples else []
    document: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}/{version}/{facts.name}.json",
        "title": f"microsoft.graph.{facts.name} ({version})",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": True,
        "x-graph-type": f"microsoft.graph.{facts.name}",
        "x-key-property": facts.key_property,
        "x-sources": _sorted_sources(facts.sources),
    }
    if used_enums:
        document["$defs"] = {name: enum_schemas[name] for name in sorted(used_enums)}
    return document


# --- the error envelope --------------------------------------------------------------------------


def _documented_errors(page: Page) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for table in page.tables:
        header = [h.lower() for h in table.header]
        if "error code" in header and "http code" in header:
            status_at, code_at = header.index("http code"), header.index("error code")
            for line, cells in table.rows:
                status = re.match(r"\s*(\d{3})", cells[status_at]) if len(cells) > status_at else None
                if status and len(cells) > code_at:
                    errors.append(
                        {"status": int(status.group(1)), "code": cells[code_at].strip("` "), **source(page.path, line)}
                    )
    for statement in page.statuses:
        if statement.kind == "error":
            errors.append({"status": statement.status, "code": None, **source(page.path, statement.line)})
    return errors


def _error_document(version: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    codes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for error in errors:
        if error["code"]:
            codes[error["code"]].append({"status": error["status"], **source(error["page"], error["line"])})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}/{version}/{ERROR_TYPE}.json",
        "title": f"Microsoft Graph error envelope ({version})",
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {
                        "type": "string",
                        "minLength": 1,
                        "x-documented-codes": {c: _sorted_sources(codes[c]) for c in sorted(codes)},
                    },
                    "message": {"type": "string"},
                    "innerError": {
                        "type": "object",
                        "properties": {
                            "request-id": {"type": "string"},
                            "client-request-id": {"type": "string"},
                            "date": {"type": "string"},
                        },
                    },
                },
            }
        },
        # No page of the corpus describes the envelope itself: its shape is Graph's general error
        # format (the "Microsoft Graph error responses" concept page); the codes above are derived.
        "x-envelope-source": "Microsoft Graph error responses (concepts/errors.md), outside the doc corpus",
    }


# --- operations ----------------------------------------------------------------------------------


def canonical_path(path: str) -> str:
    """Case-folded path with ``/me`` as ``/users/{id}`` and every placeholder as ``{id}``."""
    path = re.sub(r"\{[^}]*\}", "{id}", path)
    path = re.sub(r"^/me(?=/|$)", "/users/{id}", path, flags=re.IGNORECASE)
    return path.lower()


def _matches(template: str, concrete: str) -> bool:
    t_parts, c_parts = canonical_path(template).split("/"), canonical_path(concrete).split("/")
    return len(t_parts) == len(c_parts) and all(t == "{id}" or t == c for t, c in zip(t_parts, c_parts, strict=False))


@dataclass
class OperationFacts:
    method: str
    canonical: str
    templates: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    success: dict[int, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    errors: list[dict[str, Any]] = field(default_factory=list)
    request_types: set[str] = field(default_factory=set)
    response_types: set[str] = field(default_factory=set)
    pages: set[str] = field(default_factory=set)
    published: bool = False


def _collect_operations(pages: list[Page]) -> dict[str, dict[tuple[str, str], OperationFacts]]:
    ops: dict[str, dict[tuple[str, str], OperationFacts]] = {v: {} for v in ALL_VERSIONS}
    for page in pages:
        if page.is_resource:
            continue
        assert page.version is not None
        forms = [(s.method, s.path, s.line) for s in page.syntax]
        if not forms:  # no syntax block: the example requests are the only forms given
            forms = [(e.method, e.path, e.line) for e in page.examples if e.kind == "request" and e.method and e.path]
        page_ops: list[OperationFacts] = []
        for method, path, line in forms:
            key = (method, canonical_path(path))
            op = ops[page.version].setdefault(key, OperationFacts(method, key[1]))
            op.templates[path].append(source(page.path, line))
            if op not in page_ops:
                page_ops.append(op)
        for op in page_ops:
            op.pages.add(page.path)
            op.published = op.published or not page.draft
            for statement in page.statuses:
                if statement.kind == "response":
                    op.success[statement.status].append({**source(page.path, statement.line), "from": "text"})
            op.errors.extend(_documented_errors(page))
            op.response_types.update(t for t, _ in page.response_types)
        current: list[OperationFacts] = page_ops
        for example in page.examples:
            if example.kind == "request" and example.method and example.path:
                current = [
                    op for op in page_ops if op.method == example.method and _matches(op.canonical, example.path)
                ] or page_ops
                odata = example.annotation.get("@odata.type")
                if isinstance(odata, str):
                    for op in current:
                        op.request_types.add(odata.removeprefix("microsoft.graph."))
            elif example.kind == "response" and example.status:
                for op in current:
                    op.success[example.status].append({**source(page.path, example.line), "from": "example"})
                    odata = example.annotation.get("@odata.type")
                    if isinstance(odata, str):
                        op.response_types.add(odata.removeprefix("microsoft.graph."))
    return ops


def _display_key(op: OperationFacts) -> str:
    templates = sorted(op.templates, key=lambda t: (not t.lower().startswith("/users/"), -len(op.templates[t]), t))
    best = re.sub(r"\{[^}]*\}", "{id}", templates[0])
    return f"{op.method} {best}"


def _operations_document(
    version: str, ops: dict[tuple[str, str], OperationFacts], conflicts: list[dict[str, Any]]
) -> dict[str, Any]:
    entries: dict[str, Any] = {}
    for op in ops.values():
        key = _display_key(op)
        success = {str(s): _sorted_sources(op.success[s]) for s in sorted(op.success)}
        if len(op.success) > 1:
            conflicts.append(
                {
                    "kind": "success-status",
                    "version": version,
                    "subject": key,
                    "alternatives": [
                        {"status": s, "sources": _sorted_sources(op.success[s])} for s in sorted(op.success)
                    ],
                }
            )
        errors: dict[str, Any] = defaultdict(list)
        for error in op.errors:
            errors[str(error["status"])].append({"code": error["code"], **source(error["page"], error["line"])})
        entries[key] = {
            "method": op.method,
            "canonical_path": op.canonical,
            "paths": {t: _sorted_sources(op.templates[t]) for t in sorted(op.templates)},
            "success": success,
            "errors": {s: _sorted_sources(errors[s]) for s in sorted(errors)},
            "request_types": sorted(op.request_types),
            "response_types": sorted(op.response_types),
            "pages": sorted(op.pages),
            "published": op.published,
        }
    return {"version": version, "operations": {k: entries[k] for k in sorted(entries)}}


def _cross_version_conflicts(ops: dict[str, dict[tuple[str, str], OperationFacts]]) -> list[dict[str, Any]]:
    conflicts: list[dict[str, Any]] = []
    for key in sorted(set(ops[Version.BETA]) & set(ops[Version.V1])):
        beta, v1 = ops[Version.BETA][key], ops[Version.V1][key]
        if beta.published and v1.published and set(beta.success) != set(v1.success):
            conflicts.append(
                {
                    "kind": "success-status-across-versions",
                    "version": "beta,v1.0",
                    "subject": f"{key[0]} {key[1]}",
                    "alternatives": [
                        {
                            "version": v,
                            "statuses": sorted(o.success),
                            "sources": _sorted_sources(s for st in o.success.values() for s in st),
                        }
                        for v, o in ((Version.BETA, beta), (Version.V1, v1))
                    ],
                }
            )
    return conflicts


# --- the whole derivation ------------------------------------------------------------------------


@dataclass
class Derived:
    files: dict[str, Any]
    examples: list[dict[str, Any]]


def derive(pages: list[Page]) -> Derived:
    types, enums = _collect_types(pages)
    examples = _collect_examples(pages, types)
    ops = _collect_operations(pages)
    conflicts: list[dict[str, Any]] = []
    files: dict[str, Any] = {}
    for version in ALL_VERSIONS:
        enum_schemas = _enum_schemas(version, enums[version], conflicts)
        for name in TYPES:
            files[f"{version}/{name}.json"] = _type_document(version, types[version][name], enum_schemas, conflicts)
        version_errors = [e for p in pages if p.version == version and not p.is_resource for e in _documented_errors(p)]
        files[f"{version}/{ERROR_TYPE}.json"] = _error_document(version, version_errors)
        files[f"{version}/operations.json"] = _operations_document(version, ops[version], conflicts)
    conflicts.extend(_cross_version_conflicts(ops))
    files["conflicts.json"] = {"conflicts": sorted(conflicts, key=lambda c: (c["version"], c["kind"], c["subject"]))}
    repairs = sorted(
        (r.as_dict() for p in pages for r in p.repairs), key=lambda r: (r["page"], r["line"], r["kind"], r["detail"])
    )
    notes = sorted({n for p in pages for n in p.notes})
    files["repairs.json"] = {"repairs": repairs, "notes": notes}
    return Derived(files, examples)


def to_json_text(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


MANIFEST = ".graph-conformance-manifest"  # in an --out folder: what derive wrote there (JSON; not *.json)


def _owned_files(out: Path) -> set[str]:
    """The files an earlier ``write`` listed in ``out``'s manifest; refuses a folder holding anything else.

    A missing or empty folder owns nothing. A folder with files but no manifest, or with files its
    manifest does not list, is refused with :class:`UsageError` naming them: they are not ours to
    overwrite or delete.
    """
    from pathlib import PurePosixPath

    if not out.exists():
        return set()
    if not out.is_dir():
        raise UsageError(f"derive --out {out}: not a folder")
    present = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_symlink() or not p.is_dir())
    owned: set[str] = set()
    manifest = out / MANIFEST
    managed = manifest.is_file() and not manifest.is_symlink()
    if managed:
        try:
            listed = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        except (OSError, ValueError, KeyError, TypeError):
            listed = None
        safe = isinstance(listed, list) and all(
            isinstance(rel, str)
            and rel.endswith(".json")
            and "\\" not in rel
            and not PurePosixPath(rel).is_absolute()
            and all(part not in ("", ".", "..") for part in rel.split("/"))
            for rel in listed
        )
        if not safe:
            raise UsageError(
                f"derive --out {out}: {MANIFEST} is not a manifest graph-conformance wrote; give an empty or new folder"
            )
        owned = set(listed)
    foreign = [rel for rel in present if not managed or (rel != MANIFEST and rel not in owned)]
    if foreign:
        names = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        advice = "move them out, or give an empty or new folder" if managed else "give an empty or new folder"
        raise UsageError(
            f"derive --out {out}: the folder holds files graph-conformance did not write: {names}; {advice}"
        )
    return owned


def write(derived: Derived, out: Path) -> list[Path]:
    """Write every derived file under ``out``, and remove the files an earlier write made that are no longer derived.

    ``out`` must be new, empty, or a folder an earlier write made (it holds the manifest
    :data:`MANIFEST`, listing the files written, sorted). Anything else in it, derive did not write:
    the folder is refused before anything is written, and nothing in it is ever deleted.
    """
    owned = _owned_files(out)
    fresh = sorted(derived.files)

    def manifest(files: Iterable[str]) -> None:
        listing = {"files": sorted(files), "written by": "graph-conformance derive"}
        (out / MANIFEST).write_text(to_json_text(listing), "utf-8")

    written: list[Path] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        manifest(owned | set(fresh))  # claims every file before it is written: an interrupted write stays ours
        for rel in fresh:
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(to_json_text(derived.files[rel]), encoding="utf-8")
            written.append(target)
        for rel in sorted(owned - set(fresh)):
            stale = out / rel
            if stale.is_symlink() or stale.is_file():
                stale.unlink()
            folder = stale.parent
            while folder != out and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent
        manifest(fresh)
    except OSError as exc:
        raise UsageError(f"derive --out {out}: cannot write {exc.filename or out}: {exc.strerror or exc}") from None
    return written
