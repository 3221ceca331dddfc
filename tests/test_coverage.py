"""``graph-conformance coverage``: the pages' normative statements, extracted and matched with their review.

Run as a user runs it (a subprocess), on the shipped pages and on copies of them changed in ``tmp_path``: an
added normative sentence, an edited one, a waiver without a reason and a rule no scenario carries each fail the
gate (exit 1) and are named by page:line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conformance import coverage, statements
from conformance.errors import InputError
from conformance.scenarios import CATALOGUE
from tests.helpers import REPO, SHARED, graph_conformance

PAGE = "graph-docs/v1.0/api/qrcode-update.md"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A copy of the pages statements are read from."""
    copy = tmp_path / "docs"
    for folder in ("graph-docs", "entra-docs"):
        shutil.copytree(SHARED / folder, copy / folder)
    return copy


def _statement_part(output: str) -> str:
    """The statement coverage lines of the command's output."""
    return output[output.index("statements (") :]


def test_every_statement_of_the_shipped_pages_is_reviewed() -> None:
    result = graph_conformance("coverage")
    part = _statement_part(result.stdout)
    assert re.search(r"^statements \(.*\): 281 extracted, \d+ covered, \d+ waived \(conformance/waivers\.yaml\)", part)
    assert re.search(r"^statement coverage: \d+/281 = [\d.]+% \(\d+ waived in conformance/waivers\.yaml\)$", part, re.M)
    # what is left is rules without scenarios yet, or rules not yet in rules.yaml: never an unreviewed or moved line
    assert "not reviewed" not in part and "does not match" not in part and "gives no reason" not in part
    assert result.returncode == (0 if "100.0%" in part and "NOT" not in result.stdout else 1)


def test_an_added_normative_sentence_is_unreviewed(docs: Path) -> None:
    page = docs / PAGE
    lines = page.read_text(encoding="utf-8").splitlines()
    lines[14] += " The expiry must be at least one hour after the start."  # line 15, a reviewed sentence before it
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = graph_conformance("coverage", "--docs", docs)
    assert result.returncode == 1
    assert (
        f'NOT   {PAGE}:15 [range] "The expiry must be at least one hour after the start.": not reviewed'
        in result.stdout
    )
    assert f"{PAGE}:15:" not in result.stdout  # the sentence reviewed before it on that line still matches


def test_an_edited_sentence_makes_its_review_stale(docs: Path) -> None:
    page = docs / PAGE
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("up to the maximum lifetime of 395 days", "up to the maximum lifetime of 400 days"))
    result = graph_conformance("coverage", "--docs", docs)
    assert result.returncode == 1
    assert re.search(
        rf"STALE {PAGE}:66: conformance/statements\.yaml:\d+: fingerprint \w+ does not match", result.stdout
    )
    assert f"NOT   {PAGE}:66 [range]" in result.stdout and "400 days" in result.stdout


def test_a_moved_sentence_is_named_with_its_new_line(docs: Path) -> None:
    page = docs / PAGE
    page.write_text("\n" + page.read_text(encoding="utf-8"), encoding="utf-8")  # every line one down
    result = graph_conformance("coverage", "--docs", docs)
    assert result.returncode == 1
    assert f"STALE {PAGE}:15:" in result.stdout and "moved to line 16" in result.stdout


def coverage_with_edited(tmp_path: Path, name: str, old: str, new: str) -> str:
    """stdout of ``coverage`` with a copy of the packaged ``name`` (waivers or statements) edited once;
    asserts the run exits 1."""
    edited = tmp_path / f"{name}.yaml"
    text = (REPO / "conformance" / f"{name}.yaml").read_text(encoding="utf-8")
    assert old in text
    edited.write_text(text.replace(old, new, 1))
    option = "--waivers" if name == "waivers" else "--inventory"
    result = graph_conformance("coverage", option, edited)
    assert result.returncode == 1
    return result.stdout


