"""Run one scenario for one API version on an injected ``httpx.Client``.

Every request carries a fresh ``client-request-id``; the server's ``request-id`` is kept for the
failure message. A 429 or 503 with ``Retry-After`` (seconds, fractional seconds such as ``2.128``,
or an HTTP-date) is retried after that delay while the case's retry budget lasts (and the run's,
:data:`conformance.transport.RUN_RETRY_FACTOR` budgets in all), then reported.
Cleanup steps always run, even when a step failed or the run was interrupted.

A step whose ``method`` lists verbs sends them in order until one is routed (an answer other than
404, 405 or 501), and records which verb the target chose; a step whose ``expect`` lists
alternatives records which one the answer matched. A case of an ``each`` binds its value after its
given steps (:mod:`conformance.scenarios.each`); on which side of the bounds it is decides between
``expect`` and ``expect_outside``, and which steps with ``when`` run.

Every exchange is bounded (:mod:`conformance.transport`): one timeout for the whole answer, a
size cap on the wire and decompressed, a JSON depth limit; an answer over a limit is a violation
of its step, not a crash. A :class:`~conformance.transport.TargetHealth` shared by the run's cases
stops the run early: once the target is unreachable or keeps throttling, nothing more is sent,
and the cases left end at once as "not run".
"""

from __future__ import annotations

import dataclasses
import email.utils
import functools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from conformance import findings, jsonpath, scrub, transport
from conformance.checks import NOT_JSON, Response, check_step, choose
from conformance.errors import NotApplicable, SetupError, TargetError, WriteRefused
from conformance.findings import Note, Violation, ViolationKind
from conformance.recording import CLOCK_HEADER
from conformance.scenarios import Context, Scenario, Step, fill
from conformance.scenarios.each import Unbound, bind
from conformance.scenarios.model import NOT_ROUTED, Expectation, alternatives
from conformance.schemas import SchemaSet

RETRY_STATUSES = frozenset({429, 503})
PINNED_FILE = "conformance/pinned.yaml"
NOT_RUN = "not-run"


