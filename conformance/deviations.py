"""A tenant's known deviations: violations listed in a file are reported as expected, not failed.

The file (``--expect-deviations``), YAML::

    deviations:
      - case: pin-rules-at-create--*[beta]   # a case id; '*' matches any characters ('[' and ']' are literal)
        rule: pin-not-trivial                # any of these narrows which violations it covers:
        step: a trivial PIN is refused       #   the case's rule (a rule id its scenario carries),
        kind: status                         #   the violation's step, kind, where (JSON path, status...),
        where: status                        #   expected and got, each compared exactly
        expected: "400"
        reason: the tenant accepts trivial PINs (ticket OPS-12)   # required: why it is accepted

An entry needs ``case``, ``reason`` and at least one of ``rule``, ``kind``, ``where``, ``expected``, ``got``;
quote a value that starts with ``*`` (YAML reads ``*x`` as an alias).
A failed case all of whose violations some entry covers ends as an *expected deviation*; a case with any
other violation still fails, and its message says which of its violations were expected. An entry that
covers nothing in a case that ran is reported as *not seen* (the target may have been fixed): the run
does not fail for it. :func:`write` makes such a file from a run's failing cases, each ``reason`` the
placeholder :data:`PLACEHOLDER_REASON`, which :func:`load` refuses until a person writes the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.errors import InputError, UsageError
from conformance.findings import Note, NoteKind, Violation, ViolationKind, brief

if TYPE_CHECKING:
    from conformance.report import CaseReport
    from conformance.runner import CaseResult

PLACEHOLDER_REASON = "TODO: say why this deviation is accepted"
SELECTORS = ("rule", "kind", "where", "expected", "got")  # an entry gives at least one: which violations
FIELDS = ("case", "rule", "step", "kind", "where", "expected", "got", "reason")
FORMAT = f"a mapping with a 'deviations' list; each entry: case, reason, and at least one of {', '.join(SELECTORS)}"


def case_pattern(case: str) -> re.Pattern[str]:
    """``case`` as a pattern of case ids: ``*`` matches any characters, everything else itself."""
    return re.compile(".*".join(re.escape(part) for part in case.split("*")))


@dataclass(frozen=True)
class Deviation:
    """One entry of the file: which cases and violations it covers, why, and where it is written."""

    case: str
    reason: str
    at: str  # file:line of the entry
    rule: str | None = None
    step: str | None = None
    kind: str | None = None
    where: str | None = None
    expected: str | None = None
    got: str | None = None

    def covers_case(self, case_id: str) -> bool:
        return case_pattern(self.case).fullmatch(case_id) is not None

    def covers(self, case_id: str, rules: Iterable[str], violation: Violation) -> bool:
        """Whether this entry covers ``violation`` of the case ``case_id``, whose scenario carries ``rules``."""
        if not self.covers_case(case_id) or (self.rule is not None and self.rule not in rules):
            return False
        found = {"step": violation.step, "kind": str(violation.kind), "where": violation.where}
        found |= {"expected": violation.expected, "got": violation.got}
        return all(getattr(self, name) in (None, value) for name, value in found.items())

    def as_json(self) -> dict[str, str]:
        return {"listed_at": self.at, "reason": self.reason}


def _problem(display: str, line: int, path: str, message: str) -> str:
    return f"{display}:{line}: {path}: {message}"


def load(path: Path, cases: Mapping[str, Iterable[str]], rules: Iterable[str], flag: str) -> list[Deviation]:
    """The entries of the deviations file at ``path``, each checked against ``cases`` (every case id the
    scenarios make -> the rules its scenario carries) and the known ``rules``; ``flag`` is how the file was given.

    Raises :class:`UsageError` listing every problem as ``file:line: $.json.path: what is wrong; the fix``."""
    import yaml

    from conformance import safeyaml
    from conformance.scenarios.loader import did_you_mean

    display = safeyaml.display_path(path)
    try:
        node = safeyaml.compose(safeyaml.read(path, display), display)
    except InputError as exc:
        raise UsageError(f"{flag}: {exc}") from None
    problems: list[str] = []
    listed: yaml.Node | None = None
    if isinstance(node, yaml.MappingNode):
        keys = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
        listed = keys.get("deviations")
        extra = sorted(str(k) for k in keys if k != "deviations")
        if extra:
            problems.append(_problem(display, node.start_mark.line + 1, f"$.{extra[0]}", f"unknown key; {FORMAT}"))
    if not isinstance(listed, yaml.SequenceNode):
        line = node.start_mark.line + 1 if node is not None else 1
        raise UsageError(f"{flag}: {_problem(display, line, '$.deviations', f'expected {FORMAT}')}")
    known_rules = sorted(rules)
    kinds = [str(k) for k in ViolationKind]
    entries: list[Deviation] = []
    placeholders: list[tuple[int, str]] = []  # (line, JSON path) of each reason still the placeholder
    for index, item in enumerate(listed.value):
        where = f"$.deviations[{index}]"
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            problems.append(_problem(display, line, where, f"expected a mapping with {', '.join(FIELDS)}"))
            continue
        values: dict[str, str] = {}
        lines: dict[str, int] = {}  # every key written, valid or not
        for key, value in item.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "<key>"
            key_line = key.start_mark.line + 1
            if name not in FIELDS:
                problems.append(
                    _problem(
                        display,
                        key_line,
                        f"{where}.{name}",
                        f"unknown key{did_you_mean(str(name), list(FIELDS))}; an entry has {', '.join(FIELDS)}",
                    )
                )
            elif name in lines:
                problems.append(
                    _problem(display, key_line, f"{where}.{name}", f"duplicate key (first at line {lines[name]})")
                )
            elif not isinstance(value, yaml.ScalarNode) or not value.value.strip():
                problems.append(_problem(display, key_line, f"{where}.{name}", "expected a non-empty string"))
            else:
                values[name] = value.value
            lines.setdefault(name, key_line)
        for name in ("case", "reason"):
            if name not in lines:
                problems.append(_problem(display, line, f"{where}.{name}", "missing; every entry needs it"))
        if not any(name in lines for name in SELECTORS):
            problems.append(
                _problem(
                    display,
                    line,
                    where,
                    "say which violations it covers: give rule, kind, where, expected or got "
                    "(the case alone would excuse anything that case finds)",
                )
            )
        if values.get("reason", "").strip() == PLACEHOLDER_REASON:
            placeholders.append((lines["reason"], f"{where}.reason"))
        matching = [c for c in cases if "case" in values and case_pattern(values["case"]).fullmatch(c)]
        if "case" in values and not matching:
            problems.append(
                _problem(
                    display,
                    lines["case"],
                    f"{where}.case",
                    f"no case is called {values['case']!r}{did_you_mean(values['case'], sorted(cases))}; "
                    "give a case id as the report shows it, e.g. pin-too-short[beta] ('*' matches any characters)",
                )
            )
        if "rule" in values:
            rule = values["rule"]
            if rule not in known_rules:
                problems.append(
                    _problem(
                        display,
                        lines["rule"],
                        f"{where}.rule",
                        f"unknown rule {rule!r}{did_you_mean(rule, known_rules)}; see conformance/rules.yaml",
                    )
                )
            elif matching and not any(rule in cases[c] for c in matching):
                problems.append(
                    _problem(
                        display,
                        lines["rule"],
                        f"{where}.rule",
                        f"no case matching {values['case']!r} carries the rule {rule!r}",
                    )
                )
        if "kind" in values and values["kind"] not in kinds:
            problems.append(
                _problem(display, lines["kind"], f"{where}.kind", f"unknown kind; choose one of {', '.join(kinds)}")
            )
        if "case" in values and "reason" in values:
            entries.append(Deviation(at=f"{display}:{line}", **values))
    if placeholders:
        line, where = placeholders[0]
        others = f" (and {len(placeholders) - 1} more entries)" if len(placeholders) > 1 else ""
        problems.append(
            _problem(
                display,
                line,
                where,
                f"still the placeholder reason of a written deviations file{others}; replace each with why the "
                "deviation is accepted (a ticket, the tenant's setting), or delete the entry",
            )
        )
    if problems:
        raise UsageError(f"{flag}: {len(problems)} problem(s) in {display}:\n" + "\n".join(problems))
    return entries


def judge(
    entries: list[Deviation], case_id: str, rules: Iterable[str], violations: list[Violation]
) -> dict[int, Deviation]:
    """Index of each of ``violations`` that an entry covers -> the first entry that does."""
    rules = set(rules)
    found: dict[int, Deviation] = {}
    for index, violation in enumerate(violations):
        entry = next((e for e in entries if e.covers(case_id, rules, violation)), None)
        if entry is not None:
            found[index] = entry
    return found


def apply(entries: list[Deviation], case_id: str, rules: Iterable[str], result: CaseResult) -> dict[int, Deviation]:
    """Which of ``result``'s violations the entries cover (index -> entry); when only some are, the others
    are put first, so the failure message (and JUnit's) leads with one that is not expected."""
    matched = judge(entries, case_id, rules, result.violations)
    if matched and len(matched) < len(result.violations):
        listed = [v for i, v in enumerate(result.violations) if i in matched]
        result.violations = [v for i, v in enumerate(result.violations) if i not in matched] + listed
        matched = judge(entries, case_id, rules, result.violations)
    return matched


def all_expected(result: CaseResult, matched: Mapping[int, Deviation]) -> bool:
    """Whether the case failed only by violations listed as expected (not by an error)."""
    return result.outcome == "failed" and len(matched) == len(result.violations)


def expected_reason(violations: list[Violation], matched: Mapping[int, Deviation]) -> str:
    """The one line an expected deviation is reported with (pytest's xfail reason, JUnit's message)."""
    first = matched[0]
    more = f", +{len(violations) - 1} more" if len(violations) > 1 else ""
    return f"expected deviation: {brief(violations[0])}{more} — {first.reason} ({first.at})"


def expected_lines(violations: list[Violation], matched: Mapping[int, Deviation]) -> list[str]:
    """For a failure message: which of the case's violations are listed as expected, and where."""
    if not matched:
        return []
    lines = [f"  expected deviations: {len(matched)} of the {len(violations)} violations are listed:"]
    for index, entry in sorted(matched.items()):
        lines.append(f'    {brief(violations[index])} (step "{violations[index].step}") — {entry.at}: {entry.reason}')
    return lines


def unseen(entries: list[Deviation], cases: Iterable[CaseReport]) -> list[Deviation]:
    """The entries covering a case that ran that saw none of their violations: the target may be fixed."""
    ran = [c.id for c in cases if c.outcome in ("passed", "failed", "expected-deviation")]
    used = {entry for c in cases for entry in c.deviations.values()}
    return [e for e in entries if e not in used and any(e.covers_case(c) for c in ran)]


def unseen_lines(entries: list[Deviation]) -> list[str]:
    """The summary's lines for listed deviations this run did not see (the run does not fail for them)."""
    return [
        f"graph-conformance: listed deviation not seen: {e.at} (case {e.case}): fixed? if so, remove the entry"
        for e in entries
    ]


def drift_as_violations(violations: list[Violation], notes: list[Note]) -> tuple[list[Violation], list[Note]]:
    """``--strict-drift``: each undocumented property becomes a violation naming it; the other notes stay."""
    drift = [n for n in notes if n.kind == NoteKind.UNDOCUMENTED]
    made = [
        Violation(
            ViolationKind.UNDOCUMENTED,
            n.step,
            n.where,
            "only documented properties (--strict-drift)",
            f"property '{n.where.rsplit('.', 1)[-1]}', {n.message}",
        )
        for n in drift
    ]
    return [*violations, *made], [n for n in notes if n.kind != NoteKind.UNDOCUMENTED]


# --- writing the file from a report ---------------------------------------------------------------


def entries_from_report(cases: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """One entry per violation of each failing case (or expected deviation) in the JSON report's ``cases``:
    the case, step, kind, where and expected (``got`` is left out: ids and times change from run to run),
    and the reason of the entry that listed it, else the placeholder."""
    written: list[dict[str, str]] = []
    for case in cases:
        if case.get("outcome") not in ("failed", "expected-deviation"):
            continue
        for violation in case.get("violations", []):
            entry = {"case": str(case["id"])}
            entry |= {name: str(violation[name]) for name in ("step", "kind", "where", "expected")}
            entry["reason"] = str((violation.get("deviation") or {}).get("reason") or PLACEHOLDER_REASON)
            if entry not in written:
                written.append(entry)
    return written


def render(entries: list[dict[str, str]], source: str) -> str:
    """The deviations file holding ``entries`` (every value a JSON string, which YAML reads as is)."""
    lines = [
        f"# Known deviations, written by graph-conformance from {source}.",
        "# Review each entry, and write its reason: the placeholder is refused when the file is read.",
        "# Loosen an entry with '*' in case, or by leaving out step, kind, where or expected.",
        "deviations:" if entries else "deviations: []",
    ]
    for entry in entries:
        first = True
        for name in FIELDS:
            if name in entry:
                # JSON strings with ASCII escapes are YAML that reads back the same, control characters included
                lines.append(f"  {'- ' if first else '  '}{name}: {json.dumps(entry[name], ensure_ascii=True)}")
                first = False
    return "\n".join(lines) + "\n"


def write(path: Path, entries: list[dict[str, str]], source: str) -> int:
    """Write the deviations file of ``entries`` (see :func:`entries_from_report`) to ``path``; how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(entries, source), encoding="utf-8")
    return len(entries)


def write_from_report(report: Path, out: Path) -> int:
    """``graph-conformance deviations REPORT.json --out FILE``: the file from an existing JSON report."""
    from conformance.safeyaml import display_path

    shown = display_path(report)
    try:
        document = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{shown}: cannot read the report ({type(exc).__name__})") from None
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{shown}:{exc.lineno}: not JSON ({exc.msg}); give a report written by --report-json"
        ) from None
    cases = document.get("cases") if isinstance(document, dict) else None
    problem = f"{shown}: $.cases: expected the list of cases of a report written by --report-json"
    if not isinstance(cases, list):
        raise UsageError(problem)
    try:
        entries = entries_from_report(cases)
    except (KeyError, TypeError, AttributeError):
        raise UsageError(problem) from None
    return write(out, entries, shown)
