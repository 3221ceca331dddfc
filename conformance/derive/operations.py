"""Operation facts → the operations catalogue of one version (``operations.json``).

An operation is one method on one canonical path; its entry keeps every path template the sources
give, the success statuses and documented errors with their sources, the request and response
types (a writing operation no source types says why in ``request_notes``), and whether any page that
documents it is published (not a draft). ``verbs`` lists, per source, every verb given on the same
canonical path (the pages' operations; the metadata's capability annotations and bound actions),
and ``documented_alternatives`` the writing verbs only the other source gives there when this
operation's verb is given by one source alone (``updatePin``: PATCH on the pages, POST in the metadata).
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


_WRITES = ("PUT", "PATCH", "POST")


def operations_document(
    version: str,
    ops: dict[tuple[str, str], OperationFacts],
    capabilities: dict[str, dict[str, list[dict[str, Any]]]],
) -> dict[str, Any]:
    """The catalogue of one version: every operation under its :func:`display_key`, sorted;
    ``capabilities`` are the verbs the metadata allows, by canonical path."""
    entries: dict[str, Any] = {}
    for op in ops.values():
        verbs = path_verbs(op.canonical, ops, capabilities)
        given_by = [side for side in ("pages", "metadata") if op.method in verbs[side]]
        alternatives: dict[str, Any] = {}
        if len(given_by) == 1:
            other = "metadata" if given_by == ["pages"] else "pages"
            alternatives = {
                verb: {"source": other, "sources": found}
                for verb, found in verbs[other].items()
                if verb in _WRITES and verb not in verbs[given_by[0]]
            }
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
            "verbs": verbs,
            "documented_alternatives": alternatives,
        }
    return {"version": version, "operations": {k: entries[k] for k in sorted(entries)}}


def path_verbs(
    canonical: str,
    ops: dict[tuple[str, str], OperationFacts],
    capabilities: dict[str, dict[str, list[dict[str, Any]]]],
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The verbs each source gives on one canonical path, each with its sources: ``pages`` (operations
    a page documents) and ``metadata`` (capability annotations and bound actions)."""
    from_pages: dict[str, list[dict[str, Any]]] = defaultdict(list)
    from_metadata: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for op in ops.values():
        if op.canonical == canonical:
            if op.pages:
                from_pages[op.method].extend(s for t in op.templates.values() for s in t if s["page"] in op.pages)
            from_metadata[op.method].extend(op.metadata)
    for verb, found in capabilities.get(canonical, {}).items():
        from_metadata[verb].extend(found)
    return {
        "pages": {v: sorted_sources(from_pages[v]) for v in sorted(from_pages)},
        "metadata": {v: sorted_sources(from_metadata[v]) for v in sorted(from_metadata) if from_metadata[v]},
    }
