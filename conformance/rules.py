"""``rules.yaml``: the behavioural rules the catalogue must cover, read for the coverage table and the
loader (a scenario's ``each: {rule: ...}`` takes its boundary values from a rule's ``bounds``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

RULES_PATH = Path(__file__).with_name("rules.yaml")
RULES_DISPLAY = "conformance/rules.yaml"  # how messages name it


def load_rules(path: Path = RULES_PATH) -> dict[str, Any]:
    """The rules of ``rules.yaml``: rule id -> ``rule``, ``docs`` and, for a range, ``bounds``.

    Read once per version of the file (a run asks for them from several places); the caller must not
    change what it gets."""
    status = path.stat()
    return _read(str(path), status.st_mtime_ns, status.st_size)


@cache
def _read(path: str, modified: int, size: int) -> dict[str, Any]:
    from conformance import safeyaml

    rules: dict[str, Any] = safeyaml.safe_load(Path(path).read_text(encoding="utf-8"), path)
    return rules
