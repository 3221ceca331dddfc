"""Variants of the reference mock: deliberately broken ones (each breaks one documented rule) and
correct-but-different ones (each differs from the reference mock in a way the docs allow).

A variant is the mock built with other options: other :class:`~conformance.mock.rules.Rules`, a
:class:`~conformance.mock.state.Store` subclass that breaks one rule, or the mock behind
:class:`Rewriting`, which alters its answers or requests. Nothing patches the mock.

``python -m tests.mutants`` runs the whole catalogue against every variant and prints the table.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

with warnings.catch_warnings():  # Starlette prefers the httpx2 fork; its TestClient runs on httpx all the same
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from starlette.testclient import TestClient

from conformance.auth import StaticToken
from conformance.config import DEFAULT_USER, DEFAULT_USER_UPN, DEFAULT_USER_WITHOUT_METHOD, PLACEHOLDER_TOKEN
from conformance.contract import default_schema_dir
from conformance.findings import NoteKind
from conformance.mock import DOCUMENTED_RULES, MockOptions, create_app, images
from conformance.mock.rules import PinChecker, new_pin, pin_problem
from conformance.mock.state import (
    KIND_ATTRIBUTES,
    NEVER,
    GraphError,
    Method,
    Pin,
    QrCode,
    Store,
    graph_time,
    parse_time,
)
from conformance.runner import CaseResult, Runner
from conformance.scenarios import CATALOGUE, Scenario, load_scenarios
from conformance.schemas import SchemaSet
from conformance.versions import Version

Rewrite = Callable[[str, str, int, Any], tuple[int, Any]]  # (method, path, status, body) -> (status, body)

NO_METHOD_USER = {"user_without_method": DEFAULT_USER_WITHOUT_METHOD}  # the runner's variables against a mock
RUN_VARIABLES = {**NO_METHOD_USER, "user_upn": DEFAULT_USER_UPN}  # ... and the default user's UPN


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
        await send_answer(send, status, headers, payload)


async def send_answer(send: Any, status: int, headers: list[tuple[bytes, bytes]], payload: bytes) -> None:
    """Send a whole answer: its start, then all of its body."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class RefusesSent:
    """ASGI middleware: a request whose JSON body ``refuse(method, path, body)`` picks is answered 400 in
    Graph's error envelope and never reaches the mock (so nothing changes); every other request goes on."""

    def __init__(self, app: Any, refuse: Callable[[str, str, Any], bool]) -> None:
        self.app, self.refuse = app, refuse

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        messages, more = [], True
        while more:
            message = await receive()
            messages.append(message)
            more = message.get("more_body", False)
        raw = b"".join(m.get("body", b"") for m in messages)
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            body = None
        if self.refuse(scope["method"], scope["path"], body):
            error = {"error": {"code": "badRequest", "message": "Not accepted here."}}
            payload = json.dumps(error).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
            await send_answer(send, 400, headers, payload)
            return

        async def replay() -> Any:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        await self.app(scope, replay, send)


def refusing(refuse: Callable[[str, str, Any], bool]) -> Callable[[], Any]:
    """A builder of the reference mock behind :class:`RefusesSent`."""
    return lambda: RefusesSent(mock(), refuse)


def sends_read_only_members(method: str, path: str, body: Any) -> bool:
    """A create or update that sends a read-only member (the method's or its standard code's)."""
    if method not in ("PUT", "PATCH") or not isinstance(body, dict):
        return False
    parts = [body, body.get("standardQRCode")]
    return any(isinstance(part, dict) and {"id", "createdDateTime"} & part.keys() for part in parts)


def walk(value: Any, fn: Callable[[str, Any], Any]) -> Any:
    """Apply ``fn(key, value)`` to every member of a JSON value, depth first."""
    if isinstance(value, dict):
        return {k: fn(k, walk(v, fn)) for k, v in value.items()}
    if isinstance(value, list):
        return [walk(v, fn) for v in value]
    return value


def on_reads(fn: Callable[[Any], Any]) -> Rewrite:
    """A rewrite that applies ``fn`` to the body of every successful GET."""
    return lambda method, path, status, body: (status, fn(body) if method == "GET" and status == 200 else body)


def on_all(fn: Callable[[Any], Any]) -> Rewrite:
    """A rewrite that applies ``fn`` to the body of every answer under 400."""
    return lambda method, path, status, body: (status, fn(body) if body is not None and status < 400 else body)


def members(key: str, new: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A body change that passes every ``key`` member's value through ``new``."""
    return lambda body: walk(body, lambda k, v: new(v) if k == key else v)


def without(key: str) -> Callable[[Any], Any]:
    """A body change that drops every ``key`` member."""

    def drop(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: drop(v) for k, v in value.items() if k != key}
        if isinstance(value, list):
            return [drop(v) for v in value]
        return value

    return drop


def dates(new: Callable[[str], str]) -> Callable[[Any], Any]:
    """A body change that passes every ``...DateTime`` string through ``new``."""
    return lambda body: walk(body, lambda k, v: new(v) if k.endswith("DateTime") and isinstance(v, str) else v)


def status_of(method: str, pattern: str, old: int, new: int) -> Rewrite:
    """A rewrite that answers ``new`` where ``method`` on a path matching ``pattern`` answered ``old``."""

    def rewrite(m: str, path: str, status: int, body: Any) -> tuple[int, Any]:
        return (new if m == method and re.search(pattern, path, re.I) and status == old else status), body

    return rewrite


# --- variants of the store: other rules, or a subclass that breaks one ---------------------------


def without_complexity(code: Any, min_length: int, max_length: int) -> str | None:
    """:func:`pin_problem` without its complexity rules: runs and repeated sequences pass."""
    problem = pin_problem(code, min_length, max_length)
    return problem if problem and "run" not in problem and "repeat" not in problem else None


class SecondMethodReplaces(Store):
    """A second method replaces the first instead of being refused."""

    def create_method(self, user: str, upn: str, body: Any) -> tuple[Method, dict[str, Any]]:
        self.methods.pop(user, None)
        return super().create_method(user, upn, body)


class TemporaryAtCreate(Store):
    """A temporary code in a new method's body is ignored instead of refused."""

    def create_method(self, user: str, upn: str, body: Any) -> tuple[Method, dict[str, Any]]:
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if k != "temporaryQRCode"}
        return super().create_method(user, upn, body)


