"""Load the derived schemas and validate payloads against them.

Two things that plain jsonschema does not do are enforced here:

- ``format: date-time`` is checked with ``rfc3339-validator`` (without it jsonschema silently skips
  the format); importing this module fails loudly if that checker is missing;
- ``contentEncoding: base64`` (only an annotation in draft 2020-12) is a real check: the string must
  decode with ``base64.b64decode(value, validate=True)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance.errors import UsageError

FORMAT_CHECKER = FormatChecker()
if "date-time" not in FORMAT_CHECKER.checkers:  # pragma: no cover - guarded by the dependency pin
    raise ImportError("jsonschema cannot check date-time here: install jsonschema[format-nongpl]")


def _content_encoding(validator: Any, encoding: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if encoding != "base64" or not isinstance(instance, str):
        return
    try:
        base64.b64decode(instance, validate=True)
    except (binascii.Error, ValueError):
        yield ValidationError(f"{instance[:40]!r} is not valid base64")


GraphValidator = validators.extend(Draft202012Validator, {"contentEncoding": _content_encoding})


def default_schema_dir() -> Path:
    """The derived schemas: inside the installed package, else the project's ``schemas/derived``."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "schemas" / "derived", package.parent / "schemas" / "derived"):
        if (candidate / "conflicts.json").is_file():
            return candidate
    raise UsageError("no derived schemas found: run 'graph-conformance derive' or reinstall the package")


@dataclass(frozen=True)
class SchemaSet:
    """All derived documents of one folder, with validators per API version and type."""

    root: Path

    @cached_property
    def documents(self) -> dict[str, Any]:
        return {
            path.relative_to(self.root).as_posix(): json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(self.root.rglob("*.json"))
        }

    @cached_property
    def digest(self) -> str:
        """A short digest of every derived file, to name the contract a run was checked against."""
        h = hashlib.sha256()
        for rel in sorted(self.documents):
            h.update(rel.encode())
            h.update((self.root / rel).read_bytes())
        return h.hexdigest()[:12]

    @cached_property
    def registry(self) -> Registry:
        resources = [
            (doc["$id"], Resource.from_contents(doc, default_specification=DRAFT202012))
            for doc in self.documents.values()
            if isinstance(doc, dict) and "$id" in doc
        ]
        return Registry().with_resources(resources)

    def type_names(self, version: str) -> list[str]:
        return sorted(
            rel.split("/", 1)[1].removesuffix(".json")
            for rel, doc in self.documents.items()
            if rel.startswith(f"{version}/") and isinstance(doc, dict) and "$schema" in doc
        )

    def schema(self, version: str, type_name: str) -> dict[str, Any]:
        try:
            document: dict[str, Any] = self.documents[f"{version}/{type_name}.json"]
        except KeyError:
            known = ", ".join(self.type_names(version)) or "none"
            raise UsageError(f"no derived schema '{type_name}' for API version '{version}' (known: {known})") from None
        return document

    def validator(self, version: str, type_name: str) -> Any:
        return GraphValidator(self.schema(version, type_name), registry=self.registry, format_checker=FORMAT_CHECKER)

    def errors(self, version: str, type_name: str, instance: Any) -> list[ValidationError]:
        """Every violation of the schema by ``instance``, in a stable order."""
        found = self.validator(version, type_name).iter_errors(instance)
        return sorted(found, key=lambda e: (list(map(str, e.absolute_path)), e.message))
