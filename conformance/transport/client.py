"""The two entry points that put the limits together: :func:`exchange` and :class:`BoundedTransport`.

:func:`exchange` is the one call for a bounded request on any ``httpx.Client``: it shrinks each
phase's timeout to the time left (httpcore's ``timeout`` and ``trace`` extensions) and reads the body
chunk by chunk against a monotonic clock, so a body that trickles a byte a second ends at the
deadline as :class:`~conformance.transport.deadline.Incomplete`; an answer in a content coding not
decoded here is refused as ``httpx.DecodingError``. :class:`BoundedTransport` puts the same limits
below every request of a client (and below vcrpy, which reads whole answers while it records):
every socket operation gets the time left; an answer in a coding not decoded here keeps its
``Content-Encoding`` (so a recording drops the body it cannot read and scrub), and ``br`` and
``zstd``, which httpx itself could inflate without a bound, are refused there already.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from conformance.transport.deadline import (
    DEFAULT_TIMEOUT,
    CurrentDeadline,
    Deadline,
    DeadlineBackend,
    current_deadline,
)
from conformance.transport.decoding import (
    ACCEPT_ENCODING,
    DEFAULT_MAX_RESPONSE_BYTES,
    UNBOUNDED_CODINGS,
    TooLarge,
    asks_only_for_decoded,
    declared_too_large,
    decoded_chunks,
    size_label,
    split_codings,
)


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
        with CurrentDeadline(deadline):  # a BoundedTransport below keeps every socket operation within it
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


def _read_within(deadline: Deadline, stream: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks of an httpcore body stream, every read of it bounded by ``deadline``."""
    iterator = iter(stream)
    while True:
        with CurrentDeadline(deadline):
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
        """Close the httpcore body stream below."""
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


class _BoundedPool:
    """Wraps an httpcore pool: every request gets a deadline that bounds each socket operation of its
    exchange, every answer the cap and decoding."""

    def __init__(self, pool: Any, timeout: float, max_bytes: int) -> None:
        self.pool = pool
        self.timeout = timeout
        self.max_bytes = max_bytes

    def handle_request(self, request: httpcore.Request) -> httpcore.Response:
        """Send ``request`` under its deadline; the answer's body comes bounded and decoded."""
        deadline = Deadline(self.timeout)
        outer = current_deadline()  # the deadline of an exchange() above, when it ends first
        if outer is not None and outer.end < deadline.end:
            deadline = outer
        request.extensions = deadline.arm(request.extensions)
        if not asks_only_for_decoded(request.headers):
            request.headers = [(k, v) for k, v in request.headers if k.lower() != b"accept-encoding"]
            request.headers.append((b"Accept-Encoding", ACCEPT_ENCODING.encode("ascii")))
        with CurrentDeadline(deadline):
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
        self._pool = _BoundedPool(self._answering(), timeout, max_bytes)  # type: ignore[assignment]

    def _answering(self) -> Any:
        """What answers the requests below the bounds: httpx's own pool, every connection it opens bounded."""
        # httpx builds its pool (direct, HTTP or SOCKS proxy) with no way to pass a backend: every
        # connection the pool opens from now on goes through this one
        self._pool._network_backend = DeadlineBackend(self._pool._network_backend)
        return self._pool
