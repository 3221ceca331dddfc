"""Where the derived contract lives, read as plain JSON (no jsonschema import here)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conformance.errors import UsageError


def default_schema_dir() -> Path:
    """The derived schemas: inside the installed package, else the project's ``schemas/derived``."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "schemas" / "derived", package.parent / "schemas" / "derived"):
        if (candidate / "conflicts.json").is_file():
            return candidate
    raise UsageError("no derived schemas found: run 'graph-conformance derive' or reinstall the package")


def read_documents(root: Path) -> dict[str, Any]:
    """Every ``*.json`` under ``root``, keyed by its path relative to ``root``."""
    return {
        path.relative_to(root).as_posix(): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(root.rglob("*.json"))
    }


def type_names(documents: dict[str, Any], version: str) -> list[str]:
    """The schema documents (not catalogues) derived for one API version."""
    return sorted(
        rel.split("/", 1)[1].removesuffix(".json")
        for rel, doc in documents.items()
        if rel.startswith(f"{version}/") and isinstance(doc, dict) and "$schema" in doc
    )


def digest(root: Path) -> str:
    """A short digest of every derived file, naming the contract a run was checked against."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.json")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def allows_null(schema: Mapping[str, Any]) -> bool:
    """Whether a property schema of the contract admits ``null`` (``type`` lists it, or an ``anyOf`` branch does)."""
    kinds = schema.get("type")
    if kinds == "null" or (isinstance(kinds, list) and "null" in kinds):
        return True
    return any(isinstance(b, dict) and allows_null(b) for b in schema.get("anyOf", []))
