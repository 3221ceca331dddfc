"""``rules.yaml``: the behavioural rules the catalogue must cover, read for the coverage table and the
loader (a scenario's ``each: {rule: ...}`` takes its boundary values from a rule's ``bounds``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

RULES_PATH = Path(__file__).with_name("rules.yaml")
RULES_DISPLAY = "conformance/rules.yaml"  # how messages name it


def load_rules(path: Path = RULES_PATH) -> dict[str, Any]:
    """The rules of ``rules.yaml``: rule id -> ``rule``, ``docs`` and, for a range, ``bounds``."""
    import yaml

    rules: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return rules
