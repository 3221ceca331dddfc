"""What changed between two recorded runs: two cassette folders, case by case.

For every case recorded in either folder: cases that appeared or disappeared, and for each
exchange (paired in order) a changed request, a changed status, and properties (JSON paths of
members, values ignored) that are new or missing. Secrets are placeholders in both, so they
never show as changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.errors import UsageError


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    members: frozenset[str]


def members(value: Any, prefix: str = "$") -> set[str]:
    """The JSON paths of every member of a value (array items as ``[*]``)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}"
            found.add(path)
            found |= members(item, path)
    elif isinstance(value, list):
        for item in value:
            found |= members(item, f"{prefix}[*]")
    return found


def read_cassette(path: Path) -> list[Exchange]:
    import json

    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"compare: {path}: not a readable cassette: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"compare: {path}: not a cassette (no interactions)")
    exchanges: list[Exchange] = []
    for interaction in data.get("interactions", []):
        request, response = interaction.get("request", {}), interaction.get("response", {})
        text = (response.get("body") or {}).get("string") or ""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        try:
            body = json.loads(text) if text.strip() else None
        except ValueError:
            body = None
        exchanges.append(
            Exchange(
                request.get("method", "?"),
                urlsplit(request.get("uri", "")).path,
                int((response.get("status") or {}).get("code", 0)),
                frozenset(members(body)),
            )
        )
    return exchanges


def compare(baseline: Path, current: Path) -> list[str]:
    for folder in (baseline, current):
        if not folder.is_dir():
            raise UsageError(f"compare: {folder}: no such cassette folder")
    before = {p.stem: p for p in baseline.glob("*.yaml")}
    after = {p.stem: p for p in current.glob("*.yaml")}
    lines: list[str] = []
    for name in sorted(set(before) - set(after)):
        lines.append(f"{name}: recorded in the baseline only")
    for name in sorted(set(after) - set(before)):
        lines.append(f"{name}: new (not in the baseline)")
    for name in sorted(set(before) & set(after)):
        old, new = read_cassette(before[name]), read_cassette(after[name])
        if len(old) != len(new):
            lines.append(f"{name}: {len(old)} exchanges in the baseline, {len(new)} now")
        for index, (a, b) in enumerate(zip(old, new, strict=False), start=1):
            where = f"{name} #{index} {b.method} {b.path}"
            if (a.method, a.path) != (b.method, b.path):
                lines.append(f"{where}: the request was {a.method} {a.path} in the baseline")
                continue
            if a.status != b.status:
                lines.append(f"{where}: status {a.status} -> {b.status}")
            for path in sorted(b.members - a.members):
                lines.append(f"{where}: new property {path}")
            for path in sorted(a.members - b.members):
                lines.append(f"{where}: missing property {path}")
    return lines
