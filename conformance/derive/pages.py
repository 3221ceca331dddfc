"""The doc pages as a source of facts: the folders read into pages, the pages read into :class:`Facts`.

Types come from the property tables; examples only add what the tables do not say (which
properties appear, ``@odata.type`` spellings, which properties every complete example carries).
Every resource page is read (base types too); its "Inherits from" lines and ``baseType`` give its
bases. Operations come from the syntax lines (else the example requests), statuses from the prose
and the examples, request types from the request body section and the example requests, error codes
from the error tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conformance import doc_json
from conformance.derive.facts import TYPES, Facts, OperationFacts, PropertyFact, TypeFacts, source
from conformance.derive.operations import canonical_path
from conformance.derive.type_schemas import SCALARS
from conformance.docpages import HttpExample, Page, Table, read_page
from conformance.errors import DocError, UsageError

_PAGE_SUFFIXES = (".md", ".txt")
_WRITES = ("PUT", "PATCH", "POST")
_POSSIBLE_VALUES = re.compile(r"possible values are:?(.*)", re.IGNORECASE)
_BACKTICKED = re.compile(r"`([A-Za-z][A-Za-z0-9]*)`")
_NULL = re.compile(r"\bnull\b", re.IGNORECASE)  # a description saying the property can read null


def load_pages(doc_dirs: list[Path]) -> list[Page]:
    """Every page under the given folders; a page's display path starts with its folder's name.

    Pages are ``*.md`` and ``*.txt`` files (not ``README.md``), read in path order. A missing or
    pageless folder is a :class:`UsageError`; a page whose API version cannot be told, a :class:`DocError`.
    """
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


def read_facts(pages: list[Page]) -> Facts:
    """What the pages say about the types, enums, operations and error codes of each version."""
    facts = Facts()
    _read_types(pages, facts)
    _read_examples(pages, facts)
    _read_operations(pages, facts)
    return facts


def repairs_document(pages: list[Page]) -> dict[str, Any]:
    """Every repair made to the pages' JSON and every oddity noted in them, sorted."""
    repairs = sorted(
        (r.as_dict() for p in pages for r in p.repairs), key=lambda r: (r["page"], r["line"], r["kind"], r["detail"])
    )
    notes = sorted({n for p in pages for n in p.notes})
    return {"repairs": repairs, "notes": notes}


# --- types and enums -----------------------------------------------------------------------------


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


def _read_types(pages: list[Page], facts: Facts) -> None:
    for page in pages:
        assert page.version is not None
        version = page.version
        enums = facts.enums[version]
        if page.is_resource and page.resource_name:
            type_facts = facts.types[version].setdefault(page.resource_name, TypeFacts(page.resource_name))
            type_facts.sources.append(source(page.path, 1))
            for base, line in page.base_types:
                if base != page.resource_name:
                    type_facts.base_types[base].append(source(page.path, line))
            for rep in page.representations:
                type_facts.key_property = type_facts.key_property or rep.key_property
                odata = rep.body.get("@odata.type") if isinstance(rep.body, dict) else None
                if isinstance(odata, str):
                    type_facts.odata_forms[odata].append(source(page.path, rep.line))
            for table in _property_tables(page):
                for line, cells in table.rows:
                    if len(cells) < 2 or not cells[0]:
                        continue
                    graph_type, collection = _type_cell(cells[1])
                    name = cells[0].replace("*", "").strip()
                    type_facts.properties[name].append(PropertyFact(graph_type, collection, page.path, line))
                    description = cells[2] if len(cells) > 2 else ""
                    if _NULL.search(description):
                        type_facts.shown_null[name].append(source(page.path, line))
                    values = _POSSIBLE_VALUES.search(description)
                    if values and graph_type not in SCALARS:
                        members = tuple(_BACKTICKED.findall(values.group(1)))
                        if members:
                            enums[graph_type].members[members].append(source(page.path, line))
        for table in page.tables:
            if table.header[:1] == ("Member",) and table.heading.endswith(" values"):
                enum_name = table.heading.split()[0]
                members = tuple(cells[0].strip("` ") for _, cells in table.rows if cells and cells[0])
                if members:
                    enums[enum_name].members[members].append(source(page.path, table.line))


def _example_type(page: Page, example: HttpExample) -> str | None:
    odata = example.annotation.get("@odata.type")
    if isinstance(odata, str):
        return odata.removeprefix("#").removeprefix("microsoft.graph.")
    if example.kind == "response" and page.response_types:
        return page.response_types[0][0]
    return None


