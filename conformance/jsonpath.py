"""The small JSON path subset scenarios use: ``$``, ``.name``, ``["any name"]``, ``[index]``."""

from __future__ import annotations

import json
import re
from typing import Any

_TOKEN = re.compile(r'\.([A-Za-z_@][A-Za-z0-9_@.-]*?)(?=\.|\[|$)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')
MISSING = object()


def parse(path: str) -> list[str | int]:
    """``$.a["b.c"][0]`` -> ``["a", "b.c", 0]``; raises ValueError for anything else."""
    if not path.startswith("$"):
        raise ValueError(f"not a JSON path: {path!r}")
    parts: list[str | int] = []
    pos = 1
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if not match:
            raise ValueError(f"cannot read JSON path {path!r} at character {pos + 1}")
        if match.group(1) is not None:
            parts.append(match.group(1))
        elif match.group(2) is not None:
            parts.append(int(match.group(2)))
        else:
            parts.append(json.loads(match.group(3)))
        pos = match.end()
    return parts


def find(document: Any, path: str) -> Any:
    """The value at ``path``, or :data:`MISSING`."""
    value = document
    for part in parse(path):
        if isinstance(part, int) and isinstance(value, list) and -len(value) <= part < len(value):  # noqa: SIM114  # each branch narrows its own types
            value = value[part]
        elif isinstance(part, str) and isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return MISSING
    return value


def format_path(parts: list[Any]) -> str:
    """JSON path parts as text: ``$.a["b c"][0]``."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(part)):
            out += f".{part}"
        else:
            out += f"[{json.dumps(part)}]"
    return out
