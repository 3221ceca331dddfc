"""The reference mock against hostile clients: body limits, deep or broken JSON, and how it binds.

Every test talks to a real uvicorn on loopback: the ``graph-conformance mock`` command in a
subprocess (so its peak RSS can be read), or :class:`BackgroundServer` in a thread.
"""

from __future__ import annotations

import contextlib
import json
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.errors import UsageError
from conformance.mock import create_app
from conformance.mock.app import MAX_BODY_BYTES
from conformance.mock.serve import BackgroundServer
from conformance.mock.state import MAX_JSON_DEPTH
from tests.helpers import REPO, graph_conformance

MIB = 1024 * 1024
AUTH = {"Authorization": "Bearer any-token", "Content-Type": "application/json"}
METHOD = "/v1.0/users/{user}/authentication/qrCodePinMethod"
SERVING = re.compile(
    r"graph-conformance mock: serving the reference Graph mock on (?P<url>http://(?P<host>.+):(?P<port>\d+)) "
    r"\(Ctrl-C stops it\)"
)


def ipv6_loopback_available() -> bool:
    """Whether this machine can bind ``::1``."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def read_line(process: subprocess.Popen[str], seconds: float) -> str:
    """The first line the process writes to stderr, or '' when it exits or stays silent too long."""
    assert process.stderr is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        if not selector.select(timeout=seconds):
            return ""
    return process.stderr.readline()


@contextmanager
def mock_command(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``graph-conformance mock ARGS`` in a subprocess, with the URL its first line announces."""
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance", "mock", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = read_line(process, 30)
        match = SERVING.fullmatch(first.rstrip("\n"))
        assert match, f"unexpected first line: {first!r}"
        yield process, match["url"]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            out, err = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        assert "Traceback" not in out + err


@pytest.fixture(scope="module")
def mock() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``graph-conformance mock --port 0`` running for the module's tests, with its URL."""
    with mock_command("--port", "0") as running:
        yield running


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    (line,) = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1]) / 1024


def payload(**extra: Any) -> dict[str, Any]:
    """A valid PUT body (a 30-day standard code from now) with ``extra`` members."""
    now = datetime.now(UTC).replace(microsecond=0)
    start, end = now.strftime("%Y-%m-%dT%H:%M:%SZ"), (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"standardQRCode": {"startDateTime": start, "expireDateTime": end}, **extra}


def assert_envelope(response: httpx.Response, status: int, code: str) -> None:
    """Assert ``response`` is ``status`` in Graph's error envelope with ``code``."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}


def status_of_raw_exchange(port: int, head: bytes, body: bytes = b"") -> bytes:
    """Send a request head and part of a body, keep the connection open, and read the status line.

    The body is never finished: an answer proves the server decided before reading all of it.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head)
        with contextlib.suppress(OSError):  # the server may answer and close while this is still being sent
            sock.sendall(body)
        answer = b""
        try:
            while b"\r\n" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except ConnectionResetError:
            pass
    return answer.split(b"\r\n", 1)[0]


# --- the body limit ---------------------------------------------------------------------------


def test_the_limit_is_one_mib() -> None:
    assert MAX_BODY_BYTES == MIB


def test_a_body_at_the_limit_is_read_and_one_byte_more_is_413(mock: tuple[subprocess.Popen[str], str]) -> None:
    _, url = mock
    document = json.dumps(payload()).encode()
    at_limit = document + b" " * (MAX_BODY_BYTES - len(document))
    with httpx.Client(base_url=url, headers=AUTH, timeout=30) as http:
        accepted = http.put(METHOD.format(user="at-limit"), content=at_limit)
        assert accepted.status_code == 201, accepted.text
        refused = http.put(METHOD.format(user="over-limit"), content=at_limit + b" ")
        assert_envelope(refused, 413, "RequestEntityTooLarge")
        assert refused.headers["connection"] == "close"
        assert_envelope(http.put(METHOD.format(user="two-mib"), content=b" " * (2 * MIB)), 413, "RequestEntityTooLarge")
        # no method was made for the refused users
        assert http.get(METHOD.format(user="over-limit")).status_code == 404


def test_a_chunked_body_is_counted_as_it_streams(mock: tuple[subprocess.Popen[str], str]) -> None:
    _, url = mock

    def two_mib() -> Iterator[bytes]:
        for _ in range(32):
            yield b" " * 65536

    def small() -> Iterator[bytes]:
        yield json.dumps(payload()).encode()

    with httpx.Client(base_url=url, headers=AUTH, timeout=30) as http:
        refused = http.put(METHOD.format(user="chunked-big"), content=two_mib())
        assert_envelope(refused, 413, "RequestEntityTooLarge")
        assert http.put(METHOD.format(user="chunked-small"), content=small()).status_code == 201
        # any request's body counts, whatever the verb
        assert_envelope(http.request("GET", METHOD.format(user="x"), content=two_mib()), 413, "RequestEntityTooLarge")


@pytest.mark.parametrize(
    ("head", "body"),
    [
        (b"Content-Length: 314572800\r\n", b""),
        (b"Transfer-Encoding: chunked\r\n", b"".join(b"10000\r\n" + b" " * 65536 + b"\r\n" for _ in range(17))),
    ],
    ids=["declared-300-MB", "chunked-without-end"],
)
def test_the_answer_comes_before_the_rest_of_the_body(
    mock: tuple[subprocess.Popen[str], str], head: bytes, body: bytes
) -> None:
    _, url = mock
    port = int(url.rsplit(":", 1)[1])
    user = b"raw-" + str(len(body)).encode()
    request = (
        b"PUT /v1.0/users/" + user + b"/authentication/qrCodePinMethod HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer any-token\r\nContent-Type: application/json\r\n" + head + b"\r\n"
    )
    assert status_of_raw_exchange(port, request, body) == b"HTTP/1.1 413 Request Entity Too Large"
    # a small declared body that is complete is answered normally (the exchange itself works)
    small = json.dumps(payload()).encode()
    complete = request.replace(head, b"Content-Length: %d\r\n" % len(small))
    assert status_of_raw_exchange(port, complete, small) == b"HTTP/1.1 201 Created"


