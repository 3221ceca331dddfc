"""The reference mock's state and how it applies the rules, with no web framework in sight.

One QR code + PIN method per user, one active standard and one active temporary QR code, lifetime
limits, PIN rules, images and PINs returned once. Every rule raises :class:`GraphError` with the
documented code; where the pages disagree, ``DECISIONS.md`` beside this file says what was chosen.
The documented facts (lifetime bounds, PIN lengths and checks, the policy's defaults) are the
:class:`~conformance.mock.rules.Rules` the :class:`Store` is given.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from conformance.mock import images
from conformance.mock.rules import DOCUMENTED_RULES, Rules, new_pin, span_text
from conformance.times import read_time
from conformance.versions import Version

NEVER = "0001-01-01T00:00:00Z"  # how Graph shows "never used" (every example of the pages)
KIND_ATTRIBUTES = {"standardQRCode": "standard", "temporaryQRCode": "temporary"}
MAX_JSON_DEPTH = 64  # arrays and objects nested deeper than this are refused before parsing
_JSON_MARK = re.compile(r'[\[\]{}"]')  # what the depth scan stops at outside strings
_STRING_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # the rest of a string after its quote


class GraphError(Exception):
    """An answer in Graph's error envelope."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects in ``text`` nest deeper than ``limit`` (brackets in strings do not count).

    A linear scan without recursion, so it is safe on any input; ``text`` need not be valid JSON.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, position = 0, 0
    while (mark := _JSON_MARK.search(text, position)) is not None:
        char, position = mark.group(), mark.end()
        if char == '"':
            rest = _STRING_REST.match(text, position)
            if rest is None:  # an unterminated string: nothing after it counts
                return False
            position = rest.end()
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth = max(depth - 1, 0)  # a stray closer ends the document for a parser, never deepens it
    return False


