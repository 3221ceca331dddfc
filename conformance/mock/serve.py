"""Serve an ASGI app with uvicorn on loopback: in the foreground (``graph-conformance mock``) or in
a background thread (the embedded default of ``graph-conformance run``, and the tests)."""

from __future__ import annotations

import ipaddress
import logging
import sys
import threading
import time
from typing import Any

from conformance.errors import UsageError


def check_loopback(host: str) -> str:
    """The suite's servers bind to loopback only."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UsageError(f"--host {host}: the mock serves on loopback only (127.0.0.1, ::1 or localhost)")
    return host


class BackgroundServer:
    """A real uvicorn server on 127.0.0.1 in a daemon thread, for as long as the ``with`` block lasts."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, **config: Any) -> None:
        import uvicorn

        self.config = uvicorn.Config(
            app, host=check_loopback(host), port=port, log_level="warning", lifespan="off", access_log=False, **config
        )
        self.server = uvicorn.Server(self.config)
        self.thread: threading.Thread | None = None

    def __enter__(self) -> BackgroundServer:
        self.thread = threading.Thread(target=self.server.run, name="graph-conformance-mock", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise UsageError("the mock server did not start (is the port free?)")
            time.sleep(0.01)
        return self

    @property
    def port(self) -> int:
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        scheme = "https" if self.config.ssl_certfile else "http"
        return f"{scheme}://{self.config.host}:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)


def serve(host: str, port: int) -> int:
    """Serve the reference mock in the foreground until Ctrl-C; one log line per request."""
    import uvicorn

    from conformance.mock import create_app

    check_loopback(host)
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port}: give a port from 0 to 65535")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log = logging.getLogger("graph_conformance.mock")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    print(
        f"graph-conformance mock: serving the reference Graph mock on http://{host}:{port} (Ctrl-C stops it)",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(create_app(), host=host, port=port, log_level="warning", access_log=False, lifespan="off")
    print("graph-conformance mock: stopped", file=sys.stderr, flush=True)
    return 0
