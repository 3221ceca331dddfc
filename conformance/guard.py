"""The live-tenant guard: what a scenario writes, and what must hold before and after it runs.

A scenario's writes are read from its requests (PUT, PATCH, POST and DELETE, in every phase):
to the target user (``/users/{user}/...``), to the token's owner (``/me/...``), or to the
tenant-wide policy (``/policies/...``). A write anywhere else is one the guard cannot vouch for.
:meth:`conformance.config.Settings.write_refusal` decides from that whether the case may run at all.

Around a case that may run, :class:`CaseGuard`:

- on a guarded (live) target, refuses to touch a user who already has a QR code + PIN method
  unless ``--allow-replace`` is given (nothing could bring its PIN back);
- reads the policy before a case that changes it and, however the case ends, writes it back and
  reads it again to prove it is exactly what it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.scenarios import WRITE_METHODS, Scenario

if TYPE_CHECKING:
    import httpx

    from conformance.config import Settings

POLICY_PATH = "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/qrCodePin"
POLICY_TYPE = "#microsoft.graph.qrCodePinAuthenticationMethodConfiguration"
METHOD_SUFFIX = "/authentication/qrCodePinMethod"
_USER_ROOT = "/users/{user}"


@dataclass(frozen=True)
class WriteScope:
    """Whom and what a scenario's requests change."""

    user: bool = False  # the target user's method (/users/{user}/...)
    me: bool = False  # the token owner's method (/me/...)
    policy: bool = False  # the tenant-wide policy
    unknown: tuple[str, ...] = ()  # write paths the guard cannot attribute

    @property
    def method_roots(self) -> tuple[str, ...]:
        """The method paths (templates) of the users whose method the scenario changes."""
        return tuple(root + METHOD_SUFFIX for root, used in ((_USER_ROOT, self.user), ("/me", self.me)) if used)


def write_scope(scenario: Scenario) -> WriteScope:
    """What the scenario's writing requests change, read from their paths."""
    user = me = policy = False
    unknown: list[str] = []
    for step in (*scenario.given, *scenario.steps, *scenario.cleanup):
        if not step.request.writes:  # a list of verbs writes when any of them does
            continue
        segments = step.request.path.strip("/").split("/")
        head = segments[0].lower()
        if head == "me":
            me = True
        elif head == "users" and len(segments) > 1 and segments[1] == "{user}":
            user = True
        elif head == "policies":
            policy = True
        else:
            unknown.append(step.request.path)
    return WriteScope(user, me, policy, tuple(unknown))


def refusal(settings: Settings, scenario: Scenario) -> str | None:
    """Why a scenario must not run against this target with these settings, or None."""
    if not scenario.writes:
        return None
    scope = write_scope(scenario)
    if scope.unknown and (settings.guarded or settings.read_only):
        return f"it writes to {scope.unknown[0]}, which is neither the allow-listed user, /me nor the policy"
    return settings.write_refusal(user=scope.user, me=scope.me, policy=scope.policy)


_POLICY_LOWER = POLICY_PATH.lower()
_AMBIGUOUS = ("%", "\\", "/./", "/../")


def send_check(settings: Settings) -> Callable[[str, str], str | None] | None:
    """For a live target: a last check of every write as it is about to be sent, on the path httpx sends.

    The scenario's paths were checked before the case ran; this catches what templates, captured
    values or dot segments make of them. None when nothing is guarded (a loopback target)."""
    if not settings.guarded:
        return None
    import httpx

    user = settings.user.lower()
    prefix = httpx.URL(settings.base_url or "").path.rstrip("/").lower()
    may_user = settings.allow_writes and settings.user in settings.allowed_users and not settings.read_only
    may_me = settings.allow_writes and "me" in settings.allowed_users and not settings.read_only
    may_policy = settings.allow_writes and settings.allow_policy_writes and not settings.read_only

    def check(method: str, url: str) -> str | None:
        """Why ``method url`` must not be sent, or None (reads are always allowed)."""
        if method not in WRITE_METHODS:
            return None
        raw = url.split("?", 1)[0]
        if any(mark in raw for mark in _AMBIGUOUS) or raw.endswith(("/.", "/..")):
            return "a write path with dot segments or escapes is never sent to a live target"
        path = httpx.URL(url).path.lower()
        if not path.startswith(prefix + "/"):
            return "the write is not under the target's service root"
        rest = "/" + path[len(prefix) + 1 :].partition("/")[2]  # without the version segment
        if may_user and rest.startswith(f"/users/{user}/authentication/qrcodepinmethod"):
            return None
        if may_me and rest.startswith("/me/authentication/qrcodepinmethod"):
            return None
        if may_policy and rest == _POLICY_LOWER:
            return None
        return "the flags given allow no write there"

    return check


