"""Size caps on the wire and after decompression, and the content codings decoded here.

Raw bytes are counted as they come, and gzip (``x-gzip`` too) and deflate are decoded here,
incrementally, with bounded output, so a compression bomb costs at most the cap in memory
(:func:`decoded_chunks`). A ``Content-Length`` over the cap stops the exchange before the body is
read (:func:`declared_too_large`). Only those codings are asked for (:data:`ACCEPT_ENCODING`);
:func:`split_codings` says which codings of an answer are decoded and which stay on it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator

import httpcore
import httpx

from conformance.transport.deadline import Deadline, Incomplete

DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
MAX_BYTES_OPTION = "--max-response-bytes"
ACCEPT_ENCODING = "gzip, deflate"  # the encodings decoded here, with bounded output
DECODED_CODINGS = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate"}  # coding -> how it is decoded
UNBOUNDED_CODINGS = frozenset({"br", "zstd"})  # httpx would inflate these without a bound: refused


def size_label(count: int) -> str:
    """A byte count as people write it: ``16 MiB``, ``64 KiB``, ``1000 bytes``."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size and count % size == 0:
            return f"{count // size} {unit}"
    return f"{count} bytes"


class TooLarge(httpx.HTTPError):
    """An answer larger than the cap, on the wire or decompressed; its body was not read to the end."""

    def __init__(self, limit: int, got: str, status: int | None = None, content_type: str = "") -> None:
        self.limit = limit
        self.got = got  # e.g. "more than 16 MiB (decoded)"
        self.status = status
        self.content_type = content_type
        super().__init__(f"an answer of {got}, over the limit of {size_label(limit)} ({MAX_BYTES_OPTION})")


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


def asks_only_for_decoded(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether every ``Accept-Encoding`` of a request names only codings decoded here (or ``identity``)."""
    asked = (c.split(b";")[0].strip() for k, v in headers if k.lower() == b"accept-encoding" for c in v.split(b","))
    return all(c.decode("latin-1").lower() in (*DECODED_CODINGS, "identity", "") for c in asked)
