"""The reference mock's rules as a value: the documented lifetime bounds, PIN lengths and checks, the
policy's bounds and defaults and updatePin's verbs, each citing the page it comes from. The mock
enforces :data:`DOCUMENTED_RULES` unless its options pass other :class:`Rules` (a variant of the
mock that breaks one).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any

PinChecker = Callable[[Any, int, int], str | None]  # (code, min_length, max_length) -> why it is refused

# PIN complexity, entra-docs/concept-authentication-qr-code.md:52: a PIN contains neither full run, and repeats
# no sequence of 2-3 digits. The page's examples of a repeat are six digits each (a pair three times in a row, a
# triple twice in a row); the mock reads "repeat" as exactly that shape, anywhere in the PIN. So a whole PIN
# that is one 1-3 digit unit repeated (8+ digits) is always refused, while 12345678 (no full run) and 58121274
# (a pair only twice) are accepted. DECISIONS.md 23.
FULL_RUNS = ("0123456789", "9876543210")
REPEATED_SEQUENCE = re.compile(r"(\d\d)\1\1|(\d\d\d)\2")


def pin_problem(code: Any, min_length: int, max_length: int) -> str | None:
    """Why a PIN is refused, or None: digits only, ``min_length``-``max_length`` long, and neither of the
    page's patterns (:data:`FULL_RUNS`, :data:`REPEATED_SEQUENCE`)."""
    if not isinstance(code, str) or not code.isdigit() or not code.isascii():
        return "PIN needs to be digit only"
    if len(code) < min_length:
        return f"PIN needs to be at least {min_length} digits long"
    if len(code) > max_length:
        return f"PIN can be at most {max_length} digits long"
    if any(run in code for run in FULL_RUNS):
        return "PIN can't contain 0123456789 or 9876543210"
    if REPEATED_SEQUENCE.search(code):
        return "PIN can't repeat a sequence of 2-3 digits"
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
    # "between 8-20 digits": v1.0/resources/qrpin.md:20; the shortest is the policy's pinLength ("the new value
    # becomes the minimum number of digits required": entra-docs/how-to-authentication-qr-code.md:57)
    pin_max: int = 20
    # digits only, the length, no full runs or repeats: entra-docs/concept-authentication-qr-code.md:49-52
    pin_checker: PinChecker = pin_problem
    # the policy's pinLength, "The minimum is 8 digits and maximum is 20 digits":
    # v1.0/api/qrcodepinauthenticationmethodconfiguration-update.md:50
    policy_pin_length: tuple[int, int] = (8, 20)
    # the policy's standardQRCodeLifetimeInDays, "The minimum is 1 day and maximum is 395 days": same page :51
    policy_lifetime_days: tuple[int, int] = (1, 395)
    # "disabled by default": entra-docs/concept-authentication-qr-code.md:67; 365 days:
    # v1.0/resources/qrcodepinauthenticationmethodconfiguration.md:35; "By default, the PIN length is 8 digits":
    # entra-docs/how-to-authentication-qr-code.md:57
    policy_defaults: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType(
            {"state": "disabled", "standardQRCodeLifetimeInDays": 365, "pinLength": 8}
        )
    )
    # updatePin: the pages write PATCH (v1.0/api/qrpin-updatepin.md:38,47), the metadata makes it an action,
    # which is POSTed (graph-metadata/beta.xml:242); the mock takes either (DECISIONS.md 10)
    update_pin_verbs: tuple[str, ...] = ("POST", "PATCH")

    def lifetime(self, kind: str) -> tuple[timedelta, timedelta]:
        """The shortest and the longest lifetime of a ``standardQRCode`` or ``temporaryQRCode``."""
        if kind == "standardQRCode":
            return self.standard_min, self.standard_max
        return self.temporary_min, self.temporary_max

    def pin_refusal(self, code: Any, min_length: int) -> str | None:
        """Why :attr:`pin_checker` refuses ``code`` for a policy of ``min_length`` digits, or None."""
        return self.pin_checker(code, min_length, self.pin_max)


DOCUMENTED_RULES = Rules()


def new_pin(length: int, avoid: str | None = None) -> str:
    """A random PIN of ``length`` digits that the documented rules accept, other than ``avoid``.

    The server makes it, so the documented checker decides, whatever other rules a variant enforces
    on the PINs it is given.
    """
    while True:
        code = "".join(secrets.choice("0123456789") for _ in range(length))
        if code != avoid and pin_problem(code, length, length) is None:
            return code


def span_text(span: timedelta) -> str:
    """``395 days``, ``1 day``, ``12 hours``: a lifetime bound as the error messages say it."""
    count, unit = (
        (span.days, "day") if span % timedelta(days=1) == timedelta(0) else (span // timedelta(hours=1), "hour")
    )
    return f"{count} {unit}{'' if count == 1 else 's'}"
