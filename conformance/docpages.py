"""Read a Microsoft Graph documentation page into a structured :class:`Page`.

Three forms are understood, all reduced to the same structure:

- ``markdown``: the docs repository's Markdown (YAML front matter, ``<!-- {...} -->`` annotation
  blocks, fenced ``http``/``json`` blocks, pipe tables);
- ``rendered``: a learn.microsoft.com page rendered to plain text (no fences, tables flattened to
  space-separated rows, headings as bare lines);
- ``table-front-matter``: Markdown whose front matter was turned into a pipe table.

Every fact keeps the page line it came from. JSON inside the page is read with
:mod:`conformance.doc_json`, so known defects are repaired and recorded, and anything else is an
error naming ``page:line:column``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import doc_json
from conformance.doc_json import Repair
from conformance.errors import DocError
from conformance.versions import ALL_VERSIONS, Version

_REQUEST_LINE = re.compile(
    r"^(GET|PUT|PATCH|POST|DELETE)((?: (?:GET|PUT|PATCH|POST|DELETE))*) ((?:https?://|/)(?:[^\s{]|\{[^}]*\})*)\s*$"
)
_STATUS_LINE = re.compile(r"^HTTP/1\.1 (\d{3})\b")
_HEADER_LINE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*: ")
_FENCE = re.compile(r"^\s*```\s*([\w.-]*)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_STATUS_TEXT = re.compile(r"returns? an? `?(\d{3})(?: [A-Za-z ]+?)?`? (response|error) code", re.IGNORECASE)
_RESPONSE_TYPE = re.compile(
    r"response code and an? (?:updated |new )?\[?([A-Za-z]+)\]?(?:\([^)]*\))? (?:object|collection)"
)
_REQUEST_TYPE = re.compile(r"supply an? JSON representation of (?:an? |the )?\[?([A-Za-z]+)\]?(?:\([^)]*\))? object")
_INHERITS = re.compile(r"\bInherits from \[?([A-Za-z][A-Za-z0-9]*)\]?")
_BASE_TYPE = re.compile(r'"baseType"\s*:\s*"(?:microsoft\.graph\.)?([A-Za-z][A-Za-z0-9]*)"')
_VERSION_URL = re.compile(r"graph\.microsoft\.com/(beta|v1\.0)/", re.IGNORECASE)
_RENDERED_HEADINGS = frozenset(
    {
        "Permissions",
        "HTTP request",
        "Optional query parameters",
        "Request headers",
        "Request body",
        "Response",
        "Examples",
        "Request",
        "Properties",
        "Relationships",
        "JSON representation",
        "Methods",
        "Error responses",
    }
)
# Flattened table headers of the rendered form, and how many leading words make the type column.
_RENDERED_TABLES = {
    "Property Type Description": "Property",
    "Relationship Type Description": "Relationship",
    "Parameter Type Description": "Parameter",
}


@dataclass(frozen=True)
class Table:
    """A table: header cells, and rows of cells with the page line of each row."""

    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    line: int
    section: str
    heading: str


@dataclass(frozen=True)
class HttpExample:
    """A request or response example (an ``http`` block), its JSON body already parsed."""

    kind: str  # "request" or "response"
    line: int  # page line of the request or status line
    method: str | None
    path: str | None
    status: int | None
    body: Any
    body_line: int | None
    annotation: dict[str, Any]
    section: str
    heading: str


@dataclass(frozen=True)
class SyntaxLine:
    """A documented request form from the page's "HTTP request" section."""

    method: str
    path: str
    line: int


@dataclass(frozen=True)
class StatusStatement:
    """A status the page's prose says an operation returns."""

    status: int
    kind: str  # "response" or "error"
    line: int


@dataclass(frozen=True)
class Representation:
    """A resource page's JSON representation block."""

    odata_type: str | None
    key_property: str | None
    base_type: str | None
    body: Any
    line: int


@dataclass
class Page:
    """One documentation page, reduced to the facts the derivation uses."""

    path: str
    form: str
    title: str
    version: Version | None
    doc_type: str | None
    front_matter: dict[str, str]
    draft: bool = False
    syntax: list[SyntaxLine] = field(default_factory=list)
    examples: list[HttpExample] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    statuses: list[StatusStatement] = field(default_factory=list)
    response_types: list[tuple[str, int]] = field(default_factory=list)
    request_types: list[tuple[str, int]] = field(default_factory=list)
    request_body_line: int | None = None
    base_types: list[tuple[str, int]] = field(default_factory=list)
    representations: list[Representation] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def is_resource(self) -> bool:
        """Whether the page describes a type (a resource page) rather than an operation."""
        if self.doc_type:
            return self.doc_type == "resourcePageType"
        return self.title.endswith("resource type")

    @property
    def resource_name(self) -> str | None:
        """The type a resource page describes (``qrCode``), from its annotation or its title."""
        for rep in self.representations:
            if rep.odata_type:
                return rep.odata_type.rsplit(".", 1)[-1]
        match = re.match(r"^(\w+) resource type$", self.title)
        return match.group(1) if match else None


