"""VCR configuration: one cassette per case, matched independently of the base URL, scrubbed.

- The target's origin (and any path prefix of the base URL) is rewritten to one canonical origin
  before a request is recorded *and* before a live request is matched, so a cassette recorded
  against one port or host replays against another.
- Only traffic to the target is recorded: token-endpoint exchanges never reach a cassette (a replay
  sends a placeholder token and never asks for one).
- Secrets are replaced by the fixed placeholders of :mod:`conformance.scrub`, gzip decoded first.
- The case's clock travels in the ``x-conformance-clock`` request header, so a replay renders
  ``{now+1h}`` templates exactly as the recording did.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from conformance import scrub

CANONICAL_ORIGIN = "https://graph.conformance.invalid"
CLOCK_HEADER = "x-conformance-clock"


def _canonical(uri: str, base_url: str) -> str | None:
    if uri.startswith(base_url + "/") or uri == base_url:
        return CANONICAL_ORIGIN + uri[len(base_url) :]
    if uri.startswith(CANONICAL_ORIGIN):
        return uri
    return None


def before_record_request(base_url: str) -> Callable[[Any], Any]:
    def hook(request: Any) -> Any:
        uri = _canonical(request.uri, base_url)
        if uri is None:
            return None  # not the target (e.g. a token endpoint): never recorded, never replayed
        request.uri = uri
        for name in list(request.headers):
            lower = name.lower()
            if lower == "authorization":
                request.headers[name] = scrub.BEARER_PLACEHOLDER
            elif lower in ("cookie", "host"):
                del request.headers[name]
        if request.body:
            body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else str(request.body)
            request.body = scrub.scrub_text(body).encode("utf-8")
        return request

    return hook


def before_record_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in ("set-cookie", "authorization"):
            del headers[name]
    body = response.get("body", {}).get("string")
    if body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        response["body"]["string"] = scrub.scrub_text(text).encode("utf-8")
    return response


def vcr_config(base_url: str) -> dict[str, Any]:
    return {
        "before_record_request": before_record_request(base_url),
        "before_record_response": before_record_response,
        "decode_compressed_response": True,
        "match_on": ["method", "scheme", "host", "port", "path", "query"],
        "filter_post_data_parameters": [
            ("client_secret", scrub.TOKEN_PLACEHOLDER),
            ("client_assertion", scrub.TOKEN_PLACEHOLDER),
        ],
    }


def cassette_name(scenario_id: str, version: str) -> str:
    return f"{scenario_id}--{version}"


def recorded_clock(cassette: Path) -> datetime | None:
    """The clock a cassette was recorded with, from its first request; None when there is none."""
    if not cassette.is_file():
        return None
    import yaml

    try:
        data = yaml.safe_load(cassette.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None  # VCR itself then reports the broken cassette
    if not isinstance(data, dict):
        return None
    for interaction in data.get("interactions", []):
        headers = {k.lower(): v for k, v in interaction.get("request", {}).get("headers", {}).items()}
        values = headers.get(CLOCK_HEADER)
        if values:
            return datetime.fromisoformat(str(values[0] if isinstance(values, list) else values).replace("Z", "+00:00"))
    return None