def active_code_replaced(kind: str) -> type[Store]:
    """A store where a new code of ``kind`` (a body with ``startDateTime``) replaces the active one."""

    class ActiveCodeReplaced(Store):
        def patch_code(self, user: str, upn: str, k: str, body: Any) -> tuple[QrCode, dict[str, Any] | None, bool]:
            if k == kind and isinstance(body, dict) and "startDateTime" in body:
                method = self.methods.get(user)
                if method is not None:
                    setattr(method, KIND_ATTRIBUTES[k], None)  # as if none were active
            return super().patch_code(user, upn, k, body)

    return ActiveCodeReplaced


class UpdateMovesStart(Store):
    """An update of a standard code's expiry also moves its start a day back."""

    def patch_code(self, user: str, upn: str, k: str, body: Any) -> tuple[QrCode, dict[str, Any] | None, bool]:
        code, image, created = super().patch_code(user, upn, k, body)
        if not created:
            code.start = code.start - timedelta(days=1)
        return code, image, created


class TemporaryExpiryUpdatable(Store):
    """An existing temporary code's expiry can be updated."""

    def patch_code(self, user: str, upn: str, k: str, body: Any) -> tuple[QrCode, dict[str, Any] | None, bool]:
        method = self.methods.get(user)
        if (
            k == "temporaryQRCode"
            and method
            and method.temporary
            and isinstance(body, dict)
            and "startDateTime" not in body
        ):
            method.temporary.expire = parse_time(body["expireDateTime"], "expireDateTime")
            return method.temporary, None, False
        return super().patch_code(user, upn, k, body)


class ResetKeepsFlag(Store):
    """A PIN reset does not force a change at the next sign-in."""

    def reset_pin(self, user: str) -> Pin:
        pin = super().reset_pin(user)
        pin.force_change = False
        return pin


class UpdatePinKeepsFlag(Store):
    """The user's own PIN change leaves the force-change flag set."""

    def update_pin(self, user: str, body: Any) -> None:
        super().update_pin(user, body)
        self.methods[user].pin.force_change = True


class DeleteKeepsMethod(Store):
    """A DELETE of the method answers 204 and removes nothing."""

    def delete_method(self, user: str) -> None:
        self.get_method(user)


class PolicyIgnored(Store):
    """A policy PATCH is accepted and changes nothing."""

    def update_policy(self, body: Any, require_odata_type: bool) -> None:
        return None


def length_shifted(by: int) -> PinChecker:
    """:func:`pin_problem` with the shortest PIN ``by`` digits off the policy's ``pinLength``."""
    return lambda code, shortest, longest: pin_problem(code, shortest + by, longest)


def length_fixed(shortest: int) -> PinChecker:
    """:func:`pin_problem` with the shortest PIN ``shortest`` digits, whatever the policy says."""
    return lambda code, _policy_length, longest: pin_problem(code, shortest, longest)


def full_runs_accepted(code: Any, min_length: int, max_length: int) -> str | None:
    """:func:`pin_problem` without the full-run pattern: a PIN containing 0123456789 or 9876543210 passes."""
    problem = pin_problem(code, min_length, max_length)
    return None if problem and "0123456789" in problem else problem


def whole_repeats_only(code: Any, min_length: int, max_length: int) -> str | None:
    """:func:`pin_problem` refusing a repeated 2-3 digit sequence only when it is the whole PIN."""
    problem = pin_problem(code, min_length, max_length)
    if problem and "repeat" in problem and not re.fullmatch(r"(\d{1,3})\1+", code):
        return None
    return problem


def any_repeat_twice(code: Any, min_length: int, max_length: int) -> str | None:
    """A stricter reading of the page's "repeat": any pair or triple twice in a row (1212, 123123) is refused."""
    if (problem := pin_problem(code, min_length, max_length)) is not None:
        return problem
    return "PIN can't repeat a sequence of 2-3 digits" if re.search(r"(\d\d\d?)\1", code) else None


class ResetIgnoresPolicyLength(Store):
    """A reset generates an 8-digit PIN whatever the policy's ``pinLength``."""

    def reset_pin(self, user: str) -> Pin:
        pin = super().reset_pin(user)
        pin.code = new_pin(int(self.rules.policy_defaults["pinLength"]), avoid=pin.code)
        return pin


class ResetKeepsPin(Store):
    """A reset answers (and keeps) the PIN the method already had."""

    def reset_pin(self, user: str) -> Pin:
        before = self.get_method(user).pin.code
        pin = super().reset_pin(user)
        pin.code = before
        return pin


