"""What the scenarios cover: every documented operation x status, and every rule.

Operations and their statuses come from the derived catalogue (``<version>/operations.json``,
operations documented on at least one published page); a scenario step covers ``(operation,
status)`` when its method and path are the operation's and it accepts that status. Rules come from
``rules.yaml``; a scenario covers a rule by carrying the rule's id among its tags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.derive import canonical_path
from conformance.rules import RULES_PATH, load_rules
from conformance.scenarios import Scenario
from conformance.statements import Statement
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


# --- statements: each normative statement of the pages is covered by a carried rule, or waived --------------

INVENTORY_PATH = Path(__file__).with_name("statements.yaml")
WAIVERS_PATH = Path(__file__).with_name("waivers.yaml")
_ENTRY_KEYS = frozenset({"line", "fingerprint", "kind", "rules", "operations", "reason"})


@dataclass(frozen=True)
class Review:
    """One reviewed statement: ``page:line``, fingerprint and kind, and the rules or operation x status items
    that check it, or (a waiver) the reason it is not checked. ``source`` is the entry's own ``file:line``."""

    page: str
    line: int
    fingerprint: str
    kind: str
    source: str
    rules: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()
    waived: bool = False
    reason: str = ""  # a waiver's reason text; empty when it names none

    @property
    def key(self) -> tuple[str, int, str]:
        """What identifies the statement reviewed: page, line and fingerprint."""
        return self.page, self.line, self.fingerprint


@dataclass
class StatementCoverage:
    """How many statements are covered or waived, and one line per statement not covered and per stale entry."""

    extracted: int = 0
    covered: int = 0
    waived: int = 0
    uncovered: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every statement covered or waived, and no stale entry."""
        return self.covered + self.waived == self.extracted and not self.uncovered and not self.stale


def read_reviews(path: Path, *, waivers: bool = False) -> list[Review]:
    """The entries of the inventory (``statements.yaml``: page -> entries naming ``rules`` and/or
    ``operations``) or of the waivers file (``waivers.yaml``: ``reasons``, id -> text; ``waived``, page ->
    entries naming a ``reason`` id). A malformed file is an :class:`InputError` naming ``file:line``."""
    from conformance import safeyaml
    from conformance.errors import InputError

    display = safeyaml.display_path(path)
    text = safeyaml.read(path, display)
    data, root = safeyaml.safe_load(text, display), safeyaml.compose(text, display)
    reasons: dict[str, str] | None = None
    if waivers:
        if not isinstance(data, dict) or set(data) != {"reasons", "waived"} or root is None:
            raise InputError(display, 1, "expected a mapping with the keys 'reasons' (id: text) and 'waived'")
        reasons = data["reasons"] or {}
        if not isinstance(reasons, dict) or not all(isinstance(v, str | None) for v in reasons.values()):
            raise InputError(display, 1, "'reasons' maps each reason id to the text of the reason")
        data, root = data["waived"], dict((k.value, v) for k, v in root.value)["waived"]
    if data is None or root is None:
        return []
    if not isinstance(data, dict):
        raise InputError(display, root.start_mark.line + 1, "expected a mapping of doc pages to their statements")
    reviews: list[Review] = []
    seen: set[str] = set()
    for page_node, entries_node in root.value:
        page, line = page_node.value, page_node.start_mark.line + 1
        if page in seen:
            raise InputError(display, line, f"{page} is listed twice; keep one list of its statements")
        seen.add(page)
        if not isinstance(data[page], list):
            raise InputError(display, line, f"{page}: expected a list of statements")
        for entry, node in zip(data[page], entries_node.value, strict=True):
            reviews.append(_review(page, entry, display, node.start_mark.line + 1, reasons))
    return reviews


def _review(page: str, entry: Any, display: str, line: int, reasons: dict[str, str] | None) -> Review:
    """One entry, checked for shape; a waiver's reason id is resolved to its text ("" when unknown or absent)."""
    from conformance.errors import InputError

    wanted = "line, fingerprint, kind and " + ("reason" if reasons is not None else "rules and/or operations")
    if not isinstance(entry, dict) or set(entry) - _ENTRY_KEYS:
        raise InputError(display, line, f"{page}: each statement is a mapping of {wanted}")
    lists = {name: entry.get(name, []) for name in ("rules", "operations")}
    if (
        not isinstance(entry.get("line"), int)
        or not isinstance(entry.get("fingerprint"), str)
        or not isinstance(entry.get("kind"), str)
        or not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in lists.values())
    ):
        raise InputError(
            display, line, f"{page}: line is a number, fingerprint and kind strings, rules and operations lists of ids"
        )
    where = (page, entry["line"], entry["fingerprint"], entry["kind"], f"{display}:{line}")
    if reasons is None:
        if not lists["rules"] and not lists["operations"]:
            raise InputError(
                display,
                line,
                f"{page}: name the rules or operations that check this statement, or waive it in the waivers file",
            )
        return Review(*where, rules=tuple(lists["rules"]), operations=tuple(lists["operations"]))
    if lists["rules"] or lists["operations"]:
        raise InputError(display, line, f"{page}: a waiver names a reason, not rules or operations")
    reason = entry.get("reason")
    return Review(*where, waived=True, reason=(reasons.get(reason) or "") if isinstance(reason, str) else "")


