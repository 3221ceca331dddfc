"""Secrets out of everything the suite writes: cassettes, reports, logs and failure messages.

Bearer tokens, token-endpoint answers, client secrets, PIN codes (``code``, ``currentPin``,
``newPin``) and QR images (``binaryValue``, ``rawContent``) are credentials. They are replaced by
fixed placeholders, the same at record and at replay; the image placeholder is valid base64, so a
replayed image still passes its schema.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

PIN_KEYS = frozenset({"code", "currentPin", "newPin"})
IMAGE_KEYS = frozenset({"binaryValue", "rawContent"})
TOKEN_KEYS = frozenset(
    {"access_token", "refresh_token", "id_token", "client_secret", "client_assertion", "device_code"}
)
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie"})
PIN_PLACEHOLDER = "REDACTED-PIN"
IMAGE_PLACEHOLDER = base64.b64encode(b"REDACTED-QR-IMAGE").decode()
TOKEN_PLACEHOLDER = "REDACTED-TOKEN"
BEARER_PLACEHOLDER = f"Bearer {TOKEN_PLACEHOLDER}"
PLACEHOLDERS = frozenset({PIN_PLACEHOLDER, IMAGE_PLACEHOLDER, TOKEN_PLACEHOLDER, BEARER_PLACEHOLDER})
_BEARER = re.compile(r"Bearer\s+(?!REDACTED-TOKEN\b)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_FORM_SECRET = re.compile(
    r"((?:^|&)(?:client_secret|client_assertion|refresh_token|device_code|code|currentPin|newPin)=)[^&]*"
)


def placeholder_for(key: str) -> str | None:
    if key in PIN_KEYS:
        return PIN_PLACEHOLDER
    if key in IMAGE_KEYS:
        return IMAGE_PLACEHOLDER
    if key in TOKEN_KEYS:
        return TOKEN_PLACEHOLDER
    return None


_ERROR_OBJECTS = frozenset({"error", "innerError", "innererror", "details"})


def scrub_json(value: Any, parent: str | None = None) -> Any:
    """A copy of a JSON value with every secret member replaced by its placeholder.

    ``code`` is a PIN everywhere except in Graph's error envelope, where it names the error."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            placeholder = None if key == "code" and parent in _ERROR_OBJECTS else placeholder_for(key)
            secret = placeholder is not None and item is not None and not isinstance(item, dict | list)
            out[key] = placeholder if secret else scrub_json(item, key)
        return out
    if isinstance(value, list):
        return [scrub_json(item, parent) for item in value]
    if isinstance(value, str):
        return _BEARER.sub(BEARER_PLACEHOLDER, value)
    return value


def scrub_text(text: str) -> str:
    """Scrub a body given as text: JSON members, form fields, and bearer tokens anywhere."""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict | list):
        return json.dumps(scrub_json(parsed), separators=(",", ":"), ensure_ascii=False)
    text = _FORM_SECRET.sub(lambda m: m.group(1) + TOKEN_PLACEHOLDER, text)
    return _BEARER.sub(BEARER_PLACEHOLDER, text)


def scrub_headers(headers: dict[str, str]) -> dict[str, str]:
    return {
        k: (BEARER_PLACEHOLDER if k.lower() == "authorization" else "REDACTED") if k.lower() in SECRET_HEADERS else v
        for k, v in headers.items()
    }


def is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and value in PLACEHOLDERS


def describe(value: Any, key: str | None = None) -> str:
    """A value for a message: secrets as their shape, everything else as short JSON."""
    scalar = value is not None and not isinstance(value, dict | list)
    if key is not None and placeholder_for(key) and scalar and not is_placeholder(value):
        kind = {str: "string", bool: "boolean", int: "number", float: "number"}.get(type(value), "value")
        return f"<redacted {key}: a {len(str(value))}-character {kind}>"
    if isinstance(value, dict):
        inner = scrub_json(value)
        names = ", ".join(list(inner)[:6]) + (", …" if len(inner) > 6 else "")
        return f"an object ({names})" if inner else "an empty object"
    text = json.dumps(scrub_json(value), ensure_ascii=False, default=repr)
    return text if len(text) <= 120 else text[:117] + "..."