def read_page(path: Path, display: str) -> Page:
    """Read the page at ``path``; ``display`` is the path used in provenance and messages."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DocError(display, 1, f"cannot read page: {exc}") from None
    return parse_page(text, display)


def parse_page(text: str, display: str) -> Page:
    """Read page ``text`` in whichever of the three forms it is; ``display`` names it in facts and errors.

    The version comes from the path (a ``beta`` or ``v1.0`` folder), else a Graph URL, else the beta
    disclaimer; a page under ``drafts`` or holding ``TODO`` is a draft.
    """
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        page = _read_markdown(lines, display, "markdown")
    elif lines and lines[0].startswith("| title |"):
        page = _read_markdown(lines, display, "table-front-matter")
    else:
        page = _read_rendered(lines, display)
    page.version = _version(display, text)
    page.base_types = _base_types(lines)
    page.draft = "drafts" in Path(display).parts or "TODO" in text
    return page


# --- front matter and version -------------------------------------------------------------------


def _front_matter(lines: list[str], form: str) -> tuple[dict[str, str], int]:
    """The front matter as a dict, and the index of the first body line."""
    meta: dict[str, str] = {}
    if form == "markdown":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
        for line in lines[1:end]:
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip()] = value.strip().strip('"')
        return meta, end + 1
    i = 0
    while i < len(lines) and lines[i].startswith("|"):
        cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] and not set(cells[0]) <= set("-:"):
            meta[cells[0]] = cells[1]
        i += 1
    return meta, i


def _version(display: str, text: str) -> Version | None:
    parts = Path(display).parts
    for candidate in ALL_VERSIONS:
        if candidate in parts:
            return candidate
    match = _VERSION_URL.search(text)
    if match:
        return Version.of_segment(match.group(1))
    if "beta-disclaimer" in text:
        return Version.BETA
    return None


def _base_types(lines: list[str]) -> list[tuple[str, int]]:
    """The base types a page names, each with its line: prose "Inherits from X" and a ``baseType`` annotation.

    Table rows are left out: a property's "Inherits from" says where that property comes from.
    """
    found: list[tuple[str, int]] = []
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        match = _BASE_TYPE.search(stripped) or (None if stripped.startswith("|") else _INHERITS.search(stripped))
        if match:
            found.append((match.group(1), number))
    return found


# --- the Markdown forms --------------------------------------------------------------------------


def _read_markdown(lines: list[str], display: str, form: str) -> Page:
    meta, start = _front_matter(lines, form)
    page = Page(display, form, meta.get("title", ""), None, meta.get("doc_type"), meta)
    section = heading = ""
    annotation: dict[str, Any] | None = None
    i = start
    while i < len(lines):
        line = lines[i]
        match = _HEADING.match(line)
        if match and not line.startswith("# ["):  # "# [C#](#tab/csharp)" is a tab, not a heading
            heading = _plain(match.group(2))
            if len(match.group(1)) <= 2:
                section = heading
                if heading.lower() == "request body":
                    page.request_body_line = i + 1
            if len(match.group(1)) == 1 and not page.title:
                page.title = heading
            i += 1
            continue
        if line.lstrip().startswith("<!--"):
            annotation, i = _annotation(lines, i, display, page.repairs)
            continue
        fence = _FENCE.match(line)
        if fence:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```")), len(lines))
            _block(page, fence.group(1).lower(), lines[i + 1 : end], i + 2, annotation or {}, section, heading)
            annotation = None
            i = end + 1
            continue
        if line.startswith("|") and i + 1 < len(lines) and _is_separator(lines[i + 1]):
            i = _pipe_table(page, lines, i, section, heading)
            continue
        if form == "table-front-matter" and line.strip() == "{":
            i = _bare_json(page, lines, i)
            continue
        _statuses(page, line, i + 1, section)
        i += 1
    if form == "table-front-matter":
        _bare_requests(page, lines, start)
    return page


def _is_separator(line: str) -> bool:
    compact = line.replace(" ", "")
    return compact.startswith("|") and "-" in compact and set(compact) <= set("|:-")


def _plain(text: str) -> str:
    return _LINK.sub(r"\1", text).replace("**", "").replace("`", "").strip()


def _annotation(lines: list[str], i: int, display: str, repairs: list[Repair]) -> tuple[dict[str, Any] | None, int]:
    """Read an HTML comment starting at line index ``i``; return its JSON object, if any."""
    end = i
    while end < len(lines) and "-->" not in lines[end]:
        end += 1
    chunk = "\n".join(lines[i : end + 1])
    body = chunk[chunk.index("<!--") + 4 : chunk.rindex("-->") if "-->" in chunk else len(chunk)]
    if "{" not in body:
        return None, end + 1
    open_at = body.index("{")
    depth, close_at = 0, -1
    for k in range(open_at, len(body)):
        if body[k] == "{":
            depth += 1
        elif body[k] == "}":
            depth -= 1
            if depth == 0:
                close_at = k
                break
    if close_at < 0:
        raise DocError(display, i + 1, "annotation comment has an unclosed '{'")
    first_line = i + 1 + body.count("\n", 0, open_at)
    value, found = doc_json.loads(body[open_at : close_at + 1], display, first_line)
    repairs.extend(found)
    return (value if isinstance(value, dict) else None), end + 1


def _pipe_table(page: Page, lines: list[str], i: int, section: str, heading: str) -> int:
    header = tuple(_plain(c) for c in lines[i].strip().strip("|").split("|"))
    rows: list[tuple[int, tuple[str, ...]]] = []
    j = i + 2
    while j < len(lines) and lines[j].startswith("|"):
        if j + 1 < len(lines) and _is_separator(lines[j + 1]):
            break  # the next table's header row
        cells = tuple(c.strip() for c in lines[j].strip().strip("|").split("|"))
        rows.append((j + 1, cells))
        j += 1
    page.tables.append(Table(header, tuple(rows), i + 1, section, heading))
    return j


def _block(
    page: Page, lang: str, body: list[str], first: int, annotation: dict[str, Any], section: str, heading: str
) -> None:
    """A fenced block: HTTP syntax lines, an HTTP example, or a JSON representation."""
    block_type = annotation.get("blockType")
    if lang == "json" and block_type == "resource":
        value, found = doc_json.loads("\n".join(body), page.path, first)
        page.repairs.extend(found)
        page.representations.append(
            Representation(
                annotation.get("@odata.type"), annotation.get("keyProperty"), annotation.get("baseType"), value, first
            )
        )
        return
    if lang not in ("http", "msgraph-interactive", ""):
        return
    if block_type in ("request", "response"):
        _http_example(page, body, first, annotation, section, heading)
        return
    if section.lower() == "http request":
        for offset, raw in enumerate(body):
            _syntax_line(page, raw, first + offset)


def _syntax_line(page: Page, raw: str, line: int) -> None:
    match = _REQUEST_LINE.match(raw.strip())
    if match:
        page.syntax.append(SyntaxLine(*_request(match, page, line), line))


def _request(match: re.Match[str], page: Page, line: int) -> tuple[str, str]:
    """The method and service-relative path of a matched request line; extra verbs are noted, the first read."""
    method = match.group(1)
    if match.group(2):
        extra = match.group(2).strip()
        page.notes.append(f"{page.path}:{line}: request line has extra verbs '{extra}'; read as {method}")
    return method, _path_of(match.group(3), page, line)


def _path_of(target: str, page: Page, line: int) -> str:
    """The service-relative path of a request target (host and version removed)."""
    path = re.sub(r"^https?://[^/]+", "", target)
    path = re.sub(r"^/(beta|v1\.0)(?=/)", "", path, flags=re.IGNORECASE)
    doubled = re.match(r"^/+(beta|v1\.0)(?=/)", path, flags=re.IGNORECASE)
    if doubled or path.startswith("//"):
        page.notes.append(f"{page.path}:{line}: doubled version or slash in request URL")
        path = re.sub(r"^/+(beta|v1\.0)(?=/)", "", path, flags=re.IGNORECASE)
    return "/" + path.lstrip("/")


def _http_example(
    page: Page, lines: list[str], first: int, annotation: dict[str, Any], section: str, heading: str
) -> None:
    k = next((n for n, ln in enumerate(lines) if ln.strip()), None)
    if k is None:
        return
    start_line = first + k
    head = lines[k].strip()
    method = path = None
    status = None
    request = _REQUEST_LINE.match(head)
    status_match = _STATUS_LINE.match(head)
    if request:
        method, path = _request(request, page, start_line)
        kind = "request"
    elif status_match:
        status = int(status_match.group(1))
        kind = "response"
    else:
        return
    k += 1
    while k < len(lines) and _HEADER_LINE.match(lines[k].strip()):
        k += 1
    while k < len(lines) and not lines[k].strip():
        k += 1
    value: Any = None
    body_line = None
    if k < len(lines):
        body_line = first + k
        value, found = doc_json.loads("\n".join(lines[k:]), page.path, body_line)
        if kind == "response":
            value = doc_json.unwrap_value(value, page.path, body_line, found)
        page.repairs.extend(found)
    page.examples.append(
        HttpExample(kind, start_line, method, path, status, value, body_line, annotation, section, heading)
    )


def _statuses(page: Page, line: str, number: int, section: str) -> None:
    """The statuses and response type a Response section states, and the type a Request body section names."""
    if section.lower() == "request body":
        page.request_types.extend((m.group(1), number) for m in _REQUEST_TYPE.finditer(line))
        return
    if section.lower() not in ("response", "error responses"):
        return
    for match in _STATUS_TEXT.finditer(line):
        page.statuses.append(StatusStatement(int(match.group(1)), match.group(2).lower(), number))
    for match in _RESPONSE_TYPE.finditer(line):
        page.response_types.append((match.group(1), number))


def _bare_json(page: Page, lines: list[str], i: int) -> int:
    """A JSON object standing on its own (no fence), as in rendered pages."""
    j = _object_end(lines, i)
    value, found = doc_json.loads("\n".join(lines[i : j + 1]), page.path, i + 1)
    page.repairs.extend(found)
    odata = value.get("@odata.type") if isinstance(value, dict) else None
    if isinstance(odata, str):
        page.representations.append(Representation(odata.lstrip("#"), None, None, value, i + 1))
    return j + 1


def _object_end(lines: list[str], start: int) -> int:
    """The index of the line closing the JSON object that opens at ``start`` (``len(lines)`` if none does)."""
    depth, end = 0, start
    while end < len(lines):
        depth += lines[end].count("{") - lines[end].count("}")
        if depth <= 0:
            break
        end += 1
    return end


def _bare_requests(page: Page, lines: list[str], start: int) -> None:
    for i in range(start, len(lines)):
        if _REQUEST_LINE.match(lines[i].strip()):
            _syntax_line(page, lines[i], i + 1)


# --- the rendered form ---------------------------------------------------------------------------


def _read_rendered(lines: list[str], display: str) -> Page:
    title = next((ln.strip() for ln in lines if ln.strip() and ln.strip() not in ("Edit", "Share via")), "")
    page = Page(display, "rendered", title, None, None, {})
    section = heading = ""
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped in _RENDERED_HEADINGS:
            heading = stripped
            if stripped == "Request body":
                page.request_body_line = i + 1
            # After "Examples", "Request" and "Response" head examples, not sections.
            if section != "Examples" or stripped not in ("Request", "Response"):
                section = stripped
            i += 1
            continue
        if stripped in _RENDERED_TABLES:
            i = _flat_table(page, lines, i, _RENDERED_TABLES[stripped], section)
            continue
        if _REQUEST_LINE.match(stripped) or _STATUS_LINE.match(stripped):
            if section == "HTTP request":
                _syntax_line(page, stripped, i + 1)
                i += 1
                continue
            i = _rendered_example(page, lines, i, heading)
            continue
        if stripped == "{":
            i = _bare_json(page, lines, i)
            continue
        _statuses(page, stripped, i + 1, section)
        i += 1
    return page


def _flat_table(page: Page, lines: list[str], i: int, first: str, section: str) -> int:
    rows: list[tuple[int, tuple[str, ...]]] = []
    j = i + 1
    while j < len(lines) and lines[j].strip():
        words = lines[j].split()
        type_words = 2 if len(words) > 2 and words[2] == "collection" else 1
        name, type_name = words[0], " ".join(words[1 : 1 + type_words])
        rows.append((j + 1, (name, type_name, " ".join(words[1 + type_words :]))))
        j += 1
    page.tables.append(Table((first, "Type", "Description"), tuple(rows), i + 1, section, section))
    return j


def _rendered_example(page: Page, lines: list[str], i: int, heading: str) -> int:
    """An example in rendered text: a request or status line, headers, then an optional JSON body."""
    j = i + 1
    while j < len(lines) and _HEADER_LINE.match(lines[j].strip()):
        j += 1
    k = j
    while k < len(lines) and not lines[k].strip():
        k += 1
    end = j
    if k < len(lines) and lines[k].strip() == "{":
        end = _object_end(lines, k) + 1
    block = lines[i:end]
    kind = "request" if _REQUEST_LINE.match(lines[i].strip()) else "response"
    _http_example(page, block, i + 1, {"blockType": kind}, "Examples", heading)
    return max(end, i + 1)
