"""Serve an ASGI app with uvicorn on loopback: in the foreground (``graph-conformance mock``) or in
a background thread (the embedded default of ``graph-conformance run``, and the tests).

The listening socket is bound here, before uvicorn starts, so a busy port is a usage error before
anything is announced, and the URL shown carries the port really bound (``--port 0``) with an IPv6
host in brackets.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import socket
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


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on the loopback ``host`` and ``port`` (0: a free port), or a :class:`UsageError`."""
    check_loopback(host)
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port}: give a port from 0 to 65535")
    sock: socket.socket | None = None
    try:
        # IPPROTO_TCP named explicitly: asyncio sets TCP_NODELAY on accepted connections only when the
        # listening socket says so, and without it every keep-alive answer waits ~40 ms (Nagle + delayed ACK)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        if os.name == "posix":  # a restart may reuse a port in TIME_WAIT; one that is listened on stays refused
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)  # from here on connections queue until uvicorn accepts them
    except OSError as exc:
        if sock is not None:
            sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {port} on {host} is in use; stop what holds it or give another --port (0 picks a free one)"
            ) from None
        raise UsageError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None
    return sock


def url_of(sock: socket.socket, scheme: str = "http") -> str:
    """The URL a bound socket serves: its real address and port, an IPv6 address in brackets."""
    host, port = sock.getsockname()[:2]
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


class BackgroundServer:
    """A real uvicorn server on 127.0.0.1 in a daemon thread, for as long as the ``with`` block lasts."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, **config: Any) -> None:
        import uvicorn

        self.config = uvicorn.Config(
            app, host=check_loopback(host), port=port, log_level="warning", lifespan="off", access_log=False, **config
        )
        self.server = uvicorn.Server(self.config)
        self.thread: threading.Thread | None = None
        self.socket: socket.socket | None = None

    def __enter__(self) -> BackgroundServer:
        self.socket = bind(self.config.host, self.config.port)
        self.thread = threading.Thread(
            target=self.server.run, args=([self.socket],), name="graph-conformance-mock", daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                self.__exit__()
                raise UsageError("the mock server did not start")
            time.sleep(0.01)
        return self

    def _bound(self) -> socket.socket:
        if self.socket is None:
            raise RuntimeError("the server has not started: use it in a with block")
        return self.socket

    @property
    def port(self) -> int:
        """The port really bound."""
        return int(self._bound().getsockname()[1])

    @property
    def url(self) -> str:
        """The server's root URL, an IPv6 address in brackets."""
        return url_of(self._bound(), "https" if self.config.ssl_certfile else "http")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        if self.socket is not None:
            self.socket.close()


def serve(host: str, port: int) -> int:
    """Serve the reference mock in the foreground until Ctrl-C; one log line per request."""
    import uvicorn

    from conformance.mock import create_app

    sock = bind(host, port)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log = logging.getLogger("graph_conformance.mock")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    print(
        f"graph-conformance mock: serving the reference Graph mock on {url_of(sock)} (Ctrl-C stops it)",
        file=sys.stderr,
        flush=True,
    )
    config = uvicorn.Config(create_app(), log_level="warning", access_log=False, lifespan="off")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled, once it has shut down
        pass
    finally:
        sock.close()
    print("graph-conformance mock: stopped", file=sys.stderr, flush=True)
    return 0
