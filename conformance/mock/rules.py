"""The reference mock's rules as a value: the documented lifetime bounds, PIN lengths and checks, and
the policy's defaults, each citing the page it comes from. The mock enforces :data:`DOCUMENTED_RULES`
unless its options pass other :class:`Rules` (a variant of the mock that breaks one).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any

PinChecker = Callable[[Any, int, int], str | None]  # (code, min_length, max_length) -> why it is refused


def pin_problem(code: Any, min_length: int, max_length: int) -> str | None:
    """Why a PIN is refused, or None. Digits only, ``min_length``-``max_length`` long, and not trivial."""
    if not isinstance(code, str) or not code.isdigit() or not code.isascii():
        return "PIN needs to be digit only"
    if len(code) < min_length:
        return f"PIN needs to be at least {min_length} digits long"
    if len(code) > max_length:
        return f"PIN can be at most {max_length} digits long"
    if code in "01234567890123456789" or code in "98765432109876543210":
        return "PIN can't be a run of consecutive digits"
    for size in (1, 2, 3):
        unit = code[:size]
        if len(code) % size == 0 and unit * (len(code) // size) == code:
            return "PIN can't repeat a sequence of 1-3 digits"
    return None


@dataclass(frozen=True)
class Rules:
    """What the mock enforces; the defaults are the documented rules (pages under ``../shared/graph-docs/``
    unless they say ``entra-docs/``)."""

    # "1-395 days": v1.0/drafts/qrcodepinauthenticationmethod-update-standardqrcode.md:49, v1.0/resources/qrcode.md:39
    standard_min: timedelta = timedelta(days=1)
    standard_max: timedelta = timedelta(days=395)
    # "between 1-12 hours": v1.0/resources/qrcode.md:39
    temporary_min: timedelta = timedelta(hours=1)
    temporary_max: timedelta = timedelta(hours=12)
    # "minimum is 8 digits and maximum is 20 digits": v1.0/api/qrcodepinauthenticationmethodconfiguration-update.md:50
    pin_min: int = 8
    pin_max: int = 20
    # digits only, the length, no runs or repeats: entra-docs/concept-authentication-qr-code.md:51-52
    pin_checker: PinChecker = pin_problem
    # "disabled by default": entra-docs/concept-authentication-qr-code.md:67; 365 days:
    # v1.0/resources/qrcodepinauthenticationmethodconfiguration.md:35; "By default, the PIN length is 8 digits":
    # entra-docs/how-to-authentication-qr-code.md:57
    policy_defaults: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType(
            {"state": "disabled", "standardQRCodeLifetimeInDays": 365, "pinLength": 8}
        )
    )

    def lifetime(self, kind: str) -> tuple[timedelta, timedelta]:
        """The shortest and the longest lifetime of a ``standardQRCode`` or ``temporaryQRCode``."""
        if kind == "standardQRCode":
            return self.standard_min, self.standard_max
        return self.temporary_min, self.temporary_max

    def pin_refusal(self, code: Any, min_length: int) -> str | None:
        """Why :attr:`pin_checker` refuses ``code`` for a policy of ``min_length`` digits, or None."""
        return self.pin_checker(code, min_length, self.pin_max)


DOCUMENTED_RULES = Rules()


def new_pin(length: int, rules: Rules = DOCUMENTED_RULES) -> str:
    """A random PIN of ``length`` digits that ``rules`` accept."""
    while True:
        code = "".join(secrets.choice("0123456789") for _ in range(length))
        if rules.pin_refusal(code, length) is None:
            return code


def span_text(span: timedelta) -> str:
    """``395 days``, ``1 day``, ``12 hours``: a lifetime bound as the error messages say it."""
    count, unit = (
        (span.days, "day") if span % timedelta(days=1) == timedelta(0) else (span // timedelta(hours=1), "hour")
    )
    return f"{count} {unit}{'' if count == 1 else 's'}"
