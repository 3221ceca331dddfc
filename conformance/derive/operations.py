"""Operation facts → the operations catalogue of one version (``operations.json``).

An operation is one method on one canonical path; its entry keeps every path template the sources
give, the success statuses and documented errors with their sources, the request and response
types (a writing operation no page types says why in ``request_notes``), and whether any page that
documents it is published (not a draft).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from conformance.derive.facts import OperationFacts, sorted_sources, source


def canonical_path(path: str) -> str:
    """Case-folded path with ``/me`` as ``/users/{id}`` and every placeholder as ``{id}``."""
    path = re.sub(r"\{[^}]*\}", "{id}", path)
    path = re.sub(r"^/me(?=/|$)", "/users/{id}", path, flags=re.IGNORECASE)
    return path.lower()


def display_key(op: OperationFacts) -> str:
    """An operation's key in the catalogue: its method and its most telling template, placeholders as ``{id}``.

    A ``/users/`` template comes first, then the one most places give.
    """
    templates = sorted(op.templates, key=lambda t: (not t.lower().startswith("/users/"), -len(op.templates[t]), t))
    best = re.sub(r"\{[^}]*\}", "{id}", templates[0])
    return f"{op.method} {best}"


def operations_document(version: str, ops: dict[tuple[str, str], OperationFacts]) -> dict[str, Any]:
    """The catalogue of one version: every operation under its :func:`display_key`, sorted."""
    entries: dict[str, Any] = {}
    for op in ops.values():
        errors: dict[str, Any] = defaultdict(list)
        for error in op.errors:
            errors[str(error["status"])].append({"code": error["code"], **source(error["page"], error["line"])})
        entries[display_key(op)] = {
            "method": op.method,
            "canonical_path": op.canonical,
            "paths": {t: sorted_sources(op.templates[t]) for t in sorted(op.templates)},
            "success": {str(s): sorted_sources(op.success[s]) for s in sorted(op.success)},
            "errors": {s: sorted_sources(errors[s]) for s in sorted(errors)},
            "request_types": sorted(op.request_types),
            # Only an operation no source gives a request type says why, page by page.
            "request_notes": [] if op.request_types else sorted_sources(op.request_notes),
            "response_types": sorted(op.response_types),
            "pages": sorted(op.pages),
            "published": op.published,
        }
    return {"version": version, "operations": {k: entries[k] for k in sorted(entries)}}