def test_a_waiver_without_a_reason_fails(tmp_path: Path) -> None:
    text = (REPO / "conformance" / "waivers.yaml").read_text(encoding="utf-8")
    entry = re.search(r"^ +- \{line: (\d+), fingerprint: '\w+', kind: \w+, reason: permissions\}$", text, re.M)
    assert entry is not None
    output = coverage_with_edited(
        tmp_path, "waivers", entry.group(0), entry.group(0).replace(", reason: permissions", "")
    )
    assert re.search(r"STALE \S+:\d+: \S*waivers\.yaml:\d+: the waiver gives no reason", output)
    assert re.search(r"\d+ waived \(\S*waivers\.yaml\)", output)  # the file given is the one named


def test_a_waiver_naming_an_unknown_reason_fails(tmp_path: Path) -> None:
    output = coverage_with_edited(tmp_path, "waivers", "reason: licensing}", "reason: no-such-reason}")
    assert "entra-docs/how-to-authentication-qr-code.md:33: " in output
    assert "the waiver gives no reason" in output


def test_a_rule_no_scenario_carries_leaves_its_statements_uncovered() -> None:
    result = graph_conformance("coverage", "--scenarios", CATALOGUE / "policy-read.yaml")
    assert result.returncode == 1
    assert (
        'NOT   graph-docs/v1.0/resources/qrcodepinauthenticationmethod.md:20 [only] "Each user can have only one '
        'active QR code PIN authentication method.": rule one-method-per-user is carried by no scenario of v1.0'
    ) in result.stdout


def test_a_rule_carried_only_in_the_other_version_does_not_cover(tmp_path: Path) -> None:
    only_v1 = tmp_path / "policy-update-v1.yaml"
    shutil.copy(CATALOGUE / "policy-update-v1.yaml", only_v1)
    result = graph_conformance("coverage", "--scenarios", only_v1)
    assert re.search(
        r"NOT   graph-docs/beta/\S+ \[\w+\] .*rule policy-configuration is carried by no scenario of beta",
        result.stdout,
    )
    assert "rule policy-configuration is carried by no scenario of v1.0" not in result.stdout


def test_a_mapping_to_an_unknown_rule_is_stale(tmp_path: Path) -> None:
    output = coverage_with_edited(tmp_path, "statements", "rules: [image-once]}", "rules: [image-twice]}")
    assert re.search(r"STALE \S+:\d+: \S*statements\.yaml:\d+: unknown rule image-twice \(rules\.yaml\)", output)


def test_a_statement_reviewed_and_carried_is_covered(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    page = docs / "graph-docs" / "v1.0" / "api" / "one.md"
    page.parent.mkdir(parents=True)
    page.write_text("# One\n\nA user can have only one method.\n", encoding="utf-8")
    fingerprint = statements.fingerprint("A user can have only one method.")
    inventory, waivers = tmp_path / "statements.yaml", tmp_path / "waivers.yaml"
    inventory.write_text(
        f"graph-docs/v1.0/api/one.md:\n  - {{line: 3, fingerprint: '{fingerprint}', kind: only, "
        "rules: [one-method-per-user]}\n"
    )
    waivers.write_text("reasons: {}\nwaived: {}\n")
    args = ("coverage", "--docs", docs, "--inventory", inventory, "--waivers", waivers)
    part = _statement_part(graph_conformance(*args).stdout)
    assert part.splitlines()[0].startswith("statements (published and draft pages): 1 extracted, 1 covered, 0 waived")
    assert part.splitlines()[-1] == f"statement coverage: 1/1 = 100.0% (0 waived in {waivers})"
    # the same page once no scenario of the catalogue carries the rule
    part = _statement_part(graph_conformance(*args, "--scenarios", CATALOGUE / "policy-read.yaml").stdout)
    assert "statement coverage: 0/1 = 0.0%" in part and "rule one-method-per-user is carried by no scenario" in part


def test_a_missing_docs_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = graph_conformance("coverage", "--docs", tmp_path / "nowhere")
    assert result.returncode == 2
    assert "does not exist; give --docs DIR" in result.stderr
    result = graph_conformance("coverage", "--docs", tmp_path)
    assert result.returncode == 2
    assert "no doc page under" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("page.md: {line: 3}\n", "page.md: expected a list of statements"),
        ("page.md:\n  - {line: 3, fingerprint: abc, kind: only}\n", "name the rules or operations"),
        ("page.md:\n  - {line: x, fingerprint: abc, kind: only, rules: [a]}\n", "line is a number"),
        ("page.md:\n  - {line: 3, fingerprint: abc, kind: only, rule: [a]}\n", "each statement is a mapping of"),
        ("[1, 2]\n", "expected a mapping of doc pages"),
    ],
)
def test_a_malformed_inventory_names_its_line(tmp_path: Path, text: str, message: str) -> None:
    inventory = tmp_path / "statements.yaml"
    inventory.write_text(text)
    result = graph_conformance("coverage", "--inventory", inventory)
    assert result.returncode == 2
    assert re.search(rf"statements\.yaml:\d+: .*{re.escape(message)}", result.stderr)


