"""Bounded HTTP exchanges: one deadline per exchange, a size cap on every answer, limits on the JSON
parsed, and the target's health across the cases of a run.

- **One deadline** covers the whole exchange, from connecting to the last byte of the body. Below
  :class:`BoundedTransport` every socket operation (connect, TLS, each write, each read of the status
  line, the headers, any number of ``1xx`` answers and the body) gets the time left as its timeout,
  and none starts once the deadline has passed; a server that trickles its headers or sends
  ``103 Early Hints`` forever ends at the deadline like one that hangs. :func:`exchange` on any other
  client shrinks each phase's timeout to the time left (httpcore's ``timeout`` and ``trace``
  extensions) and reads the body chunk by chunk against a monotonic clock, so a body that trickles
  a byte a second ends at the deadline as :class:`Incomplete`.
- **A size cap** holds on the wire and after decompression: raw bytes are counted as they come, and
  gzip (``x-gzip`` too) and deflate are decoded here, incrementally, with bounded output, so a
  compression bomb costs at most the cap in memory. A ``Content-Length`` over the cap stops the
  exchange before the body is read. Only those codings are asked for. An answer in another one
  keeps its ``Content-Encoding`` below a client (so a recording drops the body it cannot read and
  scrub) and :func:`exchange` refuses it as ``httpx.DecodingError``; ``br`` and ``zstd``, which
  httpx itself could inflate without a bound, are refused by :class:`BoundedTransport` already.
- **JSON limits** are checked by a scan that ignores brackets and commas inside strings, before
  the JSON is parsed: an answer nested deeper than :data:`MAX_JSON_DEPTH` is :class:`TooDeep`, one
  holding more than :data:`MAX_JSON_VALUES` values :class:`TooMany`; neither is ever parsed.
- :class:`TargetHealth` counts transport failures and throttled answers across cases; after
  :data:`UNREACHABLE_AFTER` failures in a row, or :data:`UNREACHABLE_TOTAL` in the run (or
  :data:`THROTTLED_AFTER` answers still 429/503 after their retries) it says why the rest of the
  run must not be sent.

:func:`exchange` is the one call for a bounded request on any ``httpx.Client``;
:class:`BoundedTransport` puts the same limits below every request of a client (and below vcrpy,
which reads whole answers while it records).
"""

from __future__ import annotations

import json
import re
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import httpcore
import httpx

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
MAX_JSON_DEPTH = 64
MAX_JSON_VALUES = 200_000  # values (objects, arrays, members, items) in one answer: far above any Graph answer
UNREACHABLE_AFTER = 2  # consecutive transport failures that make the target unreachable
UNREACHABLE_TOTAL = 4  # transport failures in one run that make the target unreachable, however spread
THROTTLED_AFTER = 2  # consecutive answers still 429/503 after their retries that stop the run
RUN_RETRY_FACTOR = 2.0  # a run may wait on Retry-After for at most this many per-case budgets
ACCEPT_ENCODING = "gzip, deflate"  # the encodings decoded here, with bounded output
DECODED_CODINGS = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate"}  # coding -> how it is decoded
UNBOUNDED_CODINGS = frozenset({"br", "zstd"})  # httpx would inflate these without a bound: refused
_WRITE_PIECE = 16 * 1024  # a request body is written in pieces, each under the time left
MAX_BYTES_OPTION = "--max-response-bytes"
_SHORTEST_WAIT = 0.001  # a socket timeout of 0 would mean "do not block"


def size_label(count: int) -> str:
    """A byte count as people write it: ``16 MiB``, ``64 KiB``, ``1000 bytes``."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size and count % size == 0:
            return f"{count // size} {unit}"
    return f"{count} bytes"


class Incomplete(httpx.ReadTimeout):
    """No complete answer came within the exchange's timeout."""

    def __init__(self, timeout: float, received: int) -> None:
        self.timeout = timeout
        self.received = received
        super().__init__(f"no complete answer within {timeout:g}s (received {received} bytes)")


class TooLarge(httpx.HTTPError):
    """An answer larger than the cap, on the wire or decompressed; its body was not read to the end."""

    def __init__(self, limit: int, got: str, status: int | None = None, content_type: str = "") -> None:
        self.limit = limit
        self.got = got  # e.g. "more than 16 MiB (decoded)"
        self.status = status
        self.content_type = content_type
        super().__init__(f"an answer of {got}, over the limit of {size_label(limit)} ({MAX_BYTES_OPTION})")


