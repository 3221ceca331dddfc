"""The reports people read: the HTML page, opened in a real headless Chromium, and the Markdown summary.

``graph-conformance run`` (a subprocess, as a user runs it) checks a broken variant of the reference
mock on loopback: it leaks a canary PIN on every read, echoes the canary token it was sent, and adds
a member holding HTML (``<script>``) to every read. The HTML report is opened in Chromium from the
OS packages: its rendered text must name a case, a violation and a doc link to the page's line, and
its screenshot must be a real rendering. The page must load nothing from anywhere, escape every
value, and hold no secret the target served; the Markdown summary must say the same in short.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from conformance import doc_links, scrub
from conformance.mock.serve import BackgroundServer
from conformance.report_views import render_html, render_markdown
from tests.helpers import SHARED, SUITE, graph_conformance
from tests.mutants import Rewriting, mock

CHROMIUM = "/usr/bin/chromium"
INSTALL = "apt-get install -y --no-install-recommends chromium"
WINDOW = (1280, 1600)
HOSTILE = "<script>alert('report')</script><img src=https://attacker.example/x.png>"
SELECTED = "method-lifecycle or standard-code-rules or pin-reset-and-change"
DOC_LINK = re.compile(
    r"https://github\.com/(microsoftgraph/microsoft-graph-docs-contrib|MicrosoftDocs/entra-docs)/blob/"
    r"[0-9a-f]{40}/[A-Za-z0-9._/-]+\.md\?plain=1#L[0-9]+"
)


# --- a broken, hostile target ----------------------------------------------------------------------------


@dataclass
class Hostile:
    """The reference mock rewritten: reads leak ``pin`` and echo the token; every secret it serves is kept."""

    pin: str
    sent_tokens: list[str] = field(default_factory=list)
    served: set[str] = field(default_factory=set)

    def app(self) -> Any:
        return Rewriting(mock(), self.rewrite, request=self.request)

    def request(self, scope: dict[str, Any]) -> None:
        headers = dict(scope["headers"])
        self.sent_tokens.append(headers.get(b"authorization", b"").decode().removeprefix("Bearer "))

    def rewrite(self, method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
        if method == "GET" and status == 200 and isinstance(body, dict) and "pin" in body:
            body = {**body, "pin": {**body["pin"], "code": self.pin}, "note": HOSTILE, "echo": self.sent_tokens[-1]}
        self.served |= secrets_in(body)
        return status, body


def secrets_in(value: Any) -> set[str]:
    """Every PIN code and QR image in a JSON body (error codes are not PINs)."""
    if isinstance(value, list):
        return {s for item in value for s in secrets_in(item)}
    if not isinstance(value, dict):
        return set()
    found = {str(v) for k, v in value.items() if k in scrub.IMAGE_KEYS and v}
    pin = value.get("pin")
    if isinstance(pin, dict) and pin.get("code"):
        found.add(str(pin["code"]))
    return found | {s for v in value.values() for s in secrets_in(v)}


@dataclass(frozen=True)
class Run:
    folder: Path
    result: subprocess.CompletedProcess[str]
    target: Hostile
    token: str

    @property
    def html(self) -> str:
        return (self.folder / "report.html").read_text(encoding="utf-8")

    @property
    def markdown(self) -> str:
        return (self.folder / "summary.md").read_text(encoding="utf-8")

    @property
    def canaries(self) -> set[str]:
        return {self.token, self.target.pin, *self.target.served}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """One ``graph-conformance run`` against the hostile variant, writing every report."""
    folder = tmp_path_factory.mktemp("reports")
    (folder / "summary.md").write_text("# The job's own heading\n\n", encoding="utf-8")  # a step summary so far
    token, pin = f"canary-token-{uuid.uuid4().hex[:12]}", str(uuid.uuid4().int)[:9]
    target = Hostile(pin)
    with BackgroundServer(target.app()) as server:
        result = graph_conformance(
            "run",
            "--base-url",
            server.url,
            "--token",
            token,
            "-k",
            SELECTED,
            "--report-json",
            folder / "report.json",
            "--report-html",
            folder / "report.html",
            "--report-markdown",
            folder / "summary.md",
            cwd=folder,
        )
    assert result.returncode == 1, result.stdout + result.stderr
    for line in (
        f"HTML report written to {folder / 'report.html'}",
        f"Markdown summary appended to {folder / 'summary.md'}",
    ):
        assert f"graph-conformance: {line}" in result.stdout
    assert token in target.sent_tokens and target.served  # the canaries really went out
    yield Run(folder, result, target, token)


# --- the page in a real browser ----------------------------------------------------------------------------


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Chromium from the OS packages, headless, with no background traffic, on ``page``."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: the HTML report is checked in a real browser; install it with `{INSTALL}`")
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *args,
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done


class Page(HTMLParser):
    """What a browser's DOM holds: its text, its links (href -> link text), and every tag seen."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: dict[str, str] = {}
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._href: str | None = None
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "a":
            self._href = dict(attrs).get("href")
            if self._href is not None:
                self.links[self._href] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None

    def handle_data(self, data: str) -> None:
        if self.tags and self.tags[-1][0] in ("style", "title"):
            return
        self.text.append(data)
        if self._href is not None:
            self.links[self._href] += data

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def png(data: bytes) -> tuple[int, int, Counter[bytes]]:
    """Width, height and how many pixels of each RGB colour an 8-bit, non-interlaced PNG holds (what
    Chromium writes), decoded with the standard library."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, compressed = 8, b""
    width = height = depth = colour = interlace = 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed += body
        position += 12 + length
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    size = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(compressed), width * size
    colours: Counter[bytes] = Counter()
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride) if kind else ():  # filter 0 leaves the bytes as they are
            left = line[i - size] if i >= size else 0
            up, corner = previous[i], (previous[i - size] if i >= size else 0)
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            else:  # Paeth: the neighbour nearest to left + up - corner, ties to left, then up
                guess = left + up - corner
                near = min((abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - corner), 2, corner))
                line[i] = (line[i] + near[2]) & 0xFF
        colours.update(bytes(line[i : i + 3]) for i in range(0, stride, size))
        previous = line
    return width, height, colours


def test_the_html_report_renders_in_chromium_with_cases_violations_and_doc_links(run: Run) -> None:
    page = run.folder / "report.html"
    dom = chromium(page, run.folder / "profile-dom", "--dump-dom").stdout.decode()
    rendered = Page(dom)
    text = rendered.all_text
    assert "not conformant" in text and "graph-conformance report" in text
    report = json.loads((run.folder / "report.json").read_text())
    failed = [c for c in report["cases"] if c["outcome"] == "failed"]
    assert failed and all(f"{c['id']}" in text for c in report["cases"])  # every case, by id
    first = failed[0]["violations"][0]
    assert first["where"] == "$.pin.code" and f"$.pin.code: expected {first['expected']}, got " in text
    assert "<redacted code: a 9-character string>" in text  # the leaked PIN, described, never shown
    # doc links: page:line shown, linked to the page's public source at that line
    docs = {href: shown for href, shown in rendered.links.items() if href.startswith("https://")}
    assert docs and all(DOC_LINK.fullmatch(href) for href in docs)
    for href, shown in docs.items():
        page_cited, line = shown.rsplit(":", 1)
        assert href.endswith(f"/{page_cited.rsplit('/', 1)[-1]}?plain=1#L{line}") or page_cited.startswith("seeds/")
    assert doc_links.url(first["doc"]) in docs  # the first violation's page, at its line
    assert "target" in text and "loopback mock" in text
    assert "00000000-0000-4000-8000-00000000c0de" in text  # the user
    assert "Drift" in text and "$.note" in text and "Documented alternatives chosen" in text
    assert HOSTILE in text  # the hostile member is shown as text...
    assert not [tag for tag, _ in rendered.tags if tag in ("script", "img", "iframe", "object", "link")]  # ...not run

    shot = run.folder / "screenshot.png"
    window = f"--window-size={WINDOW[0]},{WINDOW[1]}"
    chromium(page, run.folder / "profile-shot", f"--screenshot={shot}", window, "--hide-scrollbars")
    width, height, colours = png(shot.read_bytes())
    assert (width, height) == WINDOW
    pixels = width * height
    assert len(colours) > 200, f"only {len(colours)} colours: a blank or flat page"
    assert max(colours.values()) < 0.9 * pixels, "nine pixels in ten are one colour: nothing rendered"
    assert colours[bytes.fromhex("cf222e")] > 100  # the verdict's red: the inline style sheet applied
    assert sum(n for c, n in colours.items() if max(c) < 0x80) > 0.005 * pixels  # dark text


def test_without_chromium_the_browser_test_fails_saying_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{__name__}.CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.fail.Exception, match=re.escape(f"install it with `{INSTALL}`")):
        chromium(Path("report.html"), Path("profile"))


def test_the_plugin_writes_both_reports_and_a_conformant_target_reads_so(pytester: pytest.Pytester) -> None:
    summary = "*graph-conformance: * report written to *r.html"
    result = pytester.runpytest_subprocess(
        *SUITE, "-k", "standard-code-rules", "--graph-report-html", "r.html", "--graph-report-markdown", "s.md"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([summary, "*graph-conformance: Markdown summary appended to s.md"])
    html = (pytester.path / "r.html").read_text(encoding="utf-8")
    assert '<span class="verdict v-conformant">conformant</span> 2 passed, 0 failed' in html
    assert "Failures" not in html and "the expiry moves within the limit" in html  # the alternative chosen
    markdown = (pytester.path / "s.md").read_text(encoding="utf-8")
    assert markdown.startswith("## graph-conformance: conformant\n\n2 passed, 0 failed, 0 errors, 0 skipped")
    assert "| case |" not in markdown and "- 200 of 200/201/204: 2 answers" in markdown


# --- what the page holds -----------------------------------------------------------------------------------


def test_the_html_report_loads_nothing_from_outside(run: Run) -> None:
    html = run.html
    page = Page(html)
    assert re.search(r"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'", html)
    sources = [(tag, attrs) for tag, attrs in page.tags if {"src", "srcset", "data", "poster"} & attrs.keys()]
    assert sources == []
    assert not [t for t, a in page.tags if t in ("link", "script", "iframe", "object", "embed", "base", "form")]
    hrefs = [a["href"] or "" for t, a in page.tags if "href" in a]
    outside = [h for h in hrefs if not h.startswith("#")]
    assert outside and all(DOC_LINK.fullmatch(h) for h in outside)  # only doc links leave the page
    assert all(re.fullmatch(r"#case-[0-9]+", h) and f'id="{h[1:]}"' in html for h in hrefs if h.startswith("#"))
    style = "".join(re.findall(r"<style>(.*?)</style>", html, re.S))
    assert style and "url(" not in style and "@import" not in style and "@font-face" not in style


def test_the_html_report_escapes_what_the_target_sent(run: Run) -> None:
    html = run.html
    assert "<script" not in html and "<img" not in html  # the raw markup never reaches the page
    assert "&lt;script&gt;alert(&#x27;report&#x27;)&lt;/script&gt;" in html  # it was there, escaped


def test_no_report_holds_a_secret_the_target_served_or_was_sent(run: Run) -> None:
    assert run.target.pin in run.target.served and len(run.target.served) > 2  # PINs and QR images went out
    for name in ("report.html", "summary.md", "report.json"):
        text = (run.folder / name).read_text(encoding="utf-8")
        assert [c for c in run.canaries if c in text] == [], name
    assert scrub.PIN_PLACEHOLDER in run.html and scrub.IMAGE_PLACEHOLDER in run.html  # scrubbed, not dropped
    assert scrub.TOKEN_PLACEHOLDER in run.html  # the echoed token
    assert [c for c in run.canaries if c in run.result.stdout + run.result.stderr] == []


def test_the_json_report_keeps_each_request_and_answer_scrubbed(run: Run) -> None:
    report = json.loads((run.folder / "report.json").read_text())
    assert report["graph_conformance"] and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", report["created"])
    case = next(c for c in report["cases"] if c["id"] == "method-lifecycle[beta]")
    assert len(case["transcript"]) == len(case["exchanges"]) > 2  # the one-line summaries are still there
    create = next(e for e in case["transcript"] if e["request"]["method"] == "PUT")
    assert create["request"]["url"].endswith(
        "/beta/users/00000000-0000-4000-8000-00000000c0de/authentication/qrCodePinMethod"
    )
    assert create["request"]["body"]["pin"]["code"] == scrub.PIN_PLACEHOLDER
    assert create["answer"]["status"] == 201 and create["answer"]["headers"]["content-type"] == "application/json"
    assert json.loads(create["answer"]["body"])["standardQRCode"]["image"]["binaryValue"] == scrub.IMAGE_PLACEHOLDER
    read = next(e for e in case["transcript"] if e["step"] == failed_step(case))
    assert json.loads(read["answer"]["body"])["pin"]["code"] == scrub.PIN_PLACEHOLDER
    assert {r["id"] for r in case["rules"]} >= {"pin-code-once"}
    assert all(r["rule"] and r["docs"] for r in case["rules"])


def failed_step(case: dict[str, Any]) -> str:
    return str(case["violations"][0]["step"])


# --- the Markdown summary ------------------------------------------------------------------------------------


def test_the_markdown_summary_says_the_verdict_the_failures_and_their_doc_links(run: Run) -> None:
    markdown = run.markdown
    assert markdown.startswith("# The job's own heading\n\n## graph-conformance: not conformant\n")  # appended
    report = json.loads((run.folder / "report.json").read_text())
    counts = report["summary"]
    assert f"{counts['passed']} passed, {counts['failed']} failed, {counts['errors']} errors" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and "\\[" in line]
    failed = [c for c in report["cases"] if c["outcome"] == "failed"]
    assert len(rows) == len(failed) > 0
    case = failed[0]
    escaped_id = case["id"].replace("[", "\\[").replace("]", "\\]")
    row = next(r for r in rows if r.startswith(f"| {escaped_id} | failed | "))
    assert "$.pin.code: expected " in row and "got &lt;redacted code: a 9-character string&gt;" in row
    doc = case["violations"][0]["doc"]
    assert f"[{doc}]({doc_links.url(doc)})" in row
    assert "**Drift**" in markdown and "- $.note: not documented for qrCodePinAuthenticationMethod" in markdown
    assert "**Documented alternatives chosen**" in markdown and re.search(
        r"- POST of POST/PATCH: \d+ answers?", markdown
    )


def test_report_renders_an_existing_json_report_as_run_did(run: Run, tmp_path: Path) -> None:
    result = graph_conformance(
        "report", run.folder / "report.json", "--html", tmp_path / "again.html", "--markdown", tmp_path / "again.md"
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "again.html").read_text(encoding="utf-8") == run.html  # one rendering, from the JSON
    assert (tmp_path / "again.md").read_text(encoding="utf-8") == run.markdown.split("\n\n", 1)[1]
    printed = graph_conformance("report", run.folder / "report.json")
    assert printed.returncode == 0 and printed.stdout == (tmp_path / "again.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a JSON report"),
        ('{"summary": {}}', "not a graph-conformance JSON report (no list of cases)"),
        (
            '{"cases": [{"id": "x", "violations": "oops", "outcome": "failed"}], "settings": []}',
            "not a JSON report this tool wrote",
        ),
    ],
)
def test_report_refuses_what_is_not_a_report(tmp_path: Path, content: str, message: str) -> None:
    given = tmp_path / "given.json"
    given.write_text(content)
    result = graph_conformance("report", given, "--html", tmp_path / "out.html")
    assert result.returncode == 2 and f"graph-conformance: error: {given}: {message}" in result.stderr
    assert not (tmp_path / "out.html").exists()


def test_a_report_file_that_cannot_be_written_is_a_usage_error_before_the_run(tmp_path: Path) -> None:
    for flag in ("--report-html", "--report-markdown"):
        result = graph_conformance("run", "--base-url", "http://127.0.0.1:9", flag, tmp_path)
        assert result.returncode == 2
        assert f"error: {flag} {tmp_path}: is a folder; give a file path" in result.stderr


# --- renderings of hostile documents, and the doc links ------------------------------------------------------


def test_every_value_of_a_hostile_document_is_escaped() -> None:
    evil = '"><script>alert(1)</script><img src=x onerror=alert(2)> |\n| injected | row | https://evil.example www.evil.example'
    violation = {"kind": "status", "step": evil, "where": evil, "expected": evil, "got": evil, "doc": evil}
    exchange = {
        "step": evil,
        "request": {"method": evil, "url": evil, "headers": {evil: evil}, "body": {evil: evil}},
        "answer": {"status": evil, "headers": {evil: evil}, "body": evil},
        "attempts": 2,
    }
    case = {
        "id": evil,
        "outcome": "failed",
        "title": evil,
        "file": evil,
        "docs": [evil, "javascript:alert(3)"],
        "rules": [{"id": evil, "rule": evil, "docs": [evil]}],
        "violations": [violation],
        "warnings": [{"kind": "undocumented", "step": evil, "where": evil, "message": evil}],
        "choices": [{"step": evil, "accepted": [evil], "chosen": evil}],
        "transcript": [exchange],
        "error": evil,
    }
    contents = {
        "summary": {"failed": 1},
        "settings": {"base_url": evil, "user": evil, "versions": [evil]},
        "cases": [case],
    }
    html = render_html(contents)
    assert "<script" not in html and "<img" not in html
    assert [a["href"] for _, a in Page(html).tags if "href" in a] == ["#case-0"]  # the failures table's, no other
    assert {tag for tag, _ in Page(html).tags} <= {
        *("html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "span", "dl", "dt", "dd"),
        *("table", "tr", "th", "td", "a", "details", "summary", "div", "ul", "li", "b", "pre"),
    }
    markdown = render_markdown(contents)
    assert "<script" not in markdown and "<img" not in markdown and "](javascript" not in markdown
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in markdown  # shown as text
    assert all(line.count(" | ") == 3 for line in markdown.splitlines() if line.startswith("| "))  # no cell broke out
    assert "https://evil" not in markdown and "www.evil" not in markdown  # GitHub would link them by itself


@pytest.mark.parametrize(
    ("summary", "said"),
    [
        ({"passed": 3, "failed": 1}, "not conformant"),
        ({"passed": 3, "errors": 1}, "not conformant"),
        ({"passed": 3, "interrupted": 1}, "not conformant"),
        ({"passed": 3, "not_run": 2}, "incomplete"),
        ({"passed": 3, "skipped": 2}, "conformant"),
        ({"skipped": 2}, "nothing checked"),
    ],
)
def test_the_verdict_follows_the_counts(summary: dict[str, int], said: str) -> None:
    cases = [{"id": "lost[beta]", "outcome": "not-run", "reason": "not run: target unreachable (ConnectError)"}]
    html, markdown = (
        render_html({"summary": summary, "cases": cases}),
        render_markdown({"summary": summary, "cases": cases}),
    )
    assert f'<span class="verdict v-{said.replace(" ", "-")}">{said}</span>' in html
    assert markdown.startswith(f"## graph-conformance: {said}\n")
    assert "| lost\\[beta\\] | not-run | not run: target unreachable \\(ConnectError\\) |  |" in markdown


def provenance() -> dict[str, str]:
    """Page (as cited) -> commit, read from the provenance tables beside the pages."""
    found: dict[str, str] = {}
    section = ""
    for line in (SHARED / "graph-docs" / "README.md").read_text().splitlines():
        if line.startswith("### api-reference/"):
            section = line.split("/")[1].split()[0] + "/"
        elif line.startswith("#### beta pages that are historical"):
            section = "beta/drafts/"
        elif line.startswith("#### v1.0 pages whose path"):
            section = ""
        row = re.match(r"\| (\S+\.md) \| ((?:api|resources)/\S+) \| ([0-9a-f]{40}) ", line)
        if row and section:
            folder = "" if section.endswith("drafts/") else row[2].split("/")[0] + "/"
            found[f"graph-docs/{section}{folder}{row[1]}"] = row[3]
    for line in (SHARED / "graph-docs-base" / "README.md").read_text().splitlines():
        row = re.match(r"\| (\S+\.md) \| api-reference/\S+ \| ([0-9a-f]{40}) ", line)
        if row:
            found[f"graph-docs-base/{row[1]}"] = row[2]
    for line in (SHARED / "entra-docs" / "README.md").read_text().splitlines():
        row = re.match(r"\| (\S+\.md) \| MicrosoftDocs/entra-docs \| \S+ \| ([0-9a-f]{40}) ", line)
        if row:
            found[f"entra-docs/{row[1]}"] = row[2]
    return found


def test_doc_links_are_the_provenance_tables_commits_at_the_cited_line() -> None:
    assert provenance() == doc_links.COMMITS
    assert all((SHARED / page).is_file() for page in doc_links.COMMITS)
    assert doc_links.url("graph-docs/v1.0/api/qrcode-get.md:72") == (
        "https://github.com/microsoftgraph/microsoft-graph-docs-contrib/blob/719af54944bf1c8a82d3c8c1141f410965d15a1c"
        "/api-reference/v1.0/api/qrcode-get.md?plain=1#L72"
    )
    assert doc_links.url("graph-docs/beta/drafts/qrcodepinauthenticationmethod-patch-pin.md:9") == (
        "https://github.com/microsoftgraph/microsoft-graph-docs-contrib/blob/880f305e53b924d3657c6d513d4e3d4d312c0fe5"
        "/api-reference/beta/api/qrcodepinauthenticationmethod-patch-pin.md?plain=1#L9"
    )
    assert doc_links.url("entra-docs/concept-authentication-qr-code.md:51") == (
        "https://github.com/MicrosoftDocs/entra-docs/blob/07cd7acd04259449a361903c29dbb8b442402a88"
        "/docs/identity/authentication/concept-authentication-qr-code.md?plain=1#L51"
    )
    seed = (SHARED / "seeds" / "002_ceb8d830ce774453.txt").read_bytes()
    assert seed == (SHARED / "graph-docs" / "beta" / "api" / "qrcode-update.md").read_bytes()
    assert doc_links.url("seeds/002_ceb8d830ce774453.txt:40") == doc_links.url(
        "graph-docs/beta/api/qrcode-update.md:40"
    )
    for unknown in (
        "graph-docs/v1.0/drafts/qrcodepinauthenticationmethod-resetpin.md:55",  # path inferred, no commit
        "graph-metadata/beta.xml:120",  # an excerpt: its lines are not the source file's
        "seeds/001_e16b2302f2791361.txt:12",  # a rendering
        "conformance/pinned.yaml",
        "graph-docs/v1.0/api/qrcode-get.md",  # no line
        "javascript:alert(1)",
    ):
        assert doc_links.url(unknown) is None, unknown