class DeletedMethodLingers(Store):
    """Deleting the method leaves its parts behind: its QR codes still read, or its PIN can still be reset."""

    part = "codes"  # or "pin"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.deleted: dict[str, Method] = {}

    def delete_method(self, user: str) -> None:
        with self.lock:
            self.deleted[user] = self.get_method(user)
            super().delete_method(user)

    def create_method(self, user: str, upn: str, body: Any) -> tuple[Method, dict[str, Any]]:
        self.deleted.pop(user, None)
        return super().create_method(user, upn, body)

    def get_code(self, user: str, kind: str) -> QrCode:
        lingering = self.deleted.get(user)
        if self.part == "codes" and user not in self.methods and lingering is not None:
            code = getattr(lingering, KIND_ATTRIBUTES[kind])
            if code is not None:
                return code  # type: ignore[no-any-return]
        return super().get_code(user, kind)

    def reset_pin(self, user: str) -> Pin:
        lingering = self.deleted.get(user)
        if self.part == "pin" and user not in self.methods and lingering is not None:
            code = new_pin(8, avoid=lingering.pin.code)
            lingering.pin = Pin(lingering.pin.id, code, lingering.pin.created, self.clock())
            return lingering.pin
        return super().reset_pin(user)


class DeletedPinLingers(DeletedMethodLingers):
    """Deleting the method leaves its PIN: it can still be reset."""

    part = "pin"


class CodeDeleteTakesMethod(Store):
    """Deleting a QR code deletes the whole method."""

    def delete_code(self, user: str, kind: str) -> None:
        with self.lock:
            super().delete_code(user, kind)
            del self.methods[user]


class CodeDeleteTakesBoth(Store):
    """Deleting one QR code deletes the other one too."""

    def delete_code(self, user: str, kind: str) -> None:
        with self.lock:
            super().delete_code(user, kind)
            method = self.methods[user]
            method.standard = method.temporary = None


class NoMethodAfterDelete(Store):
    """A user whose method was deleted cannot get a new one."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.deleted: set[str] = set()

    def delete_method(self, user: str) -> None:
        super().delete_method(user)
        self.deleted.add(user)

    def create_method(self, user: str, upn: str, body: Any) -> tuple[Method, dict[str, Any]]:
        if user in self.deleted:
            raise GraphError(400, "tooManyQRCodePinMethod", "There can be only one active QR code auth method.")
        return super().create_method(user, upn, body)


class NoCodeAfterDelete(Store):
    """A QR code that was deleted cannot be created again."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.deleted: set[tuple[str, str]] = set()

    def delete_code(self, user: str, kind: str) -> None:
        super().delete_code(user, kind)
        self.deleted.add((user, kind))

    def patch_code(self, user: str, upn: str, kind: str, body: Any) -> tuple[QrCode, dict[str, Any] | None, bool]:
        if (user, kind) in self.deleted and getattr(self.get_method(user), KIND_ATTRIBUTES[kind]) is None:
            raise GraphError(400, "ActiveQRCodeExisted", f"An active {kind} exists for QR code auth method.")
        return super().patch_code(user, upn, kind, body)


class UpdateAnswersImage(Store):
    """An update of a standard code's expiry answers with a new image."""

    def patch_code(self, user: str, upn: str, kind: str, body: Any) -> tuple[QrCode, dict[str, Any] | None, bool]:
        code, image, created = super().patch_code(user, upn, kind, body)
        return code, image if created else images.image_for(upn, code.id), created


class UpdateAnswersOldExpiry(Store):
    """An update of a standard code's expiry stores the new one but answers the old one."""

    def patch_code(self, user: str, upn: str, kind: str, body: Any) -> tuple[QrCode, dict[str, Any] | None, bool]:
        method = self.methods.get(user)
        before = getattr(method, KIND_ATTRIBUTES[kind]) if method else None
        old = replace(before) if before is not None else None
        code, image, created = super().patch_code(user, upn, kind, body)
        return (code if created or old is None else old), image, created


class DefaultValueIgnored(Store):
    """A policy PATCH that sets a setting back to its default value is ignored for that setting."""

    def update_policy(self, body: Any, require_odata_type: bool) -> None:
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if self.rules.policy_defaults.get(k, object()) != v}
        super().update_policy(body, require_odata_type)


class PolicyPatchReplaces(Store):
    """A policy PATCH replaces the whole policy: the settings it does not name go back to their defaults."""

    def update_policy(self, body: Any, require_odata_type: bool) -> None:
        with self.lock:
            before = dict(self.policy)
            self.policy = dict(self.rules.policy_defaults)
            try:
                super().update_policy(body, require_odata_type)
            except GraphError:
                self.policy = before
                raise


class TakesReadOnlyMembers(Store):
    """A create takes the ids and creation time the client sends for the method and its standard code."""

    def create_method(self, user: str, upn: str, body: Any) -> tuple[Method, dict[str, Any]]:
        method, image = super().create_method(user, upn, body)
        sent = body["standardQRCode"]
        method.id = body.get("id", method.id)
        if method.standard is not None:
            method.standard.id = sent.get("id", method.standard.id)
            if "createdDateTime" in sent:
                method.standard.created = parse_time(sent["createdDateTime"], "createdDateTime")
        return method, image


class MissingDatesDefault(Store):
    """A new code without startDateTime starts now; without expireDateTime it lives the policy's days (or 1 hour)."""

    def _lifetime(self, kind: str, body: dict[str, Any], current: QrCode | None) -> tuple[datetime, datetime]:
        if current is None:
            start = body.get("startDateTime") or graph_time(self.clock())
            days = self.policy["standardQRCodeLifetimeInDays"]
            span = timedelta(days=days) if kind == "standardQRCode" else timedelta(hours=1)
            body = {"startDateTime": start, "expireDateTime": graph_time(parse_time(start, "start") + span), **body}
        return super()._lifetime(kind, body, current)


