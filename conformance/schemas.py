"""Load the derived schemas and validate payloads against them.

Two things that plain jsonschema does not do are enforced here:

- ``format: date-time`` is checked with ``rfc3339-validator`` (without it jsonschema silently skips
  the format; the project depends on it directly rather than on the ``format-nongpl`` extra, whose
  other checkers cost over a second of import time); importing this module fails loudly if the
  checker is missing;
- ``contentEncoding: base64`` (only an annotation in draft 2020-12) is a real check: the string must
  decode with ``base64.b64decode(value, validate=True)``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance import contract
from conformance.errors import UsageError

FORMAT_CHECKER = FormatChecker()
if "date-time" not in FORMAT_CHECKER.checkers:  # pragma: no cover - guarded by the dependency pin
    raise ImportError("jsonschema cannot check date-time here: install jsonschema[format-nongpl]")


def _content_encoding(
    validator: Any, encoding: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if encoding != "base64" or not isinstance(instance, str):
        return
    try:
        base64.b64decode(instance, validate=True)
    except (binascii.Error, ValueError):
        yield ValidationError(f"{instance[:40]!r} is not valid base64")


GraphValidator = validators.extend(  # type: ignore[no-untyped-call]  # jsonschema's extend is untyped
    Draft202012Validator, {"contentEncoding": _content_encoding}
)


@dataclass(frozen=True)
class SchemaSet:
    """All derived documents of one folder, with validators per API version and type."""

    root: Path

    @cached_property
    def documents(self) -> dict[str, Any]:
        return contract.read_documents(self.root)

    @cached_property
    def digest(self) -> str:
        return contract.digest(self.root)

    @cached_property
    def _validatable(self) -> dict[str, dict[str, Any]]:
        """The schemas without ``$schema``: jsonschema picks the validator class from it on every
        ``$ref``, which would swap :data:`GraphValidator` for the stock class and drop the base64
        check inside referenced types. The dialect is fixed to draft 2020-12 instead."""
        return {
            rel: {k: v for k, v in doc.items() if k != "$schema"}
            for rel, doc in self.documents.items()
            if isinstance(doc, dict) and "$id" in doc
        }

    @cached_property
    def registry(self) -> Registry:
        resources = [
            (doc["$id"], Resource.from_contents(doc, default_specification=DRAFT202012))
            for doc in self._validatable.values()
        ]
        return Registry().with_resources(resources)

    def type_names(self, version: str) -> list[str]:
        """The derived types of ``version``."""
        return contract.type_names(self.documents, version)

    def schema(self, version: str, type_name: str) -> dict[str, Any]:
        """The derived schema document of ``type_name`` in ``version``."""
        try:
            document: dict[str, Any] = self.documents[f"{version}/{type_name}.json"]
        except KeyError:
            known = ", ".join(self.type_names(version)) or "none"
            raise UsageError(f"no derived schema '{type_name}' for API version '{version}' (known: {known})") from None
        return document

    @cached_property
    def _validators(self) -> dict[str, Any]:
        return {}

    def validator(self, version: str, type_name: str) -> Any:
        """One validator per type, built once: every checked step uses one."""
        key = f"{version}/{type_name}.json"
        if key not in self._validators:
            self.schema(version, type_name)  # a clear error for an unknown type
            self._validators[key] = GraphValidator(
                self._validatable[key], registry=self.registry, format_checker=FORMAT_CHECKER
            )
        return self._validators[key]

    def errors(self, version: str, type_name: str, instance: Any) -> list[ValidationError]:
        """Every violation of the schema by ``instance``, in a stable order."""
        found = self.validator(version, type_name).iter_errors(instance)
        return sorted(found, key=lambda e: (list(map(str, e.absolute_path)), e.message))
