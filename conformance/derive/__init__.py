"""Derive JSON Schemas, an operations catalogue and a conflicts list from documentation pages.

Input: the pages under one or more ``--docs`` folders (read by :mod:`conformance.docpages`), and
each version's CSDL metadata given by ``--metadata`` (read by :mod:`conformance.csdl`).
Output, per API version, under the output folder (deterministic: sorted keys, no timestamps)::

    <version>/<type>.json        JSON Schema (draft 2020-12) of each documented type
    <version>/graphError.json    the Graph error envelope, with the error codes the pages document
    <version>/operations.json    method, path templates, documented statuses, types, source pages
    conflicts.json               every place where pages disagree, with both (all) sources
    repairs.json                 every repair made to doc JSON and every oddity noted in a page

A source reads its input into :class:`~conformance.derive.facts.Facts` (``pages``: the doc pages;
``metadata``: the CSDL files, where they disagree with the pages ``conflicts`` says so);
each document is built from the facts alone (``type_schemas``, ``envelope``, ``operations``,
``conflicts``); ``output`` turns them into text and writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conformance.csdl import CsdlModel
from conformance.derive.conflicts import find_conflicts
from conformance.derive.envelope import ERROR_TYPE, error_document
from conformance.derive.facts import TYPES
from conformance.derive.metadata import metadata_files, read_metadata_facts, read_models
from conformance.derive.operations import canonical_path, operations_document
from conformance.derive.output import MANIFEST, Derived, to_json_text, write
from conformance.derive.pages import load_pages, read_facts, repairs_document
from conformance.derive.type_schemas import enum_schemas, type_document
from conformance.docpages import Page
from conformance.versions import ALL_VERSIONS, Version

__all__ = [
    "MANIFEST",
    "TYPES",
    "Derived",
    "canonical_path",
    "derive",
    "load_pages",
    "metadata_files",
    "read_models",
    "to_json_text",
    "write",
]


def derive(pages: list[Page], models: Sequence[tuple[Version, CsdlModel]] = ()) -> Derived:
    """Every derived file (relative path -> document) from ``pages`` and the versions' metadata ``models``,
    and the pages' response examples.

    Deterministic: the same pages in any order give the same documents.
    """
    facts = read_facts(pages)
    read_metadata_facts(list(models), facts)
    files: dict[str, Any] = {}
    for version in ALL_VERSIONS:
        enums = enum_schemas(facts.enums[version])
        for name in TYPES:
            files[f"{version}/{name}.json"] = type_document(version, facts.types[version], name, enums)
        files[f"{version}/{ERROR_TYPE}.json"] = error_document(version, facts.errors[version])
        files[f"{version}/operations.json"] = operations_document(
            version, facts.operations[version], facts.capabilities[version]
        )
    files["conflicts.json"] = {"conflicts": find_conflicts(facts)}
    files["repairs.json"] = repairs_document(pages)
    return Derived(files, facts.examples)