def statement_coverage(
    found: list[Statement],
    reviews: list[Review],
    items: list[Coverable],
    scenarios: list[Scenario],
    rules: dict[str, Any],
) -> StatementCoverage:
    """Match each extracted statement with its review: covered when every rule it maps to is carried (as a tag)
    by a scenario of the page's version and every operation x status it maps to is covered; waived when its
    waiver gives a reason. Entries that match no statement any more are stale."""
    result = StatementCoverage(extracted=len(found))
    entries: dict[tuple[str, int, str], list[Review]] = {}
    for review in reviews:
        entries.setdefault(review.key, []).append(review)
    items_by_key = {item.key: item for item in items if item.kind == "operation"}
    for statement in found:
        matched = entries.pop((statement.page, statement.line, statement.fingerprint), [])
        said = f'{statement.where} [{statement.kind}{", draft" if statement.draft else ""}] "{statement.text}"'
        if not matched:
            result.uncovered.append(f"{said}: not reviewed; map it to its rules in the inventory, or waive it")
            continue
        review, problems = matched[0], []
        if len(matched) > 1:
            problems.append(f"reviewed {len(matched)} times ({', '.join(r.source for r in matched)}); keep one")
        if review.kind != statement.kind:
            problems.append(
                f"{review.source}: the entry says kind {review.kind}, the page's words are {statement.kind}"
            )
        if review.waived and not review.reason:
            problems.append(f"{review.source}: the waiver gives no reason (name one of the waivers file's reasons)")
        problems += [f"{review.source}: unknown rule {rule} (rules.yaml)" for rule in review.rules if rule not in rules]
        problems += [
            f"{review.source}: unknown operation x status {op!r}" for op in review.operations if op not in items_by_key
        ]
        if problems:
            result.stale.extend(f"{statement.where}: {problem}" for problem in problems)
            continue
        if review.waived:
            result.waived += 1
            continue
        version = statement.page.split("/")[1] if statement.page.startswith("graph-docs/") else None
        missing = [
            f"rule {rule} is carried by no scenario" + (f" of {version}" if version else "")
            for rule in review.rules
            if not any(rule in s.tags and (version is None or version in s.versions) for s in scenarios)
        ]
        missing += [f"{op} is covered by no scenario" for op in review.operations if not items_by_key[op].covered_by]
        if missing:
            result.uncovered.append(f"{said}: {'; '.join(missing)}")
        else:
            result.covered += 1
    now_at = {(s.page, s.fingerprint): s.line for s in found}
    for (page, line, fp), left in entries.items():
        moved = now_at.get((page, fp))
        hint = f"the statement moved to line {moved}" if moved else "the page no longer says it there"
        result.stale.extend(f"{page}:{line}: {r.source}: fingerprint {fp} does not match ({hint})" for r in left)
    return result


def statement_lines(result: StatementCoverage, waivers: Path) -> list[str]:
    """The statement coverage as text lines: counts, the share covered or waived, and what is missing."""
    from conformance.safeyaml import display_path

    done = result.covered + result.waived
    share = (1000 * done // result.extracted) / 10 if result.extracted else 100.0  # never rounded up to 100
    lines = [
        f"statements (published and draft pages): {result.extracted} extracted, {result.covered} covered, "
        f"{result.waived} waived ({display_path(waivers)}), {result.extracted - done} not covered, "
        f"{len(result.stale)} stale"
    ]
    lines += [f"  NOT   {line}" for line in result.uncovered]
    lines += [f"  STALE {line}" for line in result.stale]
    lines.append(
        f"statement coverage: {done}/{result.extracted} = {share:.1f}%"
        f" ({result.waived} waived in {display_path(waivers)})"
    )
    return lines
