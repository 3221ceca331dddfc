"""The verdicts of a run: each case's report, the failure message, the JSON report and the summary.

Cases stay typed (:class:`CaseReport`, holding the runner's :class:`CaseResult` with its typed
findings) until the JSON report is written; findings are rendered by :mod:`conformance.findings`.
"""

from __future__ import annotations

import json
import shlex
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance import __version__, findings, scrub
from conformance.config import Settings
from conformance.deviations import Deviation
from conformance.findings import Note, NoteKind, Violation
from conformance.runner import CaseResult, Exchange
from conformance.scenarios import Scenario


@dataclass
class CaseReport:
    """One case's verdict: its outcome, the runner's result when it ran, and why it ended so."""

    id: str
    outcome: str  # passed, failed, expected-deviation, error, skipped, not-run or interrupted
    scenario: Scenario
    result: CaseResult | None = None
    reason: str | None = None  # why it was skipped or not run, or what pytest said of an error
    error: str | None = None  # for a case without a result (interrupted)
    deviations: dict[int, Deviation] = field(default_factory=dict)  # violations listed as expected, by index

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
            "violations": [
                {**findings.as_json(v), **({"deviation": self.deviations[i].as_json()} if i in self.deviations else {})}
                for i, v in enumerate(self.violations)
            ],
            "warnings": [findings.as_json(n) for n in self.notes],
            "exchanges": [],
        }
        if self.result is not None:
            entry["scenario"] = self.scenario.id
            entry["version"] = self.result.version
            entry["file"] = self.scenario.location
            entry["docs"] = list(self.scenario.docs)
            entry["exchanges"] = [e.summary() for e in self.result.exchanges]
            entry["transcript"] = [exchange_json(e) for e in self.result.exchanges]
            entry["choices"] = self.result.choices
            if self.result.not_run:
                entry["reason"] = f"not run: {self.result.not_run}"
        if self.problem:
            entry["error"] = self.problem
        if self.reason:
            entry["reason"] = self.reason
        entry["tags"] = list(self.scenario.tags)
        entry["writes"] = self.scenario.writes
        entry["title"] = self.scenario.title
        entry["rules"] = rules_of(self.scenario)
        return entry


def exchange_json(exchange: Exchange) -> dict[str, Any]:
    """One exchange for the JSON report: the step, the request as sent and the answer, secrets scrubbed
    (the URL's userinfo too) and the answer's body cut as :func:`shown_body` cuts it (``""`` when empty)."""
    return {
        "step": exchange.step,
        "request": {
            "method": exchange.method,
            "url": scrub.scrub_header("url", scrub.redact_url(exchange.url)),
            "headers": scrub.scrub_headers(exchange.request_headers),
            "body": scrub.scrub_json(exchange.request_body),
        },
        "answer": {
            "status": exchange.status,
            "headers": scrub.scrub_headers(exchange.response_headers),
            "body": shown_body(exchange.response_text) if exchange.response_text else "",
        },
        "attempts": exchange.attempts,
    }


def rules_of(scenario: Scenario) -> list[dict[str, Any]]:
    """The rules of ``rules.yaml`` a scenario checks (its tags that name one): id, statement and cited pages."""
    from conformance.rules import load_rules
    from conformance.selection import case_rules as rule_ids

    rules = load_rules()
    return [
        {"id": tag, "rule": rules[tag]["rule"], "docs": list(rules[tag].get("docs", []))}
        for tag in rule_ids(scenario.tags, rules)
    ]


def failure_message(result: CaseResult) -> str:
    """The failure message of a case, first line first: the first violation (or what ended the case),
    then the case, then each failing step with what was sent, every finding, the answer's body (scrubbed,
    truncated) and a curl line reproducing the request."""
    lines = [_headline(result), f"{result.case_id} — {result.scenario.title} ({result.scenario.location})"]
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
            if any(isinstance(f, Violation) for f in shown):
                lines.append(f"    body: {shown_body(exchange.response_text)}".replace("\n", "\n      "))
                lines.append(f"    reproduce: {curl(exchange)}")
    for step, shown in by_step.items():
        lines.append(f'  step "{step}"')
        lines.extend(_indented(shown))
    return "\n".join(lines)


def _headline(result: CaseResult) -> str:
    """The message's first line, the one JUnit's message attribute and pytest's short summary show."""
    if result.violations:
        first = result.violations[0]
        more = f", +{len(result.violations) - 1} more" if len(result.violations) > 1 else ""
        return f'{findings.brief(first)} (step "{first.step}"{more})'
    if result.not_run:
        return f"not run: {result.not_run}"
    return f"error: {result.error}" if result.error else "failed"


def _indented(shown: list[Violation | Note]) -> list[str]:
    return [f"    {findings.text(f)}".replace("\n", "\n    ") for f in shown]


BODY_SHOWN = 1000  # characters of an answer's body a failure message shows
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F) if chr(c) not in "\n\t"}


def shown_body(text: str, limit: int = BODY_SHOWN) -> str:
    """An answer's body for a message: secrets scrubbed, control characters escaped, cut at ``limit``
    characters with how much was cut; ``(empty)`` when there is none."""
    if not text:
        return "(empty)"
    scrubbed = scrub.scrub_text(text).translate(_CONTROL)
    if len(scrubbed) <= limit:
        return scrubbed
    return f"{scrubbed[:limit]}… ({len(scrubbed) - limit} more characters cut, {len(scrubbed)} in all)"


_NOT_REPRODUCED = frozenset({"client-request-id", *scrub.SECRET_HEADERS})


