"""Selection and policy, as a user runs them: rules as markers (``-m``, ``--rule``), a tenant's known
deviations (``--expect-deviations``, written by ``--write-deviations`` or ``graph-conformance deviations``),
and ``--strict-drift``; against the embedded mock or a broken variant of it on loopback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.deviations import PLACEHOLDER_REASON
from conformance.mock.serve import BackgroundServer
from conformance.rules import load_rules
from conformance.scenarios import CATALOGUE, load_scenarios
from tests.helpers import SUITE, graph_conformance
from tests.mutants import BROKEN, CORRECT, Variant

TRIVIAL = "pin-not-trivial"
REASON = "the tenant accepts trivial PINs (ticket OPS-12)"


def rule_cases(rule: str) -> set[str]:
    """The ids of the catalogue's cases whose scenario carries ``rule``."""
    return {f"{s.id}[{v}]" for s in load_scenarios([CATALOGUE]) if rule in s.tags for v in s.versions}


def ran(output: str) -> set[str]:
    """The case ids a verbose run reports, whatever their outcome."""
    return set(re.findall(r"^  (?:passed |FAILED|expected|skipped) (\S+\])", output, re.M))


def serving(name: str) -> Iterator[str]:
    """The URL of the mock variant called ``name`` (tests/mutants.py), served on loopback."""
    variant: Variant = next(v for v in [*BROKEN, *CORRECT] if v.name == name)
    with BackgroundServer(variant.build()) as server:
        yield server.url


@pytest.fixture(scope="module")
def trivial_pins() -> Iterator[str]:
    """A mock that accepts trivial PINs: it breaks pin-not-trivial, and only that."""
    yield from serving("trivial PINs accepted")


@pytest.fixture(scope="module")
def extra_properties() -> Iterator[str]:
    """A mock whose entities carry properties the docs do not mention (correct: drift, not a violation)."""
    yield from serving("undocumented extra properties")