class CreatedPinNotForced(Store):
    """A PIN set at creation need not be changed at the next sign-in."""

    def create_method(self, user: str, upn: str, body: Any) -> tuple[Method, dict[str, Any]]:
        method, image = super().create_method(user, upn, body)
        method.pin.force_change = False
        return method, image


class HiddenPin(Pin):
    """A PIN never shown, not even when it is made."""

    def body(self, reveal: bool, version: Version) -> dict[str, Any]:
        return super().body(False, version)


class GeneratedPinHidden(Store):
    """A create without a PIN generates one but never shows it."""

    def create_method(self, user: str, upn: str, body: Any) -> tuple[Method, dict[str, Any]]:
        method, image = super().create_method(user, upn, body)
        if not (isinstance(body.get("pin"), dict) and body["pin"].get("code") is not None):
            method.pin = HiddenPin(**vars(method.pin))
        return method, image


class CurrentPinOptional(Store):
    """updatePin without currentPin changes the PIN all the same."""

    def update_pin(self, user: str, body: Any) -> None:
        if isinstance(body, dict) and "currentPin" not in body and user in self.methods:
            body = {**body, "currentPin": self.methods[user].pin.code}
        super().update_pin(user, body)


class NewPinOptional(Store):
    """updatePin without newPin answers 204 and changes nothing."""

    def update_pin(self, user: str, body: Any) -> None:
        if isinstance(body, dict) and "newPin" not in body:
            self.get_method(user)
            return
        super().update_pin(user, body)


class RecreatedCodeKeepsId(Store):
    """A QR code created after a delete takes the deleted code's id."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.deleted_ids: dict[tuple[str, str], str] = {}

    def delete_code(self, user: str, kind: str) -> None:
        code_id = self.get_code(user, kind).id
        super().delete_code(user, kind)
        self.deleted_ids[(user, kind)] = code_id

    def patch_code(self, user: str, upn: str, kind: str, body: Any) -> tuple[QrCode, dict[str, Any] | None, bool]:
        code, image, created = super().patch_code(user, upn, kind, body)
        if created and (user, kind) in self.deleted_ids:
            code.id = self.deleted_ids[(user, kind)]
        return code, image, created


class TemporaryMakesMethod(Store):
    """A temporary code for a user without a method makes a method (a generated PIN, no standard code)."""

    def patch_code(self, user: str, upn: str, kind: str, body: Any) -> tuple[QrCode, dict[str, Any] | None, bool]:
        with self.lock:
            if user not in self.methods:
                now = self.clock()
                pin = Pin(str(uuid.uuid4()), new_pin(self._pin_length()), now, now)
                self.methods[user] = Method(str(uuid.uuid4()), now, pin)
            return super().patch_code(user, upn, kind, body)


class ResetTakesCode(Rewriting):
    """The mock behind a layer that makes the ``code`` a PIN reset sends the new PIN (the mock made another)."""

    def __init__(self, app: Any) -> None:
        super().__init__(app, self.take_code)
        self.store: Store = app.state.store
        self.sent: list[bytes] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.sent = []

        async def recording() -> Any:
            message = await receive()
            self.sent.append(message.get("body", b""))
            return message

        await super().__call__(scope, recording, send)

    def take_code(self, method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
        if method == "PATCH" and re.search(r"/pin$", path, re.I) and status == 201:
            try:
                sent = json.loads(b"".join(self.sent) or b"{}").get("code")
            except (ValueError, AttributeError):
                sent = None
            if isinstance(sent, str):
                for owner in self.store.methods.values():
                    if owner.pin.code == body["code"]:
                        owner.pin.code = sent
                body = {**body, "code": sent}
        return status, body


class ResetWithCodeShowsNoPin(ResetTakesCode):
    """A reset that is sent a code takes it, but answers no PIN at all (neither the tables' nor the examples' way)."""

    def take_code(self, method: str, path: str, status: int, body: Any) -> tuple[int, Any]:
        status, body = super().take_code(method, path, status, body)
        try:
            sent = json.loads(b"".join(self.sent) or b"{}").get("code")
        except (ValueError, AttributeError):
            sent = None
        if method == "PATCH" and re.search(r"/pin$", path, re.I) and status == 201 and isinstance(sent, str):
            body = {key: value for key, value in body.items() if key != "code"}
        return status, body


def shifted_offset(value: str) -> str:
    """The same instant at +02:00 (not UTC)."""
    moment = parse_time(value, "date-time").astimezone(timezone(timedelta(hours=2)))
    return moment.isoformat()


def policy_id(new: str) -> Rewrite:
    """A rewrite that answers the policy with the id ``new``."""
    return lambda m, p, s, b: (s, {**b, "id": new} if isinstance(b, dict) and "/policies/" in p and "id" in b else b)


# --- the variants ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One variant of the mock: its name, the rule it breaks, and how to build its ASGI app."""

    name: str
    breaks: str | None  # the rule it breaks (None: a correct but different variant)
    build: Callable[[], Any]


def mock(**options: Any) -> Any:
    """The reference mock with these :class:`MockOptions`."""
    return create_app(MockOptions(**options))


def with_rules(**changes: Any) -> Callable[[], Any]:
    """A builder of the mock under the documented rules with these ``changes``."""
    return lambda: mock(rules=replace(DOCUMENTED_RULES, **changes))


def with_store(store_type: type[Store]) -> Callable[[], Any]:
    """A builder of the mock whose state is a ``store_type``."""
    return lambda: mock(store_type=store_type)


