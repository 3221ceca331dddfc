"""The one RFC 3339 date-time reader: a shape check, then :meth:`datetime.fromisoformat`.

Graph writes ``Z`` or a ``±hh:mm`` offset and up to seven fraction digits; ``fromisoformat``
(Python 3.11+) reads all of those, but also forms RFC 3339 does not allow (``20240101T000000Z``,
a space for ``T``), hence the shape check first.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?(?:Z|[+-]\d{2}:\d{2})?")


def read_time(value: Any) -> datetime | None:
    """``value`` as a datetime if it is an RFC 3339 date-time string, else None.

    A string without an offset reads as a naive datetime: callers that need an instant check
    ``tzinfo``."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:  # e.g. month 13
        return None
