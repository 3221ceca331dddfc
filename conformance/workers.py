"""``--workers N``: the selected cases run on N threads of the one pytest process, each on its own user.

Worker 0 acts on the run's ``--user``, the others on the other ``--allowed-users``; on a mock (loopback
or in-process) the workers left act on generated users (fixed, valid GUIDs: the reference mock makes a
user of any id).
Every worker sends on the run's one bounded ``httpx.Client`` (thread-safe; each exchange's deadline
is a context variable, so per thread) under the same :class:`~conformance.transport.TargetHealth`.

What may run at once, decided by :class:`Pool` as each worker asks for its next case:

- a case that changes the tenant-wide policy runs alone, with no other case in flight: the workers run
  the other cases first, then these one after another (so they drain once, not at each of them);
- a case that acts on the token's owner (``/me``) or needs the main user's UPN runs on worker 0,
  whose user that is (the reference mock's ``/me`` is its default user), so never beside another
  case on that user;
- with ``-x`` / ``--maxfail``, no case after the failure that ends the run starts;
- once the run is interrupted (Ctrl-C, SIGTERM), no case starts, and the cases in flight stop
  before their next step, run their cleanup and have their guard restore the tenant.

pytest still runs one item per case in collection order: each waits for its case's outcome and
reports it as a serial run would. Cassettes are recorded one case at a time (vcrpy patches the whole
process), so ``--workers`` above 1 refuses ``--record-mode``.
"""

from __future__ import annotations

import bisect
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from conformance.errors import UsageError

if TYPE_CHECKING:
    import httpx

    from conformance.config import Settings
    from conformance.runner import CaseResult, Runner
    from conformance.scenarios import Scenario
    from conformance.transport import TargetHealth

# generated users are uuid5 names in this namespace: the same ids every run, never a real user's
USER_NAMESPACE = uuid.UUID("6f1d3c52-4a8e-5b0f-9c2d-7e4b1a9f3c60")
_WAIT = 0.2  # seconds between checks while the main thread waits for a case (signals land between them)


class GraphCase(Protocol):
    """A case as the plugin makes it: a scenario against one API version."""

    @property
    def scenario(self) -> Scenario: ...

    @property
    def version(self) -> str: ...

    @property
    def id(self) -> str: ...


C = TypeVar("C", bound=GraphCase)


def generated_user(worker: int) -> str:
    """The user id worker ``worker`` (from 1) acts on against a loopback mock: a fixed, valid GUID."""
    return str(uuid.uuid5(USER_NAMESPACE, f"graph-conformance worker {worker}"))


def worker_users(settings: Settings) -> tuple[str, ...]:
    """The user each worker acts on, worker 0 on ``--user``; a :class:`UsageError` when there cannot be enough."""
    count = settings.workers
    if settings.record_mode is not None and count > 1:
        workers = settings.flag("workers")
        raise UsageError(
            f"{workers} {count} cannot go with --record-mode: cassettes are recorded and replayed one case at a "
            f"time; give {workers} 1 (the default)"
        )
    mock = settings.base_url is None or settings.is_loopback or settings.in_process  # (none yet: the embedded one)
    if not mock and count > 1 and "me" in settings.allowed_users:
        workers, allowed = settings.flag("workers"), settings.flag("allowed_users")
        raise UsageError(
            f"{workers} {count} cannot go with 'me' in {allowed} on {settings.host} (not loopback): /me is the "
            f"token's owner, who may be another worker's user; run the /me cases with {workers} 1"
        )
    # one user per worker, a user named twice (in any case: ids and UPNs are case-insensitive) counted once
    distinct = {u.casefold(): u for u in reversed((settings.user, *settings.allowed_users)) if u != "me"}
    others = [u for key, u in reversed(distinct.items()) if key != settings.user.casefold()]
    if mock:
        others += [generated_user(n) for n in range(1, count)]
    if len(others) < count - 1:
        workers, user, allowed = (settings.flag(name) for name in ("workers", "user", "allowed_users"))
        raise UsageError(
            f"{workers} {count} needs {count} users on {settings.host} (not loopback), one per worker: {user} and "
            f"{count - 1} more in {allowed}, which names {len(others)} besides it and 'me'; give fewer workers or "
            "more allow-listed test users"
        )
    return (settings.user, *others[: count - 1])