def rewritten(rewrite: Rewrite | None = None, app: Callable[[], Any] = mock, **changes: Any) -> Callable[[], Any]:
    """A builder of ``app()`` behind :class:`Rewriting` (``rewrite``, and its ``request`` or ``text_errors``)."""
    return lambda: Rewriting(app(), rewrite, **changes)


def case_sensitive(scope: dict[str, Any]) -> None:
    """Send a path whose segments are not spelled as the pages spell them to a path that is not found."""
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
    """Replace the request's bearer token, or its absence, with one the mock accepts."""
    scope["headers"] = [h for h in scope["headers"] if h[0] != b"authorization"] + [
        (b"authorization", b"Bearer injected")
    ]


def uppercase_ids(body: Any) -> Any:
    """The body with every GUID ``id`` in upper case."""
    return walk(
        body, lambda k, v: v.upper() if k == "id" and isinstance(v, str) and re.fullmatch(r"[0-9a-f-]{36}", v) else v
    )


def preexisting_method() -> Any:
    """The reference mock where the default user already has a method."""
    app = mock()
    app.state.store.create_method(
        DEFAULT_USER,
        DEFAULT_USER,
        {"standardQRCode": {"startDateTime": "2026-01-01T00:00:00Z", "expireDateTime": "2026-12-01T00:00:00Z"}},
    )
    return app


OTHER_ME = "00000000-0000-4000-8000-0000000000ee"  # a signed-in user who is not the scenarios' {user}
OTHER_ME_UPN = "shift.lead@contoso.example"
ELSEWHERE = "00000000-0000-4000-8000-00000000e15e"  # a user no scenario names
NON_DEFAULT_POLICY = {"pinLength": 12, "standardQRCodeLifetimeInDays": 100, "state": "enabled"}


def lived_in(
    users: tuple[str, ...] = (DEFAULT_USER,), policy: dict[str, Any] | None = None, **options: Any
) -> Callable[[], Any]:
    """A builder of the mock (with ``options``) whose tenant is not fresh: the ``policy`` settings, and for each
    of ``users`` a method with an active temporary code and a PIN that was reset (of the policy's length)."""

    def build() -> Any:
        app = mock(**options)
        store: Store = app.state.store
        store.policy.update(policy or {})
        now = datetime.now(UTC)
        for user in users:
            standard = {"startDateTime": now - timedelta(days=1), "expireDateTime": now + timedelta(days=30)}
            temporary = {"startDateTime": now - timedelta(hours=1), "expireDateTime": now + timedelta(hours=5)}
            store.create_method(user, user, {"standardQRCode": {k: v.isoformat() for k, v in standard.items()}})
            store.patch_code(user, user, "temporaryQRCode", {k: v.isoformat() for k, v in temporary.items()})
            store.reset_pin(user)
        return app

    return build


def me_reads_elsewhere(scope: dict[str, Any]) -> None:
    """Send a GET through ``/me`` to another user's resources (writes through ``/me`` stay the signed-in user's)."""
    if scope["method"] == "GET":
        scope["path"] = re.sub(r"^(/[^/]+)/me/", rf"\1/users/{ELSEWHERE}/", scope["path"], flags=re.I)


UNLIMITED = timedelta(days=10_000)

BROKEN = [
    Variant("create answers 200", "documented status", rewritten(status_of("PUT", r"qrCodePinMethod$", 201, 200))),
    Variant(
        "image on GET", "image-once", rewritten(on_reads(members("image", lambda v: v or {"binaryValue": "AAAA"})))
    ),
    Variant(
        "no image on create",
        "image-once",
        rewritten(lambda m, p, s, b: (s, members("image", lambda v: None)(b) if s == 201 else b)),
    ),
    Variant("PIN leaked on GET", "pin-code-once", rewritten(on_reads(members("code", lambda v: v or "58219374")))),
    Variant(
        "no PIN on create",
        "pin-code-once",
        rewritten(lambda m, p, s, b: (s, members("code", lambda v: None)(b) if m == "PUT" and s == 201 else b)),
    ),
    Variant("standard lifetime unlimited", "standard-lifetime", with_rules(standard_max=UNLIMITED)),
    Variant("temporary lifetime unlimited", "temporary-lifetime", with_rules(temporary_max=UNLIMITED)),
    Variant(
        "dates not RFC 3339", "documented-formats", rewritten(on_all(dates(lambda v: v.replace("T", " ").rstrip("Z"))))
    ),
    Variant("image not base64", "documented-formats", rewritten(on_all(members("binaryValue", lambda v: "Binary")))),
    Variant(
        "unknown enum member", "documented-formats", rewritten(on_all(members("errorCorrectionLevel", lambda v: "L")))
    ),
    Variant("wrong @odata.type", "documented-formats", rewritten(on_all(members("@odata.type", lambda v: v.lower())))),
    Variant("entity wrapped in value", "documented-formats", rewritten(on_reads(lambda b: {"value": b}))),
    Variant("plain-text errors", "error-envelope", rewritten(text_errors=True)),
    Variant("no 401", "token-required", rewritten(request=no_token_needed)),
    Variant("case-sensitive paths", "case-insensitive-paths", rewritten(request=case_sensitive)),
    Variant("second method replaces the first", "one-method-per-user", with_store(SecondMethodReplaces)),
    Variant("any PIN accepted", "pin-digits-and-length", with_rules(pin_checker=lambda code, shortest, longest: None)),
    Variant("trivial PINs accepted", "pin-not-trivial", with_rules(pin_checker=without_complexity)),
    Variant("temporary code accepted at create", "standard-code-required", with_store(TemporaryAtCreate)),
    Variant(
        "new start replaces active standard",
        "one-active-standard-code",
        with_store(active_code_replaced("standardQRCode")),
    ),
    Variant("update shifts startDateTime", "only-standard-expiry-updates", with_store(UpdateMovesStart)),
    Variant(
        "second temporary code allowed",
        "one-active-temporary-code",
        with_store(active_code_replaced("temporaryQRCode")),
    ),
    Variant("temporary expiry updatable", "only-standard-expiry-updates", with_store(TemporaryExpiryUpdatable)),
    Variant("reset does not force a change", "reset-forces-change", with_store(ResetKeepsFlag)),
    Variant("updatePin keeps the force flag", "user-changes-pin", with_store(UpdatePinKeepsFlag)),
    Variant("delete keeps the method", "delete-removes", with_store(DeleteKeepsMethod)),
    Variant(
        "absent method answers 200",
        "absent-method-404",
        rewritten(lambda m, p, s, b: (200, {}) if m == "GET" and s == 404 else (s, b)),
    ),
    Variant("policy update ignored", "policy-configuration", with_store(PolicyIgnored)),
    Variant(
        "policy reads a PIN length over 20",
        "policy-configuration",
        rewritten(on_reads(members("pinLength", lambda v: 21 if v == 8 else v))),
    ),
    Variant(
        "policy reads a lifetime over 395 days",
        "policy-configuration",
        rewritten(on_reads(members("standardQRCodeLifetimeInDays", lambda v: 396))),
    ),
    Variant(
        "an existing method's reads show its PIN",
        "pin-code-once",
        rewritten(on_reads(members("code", lambda v: "58219374" if v is None else v)), app=preexisting_method),
    ),
    Variant(
        "v1.0 policy update answers 204",
        "documented status",
        rewritten(lambda m, p, s, b: (204, None) if m == "PATCH" and "/v1.0/policies" in p and s == 200 else (s, b)),
    ),
]

