"""Run one scenario for one API version on an injected ``httpx.Client``.

Every request carries a fresh ``client-request-id``; the server's ``request-id`` is kept for the
failure message. A 429 or 503 with ``Retry-After`` (seconds, fractional seconds such as ``2.128``,
or an HTTP-date) is retried after that delay while the case's retry budget lasts, then reported.
Cleanup steps always run, even when a step failed or the run was interrupted.
"""

from __future__ import annotations

import email.utils
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from conformance import jsonpath, scrub
from conformance.checks import NOT_JSON, Response, Violation, Warning, check_step
from conformance.errors import ConformanceError
from conformance.recording import CLOCK_HEADER
from conformance.scenarios import Context, Scenario, Step, render
from conformance.schemas import SchemaSet

RETRY_STATUSES = frozenset({429, 503})
PINNED_FILE = "conformance/pinned.yaml"


class TargetError(ConformanceError):
    """The target could not be reached, or answered in a way no check can read."""


class SetupError(ConformanceError):
    """A ``given`` step did not answer as expected: the case could not be set up."""


@dataclass
class Exchange:
    step: str
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: Any
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_text: str = ""
    attempts: int = 1

    @property
    def request_id(self) -> str | None:
        return self.response_headers.get("request-id")

    def summary(self) -> str:
        """One line: what was sent and what came back, secrets scrubbed."""
        ids = []
        if self.request_id:
            ids.append(f"request-id {self.request_id}")
        ids.append(f"client-request-id {self.request_headers.get('client-request-id', '?')}")
        sent = f"{self.method} {self.url}"
        if self.request_body is not None:
            sent += f" {json.dumps(scrub.scrub_json(self.request_body), ensure_ascii=False)[:200]}"
        status = self.status if self.status is not None else "no answer"
        retried = f", after {self.attempts - 1} retries" if self.attempts > 1 else ""
        return f"{sent} -> {status} ({', '.join(ids)}{retried})"


@dataclass
class CaseResult:
    scenario: Scenario
    version: str
    exchanges: list[Exchange] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    choices: list[dict[str, Any]] = field(default_factory=list)  # which documented alternative was answered
    error: str | None = None

    @property
    def case_id(self) -> str:
        return f"{self.scenario.id}[{self.version}]"

    @property
    def outcome(self) -> str:
        if self.error:
            return "error"
        return "failed" if self.violations else "passed"

    def report(self) -> str:
        """The failure message: each failing step, what was sent and came back, every violation."""
        lines = [f"{self.case_id} — {self.scenario.title} ({self.scenario.location})"]
        if self.error:
            lines.append(f"  error: {self.error}")
        by_step: dict[str, list[Violation | Warning]] = {}
        items: list[Violation | Warning] = [*self.violations, *self.warnings]
        for item in items:
            by_step.setdefault(item.step, []).append(item)
        for exchange in self.exchanges:
            items = by_step.pop(exchange.step, [])
            if not any(isinstance(i, Violation) for i in items) and not items:
                continue
            lines.append(f'  step "{exchange.step}"')
            lines.append(f"    {exchange.summary()}")
            lines.extend(f"    {item.render()}".replace("\n", "\n    ") for item in items)
        for step, items in by_step.items():
            lines.append(f'  step "{step}"')
            lines.extend(f"    {item.render()}".replace("\n", "\n    ") for item in items)
        return "\n".join(lines)


