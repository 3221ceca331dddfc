"""In-process exchanges with an ASGI app, under the same bounds as exchanges over the network.

:class:`AppHost` runs the app's event loop (asyncio) in a daemon thread, with the app's lifespan startup
before the run and its shutdown after it, each within the timeout.
:class:`AppTransport` is a :class:`~conformance.transport.BoundedTransport` whose requests are answered
by the app, through httpx's ``ASGITransport``, instead of a connection pool: the deadline, the size cap
and the decoding above apply unchanged, and vcrpy records at the same level as over the network.

The answer is watched as the app sends it, and judged at the deadline as a server's would be: no
status by then is a ``ReadTimeout`` ("no answer within"), a body that has not ended is incomplete, a
body past the cap is refused after the cap and one byte are kept (the app is stopped by an exception
from its ``send``), an app that raises before it answers gets a ``500`` naming the exception (as a
server would answer), and one that raises or returns mid-body ends the exchange as a broken
connection would. An app that blocks its event loop costs each exchange its timeout, no more.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any

import httpcore
import httpx

from conformance.errors import UsageError
from conformance.inprocess import kind_of, said
from conformance.transport.client import BoundedTransport
from conformance.transport.deadline import DEFAULT_TIMEOUT, Deadline, current_deadline
from conformance.transport.decoding import DEFAULT_MAX_RESPONSE_BYTES

# bound now, before any cassette is in use: vcrpy patches ASGITransport too, and would record each
# exchange a second time below the one it records at HTTPTransport.handle_request
_ASGI_EXCHANGE = httpx.ASGITransport.handle_async_request


class _OverCap(Exception):
    """Raised into the app's ``send`` once its answer has passed the size cap."""


class _Watch:
    """One exchange as the app answers it: ASGI middleware that keeps the status, the headers and the
    body (at most the cap and one byte), whatever becomes of the exchange."""

    def __init__(self, app: Callable[..., Any], state: dict[str, Any], max_bytes: int, head: bool) -> None:
        self.app = app
        self.state = state  # what the lifespan left in its state: each request gets a shallow copy
        self.max_bytes = max_bytes
        self.head = head
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.received = 0
        self.complete = self.over = self.late = False
        self.raised: BaseException | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Callable[[Any], Awaitable[None]]) -> None:
        scope["state"] = dict(self.state)

        async def watched(message: dict[str, Any]) -> None:
            kind = message.get("type")
            if kind == "http.response.start" and self.status is None:
                self.status = int(message["status"])
                self.headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
            elif kind == "http.response.body" and not self.complete:
                if self.over:
                    raise _OverCap(f"the answer is over {self.max_bytes} bytes")
                body = bytes(message.get("body", b""))
                if body and not self.head:
                    room = self.max_bytes + 1 - self.received
                    if len(body) >= room:
                        self.chunks.append(body[:room])
                        self.received += room
                        self.over = True
                        raise _OverCap(f"the answer is over {self.max_bytes} bytes")
                    self.chunks.append(body)
                    self.received += len(body)
                self.complete = not message.get("more_body", False)
            await send(message)

        await self.app(scope, receive, watched)

    def answer(self, deadline: Deadline) -> httpcore.Response:
        """What the exchange amounts to, as a server's answer would (see the module docstring)."""
        if self.status is None:
            if self.late:
                raise httpcore.ReadTimeout(f"no answer within {deadline.seconds:g}s")
            why = f"the app raised {said(self.raised)}" if self.raised else "the app returned without answering"
            return httpcore.Response(
                500, headers=[(b"Content-Type", b"text/plain; charset=utf-8")], content=f"{why}\n".encode()
            )
        end: Exception | None = None
        if not self.complete and not self.over:
            if self.late:
                end = httpcore.ReadTimeout(f"no complete answer within {deadline.seconds:g}s")
            else:
                how = f"raised {said(self.raised)}" if self.raised else "returned"
                end = httpcore.RemoteProtocolError(f"the app {how} before its answer ended")
        return httpcore.Response(self.status, headers=self.headers, content=_body(list(self.chunks), end))


def _body(chunks: list[bytes], end: Exception | None) -> Iterator[bytes]:
    yield from chunks
    if end is not None:
        raise end