# the documented bounds, one step past each end: a value just outside accepted, or the limit itself refused
BROKEN += [
    Variant(
        "PIN one digit under pinLength accepted", "pin-digits-and-length", with_rules(pin_checker=length_shifted(-1))
    ),
    Variant("PIN of exactly pinLength refused", "pin-digits-and-length", with_rules(pin_checker=length_shifted(1))),
    Variant("21-digit PIN accepted", "pin-digits-and-length", with_rules(pin_max=21)),
    Variant("20-digit PIN refused", "pin-digits-and-length", with_rules(pin_max=19)),
    Variant("13-hour temporary code accepted", "temporary-lifetime", with_rules(temporary_max=timedelta(hours=13))),
    Variant("12-hour temporary code refused", "temporary-lifetime", with_rules(temporary_max=timedelta(hours=11))),
    Variant("temporary code under 1 hour accepted", "temporary-lifetime", with_rules(temporary_min=timedelta(0))),
    Variant("1-hour temporary code refused", "temporary-lifetime", with_rules(temporary_min=timedelta(hours=2))),
    Variant("396-day standard code accepted", "standard-lifetime", with_rules(standard_max=timedelta(days=396))),
    Variant("395-day standard code refused", "standard-lifetime", with_rules(standard_max=timedelta(days=394))),
    Variant("standard code under 1 day accepted", "standard-lifetime", with_rules(standard_min=timedelta(0))),
    Variant("1-day standard code refused", "standard-lifetime", with_rules(standard_min=timedelta(days=2))),
    Variant("policy pinLength 7 accepted", "policy-pin-length", with_rules(policy_pin_length=(7, 20))),
    Variant("policy pinLength 21 accepted", "policy-pin-length", with_rules(policy_pin_length=(8, 21))),
    Variant("policy pinLength 8 refused", "policy-pin-length", with_rules(policy_pin_length=(9, 20))),
    Variant("policy pinLength 20 refused", "policy-pin-length", with_rules(policy_pin_length=(8, 19))),
    Variant("policy lifetime 0 days accepted", "policy-lifetime", with_rules(policy_lifetime_days=(0, 395))),
    Variant("policy lifetime 396 days accepted", "policy-lifetime", with_rules(policy_lifetime_days=(1, 396))),
    Variant("policy lifetime 1 day refused", "policy-lifetime", with_rules(policy_lifetime_days=(2, 395))),
    Variant("policy lifetime 395 days refused", "policy-lifetime", with_rules(policy_lifetime_days=(1, 394))),
]

# the PIN's complexity, sequences, cross-resource effects, verbs, update answers and user addressing
BROKEN += [
    Variant("PINs containing a full run accepted", "pin-not-trivial", with_rules(pin_checker=full_runs_accepted)),
    Variant("repeats refused only as the whole PIN", "pin-not-trivial", with_rules(pin_checker=whole_repeats_only)),
    Variant(
        "pinLength not applied to given PINs", "policy-pin-length-applies", with_rules(pin_checker=length_fixed(8))
    ),
    Variant("a reset ignores pinLength", "policy-pin-length-applies", with_store(ResetIgnoresPolicyLength)),
    Variant("a reset gives back the old PIN", "reset-makes-new-pin", with_store(ResetKeepsPin)),
    Variant("a deleted method's codes still read", "method-delete-removes-parts", with_store(DeletedMethodLingers)),
    Variant("a deleted method's PIN still resets", "method-delete-removes-parts", with_store(DeletedPinLingers)),
    Variant("deleting a code deletes the method", "code-delete-keeps-rest", with_store(CodeDeleteTakesMethod)),
    Variant("deleting a code deletes both codes", "code-delete-keeps-rest", with_store(CodeDeleteTakesBoth)),
    Variant("no new method after a delete", "recreate-after-delete", with_store(NoMethodAfterDelete)),
    Variant("no new code after a delete", "recreate-after-delete", with_store(NoCodeAfterDelete)),
    Variant("updatePin refuses both verbs", "update-pin-verb", with_rules(update_pin_verbs=())),
    Variant("an update answers the image", "update-answers", with_store(UpdateAnswersImage)),
    Variant("an update answers the old expiry", "update-answers", with_store(UpdateAnswersOldExpiry)),
    Variant("a UPN is another user than the id", "user-addressing", lambda: mock(directory={})),
    Variant("/me reads another user than it writes", "user-addressing", rewritten(request=me_reads_elsewhere)),
    Variant("a PATCH back to a default is ignored", "policy-restores-exactly", with_store(DefaultValueIgnored)),
    Variant(
        "a policy PATCH resets what it omits",
        "policy-configuration",
        lived_in(users=(), policy=NON_DEFAULT_POLICY, store_type=PolicyPatchReplaces),
    ),
]