def _walk_example(
    types: dict[str, TypeFacts], type_name: str, value: Any, page: str, line: int, complete: bool, answer: bool
) -> None:
    facts = types.get(type_name)
    if facts is None or not isinstance(value, dict):
        return
    if answer:
        facts.answers.append((set(value), source(page, line)))
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
        if item is None:
            facts.shown_null[key].append(source(page, line))
        for fact in facts.properties.get(key, []):
            if fact.graph_type in types:
                for element in item if isinstance(item, list) else [item]:
                    _walk_example(types, fact.graph_type, element, page, line, complete, answer)
                break


def _read_examples(pages: list[Page], facts: Facts) -> None:
    """Walk every example into the type facts (whose tables are read); keep the response examples."""
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
            answer = example.kind == "response"
            _walk_example(facts.types[page.version], type_name, example.body, page.path, line, complete, answer)
            if example.kind == "response":
                facts.examples.append(
                    {
                        "version": page.version,
                        "type": type_name,
                        "page": page.path,
                        "line": line,
                        "body": doc_json.strip_unknown(example.body),
                    }
                )


# --- operations and their errors -----------------------------------------------------------------


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


def _matches(template: str, concrete: str) -> bool:
    t_parts, c_parts = canonical_path(template).split("/"), canonical_path(concrete).split("/")
    return len(t_parts) == len(c_parts) and all(t == "{id}" or t == c for t, c in zip(t_parts, c_parts, strict=False))


def _read_operations(pages: list[Page], facts: Facts) -> None:
    for page in pages:
        if page.is_resource:
            continue
        assert page.version is not None
        ops = facts.operations[page.version]
        errors = _documented_errors(page)
        facts.errors[page.version].extend(errors)
        forms = [(s.method, s.path, s.line) for s in page.syntax]
        if not forms:  # no syntax block: the example requests are the only forms given
            forms = [(e.method, e.path, e.line) for e in page.examples if e.kind == "request" and e.method and e.path]
        page_ops: list[OperationFacts] = []
        for method, path, line in forms:
            key = (method, canonical_path(path))
            op = ops.setdefault(key, OperationFacts(method, key[1]))
            op.templates[path].append(source(page.path, line))
            if op not in page_ops:
                page_ops.append(op)
        for op in page_ops:
            op.pages.add(page.path)
            op.published = op.published or not page.draft
            for statement in page.statuses:
                if statement.kind == "response":
                    op.success[statement.status].append({**source(page.path, statement.line), "from": "text"})
            op.errors.extend(errors)
            op.response_types.update(t for t, _ in page.response_types)
            op.request_types.update(t for t, _ in page.request_types)
        typed_here: set[tuple[str, str]] = set()
        current: list[OperationFacts] = page_ops
        for example in page.examples:
            if example.kind == "request" and example.method and example.path:
                current = [
                    op for op in page_ops if op.method == example.method and _matches(op.canonical, example.path)
                ] or page_ops
                for body_type in _request_body_types(example):
                    for op in current:
                        op.request_types.add(body_type)
                        typed_here.add((op.method, op.canonical))
            elif example.kind == "response" and example.status:
                for op in current:
                    op.success[example.status].append({**source(page.path, example.line), "from": "example"})
                    odata = example.annotation.get("@odata.type")
                    if isinstance(odata, str):
                        op.response_types.add(odata.removeprefix("microsoft.graph."))
        for op in page_ops:
            if op.method in _WRITES and not page.request_types and (op.method, op.canonical) not in typed_here:
                op.request_notes.append(_untyped_request_note(page))


def _request_body_types(example: HttpExample) -> set[str]:
    """The types an example request gives its body: its annotation's and the body's ``@odata.type``."""
    given = [example.annotation.get("@odata.type")]
    if isinstance(example.body, dict):
        given.append(example.body.get("@odata.type"))
    return {g.removeprefix("#").removeprefix("microsoft.graph.") for g in given if isinstance(g, str)}


def _untyped_request_note(page: Page) -> dict[str, Any]:
    """Why a page gives a writing operation no request type: its request body section names none."""
    parameters = [
        cells[0]
        for table in page.tables
        if table.section.lower() == "request body" and table.header[:1] == ("Parameter",)
        for _, cells in table.rows
        if cells and cells[0]
    ]
    note = (
        f"the request body holds action parameters ({', '.join(parameters)}), not a typed object"
        if parameters
        else "the request body section and the example requests name no type"
    )
    return {"note": note, **source(page.path, page.request_body_line or 1)}
