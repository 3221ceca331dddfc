"""The JSON report's document rendered for people: a self-contained HTML page and a Markdown summary.

Both are rendered from the document :func:`conformance.report.document` makes (or a JSON report read
back from a file, older ones too: what a report lacks is left out), so they show exactly what the JSON
report holds, already scrubbed. The HTML page is one file: inline CSS, no script, no image, no font,
and a Content-Security-Policy that forbids loading anything; its only links to the outside are doc
citations (:mod:`conformance.doc_links`). Every value is HTML-escaped; in the Markdown every value is
escaped so that no text from a target becomes markup (GitHub renders HTML in Markdown).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any

from conformance import doc_links
from conformance.errors import InputError

FAILING = ("failed", "error", "interrupted", "not-run")  # the outcomes that fail a run
ORDER = {"failed": 0, "error": 1, "interrupted": 2, "not-run": 3, "expected-deviation": 4, "skipped": 5, "passed": 6}
DRIFT = "undocumented"  # the kind of note that is drift
MAX_REPORT_BYTES = 256 * 1024 * 1024  # a JSON report read back for rendering
MARKDOWN_ROWS = 100  # failures listed in the Markdown summary (GitHub caps a step summary at 1 MiB)
MARKDOWN_LIST = 20  # drift and alternatives listed there, each in one line
MARKDOWN_CELL = 300  # characters of one Markdown table cell


# --- what both renderings say -------------------------------------------------------------------------


def ordered(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cases, failures first (failed, error, interrupted, not run, skipped, passed), then by id."""
    return sorted(cases, key=lambda c: (ORDER.get(str(c.get("outcome")), 6), str(c.get("id"))))


def counts_text(summary: dict[str, Any]) -> str:
    """The counts in one line, as the terminal summary gives them."""
    parts = [f"{summary.get('passed', 0)} passed", f"{summary.get('failed', 0)} failed"]
    if summary.get("expected_deviations"):
        parts.append(f"{summary['expected_deviations']} expected deviations")
    parts += [f"{summary.get('errors', 0)} errors", f"{summary.get('skipped', 0)} skipped"]
    parts += [f"{summary[k]} {k.replace('_', ' ')}" for k in ("not_run", "interrupted") if summary.get(k)]
    parts.append(f"{summary.get('drift', 0)} drift warnings")
    return ", ".join(parts)


def verdict(contents: dict[str, Any]) -> str:
    """``not conformant`` (violations or errors), ``incomplete`` (cases not run: the target was lost),
    ``conformant``, or ``nothing checked``."""
    summary = contents.get("summary", {})
    if any(summary.get(k) for k in ("failed", "errors", "interrupted")):
        return "not conformant"
    if summary.get("not_run"):
        return "incomplete"
    return "conformant" if summary.get("passed") or summary.get("expected_deviations") else "nothing checked"


def brief(violation: dict[str, Any]) -> str:
    """A violation in one line, as :func:`conformance.findings.brief` writes it."""
    return f"{violation.get('where')}: expected {violation.get('expected')}, got {violation.get('got')}"


def headline(case: dict[str, Any]) -> tuple[str, str | None]:
    """What a case is shown by: its first violation and the page it cites, or what ended it."""
    violations = case.get("violations") or []
    if violations:
        more = f" (+{len(violations) - 1} more)" if len(violations) > 1 else ""
        return brief(violations[0]) + more, violations[0].get("doc")
    return str(case.get("error") or case.get("reason") or case.get("outcome", "")), None