class TooDeep(ValueError):
    """JSON nested deeper than the limit; ``expected`` and ``got`` say it as a violation does."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.expected = f"JSON nesting at most {limit} levels"
        self.got = f"more than {limit} levels"
        super().__init__(f"JSON nested more than {limit} levels deep")


class TooMany(TooDeep):
    """JSON holding more values than the limit (a :class:`TooDeep` to callers that catch only that:
    it is refused before parsing just the same)."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.expected = f"JSON of at most {limit} values"
        self.got = f"more than {limit} values"
        self.args = (f"JSON holding more than {limit} values",)


class Deadline:
    """The end of one exchange on a monotonic clock, and the socket timeouts that respect it."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self.end = clock() + seconds

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
        """
        timeouts = dict.fromkeys(("connect", "read", "write", "pool"), max(self.seconds, _SHORTEST_WAIT))
        previous = extensions.get("trace")

        def trace(name: str, info: dict[str, Any]) -> None:
            if name.endswith(".started"):
                left = max(self.remaining(), _SHORTEST_WAIT)
                for key in timeouts:
                    timeouts[key] = left
            if previous is not None:
                previous(name, info)

        return {**extensions, "timeout": timeouts, "trace": trace}


_CURRENT: ContextVar[Deadline | None] = ContextVar("conformance_transport_deadline", default=None)