class AppHost:
    """The app's event loop in a daemon thread, its lifespan around the run, and its exchanges.

    ``name`` and ``flag`` say which app, in messages; ``timeout`` (set by ``timeout_flag``) bounds the
    lifespan's startup and its shutdown. A startup that fails, does not finish in time, or finds no ASGI 3
    app is a :class:`UsageError`. Work is handed to the loop without waiting for it
    (``run_coroutine_threadsafe``), so an app that blocks its loop cannot hold the run past each bound."""

    def __init__(
        self,
        app: Callable[..., Any],
        name: str,
        flag: str,
        timeout: float = DEFAULT_TIMEOUT,
        timeout_flag: str = "--timeout",
    ) -> None:
        self.app = app
        self.name = name
        self.timeout = timeout
        self.state: dict[str, Any] = {}
        self.problem: str | None = None
        self._started, self._stop, self._stopped = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=f"app {name}", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._lifespan(), self._loop)  # runs until close() asks it to end
        if not self._within(self._started.wait()):
            self._stop_loop()  # no shutdown: the app never finished starting
            raise UsageError(f"{flag} {name}: its lifespan startup did not finish within {timeout:g}s ({timeout_flag})")
        if self.problem:
            self.close()
            raise UsageError(f"{flag} {name}: {self.problem}")

    def _serve(self) -> None:
        """The loop's thread: run until stopped, then cancel what still runs and let it unwind (within the
        timeout), as ``asyncio.run`` does."""
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            left = asyncio.all_tasks(self._loop)
            for task in left:
                task.cancel()
            if left:
                self._loop.run_until_complete(asyncio.wait(left, timeout=self.timeout))
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _lifespan(self) -> None:
        """The ASGI lifespan: startup now, shutdown once :meth:`close` asks. An app that raises on the
        lifespan scope, or returns, has none: the run goes on without it, as ASGI servers do."""
        asked = False

        async def receive() -> dict[str, Any]:
            nonlocal asked
            if not asked:
                asked = True
                return {"type": "lifespan.startup"}
            await self._stop.wait()
            return {"type": "lifespan.shutdown"}

        async def send(message: dict[str, Any]) -> None:
            kind = message.get("type")
            if kind == "lifespan.startup.failed":
                self.problem = f"its lifespan startup failed: {_last_line(message.get('message'))}"
            if kind in ("lifespan.startup.complete", "lifespan.startup.failed"):
                self._started.set()
            elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                self._stopped.set()

        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        try:
            try:
                called = self.app(scope, receive, send)
            except TypeError as exc:
                self.problem = (
                    f"it cannot be called as an ASGI 3 app, with scope, receive and send ({said(exc)}); "
                    "a factory is named as module:factory()"
                )
                return
            if not inspect.isawaitable(called):
                self.problem = (
                    f"calling it returned {kind_of(called)}, not an awaitable: it is not an ASGI 3 app (a WSGI app?)"
                )
                return
            await called
        except Exception:  # no lifespan support: ASGI servers carry on without it
            pass
        finally:
            self._started.set()
            self._stopped.set()

    def _within(self, wait: Coroutine[Any, Any, Any]) -> bool:
        """Run ``wait`` in the app's loop for at most the timeout; whether it finished."""
        future = asyncio.run_coroutine_threadsafe(wait, self._loop)
        try:
            future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            return False
        return True

    def exchange(self, request: httpcore.Request, deadline: Deadline, max_bytes: int) -> httpcore.Response:
        """The app's answer to ``request``, as far as it got by ``deadline`` (see the module docstring)."""
        body = b"".join(request.stream)  # type: ignore[arg-type]  # httpx's sync stream; small JSON bodies
        sent = httpx.Request(request.method.decode("ascii"), bytes(request.url).decode("ascii"), content=body)
        sent.headers = httpx.Headers(request.headers)
        watch = _Watch(self.app, self.state, max_bytes, head=sent.method == "HEAD")
        asgi = httpx.ASGITransport(watch)  # type: ignore[arg-type]  # scope and messages typed as dicts
        future = asyncio.run_coroutine_threadsafe(_ASGI_EXCHANGE(asgi, sent), self._loop)
        try:
            future.result(timeout=max(deadline.remaining(), 0.0))
        except concurrent.futures.TimeoutError:
            future.cancel()
            watch.late = True
        except Exception as exc:  # the app raised (or broke the protocol): judged from what it sent
            watch.raised = exc
        return watch.answer(deadline)

    def transport(self, *, timeout: float, max_bytes: int) -> AppTransport:
        """A transport for an ``httpx.Client`` whose every request this app answers, within the bounds."""
        return AppTransport(self, timeout=timeout, max_bytes=max_bytes)

    def close(self) -> None:
        """The lifespan's shutdown, then the loop stopped: each within the timeout (a wedged loop is left
        to its daemon thread)."""
        if not self._thread.is_alive():
            return
        self._within(self._shutdown())
        self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(2 * self.timeout)  # the loop's own cleanup waits up to the timeout

    async def _shutdown(self) -> None:
        self._stop.set()
        await self._stopped.wait()


def _last_line(message: Any) -> str:
    """The last line of a lifespan failure's message (Starlette sends a whole traceback)."""
    lines = [line.strip() for line in str(message or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no reason given"


class _AppPool:
    """In the place of httpcore's connection pool: every request is answered by the app."""

    def __init__(self, host: AppHost, timeout: float, max_bytes: int) -> None:
        self.host = host
        self.timeout = timeout
        self.max_bytes = max_bytes

    def handle_request(self, request: httpcore.Request) -> httpcore.Response:
        """The app's answer, within the deadline of the exchange under way."""
        return self.host.exchange(request, current_deadline() or Deadline(self.timeout), self.max_bytes)

    def close(self) -> None:
        """Nothing to close: the host outlives the client (whoever started it stops it)."""

    def __enter__(self) -> _AppPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AppTransport(BoundedTransport):
    """A :class:`BoundedTransport` whose requests ``host``'s app answers in-process: no socket is opened."""

    def __init__(
        self, host: AppHost, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    ) -> None:
        self.host = host
        self.timeout = timeout
        self.max_bytes = max_bytes
        super().__init__(timeout=timeout, max_bytes=max_bytes)

    def _answering(self) -> Any:
        return _AppPool(self.host, self.timeout, self.max_bytes)