class CaseGuard:
    """The checks and the restore around one case (see the module docstring)."""

    def __init__(
        self, client: httpx.Client, settings: Settings, scenario: Scenario, version: str, health: Any = None
    ) -> None:
        self.client = client
        self.health = health  # the run's transport.TargetHealth: the guard's own requests count too
        self.settings = settings
        self.scope = write_scope(scenario) if scenario.writes else WriteScope()
        self.root = f"{(settings.base_url or '').rstrip('/')}/{version}"
        self.policy: dict[str, Any] | None = None  # as read before the case, when it changes the policy
        self.absent_before: list[str] = []  # method paths of users who had no method before the case

    def before(self) -> str | None:
        """Why the case must be skipped after all (a pre-existing method, an unreadable policy), or None."""
        import httpx

        if self.settings.guarded:
            for template in self.scope.method_roots:
                path = template.replace("{user}", self.settings.user)
                who = _who(template, self.settings.user)
                try:
                    status = self.client.get(self.root + path).status_code
                except httpx.HTTPError as exc:
                    self._failed(exc)
                    return f"could not tell whether {who} has a method ({type(exc).__name__}); nothing was written"
                self._answered()
                if status == 404:
                    self.absent_before.append(path)
                elif status == 200 and not self.settings.allow_replace:
                    return (
                        f"{who} already has a QR code + PIN method; the suite never deletes one unless "
                        f"{self.settings.flag('allow_replace')} is given (its PIN and codes could not be restored)"
                    )
                elif status != 200:
                    return f"could not tell whether {who} has a method (GET answered {status}); nothing was written"
        if self.scope.policy:
            snapshot = self._read_policy()
            if isinstance(snapshot, str) and self.settings.guarded:
                return f"could not read the policy before changing it ({snapshot}); nothing was written"
            self.policy = snapshot if isinstance(snapshot, dict) else None
        return None

    def after(self) -> str | None:
        """Undo what the case left behind on a live target, and restore the policy; what went wrong, or None."""
        problems = [p for p in (*map(self._no_method_left, self.absent_before), self._restore_policy()) if p]
        return "; ".join(problems) or None

    def _no_method_left(self, path: str) -> str | None:
        """A user who had no method before the case has none after it (its cleanup may have missed one)."""
        import httpx

        who = _who(path, self.settings.user)
        try:
            if self.client.get(self.root + path).status_code == 404:
                return None
            status = self.client.delete(self.root + path).status_code
        except httpx.HTTPError as exc:
            return f"could not check that the case left no method on {who} ({type(exc).__name__})"
        if status == 204:
            return f"the case left a method on {who}, who had none before; it was deleted"
        return f"the case left a method on {who}, who had none before, and deleting it answered {status}"

    def _restore_policy(self) -> str | None:
        """Write the policy back as it was read and prove it; a message when that failed, else None."""
        import httpx

        if self.policy is None:
            return None
        body = {"@odata.type": POLICY_TYPE, **_settable(self.policy)}
        try:
            answer = self.client.patch(self.root + POLICY_PATH, json=body)
        except httpx.HTTPError as exc:
            return f"the policy could not be restored ({type(exc).__name__}); it was {_show(self.policy)}"
        if not 200 <= answer.status_code < 300:
            status = answer.status_code
            return f"the policy could not be restored (PATCH answered {status}); it was {_show(self.policy)}"
        now = self._read_policy()
        if not isinstance(now, dict) or _comparable(now) != _comparable(self.policy):
            shown = now if isinstance(now, str) else _show(now)
            return f"the policy was not restored: it was {_show(self.policy)}, it is now {shown}"
        return None

    def _failed(self, exc: Exception) -> None:
        if self.health is not None:
            self.health.failure(f"{type(exc).__name__} (the guard's own request)")

    def _answered(self) -> None:
        if self.health is not None:
            self.health.answered()

    def _read_policy(self) -> dict[str, Any] | str:
        import httpx

        try:
            answer = self.client.get(self.root + POLICY_PATH)
        except httpx.HTTPError as exc:
            self._failed(exc)
            return type(exc).__name__
        self._answered()
        if answer.status_code != 200:
            return f"GET answered {answer.status_code}"
        try:
            body = answer.json()
        except ValueError:
            return "GET answered no JSON"
        return body if isinstance(body, dict) else "GET answered no JSON object"


def _who(path: str, user: str) -> str:
    return "the token's owner (/me)" if path.startswith("/me") else f"user {user!r}"


def _settable(policy: dict[str, Any]) -> dict[str, Any]:
    """The members of a policy as read that a PATCH can set: no key, no annotations."""
    return {k: v for k, v in policy.items() if k != "id" and "@" not in k}


def _comparable(policy: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in policy.items() if not k.startswith("@odata.context")}


def _show(policy: dict[str, Any]) -> str:
    import json

    return json.dumps(_settable(policy), sort_keys=True)[:300]