@dataclass
class Exchange:
    """One request as sent and its answer's status and headers, secrets scrubbed."""
    step: str
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: Any
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    attempts: int = 1
    # as received (secrets in it), when its body was read; never shown as is
    answer: Response | None = field(default=None, repr=False, compare=False)

    @functools.cached_property
    def response_text(self) -> str:
        """The answer's text, secrets scrubbed (from the body already parsed: a JSON answer is parsed once);
        worked out only when a report or message shows it."""
        return _scrubbed_text(self.answer) if self.answer is not None else ""

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
    """What running one case produced: exchanges, typed findings, the alternatives chosen, and how it ended."""
    scenario: Scenario
    version: str
    exchanges: list[Exchange] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # drift, and values checked when recorded
    choices: list[dict[str, Any]] = field(default_factory=list)  # which documented alternative was answered
    error: str | None = None
    not_run: str | None = None  # why nothing of the case was sent, e.g. "target unreachable (...)"
    not_applicable: str | None = None  # why the target's state made the rest of the case meaningless

    @property
    def case_id(self) -> str:
        return f"{self.scenario.id}[{self.version}]"

    @property
    def outcome(self) -> str:
        """``passed``, ``failed``, ``error``, or ``not-run`` (nothing was sent: see :attr:`not_run`)."""
        if self.not_run:
            return NOT_RUN
        if self.not_applicable and not self.violations and not self.error:
            return "skipped"
        if self.error:
            return "error"
        return "failed" if self.violations else "passed"


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
        timeout: float = transport.DEFAULT_TIMEOUT,
        max_response_bytes: int = transport.DEFAULT_MAX_RESPONSE_BYTES,
        health: transport.TargetHealth | None = None,
        variables: dict[str, str] | None = None,
        may_send: Callable[[str, str], str | None] | None = None,
        stopping: Callable[[], bool] | None = None,
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
        self.timeout = timeout  # for each exchange, its whole answer included
        self.max_response_bytes = max_response_bytes  # on the wire and decompressed
        self.health = health if health is not None else transport.TargetHealth()  # shared by a run's cases
        self.may_send = may_send  # the live-tenant guard: why a request must not be sent, or None
        self.variables = dict(variables or {})  # template values the run provides, e.g. user_without_method
        self.stopping = stopping  # on a worker thread: whether the run is interrupted (then only cleanup runs)

    def run(self, scenario: Scenario, version: str, now: datetime) -> CaseResult:
        """Run one case: setup, steps, then cleanup however they ended; nothing once the target is lost."""
        result = CaseResult(scenario, version)
        stopped = self.health.stop_reason
        if stopped:
            result.not_run = stopped
            return result
        context = Context(self.user, version, now, dict(self.variables))
        budget = [self.retry_budget]
        inside: bool | None = True  # the side of the case's bounds; None while an each's value is unbound
        try:
            for step in scenario.given:
                self._stop_if_stopping()
                problems = self._step(step, context, result, budget)
                if any(isinstance(p, Violation) for p in problems):
                    failed = "; ".join(findings.text(p) for p in problems if isinstance(p, Violation))
                    raise SetupError(f'setup step "{step.name}" failed: {failed}')
            if scenario.binding is not None:
                inside = None
                try:
                    inside = bind(scenario.binding, context)
                except Unbound as exc:
                    raise SetupError(f"each: {exc}") from None
            for step in scenario.steps:
                self._stop_if_stopping()
                if _runs(step, inside):
                    self._step(step, context, result, budget, step.expectation(inside is not False))
        except NotApplicable as exc:
            result.not_applicable = str(exc)
        except (TargetError, SetupError, WriteRefused) as exc:
            result.error = str(exc)
        finally:
            self._cleanup(scenario, context, result, budget, inside)
        return result

    def _stop_if_stopping(self) -> None:
        """On a worker thread, where no signal lands: the run's interruption, between two steps."""
        if self.stopping is not None and self.stopping():
            raise KeyboardInterrupt("the run is interrupted")

    def _cleanup(
        self, scenario: Scenario, context: Context, result: CaseResult, budget: list[float], inside: bool | None
    ) -> None:
        """Every cleanup step (of this side of the bounds), unless the target is unreachable (then the case says so)."""
        for step in scenario.cleanup:
            if self.health.unreachable is not None:
                note = f"cleanup not run: {self.health.stop_reason}"
                result.error = f"{result.error}; {note}" if result.error else note
                return
            if not _runs(step, inside):
                continue
            try:
                self._step(step, context, result, budget, step.expectation(inside is not False), cleanup=True)
            except (TargetError, WriteRefused) as exc:
                result.error = f"{result.error}; cleanup: {exc}" if result.error else f"cleanup: {exc}"

    def _step(
        self,
        step: Step,
        context: Context,
        result: CaseResult,
        budget: list[float],
        expectation: Expectation | None = None,
        cleanup: bool = False,
    ) -> list[Violation | Note]:
        try:
            path = fill(step.request.path, context)
            headers = {k: str(v) for k, v in fill(step.request.headers, context).items()}
            body = scrub.protect(fill(step.request.json, context)) if step.request.has_json else None
        except KeyError as exc:
            missing = Violation(
                ViolationKind.TEMPLATE, step.name, "request", f"a value for {{{exc.args[0]}}}", "nothing captured", None
            )
            result.violations.append(missing)
            return [missing]
        if self.send_clock:
            headers.setdefault(CLOCK_HEADER, context.now.strftime("%Y-%m-%dT%H:%M:%SZ"))
        expectation = step.expect if expectation is None else expectation
        tried: list[str] = []  # "VERB status" of each verb of a list that was not routed
        for method in step.request.methods:
            exchange, answer, gave_up = self._send(step, method, path, headers, body, budget, result, cleanup)
            result.exchanges.append(exchange)
            response, unread = _response(step.name, answer, self.max_response_bytes)
            exchange.answer = response if unread is None else None
            if response.status not in NOT_ROUTED or method == step.request.methods[-1]:
                break
            tried.append(f"{method} {response.status}")
        if step.not_applicable and response.status in step.not_applicable[0] and not cleanup:
            raise NotApplicable(f"not applicable: {step.not_applicable[1]} ({step.name!r} answered {response.status})")
        routed = self._verb(step, method, response.status, tried, expectation, result)
        if routed is not None:
            result.violations.append(routed)
            return [routed]
        checked = step
        if unread is not None:  # the body was not read: only what the status line and headers say is judged
            headline = alternatives(expectation)
            expectation = tuple(e.headline() for e in headline) if len(headline) > 1 else headline[0].headline()
            checked = dataclasses.replace(step, capture={})
        elif isinstance(expectation, tuple) and not 200 <= response.status < 300:
            checked = dataclasses.replace(step, capture={})  # with alternatives, only a success is captured from
        problems = list(check_step(checked, response, context, self.schemas, result.scenario.docs, expectation))
        if unread is not None:
            problems.append(unread)
        problems.extend(self._alternatives(step, expectation, response.status, result))
        if response.status in RETRY_STATUSES and (exchange.attempts > 1 or gave_up):
            problems.append(
                Violation(
                    ViolationKind.RETRY,
                    step.name,
                    "status",
                    gave_up or f"an answer within the retry budget ({self.retry_budget:g}s)",
                    f"{response.status} after {exchange.attempts - 1} retries",
                    None,
                )
            )
        for name, capture_path in checked.capture.items():
            value = jsonpath.find(response.body, capture_path) if response.body is not NOT_JSON else jsonpath.MISSING
            if value is jsonpath.MISSING:
                problems.append(
                    Violation(
                        ViolationKind.CAPTURE,
                        step.name,
                        capture_path,
                        f"a value to capture as '{name}'",
                        "nothing (absent)",
                        None,
                    )
                )
            else:
                context.variables[name] = value
        for problem in problems:
            if isinstance(problem, Violation):
                result.violations.append(problem)
            else:
                result.notes.append(problem)
        return problems

    def _verb(
        self, step: Step, method: str, status: int, tried: list[str], expectation: Expectation, result: CaseResult
    ) -> Violation | None:
        """For a step with verb alternatives: record the verb the target routed, or the violation when none was."""
        methods = step.request.methods
        if len(methods) < 2:
            return None
        if status not in NOT_ROUTED:
            result.choices.append({"step": step.name, "accepted": list(methods), "chosen": method})
            return None
        chosen = choose(expectation, status)
        if chosen is not None and status in chosen.status:  # not routed, as the step expects (e.g. 404 for no method)
            return None
        return Violation(
            ViolationKind.STATUS,
            step.name,
            "method",
            f"one of {step.request.verbs} to work",
            ", ".join([*tried, f"{method} {status}"]),
            result.scenario.docs[0] if result.scenario.docs else None,
        )

    def _alternatives(self, step: Step, expectation: Expectation, status: int, result: CaseResult) -> list[Violation]:
        """Record which documented alternative the target chose; refuse a pinned one.

        An alternative is one of a list of expectations, or one of two or more success statuses."""
        chosen = choose(expectation, status)
        if chosen is None or status not in chosen.status:
            return []
        accepted = list(dict.fromkeys(s for alternative in alternatives(expectation) for s in alternative.status))
        if not isinstance(expectation, tuple) and sum(200 <= s < 300 for s in accepted) < 2:
            return []
        result.choices.append({"step": step.name, "accepted": accepted, "chosen": status})
        for pin in self.pins:
            if pin["scenario"] == result.scenario.id and pin["step"] == step.name and status in pin["forbid"]:
                allowed = " or ".join(str(s) for s in accepted if s not in pin["forbid"])
                return [
                    Violation(
                        ViolationKind.PINNED,
                        step.name,
                        "status",
                        f"{allowed} (pinned: {pin['reason']})",
                        str(status),
                        PINNED_FILE,
                    )
                ]
        return []

    def _send(
        self,
        step: Step,
        method: str,
        path: str,
        headers: dict[str, str],
        body: Any,
        budget: list[float],
        result: CaseResult,
        cleanup: bool = False,
    ) -> tuple[Exchange, transport.Answer, str | None]:
        """Send a step's request (retrying 429/503 within the budgets) and read its bounded answer.

        Returns the exchange, the answer, and what was expected when the run's retry budget ran out
        (else None). Raises :class:`TargetError` when no complete answer came, and without sending
        when the target is lost (a throttling target still gets its cleanup, once, without retries).
        """
        url = f"{self.base_url}/{result.version}{path}"
        sent = {"client-request-id": str(uuid.uuid4()), **headers}
        exchange = Exchange(step.name, method, url, scrub.scrub_headers(sent), body)
        # every verb of a list is checked before the first is sent: all count as writes if one is
        checks = [self.may_send(verb, url) for verb in step.request.methods] if self.may_send is not None else []
        refused = next((reason for reason in checks if reason), None)
        if refused:
            raise WriteRefused(f"refused to send {exchange.method} {exchange.url}: {refused}")
        run_allowance = self.retry_budget * transport.RUN_RETRY_FACTOR
        retries = 0 if cleanup and self.health.throttling else self.max_retries
        gave_up: str | None = None
        attempts = 0
        while True:
            attempts += 1
            exchange.attempts = attempts
            stopped = self.health.stop_reason
            if stopped and (not cleanup or self.health.unreachable is not None):
                raise TargetError(f"not sent: {stopped} — {exchange.method} {exchange.url}")
            try:
                answer = transport.exchange(
                    self.client,
                    method,
                    url,
                    headers=sent,
                    json_body=body if step.request.has_json else None,
                    auth=step.request.auth,
                    timeout=self.timeout,
                    max_bytes=self.max_response_bytes,
                )
            except httpx.DecodingError as exc:  # an answer, but its encoding is broken
                self.health.answered()
                raise TargetError(f"{type(exc).__name__}: {exc} — while sending {exchange.summary()}") from None
            except httpx.HTTPError as exc:
                failure = _failure(exc, self.timeout)
                self.health.failure(failure)
                raise TargetError(f"{failure} — while sending {exchange.summary()}") from None
            delay = retry_delay(answer.headers.get("Retry-After"))
            if answer.status not in RETRY_STATUSES or attempts > retries:
                break
            if delay is None:
                result.violations.append(
                    Violation(
                        ViolationKind.RETRY,
                        step.name,
                        "Retry-After",
                        f"a Retry-After header on {answer.status}",
                        repr(answer.headers.get("Retry-After")) if "Retry-After" in answer.headers else "none",
                        None,
                    )
                )
                delay = float(2 ** (attempts - 1))
            if delay > budget[0]:
                break
            if not self.health.reserve_wait(delay, run_allowance):
                gave_up = f"an answer within the run's retry budget ({run_allowance:g}s)"
                break
            budget[0] -= delay
            self.sleep(delay)
        self.health.answered(throttled=answer.status in RETRY_STATUSES)
        exchange.status = answer.status
        exchange.response_headers = scrub.scrub_headers({k.lower(): v for k, v in answer.headers.items()})
        return exchange, answer, gave_up