def parse_json(raw: bytes) -> Any:
    """A request body as JSON (``{}`` when empty); ``400 BadRequest`` when it cannot be read or nests too deep."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload: it is not UTF-8.") from None
    if not text.strip():
        return {}
    if json_too_deep(text):
        raise GraphError(
            400, "BadRequest", f"Unable to read JSON request payload: it nests deeper than {MAX_JSON_DEPTH} levels."
        )
    try:
        return json.loads(text)
    except ValueError:
        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from None


def parse_time(value: Any, name: str) -> datetime:
    """An RFC 3339 date-time with an offset (``Z``, ``+00:00``, up to 7 fraction digits)."""
    if not isinstance(value, str):
        raise GraphError(400, "invalidRequest", f"{name} must be a date-time string")
    moment = read_time(value.strip().replace("z", "Z"))
    if moment is None or moment.tzinfo is None:
        raise GraphError(400, "invalidRequest", f"{name} is not an RFC 3339 date-time with an offset: {value!r}")
    return moment.astimezone(UTC)


def graph_time(moment: datetime | None, precise: bool = False) -> str | None:
    """Graph's form: ``Z``; server-made times carry 7 fraction digits, as in the docs' examples."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    if precise or moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class QrCode:
    """One QR code of a method: its lifetime and when it was made and last used."""

    id: str
    start: datetime
    expire: datetime
    created: datetime
    last_used: datetime | None = None

    def active(self, now: datetime) -> bool:
        """Whether the code has not expired at ``now``."""
        return self.expire > now

    def body(self, image: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``qrCode`` as Graph shows it, with ``image`` (only a creation passes one)."""
        return {
            "@odata.type": "#microsoft.graph.qrCode",
            "id": self.id,
            "startDateTime": graph_time(self.start),
            "expireDateTime": graph_time(self.expire),
            "createdDateTime": graph_time(self.created, precise=True),
            "lastUsedDateTime": graph_time(self.last_used) or NEVER,
            "image": image,
        }


@dataclass
class Pin:
    """A method's PIN and whether the user must change it at the next sign-in."""

    id: str
    code: str
    created: datetime
    updated: datetime
    force_change: bool = True

    def body(self, reveal: bool, version: Version) -> dict[str, Any]:
        """The ``qrPin`` as ``version`` shows it; the code only when ``reveal`` (a creation or reset)."""
        identity = {"id": self.id} if version == Version.V1 else {}  # beta's qrPin has no id (its pages)
        return {
            "@odata.type": "#microsoft.graph.qrPin",
            **identity,
            "code": self.code if reveal else None,
            "forceChangePinNextSignIn": self.force_change,
            "createdDateTime": graph_time(self.created, precise=True),
            "updatedDateTime": graph_time(self.updated, precise=True),
        }


@dataclass
class Method:
    """A user's QR code + PIN method: its PIN and at most one standard and one temporary code."""

    id: str
    created: datetime
    pin: Pin
    standard: QrCode | None = None
    temporary: QrCode | None = None

    def body(
        self, version: Version, standard_image: dict[str, Any] | None = None, reveal_pin: bool = False
    ) -> dict[str, Any]:
        """The method as ``version`` shows it; the standard code's image and the PIN only when given or revealed."""
        # v1.0 documents createdDateTime on the method, beta lastUsedDateTime (each version's pages)
        dates = (
            {"createdDateTime": graph_time(self.created, precise=True)}
            if version == Version.V1
            else {"lastUsedDateTime": None}
        )
        return {
            "@odata.type": "#microsoft.graph.qrCodePinAuthenticationMethod",
            "id": self.id,
            **dates,
            "standardQRCode": self.standard.body(standard_image) if self.standard else None,
            "temporaryQRCode": self.temporary.body() if self.temporary else None,
            "pin": self.pin.body(reveal_pin, version),
        }


@dataclass
class Store:
    """All users' methods and the tenant's policy under ``rules``; every change holds the lock."""

    rules: Rules = DOCUMENTED_RULES
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    methods: dict[str, Method] = field(default_factory=dict)
    policy: dict[str, Any] = field(init=False)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.policy = dict(self.rules.policy_defaults)

    # --- the method -------------------------------------------------------------------------

    def get_method(self, user: str) -> Method:
        """The user's method; ``404 itemNotFound`` when there is none."""
        method = self.methods.get(user)
        if method is None:
            raise GraphError(404, "itemNotFound", "The user has no QR code PIN authentication method.")
        return method

    def create_method(self, user: str, upn: str, body: Any) -> tuple[Method, dict[str, Any]]:
        """A new method from a PUT body (its standard code, a given or generated PIN) and the code's image."""
        if not isinstance(body, dict):
            raise GraphError(400, "invalidRequest", "The request body must be a JSON object.")
        with self.lock:
            if user in self.methods:
                raise GraphError(
                    400, "tooManyQRCodePinMethod", "There can be only one active QR code auth method for a user."
                )
            if body.get("temporaryQRCode") is not None or not isinstance(body.get("standardQRCode"), dict):
                raise GraphError(
                    400, "standardQRCodeRequired", "Standard QR code is required for adding new QR code auth method."
                )
            now = self.clock()
            start, expire = self._lifetime("standardQRCode", body["standardQRCode"], None)
            pin_body: dict[str, Any] = body["pin"] if isinstance(body.get("pin"), dict) else {}
            length = self._pin_length()
            if pin_body.get("code") is not None:
                problem = self.rules.pin_refusal(pin_body["code"], length)
                if problem:
                    raise GraphError(400, "pinTooShort", f"{problem}; it needs at least {length} digits.")
                code = str(pin_body["code"])
            else:
                code = new_pin(length)
            method = Method(str(uuid.uuid4()), now, Pin(str(uuid.uuid4()), code, now, now))
            method.standard = QrCode(str(uuid.uuid4()), start, expire, now)
            self.methods[user] = method
            return method, images.image_for(upn, method.standard.id)

    def delete_method(self, user: str) -> None:
        """Remove the user's method; ``404`` when there is none."""
        with self.lock:
            self.get_method(user)
            del self.methods[user]

    # --- QR codes ---------------------------------------------------------------------------

    def get_code(self, user: str, kind: str) -> QrCode:
        """The method's ``standardQRCode`` or ``temporaryQRCode``; ``404`` when it has none."""
        code = getattr(self.get_method(user), KIND_ATTRIBUTES[kind])
        if code is None:
            raise GraphError(404, "itemNotFound", f"The method has no {kind} QR code.")
        return code  # type: ignore[no-any-return]

    def _lifetime(self, kind: str, body: dict[str, Any], current: QrCode | None) -> tuple[datetime, datetime]:
        """The start and expiry a body gives a new code (or ``current``, whose start stays), within the rules."""
        if current is None and ("startDateTime" not in body or "expireDateTime" not in body):
            raise GraphError(400, "invalidRequest", "startDateTime and expireDateTime are required.")
        start = current.start if current else parse_time(body["startDateTime"], "startDateTime")
        expire = parse_time(body["expireDateTime"], "expireDateTime")
        shortest, longest = self.rules.lifetime(kind)
        if expire - start > longest:
            raise GraphError(
                400,
                "qrCodeLifeTimeExceedLimit",
                f"{kind[0].upper()}{kind[1:]} lifetime exceeds the limit i.e. maximum {span_text(longest)}.",
            )
        if expire - start < shortest:
            raise GraphError(
                400, "invalidRequest", f"A {KIND_ATTRIBUTES[kind]} QR code lives at least {span_text(shortest)}."
            )
        return start, expire

    def patch_code(self, user: str, upn: str, kind: str, body: Any) -> tuple[QrCode, dict[str, Any] | None, bool]:
        """Create (True) or update (False) a QR code; the image comes only with a creation."""
        if not isinstance(body, dict):
            raise GraphError(400, "invalidRequest", "The request body must be a JSON object.")
        with self.lock:
            method = self.get_method(user)
            now = self.clock()
            current: QrCode | None = getattr(method, KIND_ATTRIBUTES[kind])
            if current is not None and current.active(now):
                if kind == "temporaryQRCode" or "startDateTime" in body or "expireDateTime" not in body:
                    raise GraphError(400, "ActiveQRCodeExisted", f"An active {kind} exists for QR code auth method.")
                current.start, current.expire = self._lifetime(kind, body, current)
                return current, None, False
            start, expire = self._lifetime(kind, body, None)
            code = QrCode(str(uuid.uuid4()), start, expire, now)
            setattr(method, KIND_ATTRIBUTES[kind], code)
            return code, images.image_for(upn, code.id), True

    def delete_code(self, user: str, kind: str) -> None:
        """Remove the method's code of ``kind``; ``404`` when it has none."""
        with self.lock:
            self.get_code(user, kind)
            setattr(self.get_method(user), KIND_ATTRIBUTES[kind], None)

    # --- the PIN ----------------------------------------------------------------------------

    def _pin_length(self) -> int:
        return int(self.policy["pinLength"])

    def reset_pin(self, user: str) -> Pin:
        """A new generated PIN of the policy's length, other than the one it replaces, to be changed at the next
        sign-in (a reset makes a new temporary PIN: v1.0/api/qrpin-update.md:15, generated: the same page :64)."""
        with self.lock:
            method = self.get_method(user)
            now = self.clock()
            code = new_pin(self._pin_length(), avoid=method.pin.code)
            method.pin = Pin(method.pin.id, code, method.pin.created, now, True)
            return method.pin

    def update_pin(self, user: str, body: Any) -> None:
        """The user's own change: ``currentPin`` must match and ``newPin`` pass the rules; no change forced."""
        if not isinstance(body, dict) or not isinstance(body.get("currentPin"), str) or "newPin" not in body:
            raise GraphError(400, "invalidRequest", "currentPin and newPin are required.")
        with self.lock:
            method = self.get_method(user)
            if not secrets.compare_digest(body["currentPin"].encode(), method.pin.code.encode()):
                raise GraphError(400, "invalidRequest", "currentPin does not match.")
            problem = self.rules.pin_refusal(body["newPin"], self._pin_length())
            if problem:
                raise GraphError(400, "pinTooShort", problem)
            method.pin = Pin(method.pin.id, str(body["newPin"]), method.pin.created, self.clock(), False)

    # --- the policy -------------------------------------------------------------------------

    def update_policy(self, body: Any, require_odata_type: bool) -> None:
        """Apply a policy PATCH (``pinLength``, ``standardQRCodeLifetimeInDays``, ``state``), all or nothing.

        A value outside the rules' policy bounds is ``400 invalidRequest``
        (v1.0/api/qrcodepinauthenticationmethodconfiguration-update.md:50-52).
        """
        if not isinstance(body, dict):
            raise GraphError(400, "invalidRequest", "The request body must be a JSON object.")
        if (
            require_odata_type
            and body.get("@odata.type") != "#microsoft.graph.qrCodePinAuthenticationMethodConfiguration"
        ):
            raise GraphError(
                400,
                "invalidRequest",
                "@odata.type #microsoft.graph.qrCodePinAuthenticationMethodConfiguration is required.",
            )
        rules = self.rules
        changes: dict[str, Any] = {}
        for key, (low, high) in (
            ("pinLength", rules.policy_pin_length),
            ("standardQRCodeLifetimeInDays", rules.policy_lifetime_days),
        ):
            if key in body:
                value = body[key]
                if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                    raise GraphError(400, "invalidRequest", f"{key} must be an integer from {low} to {high}.")
                changes[key] = value
        if "state" in body:
            if body["state"] not in ("enabled", "disabled"):
                raise GraphError(400, "invalidRequest", "state must be enabled or disabled.")
            changes["state"] = body["state"]
        with self.lock:
            self.policy.update(changes)

    def reset_policy(self) -> None:
        """The policy back to the rules' defaults (DELETE: "restore the default configuration")."""
        with self.lock:
            self.policy = dict(self.rules.policy_defaults)