# the rules of the pages' statements beyond the first inventory
BROKEN += [
    Variant("a create takes the ids sent", "read-only-properties", with_store(TakesReadOnlyMembers)),
    Variant("missing code dates get defaults", "code-dates-required", with_store(MissingDatesDefault)),
    Variant("a created PIN need not be changed", "created-pin-forces-change", with_store(CreatedPinNotForced)),
    Variant(
        "a reset sent a code answers no PIN", "custom-pin-only-at-creation", lambda: ResetWithCodeShowsNoPin(mock())
    ),
    Variant("a generated PIN is never shown", "pin-at-create", with_store(GeneratedPinHidden)),
    Variant("updatePin without currentPin accepted", "update-pin-parameters-required", with_store(CurrentPinOptional)),
    Variant("updatePin without newPin answers 204", "update-pin-parameters-required", with_store(NewPinOptional)),
    Variant(
        "the policy is enabled by default",
        "policy-default-disabled",
        with_rules(policy_defaults=MappingProxyType({**DOCUMENTED_RULES.policy_defaults, "state": "enabled"})),
    ),
    Variant("the policy's id is another", "policy-id", rewritten(policy_id("qrCodePinPolicy"))),
    Variant("a re-created code keeps the old id", "recreated-code-is-new", with_store(RecreatedCodeKeepsId)),
    Variant("a temporary code makes a method", "temporary-needs-method", with_store(TemporaryMakesMethod)),
    Variant(
        "date-times at +02:00",
        "timestamps-utc",
        rewritten(on_all(dates(lambda v: v if v.startswith("0001") else shifted_offset(v)))),
    ),
]

# what the metadata source adds to the contract: keys and never-null members present, collections never null
# and typed (the derived schemas' required, non-null arrays and typed items)
BROKEN += [
    Variant("answers without their key", "documented-formats", rewritten(on_all(without("id")))),
    Variant("reads omit the PIN's code", "documented-formats", rewritten(on_reads(without("code")))),
    Variant("policy targets null", "documented-formats", rewritten(on_all(members("includeTargets", lambda v: None)))),
    Variant(
        "policy targets of an undocumented kind",
        "documented-formats",
        rewritten(on_all(members("targetType", lambda v: "everyone"))),
    ),
]

# the same rules, broken where the variants above leave them: an update (not a create) taking a sent id, and a
# generated PIN shown as an empty string (not null)


class SentIdUpdates(Store):
    """An update of a standard code's expiry takes the code's id from the request."""

    def patch_code(self, user: str, upn: str, kind: str, body: Any) -> tuple[QrCode, dict[str, Any] | None, bool]:
        code, image, created = super().patch_code(user, upn, kind, body)
        if not created and "id" in body:
            code.id = str(body["id"])
        return code, image, created


class GeneratedPinEmpty(Store):
    """A method created without a PIN gets an empty one, shown as ``""``."""

    def create_method(self, user: str, upn: str, body: Any) -> tuple[Method, dict[str, Any]]:
        method, image = super().create_method(user, upn, body)
        if not isinstance(body.get("pin"), dict):
            method.pin.code = ""
        return method, image


BROKEN += [
    Variant("an update takes the id it is sent", "read-only-properties", with_store(SentIdUpdates)),
    Variant("a PIN-less create gets an empty PIN", "pin-at-create", with_store(GeneratedPinEmpty)),
]

