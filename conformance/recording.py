"""VCR configuration: one cassette per case, matched independently of the base URL, scrubbed.

- The target's origin (and any path prefix of the base URL) is rewritten to one canonical origin
  before a request is recorded *and* before a live request is matched, so a cassette recorded
  against one port or host replays against another.
- Only traffic to the target is recorded: token-endpoint exchanges never reach a cassette (a replay
  sends a placeholder token and never asks for one).
- Secrets are replaced by the fixed placeholders of :mod:`conformance.scrub` in bodies (content
  codings decoded first; text in its own charset, byte order mark kept) and in every header value.
- vcrpy's own loggers, which show responses before they are scrubbed, are kept quiet.
- The case's clock travels in the ``x-conformance-clock`` request header, so a replay renders
  ``{now+1h}`` templates exactly as the recording did.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from conformance import scrub
from conformance.times import read_time

CANONICAL_ORIGIN = "https://graph.conformance.invalid"
CLOCK_HEADER = "x-conformance-clock"


def _canonical(uri: str, base_url: str) -> str | None:
    if uri.startswith(base_url + "/") or uri == base_url:
        return CANONICAL_ORIGIN + uri[len(base_url) :]
    if uri.startswith(CANONICAL_ORIGIN):
        return uri
    return None


def _header(headers: Any, wanted: str) -> str | None:
    """One header's value from a vcrpy headers mapping (values are strings or lists of strings)."""
    for name, value in headers.items():
        if name.lower() == wanted:
            return str(value[0] if isinstance(value, list) and value else value)
    return None


# vcrpy's own header filter runs first, at record and at replay alike: credentials headers become the
# fixed placeholder, cookies and the (port-specific) Host header are not kept
FILTERED_REQUEST_HEADERS = [
    ("authorization", scrub.BEARER_PLACEHOLDER),
    ("proxy-authorization", scrub.BEARER_PLACEHOLDER),
    ("cookie", None),
    ("host", None),
]


def before_record_request(base_url: str) -> Callable[[Any], Any]:
    """The request hook, after vcrpy's header filter: canonical origin, every other header value and the
    body scrubbed."""

    def hook(request: Any) -> Any:
        uri = _canonical(request.uri, base_url)
        if uri is None:
            return None  # not the target (e.g. a token endpoint): never recorded, never replayed
        request.uri = uri
        for name in list(request.headers):
            request.headers[name] = scrub.scrub_header(name, request.headers[name])
        if request.body:
            request.body = scrub.scrub_body(request.body, _header(request.headers, "content-type"))
        return request

    return hook


def _undo_coding(coding: str, data: bytes) -> bytes:
    """One content coding undone; ValueError (or the decoder's own error) when it cannot be."""
    import gzip
    import zlib

    if coding == "identity":
        return data
    if coding in ("gzip", "x-gzip"):
        return gzip.decompress(data)
    if coding == "deflate":  # zlib-wrapped as the RFC says, or raw as some servers send it
        try:
            return zlib.decompress(data)
        except zlib.error:
            return zlib.decompress(data, -zlib.MAX_WBITS)
    raise ValueError(f"unknown content coding {coding}")


def _decoded_body(headers: dict[str, Any], body: bytes) -> bytes:
    """The body without the content codings vcrpy left (several layers, or a coding it does not know).

    A body that still cannot be read is dropped: what cannot be scrubbed is not recorded."""
    name = next((n for n in headers if n.lower() == "content-encoding"), None)
    if name is None:
        return body
    values = headers[name] if isinstance(headers[name], list) else [headers[name]]
    codings = [c.strip().lower() for v in values for c in str(v).split(",") if c.strip()]
    del headers[name]
    import zlib

    try:
        for coding in reversed(codings):
            body = _undo_coding(coding, body)
    except (OSError, EOFError, ValueError, zlib.error):
        headers["x-conformance-scrubbed"] = [f"body dropped: content coding {', '.join(codings)} not readable"]
        body = b""
    for length in [n for n in headers if n.lower() == "content-length"]:
        headers[length] = [str(len(body))]
    return body


