"""Hostile targets on loopback: servers that hang, trickle, bomb, nest, leak, redirect and throttle.

Each :class:`HostileServer` is a real socket server on 127.0.0.1 (one thread per connection) that
answers every request the same hostile way. It stops when its ``with`` block ends, or by itself
after ``lifetime`` seconds; every loop in it is bounded (connections, bytes, seconds), so a test
that forgets it cannot leave it running. ``python -m tests.hostile MODE`` serves one mode until
Ctrl-C, for trying the command line by hand.

Modes (see :data:`MODES`): ``hang`` (accept, never answer), ``trickle`` (a chunked JSON body, one
byte a second), ``header-trickle`` (the status line, then a header a byte every half second),
``info-storm`` (``103 Early Hints`` every half second, never a final answer), ``flaky`` (hangs on
every other request, answers the others with a 500 error envelope), ``gzip-bomb`` (about 1 MB of gzip that inflates to 1 GiB), ``huge-length`` and
``huge-chunked`` (200 MiB, announced by Content-Length or chunked), ``deep-json`` (arrays nested
1000 deep), ``many-values`` (16 MiB less 16 bytes of ``[{},{},...]``: under the size cap, millions
of values), ``x-gzip`` (a gzipped body with a planted PIN and QR image, labelled ``x-gzip``),
``odd-coding`` (the same gzip bytes labelled with a coding nobody decodes), ``bom-json`` (JSON behind a UTF-8 byte order mark, with a planted PIN and QR image),
``token-echo`` (echoes the Authorization header in ``x-echo``), ``redirect`` (302 to another
loopback server), ``storm-429`` and ``storm-503`` (always, with ``Retry-After: 1``), ``ok``
(a plain ``{}``, the redirect's destination), and ``dead`` (a loopback port nobody listens on).

:data:`CASES` is the corpus as a user meets it: ``graph-conformance run`` against each target, and
:func:`run_case` runs one through a small wrapper process that reports the run's peak RSS, and
collects its exit code, wall time and every artefact it wrote (output, JSON report, JUnit XML,
cassettes, and every recorded body that decompresses, decompressed: a secret hidden in gzip bytes
is still a secret). ``tests/test_hostile.py`` asserts on them; ``benchmarks/hostile.py`` prints them.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import dedent

MODES = (
    "hang",
    "trickle",
    "header-trickle",
    "info-storm",
    "flaky",
    "gzip-bomb",
    "huge-length",
    "huge-chunked",
    "deep-json",
    "many-values",
    "x-gzip",
    "odd-coding",
    "bom-json",
    "token-echo",
    "redirect",
    "storm-429",
    "storm-503",
    "ok",
    "dead",
)
PLANTED_PIN = "73914682"
PLANTED_IMAGE = "SG9zdGlsZVBsYW50ZWRRUkltYWdlMDEyMzQ1Njc4OQ=="  # valid base64, found nowhere else
LIFETIME = 120.0  # seconds a server lives at most
MAX_CONNECTIONS = 2000
MAX_HEAD = 64 * 1024
MAX_REQUEST_BODY = 1024 * 1024
TRICKLE_BYTES = 600  # one a second: ten minutes at most
HEADER_TRICKLE_BYTES = 1200  # one every half second: ten minutes at most
EARLY_HINTS = 1200  # one every half second: ten minutes at most
MANY_VALUES_BYTES = 16 * 1024 * 1024 - 16
ODD_CODING = "x-hostile"
HUGE_BYTES = 200 * 1024 * 1024
BOMB_INFLATED = 1024 * 1024 * 1024
DEEP = 1000
_MiB = 1024 * 1024


@functools.cache
def gzip_bomb() -> bytes:
    """About 1 MB of gzip that inflates to 1 GiB of zeros (built once per process, a few seconds)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(_MiB)
    parts = [compressor.compress(zeros) for _ in range(BOMB_INFLATED // _MiB)]
    parts.append(compressor.flush())
    return b"".join(parts)


@functools.cache
def many_values() -> bytes:
    """``[{},{},...]`` of :data:`MANY_VALUES_BYTES` bytes: about 5.6 million empty objects."""
    count = (MANY_VALUES_BYTES - 1) // 3
    return b"[" + b"{}," * (count - 1) + b"{}]"


def planted_method() -> bytes:
    """A QR code + PIN method as JSON, its PIN and image the planted secrets."""
    body = {
        "id": "planted-method",
        "pin": {"code": PLANTED_PIN},
        "standardQRCode": {"id": "q1", "image": {"binaryValue": PLANTED_IMAGE}},
    }
    return json.dumps(body).encode()


@dataclass
class Seen:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)


class HostileServer:
    """A loopback server answering every request in one hostile ``mode``."""

    def __init__(
        self, mode: str, *, lifetime: float = LIFETIME, redirect_to: str = "", coding: str = ODD_CODING
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}: one of {', '.join(MODES)}")
        self.mode = mode
        self.lifetime = lifetime
        self.redirect_to = redirect_to.rstrip("/")
        self.coding = coding  # the label of ``odd-coding``'s gzip bytes
        self.seen: list[Seen] = []
        self.stop = threading.Event()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        if mode == "dead":
            self.listener.close()  # connecting is refused
        else:
            self.listener.listen(64)
            self.listener.settimeout(0.2)
        self.connections: list[socket.socket] = []
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()
        self.requests = 0  # requests read so far (``flaky`` hangs on the first, third, ...)
        self.acceptor = threading.Thread(target=self._accept, name=f"hostile-{mode}", daemon=True)

    @property
    def url(self) -> str:
        """The server's root, ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileServer:
        if self.mode == "gzip-bomb":
            gzip_bomb()
        if self.mode == "many-values":
            many_values()
        if self.mode != "dead":
            self.acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.acceptor.is_alive():
            self.acceptor.join(timeout=5)
        with self.lock:
            connections = list(self.connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for thread in list(self.threads):
            thread.join(timeout=2)
        self.listener.close()

    def _accept(self) -> None:
        end = time.monotonic() + self.lifetime
        while not self.stop.is_set() and time.monotonic() < end and len(self.threads) < MAX_CONNECTIONS:
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            with self.lock:
                self.connections.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()
        self.stop.set()  # the lifetime is over: every connection ends

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            seen = self._read_request(conn)
            if seen is None:
                return
            with self.lock:
                if len(self.seen) < 10_000:
                    self.seen.append(seen)
                self.requests += 1
                number = self.requests
            self._answer(conn, seen, number)
        except OSError:
            pass  # the client went away: that is what clients under attack do
        finally:
            conn.close()

    def _read_request(self, conn: socket.socket) -> Seen | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk or len(data) > MAX_HEAD:
                return None
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = ([*lines[0].split(" "), "", ""])[:3]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = min(int(headers.get("content-length", "0") or 0), MAX_REQUEST_BODY)
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
        return Seen(method, path, headers)

    def _answer(self, conn: socket.socket, seen: Seen, number: int) -> None:
        mode = self.mode
        if mode == "hang" or (mode == "flaky" and number % 2 == 1):
            self.stop.wait(self.lifetime)
        elif mode == "flaky":
            envelope = {"error": {"code": "InternalServerError", "message": "try again"}}
            _send_json(conn, 500, json.dumps(envelope).encode())
        elif mode == "header-trickle":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: ")
            for _ in range(HEADER_TRICKLE_BYTES):
                if self.stop.wait(0.5):
                    return
                conn.sendall(b"a")
        elif mode == "info-storm":
            for _ in range(EARLY_HINTS):
                conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </hint>; rel=preload\r\n\r\n")
                if self.stop.wait(0.5):
                    return
        elif mode == "trickle":
            conn.sendall(_head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
            for _ in range(TRICKLE_BYTES):
                if self.stop.wait(1.0):
                    return
                conn.sendall(b"1\r\n \r\n")
        elif mode == "gzip-bomb":
            bomb = gzip_bomb()
            conn.sendall(_head(200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, len(bomb)))
            conn.sendall(bomb)
        elif mode in ("huge-length", "huge-chunked"):
            chunked = mode == "huge-chunked"
            headers = {"Content-Type": "application/json"}
            if chunked:
                headers["Transfer-Encoding"] = "chunked"
            conn.sendall(_head(200, headers, None if chunked else HUGE_BYTES))
            block = b" " * _MiB
            framed = b"%x\r\n" % len(block) + block + b"\r\n" if chunked else block
            for _ in range(HUGE_BYTES // _MiB):
                if self.stop.is_set():
                    return
                conn.sendall(framed)
            if chunked:
                conn.sendall(b"0\r\n\r\n")
        elif mode == "deep-json":
            _send_json(conn, 200, ("[" * DEEP + "]" * DEEP).encode())
        elif mode == "many-values":
            _send_json(conn, 200, many_values())
        elif mode in ("x-gzip", "odd-coding"):
            coding = "x-gzip" if mode == "x-gzip" else self.coding
            _send_json(conn, 200, gzip.compress(planted_method()), extra={"Content-Encoding": coding})
        elif mode == "bom-json":
            status = 201 if seen.method in ("PUT", "POST") else 200
            _send_json(conn, status, b"\xef\xbb\xbf" + planted_method(), "application/json; charset=utf-8")
        elif mode == "token-echo":
            echoed = {"x-echo": seen.headers.get("authorization", "")}
            _send_json(conn, 200, b'{"id": "echo"}', extra=echoed)
        elif mode == "redirect":
            conn.sendall(_head(302, {"Location": self.redirect_to + seen.path}, 0))
        elif mode in ("storm-429", "storm-503"):
            status = 429 if mode == "storm-429" else 503
            envelope = {"error": {"code": "TooManyRequests", "message": "throttled"}}
            _send_json(conn, status, json.dumps(envelope).encode(), extra={"Retry-After": "1"})
        else:  # ok
            _send_json(conn, 200, b"{}")


_REASONS = {
    200: "OK",
    201: "Created",
    302: "Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _head(status: int, headers: dict[str, str], length: int | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Answer')}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _send_json(
    conn: socket.socket,
    status: int,
    body: bytes,
    content_type: str = "application/json",
    extra: dict[str, str] | None = None,
) -> None:
    conn.sendall(_head(status, {"Content-Type": content_type, **(extra or {})}, len(body)) + body)


# --- the corpus, run as a user would ------------------------------------------------------------

TIMEOUT = 2.0  # --timeout of every run
SOME_READS = "policy-read or method-read-needs-a-token"  # 4 cases, one GET each
PLANTED_TOKEN = "hostile-echo-token-5f2b9c7d1e"
RSS_LIMIT_MB = 300
ADDRESS_SPACE_LIMIT = 2 * 1024**3  # a run that would inflate a bomb fails in it, not the machine
_WRAPPER = dedent(
    f"""\
    import resource, subprocess, sys
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE_LIMIT}, {ADDRESS_SPACE_LIMIT}))
    code = subprocess.run(sys.argv[2:], preexec_fn=cap).returncode
    with open(sys.argv[1], 'w') as out:
        out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
    sys.exit(code)
    """
)


@dataclass(frozen=True)
class Case:
    """One hostile target and how the run against it is made and judged."""

    name: str
    mode: str
    keyword: str | None = SOME_READS  # -k; None runs the whole catalogue
    record: bool = False  # record cassettes: they are artefacts too
    token: str | None = None
    bomb: bool = False  # the peak RSS must stay under RSS_LIMIT_MB
    seconds: float = 4 * TIMEOUT + 15  # wall-time bound (startup included)
    says: str = ""  # a line the output must hold
    sent_at_most: int = 2  # cases of a whole-catalogue run that may be sent before the rest is not run

    @property
    def id(self) -> str:
        """The name as a test id and folder name: ``gzip-bomb-recording``."""
        return "-".join("".join(c if c.isalnum() else " " for c in self.name.lower()).split())


CASES = (
    Case("hang", "hang", None, says="not run: target unreachable (no answer within 2s (ReadTimeout))"),
    Case("dead port", "dead", None, says="not run: target unreachable (ConnectError"),
    Case("trickle", "trickle", says="no complete answer within 2s (received"),
    Case("header trickle", "header-trickle", says="not run: target unreachable (no answer within 2s (ReadTimeout))"),
    Case("1xx storm", "info-storm", says="not run: target unreachable (no answer within 2s (ReadTimeout))"),
    Case(
        "hangs every other time",
        "flaky",
        None,
        seconds=5 * TIMEOUT + 10,
        says="not run: target unreachable (4 transport failures in this run, the last: no answer within 2s",
        sent_at_most=8,
    ),
    Case("gzip bomb", "gzip-bomb", bomb=True, says="got more than 16 MiB (decoded)"),
    Case("gzip bomb, recording", "gzip-bomb", record=True, bomb=True, says="got more than 16 MiB (decoded)"),
    Case("huge, Content-Length", "huge-length", bomb=True, says="209715200 bytes (wire, announced by Content-Length)"),
    Case("huge, chunked", "huge-chunked", bomb=True, says="got more than 16 MiB (wire)"),
    Case("deep JSON", "deep-json", says="expected JSON nesting at most 64 levels, got more than 64 levels"),
    Case(
        "many values",
        "many-values",
        bomb=True,
        says="$: expected JSON of at most 200000 values, got more than 200000 values",
    ),
    Case(
        "many values, recording",
        "many-values",
        record=True,
        bomb=True,
        says="$: expected JSON of at most 200000 values, got more than 200000 values",
    ),
    Case("x-gzip", "x-gzip", record=True, says="$.pinLength: expected a number from 8 to 20, got nothing (absent)"),
    Case(
        "unknown coding",
        "odd-coding",
        record=True,
        says="DecodingError: the body is in content coding x-hostile, which is not decoded here",
    ),
    Case("BOM JSON", "bom-json", record=True, says="policy-read[beta]"),
    Case("token echo", "token-echo", "policy-read", record=True, token=PLANTED_TOKEN, says="policy-read[beta]"),
    Case("redirect", "redirect", says="status: expected 200, got 302"),
    Case("429 storm", "storm-429", None, seconds=30, says="not run: target keeps answering 429/503"),
    Case("503 storm", "storm-503", None, seconds=30, says="not run: target keeps answering 429/503"),
)
SECRETS = (PLANTED_PIN, PLANTED_IMAGE, PLANTED_TOKEN)


@dataclass
class Outcome:
    """What one run against a hostile target did."""

    case: Case
    exit_code: int
    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str
    artefacts: dict[str, str]  # name -> text: stdout, stderr, the reports and every cassette
    seen: list[Seen]  # requests the hostile target read
    redirected: list[Seen]  # requests that reached the redirect's destination

    def leaks(self) -> list[str]:
        """``secret in artefact`` for every planted secret found in an artefact."""
        return [f"{secret} in {name}" for name, text in self.artefacts.items() for secret in SECRETS if secret in text]

    def row(self) -> str:
        """One line of the figures table."""
        return f"{self.case.name:<22} {self.exit_code:>4} {self.seconds:>8.1f} {self.peak_rss_mb:>12.0f}"


TABLE_HEAD = f"{'hostile target':<22} {'exit':>4} {'seconds':>8} {'peak RSS MB':>12}"


def run_case(case: Case, workdir: Path, env: dict[str, str] | None = None) -> Outcome:
    """Run ``graph-conformance run`` against the case's target, from a wrapper that measures its peak RSS."""
    workdir.mkdir(parents=True, exist_ok=True)
    report, junit, cassettes, rss = (workdir / n for n in ("report.json", "junit.xml", "cassettes", "rss"))
    with HostileServer("ok") as sink, HostileServer(case.mode, redirect_to=sink.url) as target:
        command = [sys.executable, "-m", "conformance", "run", "--base-url", target.url]
        command += ["--timeout", f"{TIMEOUT:g}", "--report-json", str(report), "--junitxml", str(junit)]
        if case.keyword:
            command += ["-k", case.keyword]
        if case.record:
            command += ["--record-mode", "once", "--cassette-dir", str(cassettes)]
        if case.token:
            command += ["--token", case.token]
        started = time.monotonic()
        with subprocess.Popen(
            [sys.executable, "-c", _WRAPPER, str(rss), *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=workdir,
            env=env if env is not None else dict(os.environ),
            start_new_session=True,  # a run that outlives its bound is ended with everything it started
        ) as process:
            try:
                stdout, stderr = process.communicate(timeout=case.seconds + 30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                stdout, stderr = process.communicate()
                stderr += f"\n(killed after {case.seconds + 30:g}s)"
        seconds = time.monotonic() - started
        seen, redirected = list(target.seen), list(sink.seen)
    artefacts = {"stdout": stdout, "stderr": stderr}
    for path in (report, junit, *sorted(cassettes.glob("*"))):
        if path.is_file():
            artefacts[path.name] = path.read_text(encoding="utf-8", errors="replace")
            if path.suffix == ".yaml":
                for number, body in enumerate(decompressed_bodies(path.read_text(encoding="utf-8"))):
                    artefacts[f"{path.name} (body {number}, decompressed)"] = body
    peak = int(rss.read_text()) / 1024 if rss.is_file() else float("nan")
    return Outcome(case, process.returncode, seconds, peak, stdout, stderr, artefacts, seen, redirected)


def decompressed_bodies(cassette: str, limit: int = 16 * _MiB) -> list[str]:
    """Every response body of a cassette that is gzip or zlib data, decompressed (at most ``limit`` bytes)."""
    import yaml

    try:
        loaded = yaml.load(cassette, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return []
    bodies = []
    for interaction in (loaded or {}).get("interactions", []):
        body = interaction.get("response", {}).get("body", {}).get("string")
        raw = body.encode("latin-1", "replace") if isinstance(body, str) else body
        try:
            inflated = zlib.decompressobj(zlib.MAX_WBITS | 32).decompress(raw or b"", limit)  # gzip or zlib
        except zlib.error:
            continue
        if inflated:
            bodies.append(inflated.decode("utf-8", "replace"))
    return bodies


def main(argv: list[str]) -> int:
    """Serve one mode on loopback until Ctrl-C (or the lifetime ends)."""
    if len(argv) != 1 or argv[0] not in MODES:
        print(f"usage: python -m tests.hostile MODE   (MODE: {', '.join(MODES)})", file=sys.stderr)
        return 2
    with HostileServer(argv[0], lifetime=600) as server:
        print(f"hostile {argv[0]} target at {server.url} (Ctrl-C stops it)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.stop.wait(600)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
