"""Bounded HTTP exchanges: one deadline per exchange, a size cap on every answer, limits on the JSON
parsed, and the target's health across the cases of a run.

- ``deadline``: one deadline covers the whole exchange, from connecting to the last byte of the
  body; below :class:`BoundedTransport` every socket operation gets the time left, and none starts
  once it has passed (a server that trickles its headers or sends ``103 Early Hints`` forever ends
  at the deadline like one that hangs); a body that does not end in time is :class:`Incomplete`.
- ``decoding``: a size cap on the wire and after decompression; gzip (``x-gzip`` too) and deflate
  are decoded here with bounded output, and only they are asked for; an answer over the cap is
  :class:`TooLarge`.
- ``json_limits``: JSON deeper than :data:`MAX_JSON_DEPTH` (:class:`TooDeep`) or holding more than
  :data:`MAX_JSON_VALUES` values (:class:`TooMany`) is refused before it is parsed.
- ``health``: :class:`TargetHealth` says when the rest of a run must not be sent (a target
  unreachable, or still throttling after its retries).
- ``client``: :func:`exchange`, the one call for a bounded request on any ``httpx.Client``, and
  :class:`BoundedTransport`, the same limits below every request of a client (and below vcrpy).
"""

from conformance.transport.client import Answer, BoundedTransport, exchange
from conformance.transport.deadline import DEFAULT_TIMEOUT, Deadline, Incomplete
from conformance.transport.decoding import (
    ACCEPT_ENCODING,
    DECODED_CODINGS,
    DEFAULT_MAX_RESPONSE_BYTES,
    MAX_BYTES_OPTION,
    UNBOUNDED_CODINGS,
    TooLarge,
    declared_too_large,
    decoded_chunks,
    size_label,
    split_codings,
)
from conformance.transport.health import (
    RUN_RETRY_FACTOR,
    THROTTLED_AFTER,
    UNREACHABLE_AFTER,
    UNREACHABLE_TOTAL,
    TargetHealth,
)
from conformance.transport.json_limits import (
    MAX_JSON_DEPTH,
    MAX_JSON_VALUES,
    TooDeep,
    TooMany,
    nesting_depth_exceeds,
    parse_json,
    value_count,
)

__all__ = [
    "ACCEPT_ENCODING",
    "DECODED_CODINGS",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "MAX_BYTES_OPTION",
    "MAX_JSON_DEPTH",
    "MAX_JSON_VALUES",
    "RUN_RETRY_FACTOR",
    "THROTTLED_AFTER",
    "UNBOUNDED_CODINGS",
    "UNREACHABLE_AFTER",
    "UNREACHABLE_TOTAL",
    "Answer",
    "BoundedTransport",
    "Deadline",
    "Incomplete",
    "TargetHealth",
    "TooDeep",
    "TooLarge",
    "TooMany",
    "declared_too_large",
    "decoded_chunks",
    "exchange",
    "nesting_depth_exceeds",
    "parse_json",
    "size_label",
    "split_codings",
    "value_count",
]