def before_record_response(response: dict[str, Any]) -> dict[str, Any]:
    """The response hook: no cookies, every header value and the body scrubbed, in the body's own encoding."""
    headers = response.setdefault("headers", {})
    for name in list(headers):
        if name.lower() in ("set-cookie", "authorization", "proxy-authorization"):
            del headers[name]
        else:
            values = headers[name]
            if isinstance(values, list):
                headers[name] = [scrub.scrub_header(name, str(v)) for v in values]
            else:
                headers[name] = scrub.scrub_header(name, str(values))
    body = response.get("body", {}).get("string")
    if body:
        raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        raw = _decoded_body(headers, raw)
        response["body"]["string"] = scrub.scrub_body(raw, _header(headers, "content-type"))
    return response


_VCR_LOGGERS = (
    "vcr",
    "vcr.cassette",
    "vcr.matchers",
    "vcr.patch",
    "vcr.request",
    "vcr.stubs",
    "vcr.stubs.httpx_stubs",
    "vcr.stubs.aiohttp_stubs",
)
# httpx logs each request line; httpcore, at DEBUG, the response headers (which may echo a token)
_HTTP_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


def quiet_vcr_logging() -> None:
    """Keep vcrpy from logging what it records before it is scrubbed, and scrub HTTP client logs.

    vcrpy logs every recorded response, body included, at INFO (``vcr.cassette``: "Appending
    request ... and response ...") before our hooks run, and requests at INFO and DEBUG. Its loggers
    are set to WARNING, and a filter on each drops anything below WARNING even where a logger was
    set lower, and scrubs what remains. httpx's and httpcore's records are scrubbed (remembered
    secrets, bearer tokens, JWTs, JSON secret members). Idempotent; :func:`vcr_config` calls it."""
    names = {*_VCR_LOGGERS, *(n for n in logging.root.manager.loggerDict if n.startswith("vcr."))}
    for name in sorted(names):
        logger = logging.getLogger(name)
        if name == "vcr":
            logger.setLevel(logging.WARNING)
        if not any(isinstance(f, _SecretLogFilter) for f in logger.filters):
            logger.addFilter(_SecretLogFilter(drop_below=logging.WARNING))
    for name in _HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _SecretLogFilter) for f in logger.filters):
            logger.addFilter(_SecretLogFilter(drop_below=0))


class _SecretLogFilter(logging.Filter):
    """A logging filter: drops records below a level, scrubs the message of the others."""

    def __init__(self, drop_below: int) -> None:
        super().__init__()
        self.drop_below = drop_below

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self.drop_below:
            return False
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: show the format only
            message = str(record.msg)
        record.msg, record.args = scrub.scrub_text(message), None
        return True


def vcr_config(base_url: str) -> dict[str, Any]:
    """pytest-recording's VCR settings for a run against ``base_url`` (quiets vcrpy's logging too)."""
    quiet_vcr_logging()
    return {
        "before_record_request": before_record_request(base_url),
        "before_record_response": before_record_response,
        "filter_headers": FILTERED_REQUEST_HEADERS,
        "decode_compressed_response": True,
        "match_on": ["method", "scheme", "host", "port", "path", "query"],
        "filter_post_data_parameters": [
            ("client_secret", scrub.TOKEN_PLACEHOLDER),
            ("client_assertion", scrub.TOKEN_PLACEHOLDER),
        ],
    }


def cassette_name(scenario_id: str, version: str) -> str:
    """The cassette of one case: ``<scenario id>--<version>``."""
    return f"{scenario_id}--{version}"


def recorded_clock(cassette: Path) -> datetime | None:
    """The clock a cassette was recorded with, from its first request; None when there is no cassette.

    The cassette is read within the limits of :mod:`conformance.safeyaml`; one that is unreadable,
    malformed or holds a clock that is not a date-time raises
    :class:`~conformance.errors.CassetteError` naming the file."""
    from conformance.errors import CassetteError
    from conformance.safeyaml import display_path, load_cassette

    if not cassette.exists():
        return None
    display = display_path(cassette)
    for interaction in load_cassette(cassette, display):  # every request is a mapping with a headers mapping
        headers = {str(k).lower(): v for k, v in interaction["request"].get("headers", {}).items()}
        values = headers.get(CLOCK_HEADER)
        if values:
            text = str(values[0] if isinstance(values, list) else values)
            clock = read_time(text)
            if clock is None or clock.tzinfo is None:
                raise CassetteError(display, 0, f"the {CLOCK_HEADER} header {text[:40]!r} is not an RFC 3339 date-time")
            return clock
    return None
