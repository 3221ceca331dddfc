"""One deadline per exchange, from connecting to the last byte of the body.

:class:`Deadline` is the end of one exchange on a monotonic clock. While a :class:`CurrentDeadline`
is active, every socket operation of :class:`DeadlineBackend`'s connections (connect, TLS, each
write, each read of the status line, the headers, any ``1xx`` answer and the body) gets the time left
as its timeout, and none starts once the deadline has passed. :meth:`Deadline.arm` shrinks httpcore's
per-phase timeouts for a client whose backend is not this one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

DEFAULT_TIMEOUT = 10.0
_WRITE_PIECE = 16 * 1024  # a request body is written in pieces, each under the time left
_SHORTEST_WAIT = 0.001  # a socket timeout of 0 would mean "do not block"


class Incomplete(httpx.ReadTimeout):
    """No complete answer came within the exchange's timeout."""

    def __init__(self, timeout: float, received: int) -> None:
        self.timeout = timeout
        self.received = received
        super().__init__(f"no complete answer within {timeout:g}s (received {received} bytes)")


class Deadline:
    """The end of one exchange on a monotonic clock, and the socket timeouts that respect it."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self.end = clock() + seconds
        self.armed: Callable[[str, dict[str, Any]], None] | None = None  # the trace of the last arm()

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.end - self.clock()

    @property
    def passed(self) -> bool:
        """Whether the deadline has passed."""
        return self.remaining() <= 0

    def arm(self, extensions: Mapping[str, Any]) -> dict[str, Any]:
        """Request extensions whose socket timeouts shrink to the time left at each phase.

        httpcore reads ``timeout`` when it connects, sends, waits for the headers and starts the
        body, and calls ``trace`` as each phase starts: the callback sets every timeout to what is left.
        Extensions this deadline armed already come back as they are (a transport below an exchange
        arms the exchange's deadline again).
        """
        previous = extensions.get("trace")
        if previous is not None and previous is self.armed:
            return dict(extensions)
        timeouts = dict.fromkeys(("connect", "read", "write", "pool"), max(self.seconds, _SHORTEST_WAIT))

        def trace(name: str, info: dict[str, Any]) -> None:
            if name.endswith(".started"):
                left = max(self.remaining(), _SHORTEST_WAIT)
                for key in timeouts:
                    timeouts[key] = left
            if previous is not None:
                previous(name, info)

        self.armed = trace
        return {**extensions, "timeout": timeouts, "trace": trace}


_CURRENT: ContextVar[Deadline | None] = ContextVar("conformance_transport_deadline", default=None)


def current_deadline() -> Deadline | None:
    """The deadline of the exchange under way in this context, or None outside one."""
    return _CURRENT.get()


class CurrentDeadline:
    """While active, every socket operation of a :class:`DeadlineBackend`'s connections respects
    ``deadline``."""

    def __init__(self, deadline: Deadline | None) -> None:
        self.deadline = deadline
        self.token: Any = None

    def __enter__(self) -> None:
        self.token = _CURRENT.set(self.deadline)

    def __exit__(self, *exc: object) -> None:
        _CURRENT.reset(self.token)


def _time_left(timeout: float | None, late: type[httpcore.TimeoutException]) -> float | None:
    """``timeout`` capped at what is left of the current exchange; ``late`` is raised once nothing is."""
    deadline = _CURRENT.get()
    if deadline is None:
        return timeout
    left = deadline.remaining()
    if left <= 0:
        raise late(f"no answer within {deadline.seconds:g}s")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the current exchange's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """At most ``max_bytes`` from the connection, waiting no longer than the time left."""
        return self.inner.read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """``buffer`` to the connection in pieces, each waiting no longer than the time left."""
        # each piece starts with the time left, so a stalled write ends at the deadline and none starts
        # after it (a reader draining a piece slowly still gets that piece's time: requests are small)
        for start in range(0, len(buffer), _WRITE_PIECE):
            self.inner.write(buffer[start : start + _WRITE_PIECE], _time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        """Close the connection."""
        self.inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        """The connection upgraded to TLS within the time left, bounded like this one."""
        inner = self.inner.start_tls(ssl_context, server_hostname, _time_left(timeout, httpcore.ConnectTimeout))
        return DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        """What the connection below says about itself (socket, TLS object, addresses)."""
        return self.inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend, its connections bounded by the current exchange's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self.inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """A TCP connection opened within the time left, bounded by the current deadline."""
        left = _time_left(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self.inner.connect_tcp(host, port, left, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        """A Unix socket connection opened within the time left, bounded by the current deadline."""
        left = _time_left(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self.inner.connect_unix_socket(path, left, socket_options))

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, or only the time left when that is shorter."""
        left = _time_left(None, httpcore.ConnectTimeout)
        self.inner.sleep(seconds if left is None else min(seconds, left))