def on_main_user(scenario: Scenario) -> bool:
    """Whether a scenario must act on the run's own user: it goes through /me (the token's owner) or needs
    ``{user_upn}`` (known for that user only)."""
    from conformance.scenarios import scenario_variables

    return scenario.through_me or "user_upn" in scenario_variables(scenario)


def changes_policy(scenario: Scenario) -> bool:
    """Whether a scenario writes the tenant-wide policy, which every other case may depend on."""
    from conformance.guard import write_scope

    return scenario.writes and write_scope(scenario).policy


@dataclass
class Outcome:
    """How one case ended on its worker, for its pytest item to report."""

    result: CaseResult | None = None
    skip: str | None = None  # the guard's reason to skip it after all
    failure: str | None = None  # a one-line failure (no token could be had, the guard could not restore)
    error: BaseException | None = None  # an unexpected exception, raised again by the item
    interrupted: bool = False  # the run stopped while it ran: its cleanup ran
    problem: str | None = None  # what the guard's restore reported

    @property
    def fails(self) -> bool:
        """Whether its item fails (what ``-x`` / ``--maxfail`` count)."""
        if self.failure or self.error is not None or self.interrupted:
            return True
        return self.result is not None and self.result.outcome not in ("passed", "skipped")


def run_case(
    case: GraphCase,
    settings: Settings,
    client: httpx.Client,
    health: TargetHealth,
    runner: Runner,
) -> Outcome:
    """One case on a worker: the guard's checks for its user, the runner, the guard's restore however it ends."""
    from conformance import scrub
    from conformance.errors import ConformanceError
    from conformance.guard import CaseGuard
    from conformance.scenarios import utc_now

    guard = CaseGuard(client, settings, case.scenario, case.version, health)
    skip = None if health.stop_reason else guard.before()
    if skip:
        return Outcome(skip=skip)
    outcome = Outcome()
    try:
        outcome.result = runner.run(case.scenario, case.version, utc_now())
    except ConformanceError as exc:  # e.g. no token could be had
        outcome.failure = f"{case.id}: {scrub.scrub_text(str(exc))}"
    except KeyboardInterrupt:  # the run stopped: the runner's cleanup steps have run
        outcome.interrupted = True
    except Exception as exc:
        outcome.error = exc
    outcome.problem = guard.after()
    if outcome.problem and outcome.result is not None:
        error = outcome.result.error
        outcome.result.error = f"{error}; {outcome.problem}" if error else outcome.problem
    elif outcome.problem and not outcome.interrupted:
        outcome.failure, outcome.error = f"{case.id}: {outcome.problem}", None
    return outcome


@dataclass(frozen=True)
class _Planned(Generic[C]):
    index: int  # collection order
    case: C
    main_user: bool  # runs on worker 0 only
    alone: bool  # runs with no other case in flight