def test_a_300_mb_streamed_body_is_refused_without_being_read(mock: tuple[subprocess.Popen[str], str]) -> None:
    process, url = mock
    sent = 0

    def huge() -> Iterator[bytes]:
        nonlocal sent
        block = b" " * MIB
        for _ in range(300):
            sent += len(block)
            yield block

    started = time.monotonic()
    with httpx.Client(base_url=url, headers=AUTH, timeout=60) as http:
        refused = http.put(METHOD.format(user="huge"), content=huge())
    elapsed = time.monotonic() - started
    assert_envelope(refused, 413, "RequestEntityTooLarge")
    assert elapsed < 30, f"{elapsed:.1f} s"
    assert sent < 100 * MIB, f"the client got to send {sent / MIB:.0f} MiB"
    if Path(f"/proc/{process.pid}/status").exists():
        assert peak_rss_mib(process.pid) < 200


# --- JSON it cannot parse ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"standardQRCode": ',
        b"\xff\xfe{}",
        b"[" * 1000 + b"]" * 1000,
        b'{"a":' * 1000 + b"1" + b"}" * 1000,
        b"[" * 100_000,
        json.dumps(payload(deep=json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH))).encode(),
    ],
    ids=["not-json", "truncated", "not-utf8", "arrays-1000-deep", "objects-1000-deep", "unclosed-100000", "limit+1"],
)
def test_json_it_cannot_parse_or_that_nests_too_deep_is_400(
    mock: tuple[subprocess.Popen[str], str], body: bytes
) -> None:
    _, url = mock
    with httpx.Client(base_url=url, headers=AUTH, timeout=30) as http:
        assert_envelope(http.put(METHOD.format(user="bad-json"), content=body), 400, "BadRequest")
        assert_envelope(http.patch(METHOD.format(user="bad-json") + "/standardQRCode", content=body), 400, "BadRequest")
        policy = "/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/qrCodePin"
        assert_envelope(http.patch(policy, content=body), 400, "BadRequest")


def test_nesting_within_the_limit_and_brackets_inside_strings_are_accepted(
    mock: tuple[subprocess.Popen[str], str],
) -> None:
    _, url = mock
    # the payload object itself is one level: MAX_JSON_DEPTH - 1 more fit
    within = json.loads("[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1))
    brackets = '\\"[{' * 1000 + '"]' * 10
    with httpx.Client(base_url=url, headers=AUTH, timeout=30) as http:
        created = http.put(METHOD.format(user="deep-ok"), content=json.dumps(payload(deep=within)).encode())
        assert created.status_code == 201, created.text
        quoted = http.put(METHOD.format(user="quoted"), content=json.dumps(payload(note=brackets)).encode())
        assert quoted.status_code == 201, quoted.text


# --- how the command binds ----------------------------------------------------------------------


def test_port_0_prints_the_real_port_and_the_mock_answers_on_it() -> None:
    with mock_command("--port", "0") as (_, url):
        host, port = SERVING.fullmatch(
            f"graph-conformance mock: serving the reference Graph mock on {url} (Ctrl-C stops it)"
        ).group("host", "port")  # type: ignore[union-attr]
        assert host == "127.0.0.1" and int(port) > 0
        answer = httpx.get(f"{url}/beta/users/x/authentication/qrCodePinMethod", timeout=30)
        assert_envelope(answer, 401, "InvalidAuthenticationToken")


def test_a_busy_port_exits_2_before_serving() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = graph_conformance("mock", "--port", port, timeout=60)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"graph-conformance: error: port {port} on 127.0.0.1 is in use; stop what holds it or give another "
        "--port (0 picks a free one)"
    ]


def test_a_busy_port_is_a_usage_error_for_the_background_server_too() -> None:
    with BackgroundServer(create_app()) as first:
        second = BackgroundServer(create_app(), port=first.port)
        with pytest.raises(UsageError, match=f"^{re.escape(f'port {first.port} on 127.0.0.1 is in use;')}"):
            second.__enter__()
        assert httpx.get(f"{first.url}/beta/me/authentication/qrCodePinMethod").status_code == 401


@pytest.mark.skipif(not ipv6_loopback_available(), reason="::1 cannot be bound on this machine")
def test_ipv6_loopback_is_printed_in_brackets() -> None:
    with mock_command("--host", "::1", "--port", "0") as (_, url):
        assert re.fullmatch(r"http://\[::1\]:[1-9]\d*", url), url
        assert_envelope(
            httpx.get(f"{url}/beta/me/authentication/qrCodePinMethod", timeout=30), 401, "InvalidAuthenticationToken"
        )
    with BackgroundServer(create_app(), host="::1") as server:
        assert server.url == f"http://[::1]:{server.port}"
        assert httpx.get(f"{server.url}/beta/me/authentication/qrCodePinMethod", timeout=30).status_code == 401


def test_the_listening_socket_names_tcp_so_answers_are_not_held_back_by_nagle() -> None:
    # asyncio turns TCP_NODELAY on for accepted connections only when the listening socket's protocol is TCP
    import socket as sockets

    from conformance.mock.serve import bind

    listening = bind("127.0.0.1", 0)
    try:
        assert listening.proto == sockets.IPPROTO_TCP
    finally:
        listening.close()
