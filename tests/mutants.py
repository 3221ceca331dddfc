"""Variants of the reference mock: deliberately broken ones (each breaks one documented rule) and
correct-but-different ones (each differs from the reference mock in a way the docs allow).

``python -m tests.mutants`` runs the whole catalogue against every variant and prints the table.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

with warnings.catch_warnings():  # Starlette prefers the httpx2 fork; its TestClient runs on httpx all the same
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from starlette.testclient import TestClient

from conformance.auth import StaticToken
from conformance.config import DEFAULT_USER, DEFAULT_USER_WITHOUT_METHOD, PLACEHOLDER_TOKEN
from conformance.contract import default_schema_dir
from conformance.mock import MockOptions, create_app
from conformance.mock import state as mock_state
from conformance.runner import CaseResult, Runner
from conformance.scenarios import CATALOGUE, Scenario, load_scenarios
from conformance.schemas import SchemaSet

Rewrite = Callable[[str, str, int, Any], tuple[int, Any]]  # (method, path, status, body) -> (status, body)

NO_METHOD_USER = {"user_without_method": DEFAULT_USER_WITHOUT_METHOD}


class Rewriting:
    """ASGI middleware that rewrites JSON answers (and may refuse or alter requests)."""

    def __init__(
        self,
        app: Any,
        rewrite: Rewrite | None = None,
        request: Callable[[dict[str, Any]], None] | None = None,
        text_errors: bool = False,
    ) -> None:
        self.app, self.rewrite, self.request, self.text_errors = app, rewrite, request, text_errors

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.request:
            self.request(scope)
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    await self._finish(scope, started, b"".join(chunks), send)

        await self.app(scope, receive, capture)

    async def _finish(self, scope: dict[str, Any], started: dict[str, Any], raw: bytes, send: Any) -> None:
        status = started["status"]
        headers = [
            (k, v) for k, v in started.get("headers", []) if k.lower() not in (b"content-length", b"content-type")
        ]
        body: Any = json.loads(raw) if raw.strip() else None
        if self.rewrite:
            status, body = self.rewrite(scope["method"], scope["path"], status, body)
        if self.text_errors and status >= 400:
            payload, kind = b"Bad Request", b"text/plain"
        elif body is None:
            payload, kind = b"", b"application/json"
        else:
            payload, kind = json.dumps(body).encode(), b"application/json"
        headers += [(b"content-type", kind), (b"content-length", str(len(payload)).encode())]
        await self_send(send, status, headers, payload)


async def self_send(send: Any, status: int, headers: list[tuple[bytes, bytes]], payload: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def walk(value: Any, fn: Callable[[str, Any], Any]) -> Any:
    """Apply ``fn(key, value)`` to every member of a JSON value, depth first."""
    if isinstance(value, dict):
        return {k: fn(k, walk(v, fn)) for k, v in value.items()}
    if isinstance(value, list):
        return [walk(v, fn) for v in value]
    return value


def on_reads(fn: Callable[[Any], Any]) -> Rewrite:
    return lambda method, path, status, body: (status, fn(body) if method == "GET" and status == 200 else body)


def on_all(fn: Callable[[Any], Any]) -> Rewrite:
    return lambda method, path, status, body: (status, fn(body) if body is not None and status < 400 else body)


def members(key: str, new: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda body: walk(body, lambda k, v: new(v) if k == key else v)


def dates(new: Callable[[str], str]) -> Callable[[Any], Any]:
    return lambda body: walk(body, lambda k, v: new(v) if k.endswith("DateTime") and isinstance(v, str) else v)


def status_of(method: str, pattern: str, old: int, new: int) -> Rewrite:
    def rewrite(m: str, path: str, status: int, body: Any) -> tuple[int, Any]:
        return (new if m == method and re.search(pattern, path, re.I) and status == old else status), body

    return rewrite


# --- variants built by patching the store's rules ------------------------------------------------


def patched(app: Any, **changes: Any) -> Any:
    store = app.state.store
    for name, make in changes.items():
        setattr(store, name, make(store))
    return app


def no_lifetime_limits(kind: str) -> Callable[[Any], Any]:
    def make(store: Any) -> Any:
        original = store.patch_code

        def patch_code(user: str, upn: str, k: str, body: Any) -> Any:
            saved = mock_state.STANDARD_MAX, mock_state.TEMPORARY_MAX
            if k == kind:
                mock_state.STANDARD_MAX = mock_state.TEMPORARY_MAX = mock_state.timedelta(days=10_000)
            try:
                return original(user, upn, k, body)
            finally:
                mock_state.STANDARD_MAX, mock_state.TEMPORARY_MAX = saved

        return patch_code

    return make


def second_method_replaces(store: Any) -> Any:
    original = store.create_method

    def create_method(user: str, upn: str, body: Any) -> Any:
        store.methods.pop(user, None)
        return original(user, upn, body)

    return create_method


def any_pin(trivial_only: bool) -> Callable[[Any], Any]:
    def make(store: Any) -> Any:
        original = store.create_method

        def create_method(user: str, upn: str, body: Any) -> Any:
            saved = mock_state.pin_problem
            if trivial_only:
                mock_state.pin_problem = lambda code, n: (
                    saved(code, n)
                    if saved(code, n)
                    and "digit" in saved(code, n)
                    and "run" not in saved(code, n)
                    and "repeat" not in saved(code, n)
                    else None
                )  # type: ignore[assignment]
            else:
                mock_state.pin_problem = lambda code, n: None  # type: ignore[assignment]
            try:
                return original(user, upn, body)
            finally:
                mock_state.pin_problem = saved

        return create_method

    return make


def temporary_at_create(store: Any) -> Any:
    original = store.create_method

    def create_method(user: str, upn: str, body: Any) -> Any:
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if k != "temporaryQRCode"}
        return original(user, upn, body)

    return create_method


def active_codes_replaced(kind: str) -> Callable[[Any], Any]:
    def make(store: Any) -> Any:
        original = store.patch_code

        def patch_code(user: str, upn: str, k: str, body: Any) -> Any:
            if k == kind and isinstance(body, dict) and "startDateTime" in body:
                method = store.methods.get(user)
                if method is not None:
                    setattr(method, mock_state.KIND_ATTRIBUTES[k], None)  # as if none were active
            return original(user, upn, k, body)

        return patch_code

    return make


def update_moves_start(store: Any) -> Any:
    original = store.patch_code

    def patch_code(user: str, upn: str, k: str, body: Any) -> Any:
        code, image, created = original(user, upn, k, body)
        if not created:
            code.start = code.start - mock_state.timedelta(days=1)  # the update also moves the start
        return code, image, created

    return patch_code


def temporary_expiry_updatable(store: Any) -> Any:
    original = store.patch_code

    def patch_code(user: str, upn: str, k: str, body: Any) -> Any:
        method = store.methods.get(user)
        if (
            k == "temporaryQRCode"
            and method
            and method.temporary
            and isinstance(body, dict)
            and "startDateTime" not in body
        ):
            method.temporary.expire = mock_state.parse_time(body["expireDateTime"], "expireDateTime")
            return method.temporary, None, False
        return original(user, upn, k, body)

    return patch_code


def reset_keeps_flag(store: Any) -> Any:
    original = store.reset_pin

    def reset_pin(user: str) -> Any:
        pin = original(user)
        pin.force_change = False
        return pin

    return reset_pin


def update_pin_keeps_flag(store: Any) -> Any:
    original = store.update_pin

    def update_pin(user: str, body: Any) -> None:
        original(user, body)
        store.methods[user].pin.force_change = True

    return update_pin


def delete_keeps_method(store: Any) -> Any:
    return lambda user: store.get_method(user) and None


def policy_ignored(store: Any) -> Any:
    return lambda body, require_odata_type: None


# --- the variants ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str
    breaks: str | None  # the rule it breaks (None: a correct but different variant)
    build: Callable[[], Any]


def mock(**options: Any) -> Any:
    return create_app(MockOptions(**options))


def case_sensitive(scope: dict[str, Any]) -> None:
    canonical = (
        "authentication",
        "qrCodePinMethod",
        "standardQRCode",
        "temporaryQRCode",
        "pin",
        "updatePin",
        "users",
        "me",
        "policies",
        "authenticationMethodsPolicy",
        "authenticationMethodConfigurations",
        "qrCodePin",
        "beta",
        "v1.0",
    )
    for segment in scope["path"].strip("/").split("/"):
        if any(segment.lower() == c.lower() and segment != c for c in canonical):
            scope["path"] = "/not-found" + scope["path"]


def no_token_needed(scope: dict[str, Any]) -> None:
    scope["headers"] = [h for h in scope["headers"] if h[0] != b"authorization"] + [
        (b"authorization", b"Bearer injected")
    ]


def uppercase_ids(body: Any) -> Any:
    return walk(
        body, lambda k, v: v.upper() if k == "id" and isinstance(v, str) and re.fullmatch(r"[0-9a-f-]{36}", v) else v
    )


def preexisting_method() -> Any:
    app = mock()
    app.state.store.create_method(
        DEFAULT_USER,
        DEFAULT_USER,
        {"standardQRCode": {"startDateTime": "2026-01-01T00:00:00Z", "expireDateTime": "2026-12-01T00:00:00Z"}},
    )
    return app


BROKEN = [
    Variant(
        "create answers 200",
        "documented status",
        lambda: Rewriting(mock(), status_of("PUT", r"qrCodePinMethod$", 201, 200)),
    ),
    Variant(
        "image on GET",
        "image-once",
        lambda: Rewriting(mock(), on_reads(members("image", lambda v: v or {"binaryValue": "AAAA"}))),
    ),
    Variant(
        "no image on create",
        "image-once",
        lambda: Rewriting(mock(), lambda m, p, s, b: (s, members("image", lambda v: None)(b) if s == 201 else b)),
    ),
    Variant(
        "PIN leaked on GET",
        "pin-code-once",
        lambda: Rewriting(mock(), on_reads(members("code", lambda v: v or "58219374"))),
    ),
    Variant(
        "no PIN on create",
        "pin-code-once",
        lambda: Rewriting(
            mock(), lambda m, p, s, b: (s, members("code", lambda v: None)(b) if m == "PUT" and s == 201 else b)
        ),
    ),
    Variant(
        "standard lifetime unlimited",
        "standard-lifetime",
        lambda: patched(mock(), patch_code=no_lifetime_limits("standardQRCode")),
    ),
    Variant(
        "temporary lifetime unlimited",
        "temporary-lifetime",
        lambda: patched(mock(), patch_code=no_lifetime_limits("temporaryQRCode")),
    ),
    Variant(
        "dates not RFC 3339",
        "documented-formats",
        lambda: Rewriting(mock(), on_all(dates(lambda v: v.replace("T", " ").rstrip("Z")))),
    ),
    Variant(
        "image not base64",
        "documented-formats",
        lambda: Rewriting(mock(), on_all(members("binaryValue", lambda v: "Binary"))),
    ),
    Variant(
        "unknown enum member",
        "documented-formats",
        lambda: Rewriting(mock(), on_all(members("errorCorrectionLevel", lambda v: "L"))),
    ),
    Variant(
        "wrong @odata.type",
        "documented-formats",
        lambda: Rewriting(mock(), on_all(members("@odata.type", lambda v: v.lower()))),
    ),
    Variant(
        "entity wrapped in value", "documented-formats", lambda: Rewriting(mock(), on_reads(lambda b: {"value": b}))
    ),
    Variant("plain-text errors", "error-envelope", lambda: Rewriting(mock(), text_errors=True)),
    Variant("no 401", "token-required", lambda: Rewriting(mock(), request=no_token_needed)),
    Variant("case-sensitive paths", "case-insensitive-paths", lambda: Rewriting(mock(), request=case_sensitive)),
    Variant(
        "second method replaces the first",
        "one-method-per-user",
        lambda: patched(mock(), create_method=second_method_replaces),
    ),
    Variant(
        "any PIN accepted", "pin-digits-and-length", lambda: patched(mock(), create_method=any_pin(trivial_only=False))
    ),
    Variant(
        "trivial PINs accepted", "pin-not-trivial", lambda: patched(mock(), create_method=any_pin(trivial_only=True))
    ),
    Variant(
        "temporary code accepted at create",
        "standard-code-required",
        lambda: patched(mock(), create_method=temporary_at_create),
    ),
    Variant(
        "new start replaces active standard",
        "one-active-standard-code",
        lambda: patched(mock(), patch_code=active_codes_replaced("standardQRCode")),
    ),
    Variant(
        "update shifts startDateTime",
        "only-standard-expiry-updates",
        lambda: patched(mock(), patch_code=update_moves_start),
    ),
    Variant(
        "second temporary code allowed",
        "one-active-temporary-code",
        lambda: patched(mock(), patch_code=active_codes_replaced("temporaryQRCode")),
    ),
    Variant(
        "temporary expiry updatable",
        "only-standard-expiry-updates",
        lambda: patched(mock(), patch_code=temporary_expiry_updatable),
    ),
    Variant(
        "reset does not force a change", "reset-forces-change", lambda: patched(mock(), reset_pin=reset_keeps_flag)
    ),
    Variant(
        "updatePin keeps the force flag", "user-changes-pin", lambda: patched(mock(), update_pin=update_pin_keeps_flag)
    ),
    Variant("delete keeps the method", "delete-removes", lambda: patched(mock(), delete_method=delete_keeps_method)),
    Variant(
        "absent method answers 200",
        "absent-method-404",
        lambda: Rewriting(mock(), lambda m, p, s, b: (200, {}) if m == "GET" and s == 404 else (s, b)),
    ),
    Variant("policy update ignored", "policy-configuration", lambda: patched(mock(), update_policy=policy_ignored)),
    Variant(
        "policy reads a PIN length over 20",
        "policy-configuration",
        lambda: Rewriting(mock(), on_reads(members("pinLength", lambda v: 21 if v == 8 else v))),
    ),
    Variant(
        "policy reads a lifetime over 395 days",
        "policy-configuration",
        lambda: Rewriting(mock(), on_reads(members("standardQRCodeLifetimeInDays", lambda v: 396))),
    ),
    Variant(
        "an existing method's reads show its PIN",
        "pin-code-once",
        lambda: Rewriting(preexisting_method(), on_reads(members("code", lambda v: "58219374" if v is None else v))),
    ),
    Variant(
        "v1.0 policy update answers 204",
        "documented status",
        lambda: Rewriting(
            mock(), lambda m, p, s, b: (204, None) if m == "PATCH" and "/v1.0/policies" in p and s == 200 else (s, b)
        ),
    ),
]

CORRECT = [
    Variant(
        "undocumented extra properties",
        None,
        lambda: mock(extra={"isUsable": True, "methodUsabilityReason": None, "brandNew": 1}),
    ),
    Variant("upper-case GUIDs", None, lambda: Rewriting(mock(), on_all(uppercase_ids))),
    Variant(
        "7-digit fractions everywhere",
        None,
        lambda: Rewriting(
            mock(), on_all(dates(lambda v: v if "." in v or v.startswith("0001") else v.replace("Z", ".0000000Z")))
        ),
    ),
    Variant("+00:00 offsets", None, lambda: Rewriting(mock(), on_all(dates(lambda v: v.replace("Z", "+00:00"))))),
    Variant("throttling with Retry-After", None, lambda: mock(throttle=["0.01", "0", "0.02"])),
    Variant("a method already exists", None, preexisting_method),
    Variant(
        "reads show the PIN as an empty string",  # the beta GET example's "code": ""
        None,
        lambda: Rewriting(preexisting_method(), on_reads(members("code", lambda v: "" if v is None else v))),
    ),
    Variant(
        "standard update answers 204",
        None,
        lambda: Rewriting(
            mock(),
            lambda m, p, s, b: (
                (204, None) if m == "PATCH" and p.lower().endswith("standardqrcode") and s == 200 else (s, b)
            ),
        ),
    ),
    Variant(
        "standard update answers 201", None, lambda: Rewriting(mock(), status_of("PATCH", r"standardQRCode$", 200, 201))
    ),
]


# a case whose target state makes it not applicable (e.g. no method to read back) is skipped, not failed
ACCEPTED = frozenset({"passed", "skipped"})


def catalogue() -> list[Scenario]:
    schemas = SchemaSet(default_schema_dir())
    return load_scenarios([CATALOGUE], set(schemas.type_names("beta")))


def run_catalogue(app: Any, scenarios: list[Scenario]) -> list[CaseResult]:
    schemas = SchemaSet(default_schema_dir())
    with TestClient(app, base_url="http://mock.local") as http:
        http.auth = StaticToken(PLACEHOLDER_TOKEN)
        runner = Runner(
            http,
            base_url="http://mock.local",
            user=DEFAULT_USER,
            schemas=schemas,
            sleep=lambda s: None,
            variables=NO_METHOD_USER,
        )
        return [runner.run(s, v, datetime.now(UTC)) for s in scenarios for v in s.versions]


def table() -> tuple[list[str], int, int]:
    """The report: every variant, whether the catalogue caught it, and by which cases."""
    scenarios = catalogue()
    lines = [f"{'variant':<38} {'breaks':<28} verdict   by"]
    killed = 0
    for variant in BROKEN:
        failing = sorted(r.case_id for r in run_catalogue(variant.build(), scenarios) if r.outcome not in ACCEPTED)
        killed += bool(failing)
        shown = ", ".join(failing[:3]) + (f" (+{len(failing) - 3})" if len(failing) > 3 else "")
        lines.append(f"{variant.name:<38} {variant.breaks or '':<28} {'caught' if failing else 'MISSED':<9} {shown}")
    for variant in CORRECT:
        results = run_catalogue(variant.build(), scenarios)
        failing = sorted(r.case_id for r in results if r.outcome not in ACCEPTED)
        warnings = sum(len(r.notes) for r in results)
        verdict = "passes" if not failing else "FAILS"
        lines.append(
            f"{variant.name:<38} {'(correct, different)':<28} {verdict:<9} {', '.join(failing[:3])}{'' if failing else f'{warnings} drift warnings'}"
        )
    lines.append(f"kill ratio: {killed}/{len(BROKEN)} broken variants caught")
    return lines, killed, len(BROKEN)


if __name__ == "__main__":
    report, caught, total = table()
    print("\n".join(report))
    sys.exit(0 if caught == total else 1)
