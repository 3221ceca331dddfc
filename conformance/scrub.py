"""Secrets out of everything the suite writes: cassettes, reports, logs and failure messages.

Bearer tokens, token-endpoint answers, client secrets, PIN codes (``code``, ``currentPin``,
``newPin``) and QR images (``binaryValue``, ``rawContent``) are credentials. They are replaced by
fixed placeholders, the same at record and at replay; the image placeholder is valid base64, so a
replayed image still passes its schema.

- Bodies are scrubbed whatever their encoding: a byte order mark (UTF-8, UTF-16 or UTF-32) or the
  declared charset decides how bytes are read, and the scrubbed text is written back in the same
  encoding. A body that is not JSON at all (truncated, or with text around it) still has its
  JSON-looking secret members replaced; there a ``code`` is replaced even inside an error envelope.
- The run's live secrets (the token sent, tokens msal obtained, the client secret) are remembered
  with :func:`remember` and replaced wherever they appear: bodies, headers, messages. This registry
  is the one piece of process-wide state here: a secret, once seen, is scrubbed for the rest of the
  process.
- A header value carrying ``Bearer <token>`` or a JWT is scrubbed whatever the header's name.
- Values the checks hold in memory can be wrapped by :func:`protect`: a :class:`Secret` equals and
  is sent as its value, but its ``repr`` (what ``pytest -l`` and dataclass reprs show) is redacted.
"""

from __future__ import annotations

import base64
import codecs
import json
import re
import threading
from typing import Any, Self
from urllib.parse import urlsplit