def curl(exchange: Exchange) -> str:
    """A one-line curl command sending ``exchange``'s request again, shell-quoted.

    The token is ``$TOKEN`` (set it in the shell); each PIN is a placeholder naming its member
    (``<newPin>``) to fill in; other secrets stay as :mod:`conformance.scrub` replaced them."""
    url = scrub.scrub_header("url", scrub.redact_url(exchange.url))
    parts = ["curl", "-X", shlex.quote(exchange.method), shlex.quote(url), "-H", '"Authorization: Bearer $TOKEN"']
    for name, value in exchange.request_headers.items():
        if name.lower() not in _NOT_REPRODUCED:
            parts += ["-H", shlex.quote(f"{name}: {scrub.scrub_header(name, value)}")]
    if exchange.request_body is not None:
        body = _pin_placeholders(scrub.scrub_json(exchange.request_body))
        parts += ["-H", shlex.quote("Content-Type: application/json")]
        parts += ["--data-raw", shlex.quote(json.dumps(body, ensure_ascii=False, separators=(",", ":")))]
    return " ".join(parts).translate(_CONTROL)


def _pin_placeholders(value: Any) -> Any:
    """A scrubbed JSON value with each PIN placeholder named after its member: ``<code>``, ``<newPin>``."""
    if isinstance(value, dict):
        return {
            k: f"<{k}>" if k in scrub.PIN_KEYS and v == scrub.PIN_PLACEHOLDER else _pin_placeholders(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_pin_placeholders(item) for item in value]
    return value


def summary(cases: list[CaseReport]) -> dict[str, int]:
    """How many cases ended each way, how many warnings (notes) the run found, and of those how many
    are drift (undocumented properties) and how many are values a cassette holds redacted (checked
    when they were recorded)."""
    counts = Counter(c.outcome for c in cases)
    kinds = Counter(n.kind for c in cases for n in c.notes)
    return {
        "passed": counts["passed"],
        "failed": counts["failed"],
        "expected_deviations": counts["expected-deviation"],
        "errors": counts["error"],
        "skipped": counts["skipped"],
        "not_run": counts["not-run"],
        "interrupted": counts["interrupted"],
        "warnings": sum(kinds.values()),
        "drift": kinds[NoteKind.UNDOCUMENTED],
        "checked_at_recording": kinds[NoteKind.REDACTED],
    }


def document(
    cases: list[CaseReport],
    settings: dict[str, Any],
    schema_digest: str,
    unseen_deviations: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The JSON report's document: the summary, the run's public settings, the schemas' digest, the
    version of graph-conformance, when it was made, every case, and the listed deviations this run did
    not see."""
    return {
        "summary": summary(cases),
        "settings": settings,
        "schema_digest": schema_digest,
        "cases": [c.as_json() for c in cases],
        "unseen_deviations": unseen_deviations or [],
        "graph_conformance": __version__,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def write_json(path: Path, contents: dict[str, Any]) -> None:
    """Write the JSON report (a :func:`document`) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(contents, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


NOTE_LABELS = {NoteKind.UNDOCUMENTED: "drift", NoteKind.REDACTED: "checked at recording"}


def human(cases: list[CaseReport]) -> list[str]:
    """The counts, then every case with its outcome (failures with their first violation), then the
    alternatives answered, the drift, and the values checked at recording."""
    counts = summary(cases)
    interrupted = f", {counts['not_run']} not run" if counts["not_run"] else ""
    interrupted += f", {counts['interrupted']} interrupted" if counts["interrupted"] else ""
    failed = f"{counts['failed']} failed"
    failed += f", {counts['expected_deviations']} expected deviations" if counts["expected_deviations"] else ""
    lines = [
        f"graph-conformance: {counts['passed']} passed, {failed}, {counts['errors']} errors, "
        f"{counts['skipped']} skipped{interrupted}, {counts['drift']} drift warnings, "
        f"{counts['checked_at_recording']} values checked at recording"
    ]
    for case in sorted(cases, key=lambda c: (c.outcome == "passed", c.id)):
        reason = case.reason or (f"not run: {case.result.not_run}" if case.result and case.result.not_run else "")
        if case.outcome in ("failed", "error", "interrupted"):
            detail = findings.brief(case.violations[0]) if case.violations else case.problem or reason
            more = f" (+{len(case.violations) - 1} more)" if len(case.violations) > 1 else ""
            lines.append(f"  {case.outcome.upper()} {case.id}: {detail}{more}")
        elif case.outcome == "expected-deviation":
            first = case.deviations[0]
            lines.append(f"  expected {case.id}: {findings.brief(case.violations[0])} ({first.at}: {first.reason})")
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
    noted = Counter((NOTE_LABELS[n.kind], findings.brief(n)) for c in cases for n in c.notes)
    for (label, text), count in sorted(noted.items()):
        lines.append(f"  {label}: {text} ({count} case{'s' if count > 1 else ''})")
    return lines


def rules_checked(cases: list[CaseReport], settings: Settings) -> str | None:
    """When writes were held back: how many of the catalogue's rules the run checked, and which need writes."""
    from conformance.rules import load_rules

    held_back = [c for c in cases if c.outcome == "skipped" and c.scenario.writes]
    if not held_back:
        return None
    rules = load_rules()
    checked_outcomes = ("passed", "failed", "expected-deviation", "error")
    ran = {t for c in cases if c.outcome in checked_outcomes for t in c.scenario.tags}
    held = {t for c in held_back for t in c.scenario.tags}
    checked = sorted(r for r in rules if r in ran)
    need_writes = sorted(r for r in rules if r not in ran and r in held)
    kind = "read-only" if settings.read_only or not settings.allow_writes else "writes limited"
    line = f"graph-conformance: {kind} run: {len(checked)} of {len(rules)} rules checked"
    if need_writes:
        line += f"; need writes: {', '.join(need_writes)}"
    return line