def test_a_waivers_file_without_its_two_parts_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text("waived: {}\n")
    with pytest.raises(InputError, match=r"waivers\.yaml:1: expected a mapping with the keys 'reasons'"):
        coverage.read_reviews(path, waivers=True)


# --- extraction ---------------------------------------------------------------------------------------------

PAGE_TEXT = """---
title: "It must not count: front matter"
---

# A heading that must not count

Intro. The value must be 8-20 digits. Nothing here.
<!-- {
  "blockType": "request", "only": "comments never count"
} -->
```http
PATCH /only/in/code
```

  ```https
  HTTP/1.1 201 Created
  ```https
  {"never": "an unclosed block continues into the next one"}
  ```

|Property|Type|Description|
|:---|:---|:---|
|id|String|Read-only.|
|name|String|A plain description.|

|Scenario|HTTP code|Error code|
|:---|:---|:---|
|Too short|400 Bad Request|pinTooShort|

[!INCLUDE [only an include](../includes/x.md)]
- A bullet that returns a `204 No Content` response code.
"""


def test_statements_are_sentences_and_table_rows_outside_code_and_comments() -> None:
    found = list(statements.page_statements("graph-docs/v1.0/drafts/x.md", PAGE_TEXT))
    assert [(s.line, s.kind, s.text) for s in found] == [
        (7, "range", "The value must be 8-20 digits."),
        (23, "read-only", "id String Read-only."),
        (28, "error-code", "Too short 400 Bad Request pinTooShort"),
        (31, "status", "A bullet that returns a 204 No Content response code."),
    ]
    assert all(s.draft for s in found)
    assert found[0].where == "graph-docs/v1.0/drafts/x.md:7"


def test_a_fingerprint_ignores_markup_and_link_targets_but_not_words() -> None:
    one = statements.fingerprint("Only the **expireDateTime** of a [qrCode](../resources/qrcode.md) can change.")
    assert one == statements.fingerprint("Only the expireDateTime of a [qrCode](qrcode-v2.md)  can   change.")
    assert one != statements.fingerprint("Only the startDateTime of a qrCode can change.")
    assert len(one) == statements.FINGERPRINT_LENGTH


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        ("The PIN length can be 8 to 20 digits.", "range"),
        ("The lifetime is between one and twelve hours.", "range"),
        ("The image is returned only when the code is created.", "returned-only"),
        ("It's not returned when updating.", "returned-only"),
        ("Temporary QR codes can't be edited.", "cannot"),
        ("The pin property is required.", "must"),
        ("The value is always QRCodePin.", "must"),
        ("Defaults to true.", "default"),
        ("The date it was created. Read-only.", "read-only"),
        ("A user can have only one method.", "only"),
        ("If successful, this method returns a `201 Created` response code.", "status"),
        ("The date and time when the PIN was created.", None),
    ],
)
def test_the_kind_of_a_statement_is_its_normative_wording(sentence: str, kind: str | None) -> None:
    assert statements.kind_of(sentence) == kind
