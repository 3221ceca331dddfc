"""What changed between two recorded runs: two cassette folders, case by case.

For every case recorded in either folder: cases that appeared or disappeared, and for each
exchange (paired in order) a changed request, a changed status, and properties (JSON paths of
members, values ignored) that are new or missing. Secrets are placeholders in both, so they
never show as changes. Cassettes are read within limits (:mod:`conformance.safeyaml`), and one
that is unreadable or malformed stops the comparison with exit 2, naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.errors import UsageError


@dataclass(frozen=True)
class RecordedExchange:
    """One recorded request: method, path, status and the JSON members of its answer."""
    method: str
    path: str
    status: int
    members: frozenset[str]


MAX_BODY_DEPTH = 64  # members nested deeper than this are not compared


def members(value: Any, prefix: str = "$") -> set[str]:
    """The JSON paths of every member of a value (array items as ``[*]``), down to 64 levels."""
    found: set[str] = set()
    pending: list[tuple[Any, str, int]] = [(value, prefix, 0)]
    while pending:
        item, path, depth = pending.pop()
        if depth >= MAX_BODY_DEPTH:
            continue
        if isinstance(item, dict):
            for key, child in item.items():
                found.add(f"{path}.{key}")
                pending.append((child, f"{path}.{key}", depth + 1))
        elif isinstance(item, list):
            pending.extend((child, f"{path}[*]", depth + 1) for child in item)
    return found


def _json(text: str | bytes) -> Any:
    import json

    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        return json.loads(text) if text.strip() else None
    except (ValueError, RecursionError):  # not JSON, or nested beyond what the parser takes: no members
        return None


def read_cassette(path: Path) -> list[RecordedExchange]:
    """The exchanges of one cassette; a :class:`UsageError` (exit 2) naming the file when it is unusable."""
    from conformance.errors import CassetteError
    from conformance.safeyaml import load_cassette

    try:
        interactions = load_cassette(path, path.as_posix())  # read within limits, shape checked
    except CassetteError as exc:
        raise UsageError(f"compare: {exc}") from None
    exchanges: list[RecordedExchange] = []
    for interaction in interactions:
        request, response = interaction["request"], interaction["response"]
        exchanges.append(
            RecordedExchange(
                request["method"],
                urlsplit(request["uri"]).path,
                response["status"]["code"],
                frozenset(members(_json(response["body"]["string"]))),
            )
        )
    return exchanges


def compare(baseline: Path, current: Path) -> list[str]:
    """What changed from ``baseline`` to ``current`` (cassette folders), one line per change.

    Bad input (a missing folder, an unreadable or malformed cassette) raises a
    :class:`~conformance.errors.ConformanceError` with exit code 2, never a change."""
    for folder in (baseline, current):
        if not folder.is_dir():
            raise UsageError(f"compare: {folder}: no such cassette folder")
    # every cassette of both folders is read (and so checked), whether or not the other has it
    before = {p.stem: read_cassette(p) for p in sorted(baseline.glob("*.yaml"))}
    after = {p.stem: read_cassette(p) for p in sorted(current.glob("*.yaml"))}
    lines: list[str] = []
    for name in sorted(set(before) - set(after)):
        lines.append(f"{name}: recorded in the baseline only")
    for name in sorted(set(after) - set(before)):
        lines.append(f"{name}: new (not in the baseline)")
    for name in sorted(set(before) & set(after)):
        old, new = before[name], after[name]
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