def retry_delay(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait for a ``Retry-After`` value, or None when it cannot be read."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())
    return seconds if seconds >= 0 else None


class Runner:
    """Sends a scenario's requests and checks the answers."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        base_url: str,
        user: str,
        schemas: SchemaSet,
        retry_budget: float = 30.0,
        max_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        send_clock: bool = False,
        pins: list[dict[str, Any]] | None = None,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.user = user
        self.schemas = schemas
        self.retry_budget = retry_budget
        self.max_retries = max_retries
        self.sleep = sleep
        self.send_clock = send_clock  # with cassettes: the clock travels with the requests
        self.pins = pins or []  # documented alternatives the maintainers forbid (pinned.yaml)

    def run(self, scenario: Scenario, version: str, now: datetime) -> CaseResult:
        result = CaseResult(scenario, version)
        context = Context(self.user, version, now, {})
        budget = [self.retry_budget]
        try:
            for step in scenario.given:
                problems = self._step(step, context, result, budget)
                if any(isinstance(p, Violation) for p in problems):
                    raise SetupError(
                        f'setup step "{step.name}" failed: '
                        + "; ".join(p.render() for p in problems if isinstance(p, Violation))
                    )
            for step in scenario.steps:
                self._step(step, context, result, budget)
        except (TargetError, SetupError) as exc:
            result.error = str(exc)
        finally:
            for step in scenario.cleanup:
                try:
                    self._step(step, context, result, budget)
                except TargetError as exc:
                    result.error = result.error or f"cleanup: {exc}"
        return result

    def _step(self, step: Step, context: Context, result: CaseResult, budget: list[float]) -> list[Violation | Warning]:
        try:
            path = render(step.request.path, context)
            headers = {k: str(v) for k, v in render(step.request.headers, context).items()}
            body = render(step.request.json, context) if step.request.has_json else None
        except KeyError as exc:
            missing = Violation(step.name, "request", f"a value for {{{exc.args[0]}}}", "nothing captured", None)
            result.violations.append(missing)
            return [missing]
        if self.send_clock:
            headers.setdefault(CLOCK_HEADER, context.now.strftime("%Y-%m-%dT%H:%M:%SZ"))
        exchange, response = self._send(step, path, headers, body, budget, result)
        result.exchanges.append(exchange)
        problems = list(check_step(step, response, context, self.schemas, result.scenario.docs))
        problems.extend(self._alternatives(step, response.status, result))
        if exchange.attempts > 1 and response.status in RETRY_STATUSES:
            problems.append(
                Violation(
                    step.name,
                    "status",
                    f"an answer within the retry budget ({self.retry_budget:g}s)",
                    f"{response.status} after {exchange.attempts - 1} retries",
                    None,
                )
            )
        for name, capture_path in step.capture.items():
            value = jsonpath.find(response.body, capture_path) if response.body is not NOT_JSON else jsonpath.MISSING
            if value is jsonpath.MISSING:
                problems.append(
                    Violation(step.name, capture_path, f"a value to capture as '{name}'", "nothing (absent)", None)
                )
            else:
                context.variables[name] = value
        for problem in problems:
            if isinstance(problem, Violation):
                result.violations.append(problem)
            else:
                result.warnings.append(problem)
        return problems

    def _alternatives(self, step: Step, status: int, result: CaseResult) -> list[Violation]:
        """Record which documented alternative the target chose; refuse a pinned one."""
        accepted = step.expect.get("status")
        if not isinstance(accepted, list) or status not in accepted or sum(200 <= s < 300 for s in accepted) < 2:
            return []
        result.choices.append({"step": step.name, "accepted": accepted, "chosen": status})
        for pin in self.pins:
            if pin["scenario"] == result.scenario.id and pin["step"] == step.name and status in pin["forbid"]:
                allowed = " or ".join(str(s) for s in accepted if s not in pin["forbid"])
                return [
                    Violation(step.name, "status", f"{allowed} (pinned: {pin['reason']})", str(status), PINNED_FILE)
                ]
        return []

    def _send(
        self, step: Step, path: str, headers: dict[str, str], body: Any, budget: list[float], result: CaseResult
    ) -> tuple[Exchange, Response]:
        url = f"{self.base_url}/{result.version}{path}"
        sent = {"client-request-id": str(uuid.uuid4()), **headers}
        exchange = Exchange(step.name, step.request.method, url, scrub.scrub_headers(sent), body)
        attempts = 0
        while True:
            attempts += 1
            try:
                extra: dict[str, Any] = {} if step.request.auth else {"auth": None}
                reply = self.client.request(
                    step.request.method, url, headers=sent, json=body if step.request.has_json else None, **extra
                )
            except httpx.HTTPError as exc:
                exchange.attempts = attempts
                raise TargetError(f"{type(exc).__name__}: {exc} — while sending {exchange.summary()}") from None
            delay = retry_delay(reply.headers.get("Retry-After"))
            if reply.status_code not in RETRY_STATUSES or attempts > self.max_retries:
                break
            if delay is None:
                result.violations.append(
                    Violation(
                        step.name,
                        "Retry-After",
                        f"a Retry-After header on {reply.status_code}",
                        repr(reply.headers.get("Retry-After")) if "Retry-After" in reply.headers else "none",
                        None,
                    )
                )
                delay = float(2 ** (attempts - 1))
            if delay > budget[0]:
                break
            budget[0] -= delay
            self.sleep(delay)
        exchange.attempts = attempts
        exchange.status = reply.status_code
        exchange.response_headers = {k.lower(): v for k, v in reply.headers.items()}
        exchange.response_text = scrub.scrub_text(reply.text)
        return exchange, _response(reply)


def _response(reply: httpx.Response) -> Response:
    text = reply.text
    if not text.strip():
        body: Any = None
    else:
        try:
            body = reply.json()
        except ValueError:
            body = NOT_JSON
    return Response(reply.status_code, reply.headers.get("content-type", ""), body, text)
