"""The JSON conformance report and the short human summary, from the cases' results."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from conformance.config import Settings
from conformance.runner import CaseResult


def case_entry(result: CaseResult | None, case_id: str, outcome: str, reason: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": case_id, "outcome": outcome, "violations": [], "warnings": [], "exchanges": []}
    if result is not None:
        entry["scenario"] = result.scenario.id
        entry["version"] = result.version
        entry["file"] = result.scenario.location
        entry["docs"] = list(result.scenario.docs)
        entry["violations"] = [v.as_dict() for v in result.violations]
        entry["warnings"] = [w.as_dict() for w in result.warnings]
        entry["exchanges"] = [e.summary() for e in result.exchanges]
        entry["choices"] = result.choices
        if result.error:
            entry["error"] = result.error
        if result.not_run:
            entry["reason"] = f"not run: {result.not_run}"
    if reason:
        entry["reason"] = reason
    return entry


def summary(cases: list[dict[str, Any]]) -> dict[str, int]:
    counts = Counter(c["outcome"] for c in cases)
    return {
        "passed": counts["passed"],
        "failed": counts["failed"],
        "errors": counts["error"],
        "skipped": counts["skipped"],
        "not_run": counts["not-run"],
        "interrupted": counts["interrupted"],
        "warnings": sum(len(c["warnings"]) for c in cases),
    }


def write_json(path: Path, cases: list[dict[str, Any]], settings: dict[str, Any], schema_digest: str) -> None:
    document = {"summary": summary(cases), "settings": settings, "schema_digest": schema_digest, "cases": cases}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def human(cases: list[dict[str, Any]]) -> list[str]:
    """The counts, then every case with its outcome (failures with their first violation), then drift."""
    counts = summary(cases)
    interrupted = f", {counts['not_run']} not run" if counts["not_run"] else ""
    interrupted += f", {counts['interrupted']} interrupted" if counts["interrupted"] else ""
    lines = [
        f"graph-conformance: {counts['passed']} passed, {counts['failed']} failed, {counts['errors']} errors, "
        f"{counts['skipped']} skipped{interrupted}, {counts['warnings']} drift warnings"
    ]
    for case in sorted(cases, key=lambda c: (c["outcome"] == "passed", c["id"])):
        if case["outcome"] in ("failed", "error", "interrupted"):
            first = case["violations"][0] if case["violations"] else None
            detail = (
                f"{first['where']}: expected {first['expected']}, got {first['got']}"
                if first
                else case.get("error") or case.get("reason", "")
            )
            more = f" (+{len(case['violations']) - 1} more)" if len(case["violations"]) > 1 else ""
            lines.append(f"  {case['outcome'].upper()} {case['id']}: {detail}{more}")
        elif case["outcome"] == "not-run":
            lines.append(f"  NOT RUN {case['id']}: {case.get('reason', '')}")
        elif case["outcome"] == "skipped":
            lines.append(f"  skipped {case['id']}: {case.get('reason', '')}")
        else:
            lines.append(f"  passed  {case['id']}")
    for case in cases:
        for choice in case.get("choices", []):
            documented = "/".join(str(s) for s in choice["accepted"])
            lines.append(
                f'  alternative: {case["id"]} "{choice["step"]}" answered {choice["chosen"]} (documented: {documented})'
            )
    drift = Counter(f"{w['where']}: {w['message']}" for c in cases for w in c["warnings"])
    for text, count in sorted(drift.items()):
        lines.append(f"  drift: {text} ({count} case{'s' if count > 1 else ''})")
    return lines


def rules_checked(cases: list[dict[str, Any]], settings: Settings) -> str | None:
    """When writes were held back: how many of the catalogue's rules the run checked, and which need writes."""
    from conformance.coverage import load_rules

    if not any(c["outcome"] == "skipped" and c.get("writes") for c in cases):
        return None
    rules = load_rules()
    ran = {t for c in cases if c["outcome"] in ("passed", "failed", "error") for t in c.get("tags", [])}
    held = {t for c in cases if c["outcome"] == "skipped" and c.get("writes") for t in c.get("tags", [])}
    checked = sorted(r for r in rules if r in ran)
    need_writes = sorted(r for r in rules if r not in ran and r in held)
    kind = "read-only" if settings.read_only or not settings.allow_writes else "writes limited"
    line = f"graph-conformance: {kind} run: {len(checked)} of {len(rules)} rules checked"
    if need_writes:
        line += f"; need writes: {', '.join(need_writes)}"
    return line
