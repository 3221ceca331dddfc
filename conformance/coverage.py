"""What the scenarios cover: every documented operation x status, and every rule.

Operations and their statuses come from the derived catalogue (``<version>/operations.json``,
operations documented on at least one published page); a scenario step covers ``(operation,
status)`` when its method and path are the operation's and it accepts that status. Rules come from
``rules.yaml``; a scenario covers a rule by carrying the rule's id among its tags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.derive import canonical_path
from conformance.rules import RULES_PATH, load_rules
from conformance.scenarios import Scenario
from conformance.versions import ALL_VERSIONS

__all__ = ["RULES_PATH", "Coverable", "compute", "load_rules", "table_lines"]


@dataclass
class Coverable:
    """An operation x status, or a rule, and the cases that cover it."""
    kind: str  # "operation" or "rule"
    key: str
    covered_by: list[str] = field(default_factory=list)


def compute(scenarios: list[Scenario], documents: dict[str, Any], rules: dict[str, Any]) -> list[Coverable]:
    """Which scenarios cover each published operation x status and each rule."""
    items: list[Coverable] = []
    for version in ALL_VERSIONS:
        operations = documents.get(f"{version}/operations.json", {}).get("operations", {})
        for key, op in sorted(operations.items()):
            if not op["published"]:
                continue
            for status in sorted({*op["success"], *op["errors"]}, key=int):
                item = Coverable("operation", f"{version} {key} -> {status}")
                for scenario in scenarios:
                    if version not in scenario.versions:
                        continue
                    for step in scenario.steps:
                        if (
                            op["method"] in step.request.methods
                            and canonical_path(step.request.path) == op["canonical_path"]
                            and int(status) in step.statuses
                        ):
                            item.covered_by.append(f"{scenario.id}[{version}]")
                            break
                items.append(item)
    for rule_id in sorted(rules):
        items.append(Coverable("rule", rule_id, sorted(s.id for s in scenarios if rule_id in s.tags)))
    return items


def table_lines(items: list[Coverable]) -> list[str]:
    """The coverage table as text lines, with the covered share of each group and in all."""
    lines: list[str] = []
    for kind, title in (
        ("operation", "documented operations x statuses (published pages)"),
        ("rule", "rules (rules.yaml)"),
    ):
        group = [i for i in items if i.kind == kind]
        covered = sum(1 for i in group if i.covered_by)
        lines.append(f"{title}: {covered}/{len(group)} covered")
        for item in group:
            who = ", ".join(sorted(set(item.covered_by))[:4]) + (" ..." if len(set(item.covered_by)) > 4 else "")
            lines.append(f"  {'ok ' if item.covered_by else 'NOT'} {item.key:<100} {who or '(no scenario)'}")
    total, covered = len(items), sum(1 for i in items if i.covered_by)
    lines.append(
        f"coverage: {covered}/{total} = {100 * covered / total:.0f}%" if total else "coverage: nothing to cover"
    )
    return lines