class _Bounded:
    """While active, every socket operation below a :class:`BoundedTransport` respects ``deadline``."""

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


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the current exchange's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        # each piece starts with the time left, so a stalled write ends at the deadline and none starts
        # after it (a reader draining a piece slowly still gets that piece's time: requests are small)
        for start in range(0, len(buffer), _WRITE_PIECE):
            self.inner.write(buffer[start : start + _WRITE_PIECE], _time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        inner = self.inner.start_tls(ssl_context, server_hostname, _time_left(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
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
        left = _time_left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self.inner.connect_tcp(host, port, left, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        left = _time_left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self.inner.connect_unix_socket(path, left, socket_options))

    def sleep(self, seconds: float) -> None:
        left = _time_left(None, httpcore.ConnectTimeout)
        self.inner.sleep(seconds if left is None else min(seconds, left))


class _Inflater:
    """One zlib layer (gzip or deflate), decoded with bounded output."""

    def __init__(self, encoding: str) -> None:
        encoding = DECODED_CODINGS[encoding]
        self.encoding = encoding
        self.started = False
        self.decoder = zlib.decompressobj(zlib.MAX_WBITS | 16 if encoding == "gzip" else zlib.MAX_WBITS)

    def feed(self, data: bytes, room: int) -> bytes:
        """At most ``room`` decoded bytes from ``data``; exactly ``room`` means there may be more."""
        try:
            out = self.decoder.decompress(data, room)
        except zlib.error:
            if self.encoding != "deflate" or self.started:
                raise
            self.decoder = zlib.decompressobj(-zlib.MAX_WBITS)  # deflate sent without its zlib header
            out = self.decoder.decompress(data, room)
        self.started = True
        return out

    def flush(self) -> bytes:
        """What is left once the input has ended (all of it was consumed: this is small)."""
        return self.decoder.flush()


def decoded_chunks(
    chunks: Iterable[bytes],
    *,
    encoding: str,
    max_bytes: int,
    deadline: Deadline,
    status: int | None = None,
    content_type: str = "",
) -> Iterator[bytes]:
    """The decoded body from raw chunks: under the deadline, at most ``max_bytes`` on the wire and decoded.

    Raises :class:`Incomplete` when the deadline passes (or a read times out) before the end, and
    :class:`TooLarge` as soon as either count passes the cap; gzip and deflate layers are decoded
    here, so memory stays within the cap whatever the compression ratio. Layers are undone from the
    last applied; from the first coding that is not decoded here on, the bytes are passed on as
    they are (see :func:`split_codings`).
    """
    layers = [_Inflater(e) for e in split_codings(encoding)[1]]
    wire = decoded = 0

    def too_large(where: str) -> TooLarge:
        return TooLarge(max_bytes, f"more than {size_label(max_bytes)} ({where})", status, content_type)

    def decode(data: bytes, final: bool = False) -> bytes:
        nonlocal decoded
        for layer in layers:
            room = max_bytes - decoded + 1
            out = layer.feed(data, room) if data else b""
            if final:
                out += layer.flush()
            if len(out) >= room:
                raise too_large("decoded")
            data = out
        decoded += len(data)
        if decoded > max_bytes:
            raise too_large("decoded")
        return data

    iterator = iter(chunks)
    while True:
        try:
            chunk = next(iterator)
        except StopIteration:
            break
        except Incomplete:
            raise
        except (httpx.TimeoutException, httpcore.TimeoutException):
            raise Incomplete(deadline.seconds, wire) from None
        wire += len(chunk)
        if deadline.passed:
            raise Incomplete(deadline.seconds, wire)
        if wire > max_bytes:
            raise too_large("wire")
        out = _decode_or_fail(decode, chunk, encoding)
        if out:
            yield out
    tail = _decode_or_fail(lambda data: decode(data, final=True), b"", encoding)
    if tail:
        yield tail


def _decode_or_fail(decode: Callable[[bytes], bytes], data: bytes, encoding: str) -> bytes:
    try:
        return decode(data)
    except zlib.error:
        raise httpx.DecodingError(f"the body is not valid {encoding}") from None


def _encodings(header: str) -> list[str]:
    return [e.strip().lower() for e in header.split(",") if e.strip() and e.strip().lower() != "identity"]


def split_codings(header: str) -> tuple[list[str], list[str]]:
    """A ``Content-Encoding`` value as (the codings left as they are, in header order; the codings
    decoded here, the last applied first).

    Codings are undone from the last applied; the first one that is not gzip, ``x-gzip`` or deflate
    stops the decoding, and it and every coding applied before it stay on the answer.
    """
    left = _encodings(header)
    decoded: list[str] = []
    while left and left[-1] in DECODED_CODINGS:
        decoded.append(left.pop())
    return left, decoded


def declared_too_large(headers: httpx.Headers | dict[str, str], max_bytes: int) -> str | None:
    """What the answer's ``Content-Length`` announces when it is over the cap, else None."""
    length = str(headers.get("content-length", "")).strip()
    if length.isdigit() and int(length) > max_bytes:
        return f"{int(length)} bytes (wire, announced by Content-Length)"
    return None


@dataclass
class Answer:
    """A bounded answer: status, headers and the decoded body, or why the body was not read."""

    status: int
    headers: httpx.Headers = field(repr=False)  # may echo a token
    content: bytes = field(default=b"", repr=False)  # as received: secrets not scrubbed
    refused: str | None = None  # e.g. "more than 16 MiB (decoded)": the body was not read to the end

    @property
    def content_type(self) -> str:
        """The Content-Type header, or an empty string."""
        return str(self.headers.get("content-type", ""))

    @property
    def text(self) -> str:
        """The body as text: the declared charset (UTF-8 by default), without a byte order mark."""
        charset = "utf-8"
        for part in self.content_type.split(";")[1:]:
            name, _, value = part.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip('"').lower()
        if charset.replace("-", "").replace("_", "") in ("utf8", "utf8sig"):
            charset = "utf-8-sig"
        try:
            text = self.content.decode(charset, "replace")
        except LookupError:
            text = self.content.decode("utf-8-sig", "replace")
        return text.removeprefix("\ufeff")


def exchange(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    json_body: Any = None,
    auth: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> Answer:
    """Send one request on ``client`` and read its answer under one deadline and the size cap.

    An answer over the cap comes back with ``refused`` set (its body unread, the connection
    closed); a timeout, an incomplete body or a connection failure raises ``httpx.HTTPError``
    (:class:`Incomplete` for a body that did not end in time), and a body in a content coding that
    is not decoded here ``httpx.DecodingError``. Redirects are never followed. ``auth=False`` sends
    no credentials.
    """
    deadline = Deadline(timeout)
    sent = {"Accept-Encoding": ACCEPT_ENCODING, **(headers or {})}
    request = client.build_request(method, url, headers=sent, json=json_body, timeout=timeout)
    request.extensions = deadline.arm(request.extensions)
    extra: dict[str, Any] = {} if auth else {"auth": None}
    try:
        with _Bounded(deadline):  # a BoundedTransport below keeps every socket operation within it
            response = client.send(request, stream=True, follow_redirects=False, **extra)
    except TooLarge as exc:  # a BoundedTransport below refused the answer
        return Answer(exc.status or 0, httpx.Headers({"content-type": exc.content_type}), b"", exc.got)
    try:
        declared = declared_too_large(response.headers, max_bytes)
        if declared:
            return Answer(response.status_code, response.headers, b"", declared)
        undecoded = ", ".join(split_codings(response.headers.get("content-encoding", ""))[0])
        if undecoded:
            raise httpx.DecodingError(f"the body is in content coding {undecoded}, which is not decoded here")
        if response.is_stream_consumed:  # an in-memory transport built the answer with its content
            content = response.content
            if len(content) > max_bytes:
                return Answer(response.status_code, response.headers, b"", f"more than {size_label(max_bytes)}")
            return Answer(response.status_code, response.headers, content)
        chunks = decoded_chunks(
            response.iter_raw(),
            encoding=response.headers.get("content-encoding", ""),
            max_bytes=max_bytes,
            deadline=deadline,
            status=response.status_code,
            content_type=response.headers.get("content-type", ""),
        )
        try:
            content = b"".join(chunks)
        except TooLarge as exc:
            return Answer(response.status_code, response.headers, b"", exc.got)
        return Answer(response.status_code, response.headers, content)
    finally:
        response.close()


# --- JSON within limits ---------------------------------------------------------------------------

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*+"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_SPACE = str.maketrans("", "", " \t\n\r")
_FOLD = str.maketrans("{}", "[]")
_STEP = {ord("["): 1, ord("]"): -1}
_REDUCTIONS = 128  # levels reduced by str.replace before the exact scan


def nesting_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text opens more than ``limit`` arrays/objects inside each other.

    Brackets inside strings (escaped quotes included) do not count. Iterative, and fast on large
    answers: the skeleton of brackets is reduced level by level (a few dozen levels at most), and
    only what does not reduce is measured exactly, in one pass.
    """
    return _nested_deeper(_bare(text), limit)


def value_count(text: str) -> int:
    """The number of values in JSON text: the top value, and every member and item at any depth.

    Every value but the first of its array or object follows a comma, and every array or object
    but an empty one has a first value: outside strings (each now one character), commas plus
    ``[`` and ``{`` less empty ``[]`` and ``{}``, plus one. A few passes over the text in C, no
    parsing; exact for JSON, and for text that is not JSON a number that does not matter."""
    return _values(_bare(text))


def _bare(text: str) -> str:
    """The text with each string as one character: brackets and commas inside strings are gone."""
    return _STRINGS.sub("0", text)


def _values(bare: str) -> int:
    compact = bare.translate(_SPACE)
    openers = compact.count("[") + compact.count("{")
    return compact.count(",") + openers - compact.count("[]") - compact.count("{}") + 1


def _nested_deeper(bare: str, limit: int) -> bool:
    skeleton = _NOT_BRACKETS.sub("", bare).translate(_FOLD)
    reduced = skeleton
    for _ in range(min(limit, _REDUCTIONS)):
        if not reduced:
            return False  # balanced, and at most ``limit`` deep
        shorter = reduced.replace("[]", "")
        if shorter == reduced:
            break
        reduced = shorter
    if not reduced:
        return False
    return max(accumulate(map(_STEP.__getitem__, skeleton.encode("ascii"))), default=0) > limit


def parse_json(text: str, max_depth: int = MAX_JSON_DEPTH, max_values: int = MAX_JSON_VALUES) -> Any:
    """``json.loads`` within limits, checked before parsing: more than ``max_values`` values is
    :class:`TooMany`, nesting deeper than ``max_depth`` :class:`TooDeep`, never RecursionError.

    Raises ``ValueError`` for text that is not JSON.
    """
    bare = _bare(text)
    if _values(bare) > max_values:
        raise TooMany(max_values)
    if _nested_deeper(bare, max_depth):
        raise TooDeep(max_depth)
    try:
        return json.loads(text)
    except RecursionError:
        raise TooDeep(max_depth) from None


# --- the target's health across a run -------------------------------------------------------------


class TargetHealth:
    """How the target has answered across the cases of one run, and whether the rest may be sent.

    ``failure`` counts a transport failure (no connection, a timeout, an incomplete answer);
    ``answered`` an answer, ``throttled=True`` when it was still 429/503 after its retries. After
    :data:`UNREACHABLE_AFTER` failures in a row, or :data:`UNREACHABLE_TOTAL` in the run however
    many answers came between them (a target that hangs on every other request), the target is
    ``unreachable``; after :data:`THROTTLED_AFTER` throttled answers in a row it is ``throttling``.
    Either is final for the run, and :attr:`stop_reason` says why nothing more is sent. A hung
    target so costs about two timeouts, an intermittently hung one about four. ``retry_slept`` is
    the run's total wait on Retry-After, which :meth:`may_wait` caps.
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

    def failure(self, description: str) -> None:
        """A request got no complete answer."""
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
        self.failures = 0
        if throttled:
            self.throttled += 1
            if self.throttled >= self.throttled_after:
                self.throttling = True
        else:
            self.throttled = 0

    def may_wait(self, seconds: float, run_allowance: float) -> bool:
        """Whether the run may still wait ``seconds`` on a Retry-After, within ``run_allowance`` in all."""
        return self.retry_slept + seconds <= run_allowance

    def waited(self, seconds: float) -> None:
        """Count a wait on Retry-After against the run's allowance."""
        self.retry_slept += seconds

    @property
    def stop_reason(self) -> str | None:
        """Why no more requests may be sent in this run, or None."""
        if self.unreachable is not None:
            return f"target unreachable ({self.unreachable})"
        if self.throttling:
            return "target keeps answering 429/503"
        return None


# --- the same limits below a client ---------------------------------------------------------------


def _read_within(deadline: Deadline, stream: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks of an httpcore body stream, every read of it bounded by ``deadline``."""
    iterator = iter(stream)
    while True:
        with _Bounded(deadline):
            chunk = next(iterator, None)
        if chunk is None:
            return
        yield chunk


class _BoundedStream:
    """An httpcore body stream read under a deadline and the cap, decoded."""

    def __init__(self, inner: Any, chunks: Iterator[bytes]) -> None:
        self.inner = inner
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.chunks
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


def _asks_only_for_decoded(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether every ``Accept-Encoding`` of a request names only codings decoded here (or ``identity``)."""
    asked = (c.split(b";")[0].strip() for k, v in headers if k.lower() == b"accept-encoding" for c in v.split(b","))
    return all(c.decode("latin-1").lower() in (*DECODED_CODINGS, "identity", "") for c in asked)


class _BoundedPool:
    """Wraps an httpcore pool: every request gets a deadline that bounds each socket operation of its
    exchange, every answer the cap and decoding."""

    def __init__(self, pool: Any, timeout: float, max_bytes: int) -> None:
        self.pool = pool
        self.timeout = timeout
        self.max_bytes = max_bytes
        # httpx builds its pool (direct, HTTP or SOCKS proxy) with no way to pass a backend: every
        # connection the pool opens from now on goes through this one
        pool._network_backend = _DeadlineBackend(pool._network_backend)

    def handle_request(self, request: httpcore.Request) -> httpcore.Response:
        deadline = Deadline(self.timeout)
        outer = _CURRENT.get()  # the deadline of an exchange() above, when it ends first
        if outer is not None and outer.end < deadline.end:
            deadline = outer
        request.extensions = deadline.arm(request.extensions)
        if not _asks_only_for_decoded(request.headers):
            request.headers = [(k, v) for k, v in request.headers if k.lower() != b"accept-encoding"]
            request.headers.append((b"Accept-Encoding", ACCEPT_ENCODING.encode("ascii")))
        with _Bounded(deadline):
            response = self.pool.handle_request(request)
        headers = httpx.Headers(response.headers)
        status = response.status
        content_type = headers.get("content-type", "")
        declared = declared_too_large(headers, self.max_bytes)
        if declared:
            response.close()
            raise TooLarge(self.max_bytes, declared, status, content_type)
        left = split_codings(headers.get("content-encoding", ""))[0]
        unbounded = ", ".join(sorted(UNBOUNDED_CODINGS.intersection(left)))
        if unbounded:
            response.close()
            raise httpx.DecodingError(f"the body is in content coding {unbounded}, which is not decoded here")
        chunks = decoded_chunks(
            _read_within(deadline, response.stream),
            encoding=headers.get("content-encoding", ""),
            max_bytes=self.max_bytes,
            deadline=deadline,
            status=status,
            content_type=content_type,
        )
        kept = [(k, v) for k, v in response.headers if k.lower() not in (b"content-encoding", b"content-length")]
        if left:  # not decoded here: the coding stays, so whoever reads the body knows it is encoded
            kept.append((b"Content-Encoding", ", ".join(left).encode("latin-1")))
        return httpcore.Response(
            status, headers=kept, content=_BoundedStream(response.stream, chunks), extensions=response.extensions
        )

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> _BoundedPool:
        self.pool.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.pool.__exit__(*exc)


class BoundedTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` whose every exchange has one deadline and the size cap, decoded here.

    For ``httpx.Client(transport=BoundedTransport(timeout=..., max_bytes=...))``: a body that does
    not end in time raises :class:`Incomplete`, one over the cap :class:`TooLarge` (both
    ``httpx.HTTPError``), whoever reads it (the runner, the guard, vcrpy while it records); the
    status line and headers are bounded as well (no ``1xx`` or trickle outlasts the deadline).
    Answers come decoded, without ``Content-Encoding``, unless in a coding not decoded here, which
    then stays on the answer; every request asks for :data:`ACCEPT_ENCODING` only.
    """

    def __init__(
        self, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES, **options: Any
    ) -> None:
        super().__init__(**options)
        self._pool = _BoundedPool(self._pool, timeout, max_bytes)  # type: ignore[assignment]