class Pool(Generic[C]):
    """N worker threads running ``cases`` (keyed by their pytest node id, in collection order); the items
    take the outcomes with :meth:`outcome`. See the module docstring for what may run at once."""

    def __init__(
        self,
        cases: list[tuple[str, C]],
        settings: Settings,
        execute: Callable[[C, Settings, Callable[[], bool]], Outcome],
        maxfail: int = 0,
        fails: Callable[[C, Outcome], bool] = lambda case, outcome: outcome.fails,
    ) -> None:
        self.users = worker_users(settings)
        self.settings = settings
        self.execute = execute  # (case, the worker's settings, whether the run is stopping) -> outcome
        self.maxfail = maxfail
        self.fails = fails  # whether a case's outcome fails its item (what --maxfail counts)
        self.keys = {key: index for index, (key, _) in enumerate(cases)}
        self.cases = [case for _, case in cases]
        self.pending = [
            _Planned(index, case, on_main_user(case.scenario), changes_policy(case.scenario))
            for index, case in enumerate(self.cases)
        ]
        self.running: dict[int, _Planned[C]] = {}
        self.done: dict[int, Outcome] = {}
        self.failed: list[int] = []  # indexes of the cases whose items fail, sorted
        self.demanded = -1  # the item pytest waits for: every item before it has been reported
        self.stopped = False
        self.interrupted_run = False  # stopped by Ctrl-C or SIGTERM (not by -x's failure)
        self.broken: BaseException | None = None  # what ended a worker thread itself
        self.condition = threading.Condition()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start one thread per worker."""
        for worker, user in enumerate(self.users):
            settings = replace(self.settings, user=user)
            thread = threading.Thread(target=self._work, args=(worker, settings), name=f"graph-worker-{worker}")
            thread.daemon = True  # a second Ctrl-C ends the process even if a worker hangs on the target
            thread.start()
            self.threads.append(thread)

    def outcome(self, key: str) -> Outcome:
        """The outcome of the case of item ``key``, once it has run. On Ctrl-C or SIGTERM: no case starts any
        more, the cases in flight end (their cleanup and restore), then the interrupt goes on."""
        index = self.keys.get(key)
        if index is None:
            return Outcome(error=RuntimeError(f"{key}: not among the cases the workers run"))
        try:
            with self.condition:
                self.demanded = max(self.demanded, index)
                self.condition.notify_all()
                while index not in self.done:
                    if self.broken is not None:
                        raise self.broken
                    self.condition.wait(_WAIT)
                return self.done[index]
        except KeyboardInterrupt:
            self.interrupted_run = True
            self.stop()
            self.join()
            raise

    @property
    def interrupted(self) -> list[tuple[C, str | None]]:
        """The cases the run's interruption stopped, each with what its guard's restore reported."""
        with self.condition:
            ran = sorted(i for i, o in self.done.items() if o.interrupted)
            return [(self.cases[i], self.done[i].problem) for i in ran]

    def stop(self) -> None:
        """No case starts from now on; the cases in flight stop before their next step."""
        with self.condition:
            self.stopped = True
            self.condition.notify_all()

    def join(self) -> None:
        """Wait for every worker to end."""
        for thread in self.threads:
            thread.join()

    def _work(self, worker: int, settings: Settings) -> None:
        try:
            self._cases_on(worker, settings)
        except BaseException as exc:  # the pool itself failed: every waiting item raises it, nothing more starts
            with self.condition:
                self.broken = exc
                self.stopped = True
                self.condition.notify_all()

    def _cases_on(self, worker: int, settings: Settings) -> None:
        stopping = lambda: self.stopped  # noqa: E731  # read without the lock: a bool set once
        while (planned := self._take(worker)) is not None:
            try:
                outcome = self.execute(planned.case, settings, stopping)
            except BaseException as exc:  # kept for its item to raise
                outcome = Outcome(error=exc)
            with self.condition:
                del self.running[planned.index]
                self.done[planned.index] = outcome
                if self.fails(planned.case, outcome):
                    bisect.insort(self.failed, planned.index)
                self.condition.notify_all()

    def _take(self, worker: int) -> _Planned[C] | None:
        """The next case for ``worker`` once it may start, or None when there is none left for it."""
        with self.condition:
            while not self.stopped:
                mine = [p for p in self.pending if worker == 0 or not p.main_user]
                if not mine:
                    return None
                limit = self._limit()
                chosen = self._startable([p for p in mine if p.index <= limit], worker, limit)
                if chosen is not None:
                    self.pending.remove(chosen)
                    self.running[chosen.index] = chosen
                    return chosen
                self.condition.wait()
            return None

    def _startable(self, candidates: list[_Planned[C]], worker: int, limit: float) -> _Planned[C] | None:
        """The case among ``candidates`` that may start now: worker 0 takes the main user's cases first; a case
        that must run alone waits until no other case is in flight or left to start (so the workers drain once)."""
        if any(p.alone for p in self.running.values()):
            return None
        others_left = any(not p.alone and p.index <= limit for p in self.pending)
        for planned in sorted(candidates, key=lambda p: (worker == 0 and not p.main_user, p.index)):
            if not planned.alone:
                return planned
            if not self.running and not others_left:
                return planned
        return None

    def _limit(self) -> float:
        """The last case that may start: with ``--maxfail`` reached, the failure that ends the run (or the
        item pytest already waits for, if that failure did not end it after all)."""
        if self.maxfail <= 0 or len(self.failed) < self.maxfail:
            return float("inf")
        return max(self.failed[self.maxfail - 1], self.demanded)