CORRECT = [
    # the other side of each alternative the scenarios accept (the mock takes the first)
    Variant("read-only members sent are refused", None, refusing(sends_read_only_members)),
    Variant(
        "a create without a PIN is refused",
        None,
        refusing(lambda m, p, b: m == "PUT" and isinstance(b, dict) and "pin" not in b),
    ),
    Variant(
        "a reset sent a code refuses it",
        None,
        refusing(lambda m, p, b: m == "PATCH" and p.lower().endswith("/pin") and isinstance(b, dict) and "code" in b),
    ),
    Variant(
        "a temporary code without a method answers 400",
        None,
        rewritten(
            lambda m, p, s, b: (400, b)
            if m == "PATCH" and p.lower().endswith("temporaryqrcode") and s == 404
            else (s, b)
        ),
    ),
    Variant("a reset takes the code sent (the pages' examples)", None, lambda: ResetTakesCode(mock())),
    Variant(
        "undocumented extra properties",
        None,
        lambda: mock(extra={"isUsable": True, "methodUsabilityReason": None, "brandNew": 1}),
    ),
    Variant("upper-case GUIDs", None, rewritten(on_all(uppercase_ids))),
    Variant(
        "7-digit fractions everywhere",
        None,
        rewritten(on_all(dates(lambda v: v if "." in v or v.startswith("0001") else v.replace("Z", ".0000000Z")))),
    ),
    Variant("+00:00 offsets", None, rewritten(on_all(dates(lambda v: v.replace("Z", "+00:00"))))),
    Variant("throttling with Retry-After", None, lambda: mock(throttle=["0.01", "0", "0.02"])),
    Variant("a method already exists", None, preexisting_method),
    Variant(
        "reads show the PIN as an empty string",  # the beta GET example's "code": ""
        None,
        rewritten(on_reads(members("code", lambda v: "" if v is None else v)), app=preexisting_method),
    ),
    Variant(
        "standard update answers 204",
        None,
        rewritten(
            lambda m, p, s, b: (
                (204, None) if m == "PATCH" and p.lower().endswith("standardqrcode") and s == 200 else (s, b)
            )
        ),
    ),
    Variant("standard update answers 201", None, rewritten(status_of("PATCH", r"standardQRCode$", 200, 201))),
    Variant("updatePin by POST only", None, with_rules(update_pin_verbs=("POST",))),
    Variant("updatePin by PATCH only", None, with_rules(update_pin_verbs=("PATCH",))),
    Variant("every user has a method, code and reset PIN", None, lived_in()),
    Variant(
        "/me is another user, with a method",
        None,
        lived_in(
            users=(DEFAULT_USER, OTHER_ME),
            me_user=OTHER_ME_UPN,
            directory={DEFAULT_USER: DEFAULT_USER_UPN, OTHER_ME: OTHER_ME_UPN},
        ),
    ),
    Variant("policy pinLength 12, 100 days, enabled", None, lived_in(users=(), policy=NON_DEFAULT_POLICY)),
    Variant(
        "a lived-in tenant under that policy",
        None,
        lived_in(
            users=(DEFAULT_USER, OTHER_ME),
            policy=NON_DEFAULT_POLICY,
            me_user=OTHER_ME,
            directory={DEFAULT_USER: DEFAULT_USER_UPN, OTHER_ME: OTHER_ME_UPN},
        ),
    ),
    Variant("any pair repeated refused (strict reading)", None, with_rules(pin_checker=any_repeat_twice)),
    Variant(
        "method reads without @odata.type",  # the beta GET example and seed 001 carry none
        None,
        rewritten(
            lambda m, p, s, b: (s, without("@odata.type")(b) if m == "GET" and "qrcodepinmethod" in p.lower() else b)
        ),
    ),
    Variant(
        "unused codes read lastUsedDateTime null",  # the Entra how-to's examples
        None,
        rewritten(on_all(members("lastUsedDateTime", lambda v: None if v == NEVER else v))),
    ),
]


# a case whose target state makes it not applicable (e.g. no method to read back) is skipped, not failed
ACCEPTED = frozenset({"passed", "skipped"})


def catalogue() -> list[Scenario]:
    """The packaged scenarios, validated against the committed schemas."""
    schemas = SchemaSet(default_schema_dir())
    return load_scenarios([CATALOGUE], set(schemas.type_names("beta")))


def run_catalogue(app: Any, scenarios: list[Scenario]) -> list[CaseResult]:
    """Every case of ``scenarios`` run in process against ``app``, as the plugin runs them against a mock."""
    schemas = SchemaSet(default_schema_dir())
    with TestClient(app, base_url="http://mock.local") as http:
        http.auth = StaticToken(PLACEHOLDER_TOKEN)
        runner = Runner(
            http,
            base_url="http://mock.local",
            user=DEFAULT_USER,
            schemas=schemas,
            sleep=lambda s: None,
            variables=RUN_VARIABLES,
        )
        return [runner.run(s, v, datetime.now(UTC)) for s in scenarios for v in s.versions]


def table() -> tuple[list[str], int, int, int]:
    """The report: every variant, whether the catalogue caught it (or passed it, if correct) and by which cases;
    then the broken variants caught, their number, and the correct variants failed."""
    scenarios = catalogue()
    lines = [f"{'variant':<44} {'breaks':<31} verdict   by"]
    killed = wrongly_failed = 0
    for variant in BROKEN:
        failing = sorted(r.case_id for r in run_catalogue(variant.build(), scenarios) if r.outcome not in ACCEPTED)
        killed += bool(failing)
        shown = ", ".join(failing[:3]) + (f" (+{len(failing) - 3})" if len(failing) > 3 else "")
        lines.append(f"{variant.name:<44} {variant.breaks or '':<31} {'caught' if failing else 'MISSED':<9} {shown}")
    for variant in CORRECT:
        results = run_catalogue(variant.build(), scenarios)
        failing = sorted(r.case_id for r in results if r.outcome not in ACCEPTED)
        drift = sum(n.kind == NoteKind.UNDOCUMENTED for r in results for n in r.notes)
        verdict = "passes" if not failing else "FAILS"
        wrongly_failed += bool(failing)
        lines.append(
            f"{variant.name:<44} {'(correct, different)':<31} {verdict:<9} "
            + (", ".join(failing[:3]) if failing else f"{drift} drift warnings")
        )
    lines.append(f"kill ratio: {killed}/{len(BROKEN)} broken variants caught ({100 * killed // len(BROKEN)}%)")
    lines.append(f"false positives: {wrongly_failed}/{len(CORRECT)} correct variants failed")
    return lines, killed, len(BROKEN), wrongly_failed


if __name__ == "__main__":
    report, caught, total, false_positives = table()
    print("\n".join(report))
    sys.exit(0 if caught == total and not false_positives else 1)
