"""JSON within limits, checked before it is parsed.

A scan that ignores brackets and commas inside strings measures the text first: an answer nested
deeper than :data:`MAX_JSON_DEPTH` is :class:`TooDeep`, one holding more than :data:`MAX_JSON_VALUES`
values :class:`TooMany`; neither is ever parsed (:func:`parse_json`). No HTTP here: plain text in,
plain JSON out.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_JSON_DEPTH = 64
MAX_JSON_VALUES = 200_000  # values (objects, arrays, members, items) in one answer: far above any Graph answer


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