def _runs(step: Step, inside: bool | None) -> bool:
    """Whether a step runs on this side of the case's bounds (a step with ``when`` not while the side is unknown)."""
    return step.when is None or (inside is not None and (step.when == "inside") == inside)


def _failure(exc: httpx.HTTPError, timeout: float) -> str:
    """A transport failure in one line."""
    if isinstance(exc, transport.Incomplete):
        return str(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no connection within {timeout:g}s (ConnectTimeout)"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g}s ({type(exc).__name__})"
    return f"{type(exc).__name__}: {exc}"


def _response(step: str, answer: transport.Answer, max_bytes: int) -> tuple[Response, Violation | None]:
    """The answer as the checks see it, and the violation that kept its body from being read, if any."""
    if answer.refused:
        expected = f"an answer of at most {transport.size_label(max_bytes)} ({transport.MAX_BYTES_OPTION})"
        return Response(answer.status, answer.content_type, NOT_JSON, ""), Violation(
            ViolationKind.BODY, step, "body", expected, answer.refused
        )
    text = answer.text
    if not text.strip():
        return Response(answer.status, answer.content_type, None, text), None
    try:
        body = scrub.protect(transport.parse_json(text))
    except transport.TooDeep as exc:  # nested too deep, or holding too many values (TooMany): never parsed
        return Response(answer.status, answer.content_type, NOT_JSON, ""), Violation(
            ViolationKind.BODY, step, "$", exc.expected, exc.got
        )
    except ValueError:
        body = NOT_JSON
    return Response(answer.status, answer.content_type, body, text), None


def _scrubbed_text(response: Response) -> str:
    """The answer's text, secrets scrubbed, from the body already parsed (a JSON answer is parsed once)."""
    if isinstance(response.body, dict | list):
        return json.dumps(scrub.scrub_json(response.body), separators=(",", ":"), ensure_ascii=False)
    return scrub.scrub_text(response.text)