@pytest.fixture(scope="module")
def written(trivial_pins: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A failing run's deviations file (--write-deviations), its JSON report, and the run's output."""
    folder = tmp_path_factory.mktemp("written")
    run = graph_conformance(
        "run", "--base-url", trivial_pins, "--rule", TRIVIAL, "--write-deviations", "dev.yaml",
        "--report-json", "report.json", cwd=folder,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    return folder / "dev.yaml", folder / "report.json", run.stdout


def body(text: str) -> list[str]:
    """A deviations file's entries, without its comments (which name where it was written from)."""
    return [line for line in text.splitlines() if not line.startswith("#")]


def with_reasons(written: Path, target: Path) -> Path:
    """``written`` with each placeholder reason replaced by a real one, saved as ``target``."""
    target.write_text(written.read_text().replace(PLACEHOLDER_REASON, REASON))
    return target


# --- rules as markers ------------------------------------------------------------------------------


def test_rule_selects_only_its_cases_and_deselects_the_rest() -> None:
    result = graph_conformance("run", "--rule", TRIVIAL, "-v")
    assert result.returncode == 0, result.stdout + result.stderr
    expected = rule_cases(TRIVIAL)
    assert expected and ran(result.stdout) == expected
    assert re.search(rf"{len(expected)} passed, \d+ deselected", result.stdout)


def test_rule_is_repeatable_and_selects_the_union() -> None:
    result = graph_conformance("run", "--rule", TRIVIAL, "--rule", "one-method-per-user", "-v")
    assert result.returncode == 0, result.stdout + result.stderr
    assert ran(result.stdout) == rule_cases(TRIVIAL) | rule_cases("one-method-per-user")


def test_m_selects_by_rule_marker_under_strict_markers(tmp_path: Path) -> None:
    """pytest's own -m, with every rule registered as a marker (--strict-markers passes)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *SUITE, "--strict-markers", "-m", f"{TRIVIAL} or absent-method-404", "-v"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert ran(result.stdout) == rule_cases(TRIVIAL) | rule_cases("absent-method-404")
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", *SUITE, "--markers"], cwd=tmp_path, capture_output=True, text=True
    )
    assert "@pytest.mark.pin-not-trivial: a PIN contains neither" not in listed.stdout  # not registered at load


def test_run_passes_m_on() -> None:
    result = graph_conformance("run", "-m", f"{TRIVIAL} and not error-envelope")
    assert result.returncode == 2  # every pin-not-trivial scenario also checks the error envelope: none left
    assert "no case was selected" in result.stderr
    result = graph_conformance("run", "-m", "absent-method-404", "-v")
    assert result.returncode == 0 and ran(result.stdout) == rule_cases("absent-method-404")


def test_an_unknown_rule_is_a_usage_error_naming_the_nearest() -> None:
    result = graph_conformance("run", "--rule", "pin-not-trival")
    assert result.returncode == 2
    assert "'pin-not-trival': no such rule; did you mean pin-not-trivial" in result.stderr
    assert "no tests ran" in result.stdout  # refused before any case


def test_every_rule_of_rules_yaml_is_a_marker_of_some_case() -> None:
    tags = {t for s in load_scenarios([CATALOGUE]) for t in s.tags}
    assert set(load_rules()) <= tags


# --- expected deviations ---------------------------------------------------------------------------


def test_a_written_file_is_refused_until_its_reasons_are_filled_in(written: tuple[Path, Path, str]) -> None:
    deviations, _, output = written
    entries = deviations.read_text().count("- case: ")
    assert f"graph-conformance: {entries} deviations written to dev.yaml" in output
    failing = {c["id"] for c in json.loads(written[1].read_text())["cases"] if c["outcome"] == "failed"}
    assert failing and {f'"{case}"' for case in failing} <= set(re.findall(r'case: (".*")', deviations.read_text()))
    result = graph_conformance("run", "--rule", TRIVIAL, "--expect-deviations", "dev.yaml", cwd=deviations.parent)
    assert result.returncode == 2
    first = next(i for i, line in enumerate(deviations.read_text().splitlines(), 1) if PLACEHOLDER_REASON in line)
    assert (
        f"dev.yaml:{first}: $.deviations[0].reason: still the placeholder reason of a written deviations file "
        f"(and {entries - 1} more entries); replace each with why the deviation is accepted"
    ) in result.stderr


def test_listed_deviations_are_expected_and_the_run_passes(
    written: tuple[Path, Path, str], trivial_pins: str, tmp_path: Path
) -> None:
    listed = with_reasons(written[0], tmp_path / "known.yaml")
    result = graph_conformance(
        "run", "--base-url", trivial_pins, "--rule", TRIVIAL, "--expect-deviations", listed,
        "--report-json", "report.json", "--junitxml", "junit.xml", "--write-deviations", "refreshed.yaml",
        "--report-html", "report.html", "--report-markdown", "summary.md", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    # written again from this run, each entry keeps the reason that listed it: the file can be refreshed
    assert body((tmp_path / "refreshed.yaml").read_text()) == body(listed.read_text())
    failing = {c["id"] for c in json.loads(written[1].read_text())["cases"] if c["outcome"] == "failed"}
    assert f"0 failed, {len(failing)} expected deviations" in result.stdout
    assert re.search(
        rf"  expected \S+: status: expected 400, got 201 \(known.yaml:\d+: {re.escape(REASON)}\)", result.stdout
    )
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["summary"]["failed"] == 0 and report["summary"]["expected_deviations"] == len(failing)
    expected = [c for c in report["cases"] if c["outcome"] == "expected-deviation"]
    assert {c["id"] for c in expected} == failing
    assert all(v["deviation"]["reason"] == REASON for c in expected for v in c["violations"])
    assert report["unseen_deviations"] == []
    junit = (tmp_path / "junit.xml").read_text()
    assert junit.count('type="pytest.xfail"') == len(failing) and "expected deviation: status: expected 400" in junit
    page, summary = (tmp_path / "report.html").read_text(), (tmp_path / "summary.md").read_text()
    assert '<span class="verdict v-conformant">conformant</span>' in page
    assert page.count("expected deviation (known.yaml:") == sum(len(c["violations"]) for c in expected)
    assert summary.startswith("## graph-conformance: conformant") and f"{len(failing)} expected deviations" in summary


def test_an_unlisted_violation_still_fails_and_says_which_were_expected(
    written: tuple[Path, Path, str], trivial_pins: str, tmp_path: Path
) -> None:
    text = with_reasons(written[0], tmp_path / "all.yaml").read_text()
    head, *entries = text.split("  - case: ")
    kept = [e for e in entries if not ('where: "status"' in e and 'expected: "400"' in e)]  # the refusal's status
    assert len(kept) < len(entries)
    (tmp_path / "some.yaml").write_text(head + "".join(f"  - case: {e}" for e in kept))
    result = graph_conformance(
        "run", "--base-url", trivial_pins, "--rule", TRIVIAL, "--expect-deviations", "some.yaml", cwd=tmp_path
    )
    assert result.returncode == 1
    assert "FAILED pin-rules-at-create" in result.stdout
    assert re.search(r"^status: expected 400, got 201 \(step", result.stdout, re.M)  # the unlisted one first
    assert re.search(r"expected deviations: \d+ of the \d+ violations are listed:", result.stdout)
    assert re.search(rf"some.yaml:\d+: {re.escape(REASON)}", result.stdout)


def test_listed_deviations_not_seen_are_reported_and_do_not_fail(
    written: tuple[Path, Path, str], tmp_path: Path
) -> None:
    listed = with_reasons(written[0], tmp_path / "known.yaml")
    result = graph_conformance(
        "run", "--rule", TRIVIAL, "--expect-deviations", listed, "--report-json", "report.json", cwd=tmp_path
    )  # the reference mock: trivial PINs are refused, as the docs say
    assert result.returncode == 0, result.stdout + result.stderr
    entries = listed.read_text().count("- case: ")
    assert result.stdout.count("graph-conformance: listed deviation not seen: known.yaml:") == entries
    assert "fixed? if so, remove the entry" in result.stdout
    assert len(json.loads((tmp_path / "report.json").read_text())["unseen_deviations"]) == entries


def test_a_glob_and_rule_entry_covers_every_case_of_the_rule(trivial_pins: str, tmp_path: Path) -> None:
    (tmp_path / "broad.yaml").write_text(
        f"deviations:\n  - case: pin-rules-at-create--*[beta]\n    rule: {TRIVIAL}\n    reason: {REASON}\n"
    )
    result = graph_conformance(
        "run", "--base-url", trivial_pins, "--rule", TRIVIAL, "--expect-deviations", "broad.yaml", "-v", cwd=tmp_path
    )
    assert result.returncode == 1  # the v1.0 cases are not covered
    assert re.search(r"^  expected \S+\[beta\]", result.stdout, re.M)
    assert not re.search(r"^  expected \S+\[v1\.0\]", result.stdout, re.M)
    assert not re.search(r"^  FAILED \S+\[beta\]", result.stdout, re.M)


def test_deviations_command_writes_the_same_file_from_a_report(written: tuple[Path, Path, str], tmp_path: Path) -> None:
    deviations, report, _ = written
    result = graph_conformance("deviations", report, "--out", tmp_path / "from-report.yaml")
    assert result.returncode == 0, result.stderr
    entries = deviations.read_text().count("- case: ")
    assert f"{entries} deviations written to" in result.stdout

    assert body((tmp_path / "from-report.yaml").read_text()) == body(deviations.read_text())
    (tmp_path / "bad.json").write_text("{\n  not json")
    result = graph_conformance("deviations", tmp_path / "bad.json", "--out", tmp_path / "x.yaml")
    assert result.returncode == 2 and "bad.json:2: not JSON" in result.stderr


MALFORMED = {
    "not a mapping": ("- a\n- b\n", "known.yaml:1: $.deviations: expected a mapping with a 'deviations' list"),
    "not YAML": ("deviations: [\n", "known.yaml:2: not valid YAML"),
    "missing reason": (
        "deviations:\n  - case: pin-too-short[beta]\n    where: status\n",
        "known.yaml:2: $.deviations[0].reason: missing; every entry needs it",
    ),
    "unknown key": (
        f"deviations:\n  - case: pin-too-short[beta]\n    wher: status\n    reason: {REASON}\n",
        "known.yaml:3: $.deviations[0].wher: unknown key (did you mean 'where'?)",
    ),
    "no violation named": (
        f"deviations:\n  - case: pin-too-short[beta]\n    reason: {REASON}\n",
        "known.yaml:2: $.deviations[0]: say which violations it covers",
    ),
    "unknown case": (
        f"deviations:\n  - case: pin-to-short[beta]\n    where: status\n    reason: {REASON}\n",
        "known.yaml:2: $.deviations[0].case: no case is called 'pin-to-short[beta]' (did you mean 'pin-too-short[beta]'?)",
    ),
    "unknown rule": (
        f"deviations:\n  - case: pin-too-short[beta]\n    rule: pin-length\n    reason: {REASON}\n",
        "known.yaml:3: $.deviations[0].rule: unknown rule 'pin-length'",
    ),
    "rule the case does not carry": (
        f"deviations:\n  - case: pin-too-short[beta]\n    rule: {TRIVIAL}\n    reason: {REASON}\n",
        f"known.yaml:3: $.deviations[0].rule: no case matching 'pin-too-short[beta]' carries the rule '{TRIVIAL}'",
    ),
    "unknown kind": (
        f"deviations:\n  - case: pin-too-short[beta]\n    kind: stat\n    reason: {REASON}\n",
        "known.yaml:3: $.deviations[0].kind: unknown kind; choose one of status,",
    ),
    "duplicate key": (
        f"deviations:\n  - case: pin-too-short[beta]\n    where: status\n    where: $.a\n    reason: {REASON}\n",
        "known.yaml:4: $.deviations[0].where: duplicate key (first at line 3)",
    ),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_deviations_file_is_a_usage_error_naming_file_line_and_path(name: str, tmp_path: Path) -> None:
    text, message = MALFORMED[name]
    (tmp_path / "known.yaml").write_text(text)
    result = graph_conformance("run", "--expect-deviations", "known.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "no tests ran" in result.stdout  # refused before any case


# --- strict drift ----------------------------------------------------------------------------------


def test_strict_drift_fails_on_undocumented_properties_naming_them(extra_properties: str) -> None:
    common = ("run", "--base-url", extra_properties, "--rule", "pin-code-once")
    lenient = graph_conformance(*common)
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
    assert re.search(r", [1-9]\d* drift warnings", lenient.stdout)
    assert "  drift: $.brandNew: not documented for" in lenient.stdout
    strict = graph_conformance(*common, "--strict-drift")
    assert strict.returncode == 1
    assert re.search(
        r"^\$\.\w+: expected only documented properties \(--strict-drift\), got property '\w+', not documented",
        strict.stdout,
        re.M,
    )
    assert "got property 'brandNew', not documented for" in strict.stdout
    assert ", 0 drift warnings" in strict.stdout


def test_strict_drift_passes_a_conformant_target() -> None:
    result = graph_conformance("run", "--rule", "pin-code-once", "--strict-drift")
    assert result.returncode == 0, result.stdout + result.stderr
