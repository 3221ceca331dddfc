"""The verdicts of a run: each case's report, the failure message, the JSON report and the summary.

Cases stay typed (:class:`CaseReport`, holding the runner's :class:`CaseResult` with its typed
findings) until the JSON report is written; findings are rendered by :mod:`conformance.findings`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance import findings
from conformance.config import Settings
from conformance.findings import Note, Violation
from conformance.runner import CaseResult
from conformance.scenarios import Scenario


@dataclass
class CaseReport:
    """One case's verdict: its outcome, the runner's result when it ran, and why it ended so."""

    id: str
    outcome: str  # passed, failed, error, skipped, not-run or interrupted
    scenario: Scenario
    result: CaseResult | None = None
    reason: str | None = None  # why it was skipped or not run, or what pytest said of an error
    error: str | None = None  # for a case without a result (interrupted)

    @property
    def violations(self) -> list[Violation]:
        return self.result.violations if self.result is not None else []

    @property
    def notes(self) -> list[Note]:
        return self.result.notes if self.result is not None else []

    @property
    def problem(self) -> str | None:
        """What ended the case in error, if anything did."""
        return self.result.error if self.result is not None and self.result.error else self.error

    def as_json(self) -> dict[str, Any]:
        """The JSON report's entry for this case."""
        entry: dict[str, Any] = {
            "id": self.id,
            "outcome": self.outcome,
            "violations": [findings.as_json(v) for v in self.violations],
            "warnings": [findings.as_json(n) for n in self.notes],
            "exchanges": [],
        }
        if self.result is not None:
            entry["scenario"] = self.scenario.id
            entry["version"] = self.result.version
            entry["file"] = self.scenario.location
            entry["docs"] = list(self.scenario.docs)
            entry["exchanges"] = [e.summary() for e in self.result.exchanges]
            entry["choices"] = self.result.choices
            if self.result.not_run:
                entry["reason"] = f"not run: {self.result.not_run}"
        if self.problem:
            entry["error"] = self.problem
        if self.reason:
            entry["reason"] = self.reason
        entry["tags"] = list(self.scenario.tags)
        entry["writes"] = self.scenario.writes
        return entry


def failure_message(result: CaseResult) -> str:
    """The failure message of a case: each failing step, what was sent and came back, every finding."""
    lines = [f"{result.case_id} — {result.scenario.title} ({result.scenario.location})"]
    if result.not_run:
        lines.append(f"  not run: {result.not_run}")
    if result.error:
        lines.append(f"  error: {result.error}")
    by_step: dict[str, list[Violation | Note]] = {}
    every: list[Violation | Note] = [*result.violations, *result.notes]
    for finding in every:
        by_step.setdefault(finding.step, []).append(finding)
    for exchange in result.exchanges:
        shown = by_step.pop(exchange.step, [])
        if shown:
            lines.append(f'  step "{exchange.step}"')
            lines.append(f"    {exchange.summary()}")
            lines.extend(_indented(shown))
    for step, shown in by_step.items():
        lines.append(f'  step "{step}"')
        lines.extend(_indented(shown))
    return "\n".join(lines)


def _indented(shown: list[Violation | Note]) -> list[str]:
    return [f"    {findings.text(f)}".replace("\n", "\n    ") for f in shown]


def summary(cases: list[CaseReport]) -> dict[str, int]:
    """How many cases ended each way, and how many notes (drift warnings) the run found."""
    counts = Counter(c.outcome for c in cases)
    return {
        "passed": counts["passed"],
        "failed": counts["failed"],
        "errors": counts["error"],
        "skipped": counts["skipped"],
        "not_run": counts["not-run"],
        "interrupted": counts["interrupted"],
        "warnings": sum(len(c.notes) for c in cases),
    }


def write_json(path: Path, cases: list[CaseReport], settings: dict[str, Any], schema_digest: str) -> None:
    """The JSON report: the summary, the run's public settings, the schemas' digest and every case."""
    document = {
        "summary": summary(cases),
        "settings": settings,
        "schema_digest": schema_digest,
        "cases": [c.as_json() for c in cases],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def human(cases: list[CaseReport]) -> list[str]:
    """The counts, then every case with its outcome (failures with their first violation), then drift."""
    counts = summary(cases)
    interrupted = f", {counts['not_run']} not run" if counts["not_run"] else ""
    interrupted += f", {counts['interrupted']} interrupted" if counts["interrupted"] else ""
    lines = [
        f"graph-conformance: {counts['passed']} passed, {counts['failed']} failed, {counts['errors']} errors, "
        f"{counts['skipped']} skipped{interrupted}, {counts['warnings']} drift warnings"
    ]
    for case in sorted(cases, key=lambda c: (c.outcome == "passed", c.id)):
        reason = case.reason or (f"not run: {case.result.not_run}" if case.result and case.result.not_run else "")
        if case.outcome in ("failed", "error", "interrupted"):
            detail = findings.brief(case.violations[0]) if case.violations else case.problem or reason
            more = f" (+{len(case.violations) - 1} more)" if len(case.violations) > 1 else ""
            lines.append(f"  {case.outcome.upper()} {case.id}: {detail}{more}")
        elif case.outcome == "not-run":
            lines.append(f"  NOT RUN {case.id}: {reason}")
        elif case.outcome == "skipped":
            lines.append(f"  skipped {case.id}: {reason}")
        else:
            lines.append(f"  passed  {case.id}")
    for case in cases:
        for choice in case.result.choices if case.result else []:
            documented = "/".join(str(s) for s in choice["accepted"])
            lines.append(
                f'  alternative: {case.id} "{choice["step"]}" answered {choice["chosen"]} (documented: {documented})'
            )
    drift = Counter(findings.brief(n) for c in cases for n in c.notes)
    for text, count in sorted(drift.items()):
        lines.append(f"  drift: {text} ({count} case{'s' if count > 1 else ''})")
    return lines


def rules_checked(cases: list[CaseReport], settings: Settings) -> str | None:
    """When writes were held back: how many of the catalogue's rules the run checked, and which need writes."""
    from conformance.coverage import load_rules

    held_back = [c for c in cases if c.outcome == "skipped" and c.scenario.writes]
    if not held_back:
        return None
    rules = load_rules()
    ran = {t for c in cases if c.outcome in ("passed", "failed", "error") for t in c.scenario.tags}
    held = {t for c in held_back for t in c.scenario.tags}
    checked = sorted(r for r in rules if r in ran)
    need_writes = sorted(r for r in rules if r not in ran and r in held)
    kind = "read-only" if settings.read_only or not settings.allow_writes else "writes limited"
    line = f"graph-conformance: {kind} run: {len(checked)} of {len(rules)} rules checked"
    if need_writes:
        line += f"; need writes: {', '.join(need_writes)}"
    return line