def drift(cases: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """Each undocumented property (where, message) with how many cases met it."""
    found: Counter[tuple[str, str]] = Counter()
    for case in cases:
        notes = case.get("warnings") or []
        found.update({(str(n.get("where")), str(n.get("message"))) for n in notes if n.get("kind") == DRIFT})
    return [(where, message, count) for (where, message), count in sorted(found.items())]


def choices(cases: list[dict[str, Any]]) -> list[tuple[str, str, str, list[str]]]:
    """Each documented alternative answered: (step, the alternative chosen, those documented, the cases)."""
    found: dict[tuple[str, str, str], list[str]] = {}
    for case in cases:
        for choice in case.get("choices") or []:
            accepted = "/".join(str(a) for a in choice.get("accepted", []))
            key = (str(choice.get("step")), str(choice.get("chosen")), accepted)
            found.setdefault(key, []).append(str(case.get("id")))
    return [(step, chosen, accepted, ids) for (step, chosen, accepted), ids in sorted(found.items())]


# --- HTML ------------------------------------------------------------------------------------------------

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
main{max-width:1200px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:24px 0 8px}h3{font-size:14px;margin:12px 0 4px}
.verdict{display:inline-block;padding:4px 12px;border-radius:6px;font-weight:600;color:#fff}
.v-conformant{background:#1a7f37}.v-not-conformant{background:#cf222e}.v-incomplete,.v-nothing-checked{background:#9a6700}
dl.run{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:12px 0}
dl.run dt{color:#59636e}dl.run dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
table{border-collapse:collapse;background:#fff;margin:4px 0}
th,td{border:1px solid #d1d9e0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4}
table.counts td{font-size:18px;font-weight:600;text-align:center;min-width:72px}
details.case{background:#fff;border:1px solid #d1d9e0;border-left:6px solid #6e7781;border-radius:6px;margin:8px 0}
details.case>summary{cursor:pointer;padding:8px 12px;list-style-position:inside}
details.case>div{padding:0 12px 12px}
.o-failed,.o-error,.o-interrupted{border-left-color:#cf222e!important}
.o-passed{border-left-color:#1a7f37!important}.o-skipped,.o-not-run{border-left-color:#9a6700!important}
.badge{display:inline-block;min-width:64px;text-align:center;border-radius:10px;padding:0 8px;font-size:12px;
font-weight:600;color:#fff;background:#6e7781}
.b-failed,.b-error,.b-interrupted{background:#cf222e}.b-passed{background:#1a7f37}.b-skipped,.b-not-run{background:#9a6700}
.case-id{font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:600}
.first{color:#cf222e}
.exchange{border-top:1px solid #d1d9e0;margin-top:8px;padding-top:4px}.exchange summary{cursor:pointer}
.violation{color:#82071e;background:#ffebe9;border-radius:4px;padding:2px 6px;margin:2px 0}
.warning{color:#7d4e00;background:#fff8c5;border-radius:4px;padding:2px 6px;margin:2px 0}
.kind{font-size:11px;text-transform:uppercase;color:#59636e;margin-right:6px}
pre{background:#f6f8fa;border:1px solid #d1d9e0;border-radius:4px;padding:6px 8px;margin:4px 0;white-space:pre-wrap;
word-break:break-all;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;max-height:360px;overflow:auto}
.sent,.answered{font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:600}
a.doc,span.doc{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
span.doc{color:#59636e;border-bottom:1px dotted #59636e}
ul{margin:4px 0;padding-left:20px}
"""
# nothing may be loaded: no script, no image, no font, no style sheet but the inline one
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def doc_html(citation: Any) -> str:
    """A doc citation: ``page:line`` linked to the page's public source at that line, or shown unlinked."""
    text = str(citation)
    url = doc_links.url(text)
    if url is None:
        return f'<span class="doc" title="no public source known for this page">{_e(text)}</span>'
    return f'<a class="doc" href="{_e(url)}">{_e(text)}</a>'


def _body(text: Any) -> str:
    """A body for a ``<pre>``: JSON indented when it parses, else as it is."""
    if isinstance(text, str):
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            return text
    return json.dumps(text, indent=2, ensure_ascii=False)


def _headers(headers: dict[str, Any]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


def _finding_html(finding: dict[str, Any]) -> str:
    """A violation (with the page it cites) or a warning."""
    kind = f'<span class="kind">{_e(finding.get("kind"))}</span>'
    if "expected" in finding:
        doc = f" — {doc_html(finding['doc'])}" if finding.get("doc") else ""
        listed = finding.get("deviation")
        if isinstance(listed, dict):  # listed in --expect-deviations: reported, not failed
            doc += f" — expected deviation ({_e(listed.get('listed_at'))}: {_e(listed.get('reason'))})"
        return f'<div class="violation">{kind}{_e(brief(finding))}{doc}</div>'
    return f'<div class="warning">{kind}{_e(finding.get("where"))}: {_e(finding.get("message"))}</div>'


def _exchange_html(exchange: dict[str, Any], found: list[dict[str, Any]]) -> str:
    """One step's exchange: its findings, then the request and the answer (folded unless it has a violation)."""
    request, answer = exchange.get("request", {}), exchange.get("answer", {})
    status = answer.get("status")
    attempts = int(exchange.get("attempts") or 1)
    retried = f" after {attempts - 1} retries" if attempts > 1 else ""
    opened = " open" if any("expected" in f for f in found) else ""
    parts = [f'<div class="exchange"><h3>step “{_e(exchange.get("step"))}”</h3>']
    parts += [_finding_html(f) for f in found]
    shown = "no answer" if status is None else status
    parts.append(
        f'<details{opened}><summary><span class="sent">{_e(request.get("method"))} {_e(request.get("url"))}</span>'
        f' <span class="answered">→ {_e(shown)}{_e(retried)}</span></summary>'
    )
    if request.get("headers"):
        parts.append(f"<pre>{_e(_headers(request['headers']))}</pre>")
    if request.get("body") is not None:
        parts.append(f"<pre>{_e(_body(request['body']))}</pre>")
    parts.append(f'<div class="answered">answer {_e(shown)}</div>')
    if answer.get("headers"):
        parts.append(f"<pre>{_e(_headers(answer['headers']))}</pre>")
    parts.append(f"<pre>{_e(_body(answer.get('body')) if answer.get('body') else '(empty)')}</pre>")
    parts.append("</details></div>")
    return "".join(parts)


def _case_html(case: dict[str, Any], number: int) -> str:
    outcome = str(case.get("outcome", ""))
    css = re.sub(r"[^a-z-]", "", outcome)
    first, _ = headline(case)
    shown = f' <span class="first">{_e(first)}</span>' if outcome in FAILING else ""
    title = f" — {_e(case['title'])}" if case.get("title") else ""
    opened = " open" if outcome in FAILING else ""
    parts = [
        f'<details class="case o-{css}" id="case-{number}"{opened}><summary>'
        f'<span class="badge b-{css}">{_e(outcome)}</span> <span class="case-id">{_e(case.get("id"))}</span>'
        f"{title}{shown}</summary><div>"
    ]
    facts = []
    if case.get("file"):
        facts.append(f"<li>scenario {_e(case['file'])}</li>")
    if case.get("docs"):
        facts.append(f"<li>docs: {', '.join(doc_html(d) for d in case['docs'])}</li>")
    for rule in case.get("rules") or []:
        cited = ", ".join(doc_html(d) for d in rule.get("docs", []))
        facts.append(f"<li>rule <b>{_e(rule.get('id'))}</b>: {_e(rule.get('rule'))} ({cited})</li>")
    for key in ("error", "reason"):
        if case.get(key):
            facts.append(f"<li>{key}: {_e(case[key])}</li>")
    for ch in case.get("choices") or []:
        accepted = "/".join(str(a) for a in ch.get("accepted", []))
        step, answered = _e(ch.get("step")), _e(ch.get("chosen"))
        facts.append(f"<li>alternative: step “{step}” answered {answered} (documented: {_e(accepted)})</li>")
    parts.append(f"<ul>{''.join(facts)}</ul>")
    by_step: dict[str, list[dict[str, Any]]] = {}
    for finding in [*(case.get("violations") or []), *(case.get("warnings") or [])]:
        by_step.setdefault(str(finding.get("step")), []).append(finding)
    transcript = case.get("transcript")
    if transcript is None:  # a report written before requests and answers were kept: their one-line summaries
        parts += [f"<pre>{_e(line)}</pre>" for line in case.get("exchanges") or []]
    for exchange in transcript or []:
        parts.append(_exchange_html(exchange, by_step.pop(str(exchange.get("step")), [])))
    for step, found in by_step.items():  # findings of a step that sent nothing (a template it could not fill)
        shown = "".join(_finding_html(f) for f in found)
        parts.append(f'<div class="exchange"><h3>step “{_e(step)}”</h3>{shown}</div>')
    parts.append("</div></details>")
    return "".join(parts)


def render_html(contents: dict[str, Any]) -> str:
    """The report as one self-contained HTML page."""
    summary = contents.get("summary", {})
    settings = contents.get("settings", {})
    cases = ordered(list(contents.get("cases") or []))
    said = verdict(contents)
    run = {
        "target": f"{settings.get('base_url') or '?'} ({settings.get('target') or '?'})",
        "versions": ", ".join(settings.get("versions") or []),
        "user": settings.get("user"),
        "auth": settings.get("auth"),
        "record mode": settings.get("record_mode") or "live (no cassettes)",
        "graph-conformance": contents.get("graph_conformance"),
        "schemas digest": contents.get("schema_digest"),
        "created": contents.get("created"),
    }
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>graph-conformance: {_e(said)} — {_e(counts_text(summary))}</title>",
        f"<style>{STYLE}</style></head><body><main>",
        "<h1>graph-conformance report</h1>",
        f'<p><span class="verdict v-{said.replace(" ", "-")}">{_e(said)}</span> {_e(counts_text(summary))}</p>',
        '<dl class="run">',
        *(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in run.items() if v),
        "</dl>",
    ]
    labels = {"passed": "passed", "failed": "failed", "expected_deviations": "expected deviations", "errors": "errors"}
    labels |= {"skipped": "skipped", "not_run": "not run"}
    labels |= {"interrupted": "interrupted", "drift": "drift warnings", "checked_at_recording": "checked at recording"}
    parts.append('<table class="counts"><tr>' + "".join(f"<th>{_e(v)}</th>" for v in labels.values()) + "</tr><tr>")
    parts.append("".join(f"<td>{_e(summary.get(k, 0))}</td>" for k in labels) + "</tr></table>")
    failing = [(n, c) for n, c in enumerate(cases) if c.get("outcome") in FAILING]
    if failing:
        parts.append("<h2>Failures</h2><table><tr><th>case</th><th>first violation</th><th>doc</th></tr>")
        for number, case in failing:
            first, doc = headline(case)
            parts.append(
                f'<tr><td><a href="#case-{number}">{_e(case.get("id"))}</a></td><td>{_e(first)}</td>'
                f"<td>{doc_html(doc) if doc else ''}</td></tr>"
            )
        parts.append("</table>")
    found = drift(cases)
    if found:
        parts.append("<h2>Drift: properties the docs do not mention</h2>")
        parts.append("<table><tr><th>where</th><th>what</th><th>cases</th></tr>")
        parts += [f"<tr><td>{_e(w)}</td><td>{_e(m)}</td><td>{n}</td></tr>" for w, m, n in found]
        parts.append("</table>")
    parts.append(f"<h2>Cases ({len(cases)})</h2>")
    parts += [_case_html(case, number) for number, case in enumerate(cases)]
    chosen = choices(cases)
    if chosen:
        parts.append("<h2>Documented alternatives chosen</h2>")
        parts.append("<table><tr><th>step</th><th>answered</th><th>documented</th><th>cases</th></tr>")
        parts += [
            f"<tr><td>{_e(step)}</td><td>{_e(answered)}</td><td>{_e(accepted)}</td><td>{_e(', '.join(ids))}</td></tr>"
            for step, answered, accepted, ids in chosen
        ]
        parts.append("</table>")
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


# --- Markdown --------------------------------------------------------------------------------------------

# what could become markup inside a line (values never start one): emphasis, code, links, cells
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|~])")
_MARKDOWN_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


# what GitHub turns into a link by itself: a scheme's "://" or "www." (a zero-width space is put before
# their last character, so a target's text never becomes a link)
_AUTOLINK = re.compile(r"(?i)(?:[a-z][a-z0-9+.-]*:/|\bwww\.)")


def _md(value: Any, limit: int = MARKDOWN_CELL) -> str:
    """A value as Markdown text: on one line, cut at ``limit`` characters, HTML's characters as entities
    and every other markup character escaped."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text).translate(_MARKDOWN_HTML)
    return _AUTOLINK.sub(lambda m: m.group(0)[:-1] + "&#8203;" + m.group(0)[-1], escaped)  # no bare URL links


def doc_markdown(citation: Any) -> str:
    """A doc citation as a Markdown link to its public source at its line, or as text."""
    url = doc_links.url(str(citation))
    return f"[{_md(citation)}]({url})" if url else _md(citation)


def render_markdown(contents: dict[str, Any]) -> str:
    """The report in short, for a CI job summary: verdict and counts, the run, a table of failures with
    their first violation and doc link, drift and the documented alternatives chosen."""
    summary = contents.get("summary", {})
    settings = contents.get("settings", {})
    cases = ordered(list(contents.get("cases") or []))
    lines = [
        f"## graph-conformance: {_md(verdict(contents))}",
        "",
        _md(counts_text(summary)),
        "",
        f"Target {_md(settings.get('base_url') or '?')} ({_md(settings.get('target') or '?')}), versions "
        f"{_md(', '.join(settings.get('versions') or []))}, user {_md(settings.get('user') or '?')}, "
        f"graph-conformance {_md(contents.get('graph_conformance') or '?')}",
    ]
    failing = [c for c in cases if c.get("outcome") in FAILING]
    if failing:
        lines += ["", "| case | outcome | first violation | doc |", "|---|---|---|---|"]
        for case in failing[:MARKDOWN_ROWS]:
            first, doc = headline(case)
            cell = doc_markdown(doc) if doc else ""
            lines.append(f"| {_md(case.get('id'))} | {_md(case.get('outcome'))} | {_md(first)} | {cell} |")
        if len(failing) > MARKDOWN_ROWS:
            lines += ["", f"… and {len(failing) - MARKDOWN_ROWS} more failures (see the HTML or JSON report)"]
    found = drift(cases)
    if found:
        lines += ["", f"**Drift** ({len(found)} undocumented properties):", ""]
        lines += [f"- {_md(w)}: {_md(m)} ({n} case{'s' if n > 1 else ''})" for w, m, n in found[:MARKDOWN_LIST]]
        if len(found) > MARKDOWN_LIST:
            lines.append(f"- … and {len(found) - MARKDOWN_LIST} more (see the HTML or JSON report)")
    answered = Counter((accepted, alternative) for _, alternative, accepted, ids in choices(cases) for _ in ids)
    if answered:
        lines += ["", f"**Documented alternatives chosen** ({sum(answered.values())} answers):", ""]
        lines += [f"- {_md(a)} of {_md(d)}: {n} answer{'s' if n > 1 else ''}" for (d, a), n in sorted(answered.items())]
    return "\n".join(lines) + "\n"


# --- files --------------------------------------------------------------------------------------------------


def read(path: Path) -> dict[str, Any]:
    """A JSON report read back from ``path``; anything else is refused with what is wrong."""
    try:
        if path.stat().st_size > MAX_REPORT_BYTES:
            raise InputError(str(path), 0, f"larger than {MAX_REPORT_BYTES >> 20} MiB; not a report this tool wrote")
        contents = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(str(path), 0, f"cannot read it ({exc.strerror or type(exc).__name__})") from None
    except ValueError as exc:  # not UTF-8, or not JSON
        raise InputError(str(path), 0, f"not a JSON report ({str(exc).splitlines()[0]})") from None
    if not isinstance(contents, dict) or not isinstance(contents.get("cases"), list):
        raise InputError(str(path), 0, "not a graph-conformance JSON report (no list of cases)")
    if not all(isinstance(c, dict) for c in contents["cases"]) or not isinstance(contents.get("summary", {}), dict):
        raise InputError(str(path), 0, "not a graph-conformance JSON report (malformed cases or summary)")
    return contents


def write(contents: dict[str, Any], html: Path | None = None, markdown: Path | None = None) -> list[str]:
    """Write the HTML page (replacing the file) and append the Markdown summary (as a CI step summary is
    written: several steps may add to one file); returns a line saying what went where."""
    written = []
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(contents), encoding="utf-8")
        written.append(f"graph-conformance: HTML report written to {html}")
    if markdown is not None:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        with markdown.open("a", encoding="utf-8") as out:
            out.write(render_markdown(contents))
        written.append(f"graph-conformance: Markdown summary appended to {markdown}")
    return written
