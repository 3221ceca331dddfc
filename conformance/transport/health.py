"""The target's health across the cases of a run: whether the rest of the run may be sent.

:class:`TargetHealth` counts transport failures and throttled answers across cases; after
:data:`UNREACHABLE_AFTER` failures in a row, or :data:`UNREACHABLE_TOTAL` in the run (or
:data:`THROTTLED_AFTER` answers still 429/503 after their retries) it says why the rest of the run
must not be sent. It also keeps the run's total wait on Retry-After within its allowance.
"""

from __future__ import annotations

import threading

UNREACHABLE_AFTER = 2  # consecutive transport failures that make the target unreachable
UNREACHABLE_TOTAL = 4  # transport failures in one run that make the target unreachable, however spread
THROTTLED_AFTER = 2  # consecutive answers still 429/503 after their retries that stop the run
RUN_RETRY_FACTOR = 2.0  # a run may wait on Retry-After for at most this many per-case budgets


class TargetHealth:
    """How the target has answered across the cases of one run, and whether the rest may be sent.

    ``failure`` counts a transport failure (no connection, a timeout, an incomplete answer);
    ``answered`` an answer, ``throttled=True`` when it was still 429/503 after its retries. After
    :data:`UNREACHABLE_AFTER` failures in a row, or :data:`UNREACHABLE_TOTAL` in the run however
    many answers came between them (a target that hangs on every other request), the target is
    ``unreachable``; after :data:`THROTTLED_AFTER` throttled answers in a row it is ``throttling``.
    Either is final for the run, and :attr:`stop_reason` says why nothing more is sent. A hung
    target so costs about two timeouts, an intermittently hung one about four. ``retry_slept`` is
    the run's total wait on Retry-After, which :meth:`reserve_wait` caps.
    """

    def __init__(
        self,
        *,
        unreachable_after: int = UNREACHABLE_AFTER,
        throttled_after: int = THROTTLED_AFTER,
        unreachable_total: int = UNREACHABLE_TOTAL,
    ) -> None:
        self.unreachable_after = unreachable_after
        self.unreachable_total = unreachable_total
        self.throttled_after = throttled_after
        self.failures = 0  # transport failures in a row
        self.total_failures = 0  # transport failures in the run
        self.unreachable: str | None = None  # the failure that made the target unreachable
        self.throttled = 0  # answers still 429/503 after their retries, in a row
        self.throttling = False
        self.retry_slept = 0.0
        self.lock = threading.Lock()  # the cases of a run with --workers count from several threads

    def failure(self, description: str) -> None:
        """A request got no complete answer."""
        with self.lock:
            self.failures += 1
            self.total_failures += 1
            if self.unreachable is not None:
                return
            if self.failures >= self.unreachable_after:
                self.unreachable = description
            elif self.total_failures >= self.unreachable_total:
                self.unreachable = f"{self.total_failures} transport failures in this run, the last: {description}"

    def answered(self, *, throttled: bool = False) -> None:
        """A request got an answer; ``throttled`` when it was still 429/503 after its retries."""
        with self.lock:
            self.failures = 0
            if throttled:
                self.throttled += 1
                if self.throttled >= self.throttled_after:
                    self.throttling = True
            else:
                self.throttled = 0

    def reserve_wait(self, seconds: float, run_allowance: float) -> bool:
        """Count a wait of ``seconds`` on a Retry-After against the run's allowance, when it fits within
        ``run_allowance`` in all (checked and counted at once: workers wait at the same time); else False."""
        with self.lock:
            if self.retry_slept + seconds > run_allowance:
                return False
            self.retry_slept += seconds
            return True

    @property
    def stop_reason(self) -> str | None:
        """Why no more requests may be sent in this run, or None."""
        if self.unreachable is not None:
            return f"target unreachable ({self.unreachable})"
        if self.throttling:
            return "target keeps answering 429/503"
        return None
