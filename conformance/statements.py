"""The normative statements of the published pages, extracted at run time.

A statement is one prose sentence, or one table row, that says what the API does or must do: a range
or length ("8-20", "between", "maximum", "up to"), "only", "can't", "must", "required", "returned
only when", a default, a read-only property, a documented response status, a row of an error-code
table. Each is identified by ``page:line`` (the page relative to the docs folder) and a fingerprint,
a short hash of its normalized text, so that an edited sentence no longer matches the review made of
it. The project keeps only those identifiers (``conformance/statements.yaml``,
``conformance/waivers.yaml``), never the pages' text.

The pages read: ``graph-docs/<version>/{api,resources,drafts}/*.md`` (``drafts/`` pages are marked
as drafts) and ``entra-docs/*.md``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from conformance.errors import UsageError

DEFAULT_DOCS = Path(__file__).resolve().parent.parent.parent / "shared"
PAGE_GLOBS = ("graph-docs/*/api/*.md", "graph-docs/*/resources/*.md", "graph-docs/*/drafts/*.md", "entra-docs/*.md")
FINGERPRINT_LENGTH = 10

# the kinds of normative wording, the first that matches names the statement's kind
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("status", re.compile(r"\breturns? an? `?\d{3}\b", re.IGNORECASE)),
    ("returned-only", re.compile(r"\b(?:returned only|only returned|(?:isn't|is not|not) returned)\b", re.IGNORECASE)),
    (
        "range",
        re.compile(
            r"\b\d+\s*(?:-|\u2013|to)\s*\d+\b|\bbetween\b|\bmax(?:imum|\.)|\bminimum\b|\bup ?to\b|\bat (?:least|most)\b"
            r"|\bexceed|\blonger than\b|\bshorter\b",
            re.IGNORECASE,
        ),
    ),
    ("read-only", re.compile(r"\bread-only\b", re.IGNORECASE)),
    ("default", re.compile(r"\bdefaults?\b", re.IGNORECASE)),
    (
        "cannot",
        re.compile(
            r"\bcan't\b|\bcannot\b|\bcan not\b|\bnot allowed\b|\bunallowed\b|\bnot supported\b|\bunsupported\b",
            re.IGNORECASE,
        ),
    ),
    ("must", re.compile(r"\bmust\b|\brequired?\b|\brequires\b|\bmandatory\b|\balways\b|\bnever\b", re.IGNORECASE)),
    ("only", re.compile(r"\bonly\b", re.IGNORECASE)),
)
_ERROR_TABLE_HEADER = re.compile(r"\berror code\b", re.IGNORECASE)
_FENCE = re.compile(r"^\s*(?:```|~~~)\s*(\S*)")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z*`\[])")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"\*\*|__|`|<br\s*/?>|^\s*(?:[-*+]|\d+\.)\s+|^\s*>\s*(?:\[!\w+\]\s*)?")
_SKIPPED_LINE = re.compile(r"^\s*(?:#|\[!INCLUDE|:::|<!--|>\s*\[!\w+\]\s*$)", re.IGNORECASE)


@dataclass(frozen=True)
class Statement:
    """One normative sentence or table row of a page, identified by page:line and fingerprint."""

    page: str  # relative to the docs folder, with forward slashes
    line: int
    fingerprint: str
    kind: str
    text: str  # the page's own words without markup, for display at run time only (never stored)

    @property
    def draft(self) -> bool:
        """Whether the page is a draft (``drafts/``: not linked from the published pages)."""
        return "/drafts/" in self.page

    @property
    def where(self) -> str:
        """``page:line``."""
        return f"{self.page}:{self.line}"


def plain(text: str) -> str:
    """``text`` without markup: links to their label, emphasis, code marks and table pipes removed, one space."""
    return " ".join(_MARKUP.sub(" ", _LINK.sub(r"\1", text)).replace("|", " ").split())


def normalize(text: str) -> str:
    """The text a fingerprint is taken of: :func:`plain`, in lower case."""
    return plain(text).lower()


def fingerprint(text: str) -> str:
    """A short hash of the normalized ``text``: it changes when the sentence's words change."""
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def kind_of(text: str) -> str | None:
    """The kind of normative wording in ``text``, or None when it has none."""
    plain = normalize(text)
    for kind, pattern in _KINDS:
        if pattern.search(plain):
            return kind
    return None


def pages(docs: Path) -> list[Path]:
    """The pages statements are read from, under ``docs``; a usage error when there are none."""
    if not docs.is_dir():
        raise UsageError(
            f"coverage: the docs folder {docs} does not exist; give --docs DIR (the folder that holds graph-docs/ "
            "and entra-docs/)"
        )
    found = sorted({p for pattern in PAGE_GLOBS for p in docs.glob(pattern) if p.name != "README.md"})
    if not found:
        raise UsageError(
            f"coverage: no doc page under {docs} (expected graph-docs/<version>/api|resources|drafts/*.md and "
            "entra-docs/*.md); give --docs DIR"
        )
    return found


def extract(docs: Path) -> list[Statement]:
    """Every normative statement of the pages under ``docs``, in page and line order."""
    statements: list[Statement] = []
    for path in pages(docs):
        page = path.relative_to(docs).as_posix()
        statements.extend(page_statements(page, path.read_text(encoding="utf-8")))
    return statements


def page_statements(page: str, text: str) -> Iterator[Statement]:
    """The normative statements of one page's Markdown ``text``."""
    for number, unit, in_error_table in _units(text.splitlines()):
        kind = "error-code" if in_error_table else kind_of(unit)
        if kind is not None:
            yield Statement(page, number, fingerprint(unit), kind, plain(unit))


def _units(lines: list[str]) -> Iterator[tuple[int, str, bool]]:
    """(line, text, in an error-code table) of each prose sentence and table row outside front matter,
    code blocks, comments, headings, includes and images."""
    i = _after_front_matter(lines)
    in_comment = in_fence = False
    table_header: str | None = None
    while i < len(lines):
        raw = lines[i]
        number = i + 1
        i += 1
        if in_comment:
            in_comment = "-->" not in raw
            continue
        fence = _FENCE.match(raw)
        if fence:  # a fence with an info string opens a block even inside one (pages leave blocks unclosed)
            in_fence = bool(fence.group(1)) or not in_fence
            continue
        if in_fence:
            continue
        if raw.lstrip().startswith("<!--"):
            in_comment = "-->" not in raw
            continue
        if not raw.strip() or _SKIPPED_LINE.match(raw):
            table_header = None
            continue
        if "|" in raw and (raw.lstrip().startswith("|") or (i < len(lines) and _TABLE_SEPARATOR.match(lines[i]))):
            if table_header is None:
                table_header = raw  # a table's header row names its columns; it states nothing
                continue
            if _TABLE_SEPARATOR.match(raw):
                continue
            yield number, raw, bool(_ERROR_TABLE_HEADER.search(table_header))
            continue
        table_header = None
        for sentence in _SENTENCE_END.split(raw.strip()):
            yield number, sentence, False


def _after_front_matter(lines: list[str]) -> int:
    """The index of the first line after a leading ``---`` front matter block (0 when there is none)."""
    if lines and lines[0].strip() == "---":
        for i in range(1, len(lines)):
            if lines[i].strip() == "---":
                return i + 1
    return 0