PIN_KEYS = frozenset({"code", "currentPin", "newPin"})
IMAGE_KEYS = frozenset({"binaryValue", "rawContent"})
TOKEN_KEYS = frozenset(
    {"access_token", "refresh_token", "id_token", "client_secret", "client_assertion", "device_code"}
)
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
PIN_PLACEHOLDER = "REDACTED-PIN"
IMAGE_PLACEHOLDER = base64.b64encode(b"REDACTED-QR-IMAGE").decode()
TOKEN_PLACEHOLDER = "REDACTED-TOKEN"
BEARER_PLACEHOLDER = f"Bearer {TOKEN_PLACEHOLDER}"
PLACEHOLDERS = frozenset({PIN_PLACEHOLDER, IMAGE_PLACEHOLDER, TOKEN_PLACEHOLDER, BEARER_PLACEHOLDER})
MIN_REMEMBERED = 8  # shorter values would be replaced inside ordinary words and numbers
MAX_PARSED_VALUES = 200_000  # a body holding more JSON values is scrubbed as text, never parsed
_BEARER = re.compile(r"Bearer\s+(?!REDACTED-TOKEN\b)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
# in a header, a bearer token68 but not an auth-param (``Bearer realm="..."``, ``Bearer error=...``)
_BEARER_HEADER = re.compile(
    r"Bearer\s+(?!REDACTED-TOKEN\b)[A-Za-z0-9._~+/-]+=*(?![A-Za-z0-9._~+/=-]|\s*\")", re.IGNORECASE
)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
_FORM_SECRET = re.compile(
    r"((?:^|&)(?:client_secret|client_assertion|refresh_token|device_code|code|currentPin|newPin)=)[^&]*"
)
# a JSON member in text that is not JSON: a string (perhaps cut off) or a number
_JSON_MEMBER = re.compile(r'"((?:[^"\\]|\\.){1,64})"(\s*:\s*)("(?:[^"\\]|\\.)*"?|-?[0-9][0-9.eE+-]*)')
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*+"', re.DOTALL)
_JSON_SPACE = str.maketrans("", "", " \t\n\r")
_ERROR_OBJECTS = frozenset({"error", "innerError", "innererror", "details"})
_BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


# --- live secrets ----------------------------------------------------------------------------------


class _Remembered:
    """The secrets seen in this process, longest first, as one pattern."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: frozenset[str] = frozenset()
        self.pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        with self.lock:
            if value in self.values:
                return
            self.values = self.values | {value}
            ordered = sorted(self.values, key=len, reverse=True)
            self.pattern = re.compile("|".join(re.escape(v) for v in ordered))


_REMEMBERED = _Remembered()


def remember(value: str | None) -> None:
    """Scrub ``value`` from now on wherever it appears (exact, case-sensitive substring).

    For tokens sent or obtained, client secrets and passwords. Values shorter than
    :data:`MIN_REMEMBERED` characters are ignored: they would be found inside ordinary text."""
    if isinstance(value, str) and len(value.strip()) >= MIN_REMEMBERED:
        _REMEMBERED.add(str.strip(value))


def _forget_remembered(text: str) -> str:
    pattern = _REMEMBERED.pattern
    return pattern.sub(TOKEN_PLACEHOLDER, text) if pattern is not None else text


def _scrub_string(text: str) -> str:
    """Remembered secrets, JSON secret members (a message quoting a body), bearer tokens and JWTs
    out of any string."""
    text = _forget_remembered(str(text))
    if '"' in text:
        text = _JSON_MEMBER.sub(_json_member, text)
    text = _BEARER.sub(BEARER_PLACEHOLDER, text)
    return _JWT.sub(TOKEN_PLACEHOLDER, text)


# --- values in memory --------------------------------------------------------------------------------


class _Kinded:
    """What both secret types share: a kind (``PIN``, ``QR image``, ``token``) beside the value."""

    kind: str

    def __new__(cls, value: Any, kind: str = "secret") -> Self:
        """A secret ``value`` of the given ``kind``."""
        self = super().__new__(cls, value)  # type: ignore[call-arg]  # str's or int's, by the subclass
        self.kind = kind
        return self


class Secret(_Kinded, str):
    """A secret string: equal to its value, sent and serialised as it, but with a redacted ``repr``.

    ``str()``, f-strings and ``json.dumps`` give the value (requests must carry it); ``repr()``, which
    ``pytest -l``, dataclass reprs and debuggers show, gives ``<redacted PIN: 8 characters>``."""

    def __repr__(self) -> str:
        return f"<redacted {self.kind}: {len(self)} character{'' if len(self) == 1 else 's'}>"


class SecretNumber(_Kinded, int):
    """A secret sent as a JSON number (a PIN as ``58219374``): an ``int`` with a redacted ``repr``."""

    def __repr__(self) -> str:
        return f"<redacted {self.kind}: a number>"

    def __str__(self) -> str:
        return int.__repr__(self)  # what str(), f-strings and templates send: the number itself


def _kind(key: str) -> str | None:
    if key in PIN_KEYS:
        return "PIN"
    if key in IMAGE_KEYS:
        return "QR image"
    if key in TOKEN_KEYS:
        return "token"
    return None


def protect(value: Any, parent: str | None = None) -> Any:
    """A copy of a JSON value whose secret members are :class:`Secret` (or :class:`SecretNumber`).

    The same members :func:`scrub_json` replaces; comparisons, ``json.dumps`` and sending keep the
    real values, only reprs are redacted. ``code`` in Graph's error envelope is left as it is."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            kind = None if key == "code" and parent in _ERROR_OBJECTS else _kind(key)
            if kind and isinstance(item, str) and not isinstance(item, Secret):
                out[key] = Secret(item, kind)
            elif kind and isinstance(item, int) and not isinstance(item, bool | SecretNumber):
                out[key] = SecretNumber(item, kind)
            else:
                out[key] = protect(item, key)
        return out
    if isinstance(value, list):
        return [protect(item, parent) for item in value]
    return value


def _is_secret(value: Any) -> bool:
    return isinstance(value, Secret | SecretNumber)


# --- JSON and text ----------------------------------------------------------------------------------


def placeholder_for(key: str) -> str | None:
    """The placeholder that replaces a member named ``key``, or None when it is not a secret."""
    if key in PIN_KEYS:
        return PIN_PLACEHOLDER
    if key in IMAGE_KEYS:
        return IMAGE_PLACEHOLDER
    if key in TOKEN_KEYS:
        return TOKEN_PLACEHOLDER
    return None


_KIND_PLACEHOLDERS = {"PIN": PIN_PLACEHOLDER, "QR image": IMAGE_PLACEHOLDER, "token": TOKEN_PLACEHOLDER}


def scrub_json(value: Any, parent: str | None = None) -> Any:
    """A copy of a JSON value with every secret member replaced by its placeholder.

    ``code`` is a PIN everywhere except in Graph's error envelope, where it names the error. Strings
    lose remembered secrets, bearer tokens and JWTs; a :class:`Secret` anywhere is a placeholder."""
    if _is_secret(value):
        return _KIND_PLACEHOLDERS.get(value.kind, TOKEN_PLACEHOLDER)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            placeholder = None if key == "code" and parent in _ERROR_OBJECTS else placeholder_for(key)
            shown = item is not None and item != "" and not isinstance(item, dict | list)  # null and "" hide nothing
            secret = placeholder is not None and shown
            name = _scrub_string(key) if isinstance(key, str) else key
            out[name] = placeholder if secret else scrub_json(item, key)
        return out
    if isinstance(value, list):
        return [scrub_json(item, parent) for item in value]
    if isinstance(value, str):
        return _scrub_string(value)
    return value


def _json_member(match: re.Match[str]) -> str:
    try:
        key = json.loads(f'"{match.group(1)}"')
    except ValueError:
        return match.group(0)
    placeholder = placeholder_for(key) if isinstance(key, str) else None
    if placeholder is None:
        return match.group(0)
    return f'"{match.group(1)}"{match.group(2)}"{placeholder}"'


def scrub_text(text: str, *, ensure_ascii: bool = False) -> str:
    """Scrub a body given as text: JSON members, form fields, and tokens anywhere.

    A leading byte order mark is ignored (and dropped from JSON written back). Text that is not JSON,
    or holds more than :data:`MAX_PARSED_VALUES` values (parsing it would cost far more memory than
    the text), has its JSON-looking secret members replaced all the same, error codes included."""
    text = str(text)
    candidate = text[1:] if text.startswith("\ufeff") else text
    try:
        parsed = json.loads(candidate) if not _many_values(candidate) else None
        scrubbed = scrub_json(parsed) if isinstance(parsed, dict | list) else None
    except (ValueError, RecursionError):
        scrubbed = None
    if scrubbed is not None:
        return json.dumps(scrubbed, separators=(",", ":"), ensure_ascii=ensure_ascii)
    text = _FORM_SECRET.sub(lambda m: m.group(1) + TOKEN_PLACEHOLDER, text)
    return _scrub_string(text)


def _many_values(text: str) -> bool:
    """Whether JSON text holds more than :data:`MAX_PARSED_VALUES` values (counted as
    ``transport.value_count`` does: commas plus ``[`` and ``{`` less empty ``[]`` and ``{}``, outside
    strings, plus one). Each value takes a character, so shorter text is not scanned."""
    if len(text) < MAX_PARSED_VALUES:
        return False
    compact = _JSON_STRING.sub("0", text).translate(_JSON_SPACE)
    openers = compact.count("[") + compact.count("{")
    return compact.count(",") + openers - compact.count("[]") - compact.count("{}") + 1 > MAX_PARSED_VALUES


def _charset(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"').lower()
    return None


def decode_body(data: bytes, content_type: str | None = None) -> tuple[str, str, bytes]:
    """``data`` as text, with the encoding and byte order mark to write it back with.

    The byte order mark wins over the declared charset (UTF-8 when none is declared); bytes that do
    not decode are read as Latin-1, which keeps every byte."""
    bom, encoding = next(((mark, name) for mark, name in _BOMS if data.startswith(mark)), (b"", ""))
    if not bom:
        try:
            normal = codecs.lookup(_charset(content_type) or "utf-8").name
        except LookupError:
            normal = "latin-1"
        # without a mark these codecs would expect (and write back) one; read them as Python does
        encoding = {"utf-16": "utf-16-le", "utf-32": "utf-32-le", "utf-8-sig": "utf-8"}.get(normal, normal)
    try:
        return data[len(bom) :].decode(encoding), encoding, bom
    except LookupError:  # a charset naming a codec that is not a text encoding (base64, rot13, ...)
        return data.decode("latin-1"), "latin-1", b""
    except UnicodeDecodeError:
        if encoding.startswith(("utf-16", "utf-32")):  # e.g. cut off mid-character: read what is there
            return data[len(bom) :].decode(encoding, "replace"), encoding, bom
        return data.decode("latin-1"), "latin-1", b""


def scrub_body(data: bytes | str, content_type: str | None = None) -> bytes:
    """Scrub a body given as bytes (or text) whatever its encoding; the same bytes when nothing changed.

    The result is in the body's own encoding, with its byte order mark, so a replay reads it as the
    recording did."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if not raw:
        return raw
    text, encoding, bom = decode_body(raw, content_type)
    scrubbed = scrub_text(text)
    if scrubbed == text:
        return raw
    try:
        return bom + scrubbed.encode(encoding)
    except UnicodeEncodeError:  # a charset narrower than the JSON written back: escape what it lacks
        return bom + scrub_text(text, ensure_ascii=True).encode(encoding, "backslashreplace")


# --- headers, URLs, messages ---------------------------------------------------------------------------


def scrub_header(name: str, value: str) -> str:
    """One header value without secrets: credentials headers wholly, any other one where it carries
    a remembered secret, a ``Bearer`` token or a JWT."""
    lower = name.lower()
    if lower in SECRET_HEADERS:
        return BEARER_PLACEHOLDER if lower in ("authorization", "proxy-authorization") else "REDACTED"
    text = _forget_remembered(str(value))
    text = _BEARER_HEADER.sub(BEARER_PLACEHOLDER, text)
    return _JWT.sub(TOKEN_PLACEHOLDER, text)


def scrub_headers(headers: dict[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with :func:`scrub_header` applied to every value."""
    return {k: scrub_header(k, v) for k, v in headers.items()}


def redact_url(url: str) -> str:
    """``url`` with its userinfo replaced: ``https://REDACTED:REDACTED@host:port/path``.

    The username is replaced too; host (IPv6 in brackets), port, path and query are kept as written."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:  # e.g. an unclosed IPv6 bracket: still take out whatever precedes an '@'
        return re.sub(r"//[^/?#]*@", "//REDACTED@", url, count=1)
    if "@" not in netloc:
        return url
    userinfo, _, hostport = netloc.rpartition("@")
    redacted = "REDACTED:REDACTED" if ":" in userinfo else "REDACTED"
    return url.replace(netloc, f"{redacted}@{hostport}", 1)


def is_placeholder(value: Any) -> bool:
    """Whether ``value`` is one of the fixed placeholders (a value redacted at recording)."""
    return isinstance(value, str) and value in PLACEHOLDERS


def describe(value: Any, key: str | None = None) -> str:
    """A value for a message: secrets as their shape, everything else as short JSON."""
    scalar = value is not None and not isinstance(value, dict | list)
    secret = (key is not None and placeholder_for(key) is not None) or _is_secret(value)
    if secret and scalar and not is_placeholder(value):
        kind = "string" if isinstance(value, str) else "value"
        if isinstance(value, bool):
            kind = "boolean"
        elif isinstance(value, int | float):
            kind = "number"
        shown = str(int(value)) if isinstance(value, SecretNumber) else str(value)
        return f"<redacted {key or value.kind}: a {len(shown)}-character {kind}>"
    if isinstance(value, dict):
        inner = scrub_json(value)
        names = ", ".join(list(inner)[:6]) + (", …" if len(inner) > 6 else "")
        return f"an object ({names})" if inner else "an empty object"
    text = json.dumps(scrub_json(value), ensure_ascii=False, default=repr)
    return text if len(text) <= 120 else text[:117] + "..."
