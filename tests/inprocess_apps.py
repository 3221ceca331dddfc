"""ASGI apps for ``--app tests.inprocess_apps:NAME``: the reference mock, a broken variant of it, apps that
misbehave as the hostile servers of ``tests/hostile.py`` do, apps with a lifespan, and things that are not
ASGI apps. Each app that could loop forever is bounded (bytes, seconds)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette

from conformance.mock import create_app
from tests.mutants import BROKEN

SHUTDOWN_MARK = "GRAPH_TEST_SHUTDOWN_MARK"  # the file the lifespan app writes when it shuts down
HUGE_CHUNKS = 512  # of 1 MiB: 512 MiB, sent only as far as the reader goes
TRICKLE_BYTES = 60  # one a second

reference = create_app()


def reference_factory() -> Any:
    """The reference mock, built when called (``tests.inprocess_apps:reference_factory()``)."""
    return create_app()


PIN_LEAKED_ON_GET = next(v for v in BROKEN if v.name == "PIN leaked on GET")
pin_leaked = PIN_LEAKED_ON_GET.build()  # breaks "pin-code-once": a GET answers the PIN


async def hangs(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Never answers (awaits forever, as a server that accepts and never writes)."""
    if scope["type"] == "http":
        await anyio.sleep(600)


async def blocks(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Blocks its own event loop on every request (a synchronous sleep inside an async app)."""
    if scope["type"] == "http":
        time.sleep(30)


async def _start(send: Any, status: int = 200, content_type: bytes = b"application/json") -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]})


async def huge(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Streams 512 MiB of JSON-looking bytes in 1 MiB pieces, each built as it is sent."""
    if scope["type"] != "http":
        return
    await _start(send)
    for _ in range(HUGE_CHUNKS):
        await send({"type": "http.response.body", "body": b" " * (1 << 20), "more_body": True})
    await send({"type": "http.response.body", "body": b"{}"})


async def trickles(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers 200 at once, then a body of one byte a second."""
    if scope["type"] != "http":
        return
    await _start(send)
    for _ in range(TRICKLE_BYTES):
        await send({"type": "http.response.body", "body": b" ", "more_body": True})
        await anyio.sleep(1)
    await send({"type": "http.response.body", "body": b"{}"})


async def raises(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Raises on every request, before answering."""
    if scope["type"] == "http":
        raise RuntimeError("the handler fell over")


async def with_lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The reference mock, built at lifespan startup into the lifespan's state (every request fails without
    it); shutdown writes the file named by ``GRAPH_TEST_SHUTDOWN_MARK``."""
    if scope["type"] == "lifespan":
        await receive()  # lifespan.startup
        scope["state"]["mock"] = create_app()
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        mark = os.environ.get(SHUTDOWN_MARK)
        if mark:
            Path(mark).write_text("shut down", encoding="utf-8")
        await send({"type": "lifespan.shutdown.complete"})
        return
    await scope["state"]["mock"](scope, receive, send)


@contextlib.asynccontextmanager
async def _no_database(app: Starlette) -> AsyncIterator[None]:
    raise ConnectionError("database unreachable")
    yield


startup_fails = Starlette(lifespan=_no_database)


async def startup_hangs(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Never finishes its lifespan startup."""
    if scope["type"] == "lifespan":
        await receive()
        await anyio.sleep(600)


def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app: callable, but not with ASGI's (scope, receive, send)."""
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b"{}"]


NOT_AN_APP = "a string"


def factory_that_raises() -> Any:
    """A factory that cannot build its app."""
    raise ValueError("no configuration found")
