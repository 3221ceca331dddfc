"""The Graph error envelope (``graphError``), with the error codes the sources document.

No page of the corpus describes the envelope itself: its shape is Graph's general error format;
only the documented codes, each with its statuses and sources, are derived.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from conformance.derive.facts import sorted_sources, source
from conformance.derive.type_schemas import SCHEMA_BASE

ERROR_TYPE = "graphError"


def error_document(version: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The envelope's schema for one version; ``errors`` are its documented errors (status, code, page, line)."""
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
                        "x-documented-codes": {c: sorted_sources(codes[c]) for c in sorted(codes)},
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
