"""Readable differences between committed derived files and a fresh derivation.

The first lines name what matters to a reader of the contract: properties whose documented type
changed, appeared or disappeared, with the page and line that says so now. Every other difference
follows as ``file: $.json.path: committed X, docs now give Y``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

_MAX_LINES = 40


def _where(schema: dict[str, Any] | None) -> str:
    sources = (schema or {}).get("x-provenance") or (schema or {}).get("x-examples") or []
    return ", ".join(f"{s['page']}:{s['line']}" for s in sources) or "no page"


def _property_changes(rel: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[str]:
    old_props = old.get("properties", {}) if isinstance(old, dict) else {}
    new_props = new.get("properties", {}) if isinstance(new, dict) else {}
    for name in sorted(set(old_props) | set(new_props)):
        before, after = old_props.get(name), new_props.get(name)
        if before is None and after is not None:
            yield f"{rel}: property '{name}' is new: {after.get('x-graph-type', 'untyped')} ({_where(after)})"
        elif after is None and before is not None:
            was = before.get("x-graph-type", "untyped")
            yield f"{rel}: property '{name}' is gone (was {was} from {_where(before)})"
        elif before is not None and after is not None and before.get("x-graph-type") != after.get("x-graph-type"):
            yield (
                f"{rel}: property '{name}' changed type: committed {before.get('x-graph-type')}, "
                f"docs now say {after.get('x-graph-type')} ({_where(after)})"
            )


def _leaf_changes(path: str, old: Any, new: Any) -> Iterator[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            child = f"{path}.{key}" if key.replace("_", "").replace("-", "").isalnum() else f"{path}[{json.dumps(key)}]"
            if key not in old:
                yield f"{child}: not committed, docs now give {json.dumps(new[key])[:120]}"
            elif key not in new:
                yield f"{child}: committed {json.dumps(old[key])[:120]}, docs no longer give it"
            else:
                yield from _leaf_changes(child, old[key], new[key])
    elif old != new:
        yield f"{path}: committed {json.dumps(old)[:120]}, docs now give {json.dumps(new)[:120]}"


def differences(committed: dict[str, Any], derived: dict[str, Any]) -> list[str]:
    """Every difference between two sets of derived files (relative path -> JSON document)."""
    headline: list[str] = []
    detail: list[str] = []
    for rel in sorted(set(committed) | set(derived)):
        if rel not in committed:
            headline.append(f"{rel}: not committed (the docs now derive it)")
        elif rel not in derived:
            headline.append(f"{rel}: committed, but the docs no longer derive it")
        elif committed[rel] != derived[rel]:
            headline.extend(_property_changes(rel, committed[rel], derived[rel]))
            detail.extend(f"{rel}: {line}" for line in _leaf_changes("$", committed[rel], derived[rel]))
    lines = headline + detail
    if len(lines) > _MAX_LINES:
        lines = [*lines[:_MAX_LINES], f"... and {len(lines) - _MAX_LINES} more differences"]
    return lines
