"""YAML inputs read within limits: scenario files, pinned alternatives and cassettes.

PyYAML composes an alias as a shared node, but every reader of the data (the line map, schema
validation, comparison, replay) visits each expansion, and its composer and constructor recurse once
per level of nesting. So before a document is composed, its event stream is scanned (libyaml's
parser when PyYAML has it: iterative and fast; PyYAML's own parser is iterative too) and refused when

- the file is larger than ``max_bytes`` (checked before a file is even read, by :func:`read`);
- collections nest deeper than ``max_depth``;
- its aliases stand for more than ``max_expansions`` nodes in all: every anchored node's size is
  counted in nodes, aliases inside it expanded, and each alias adds the size of what it names.
  Ordinary anchors (a header block shared by a few steps) stay far below the limit; the 609-byte
  "billion laughs" document stands for 387 million nodes and is refused at its first big alias;
- an alias sits inside the node it names (data that contains itself), unless the caller reports that
  itself.

Every refusal is an :class:`~conformance.errors.InputError` naming ``file:line`` and the fix. YAML
syntax errors are worded by PyYAML's own parser (libyaml words them differently), as
``file:line: not valid YAML: ...``.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.errors import CassetteError, InputError

if TYPE_CHECKING:
    import yaml


@dataclass(frozen=True)
class Limits:
    """How big, how deep and how alias-heavy one kind of input may be."""

    max_bytes: int
    max_depth: int
    max_expansions: int


SCENARIO_LIMITS = Limits(max_bytes=256 * 1024, max_depth=64, max_expansions=10_000)
"""Scenario files and pins: the largest catalogue file is about 4 KiB and nests 8 levels."""

CASSETTE_LIMITS = Limits(max_bytes=16 * 1024 * 1024, max_depth=32, max_expansions=10_000)
"""Cassettes: the committed ones are about 10 KiB and nest 6 levels; bodies are strings, not YAML."""


def _size(count: int) -> str:
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count} bytes"


def display_path(path: Path) -> str:
    """``path`` relative to the working folder when it lies below it, else as given."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return path.as_posix()


def read(path: Path, display: str, limits: Limits = SCENARIO_LIMITS) -> str:
    """The text of a regular UTF-8 file no larger than ``limits.max_bytes``; else :class:`InputError`.

    The size is checked before reading, so a huge file costs nothing; folders, devices and pipes are
    refused by name."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise InputError(display, 0, "is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(display, 0, "is not a regular file")
        if info.st_size > limits.max_bytes:
            raise InputError(display, 0, _too_big(info.st_size, limits))
        with path.open("rb") as handle:
            data = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        raise InputError(display, 0, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limits.max_bytes:  # it grew since stat
        raise InputError(display, 0, _too_big(len(data), limits))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            display, line, f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from None


def _too_big(size: int, limits: Limits) -> str:
    return f"is {_size(size)}, larger than the {_size(limits.max_bytes)} an input of this kind may be; split it"


def _loaders() -> tuple[type[Any], type[Any]]:
    """(fast loader, PyYAML's own): libyaml's CSafeLoader when PyYAML was built with it."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader), yaml.SafeLoader


def _line(exc: yaml.YAMLError, text: str) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    position = getattr(exc, "position", None)  # a reader error: a character YAML does not allow
    return text.count("\n", 0, position) + 1 if isinstance(position, int) else 1


def _syntax_error(exc: yaml.YAMLError, text: str, display: str) -> InputError:
    import yaml

    problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
    context = getattr(exc, "context", None)
    if isinstance(exc, yaml.reader.ReaderError):
        character = exc.character if isinstance(exc.character, int) else ord(exc.character)
        problem = f"character #x{character:04x} is not allowed in YAML"
    elif isinstance(context, str) and context.startswith("expected"):  # e.g. a second document
        problem = f"{context}, {problem}"
    return InputError(display, _line(exc, text), f"not valid YAML: {problem}")


def _reworded(text: str, display: str, fast_error: yaml.YAMLError, action: Any) -> InputError:
    """libyaml words its errors differently from PyYAML's documented messages: ask PyYAML's own parser.

    Only for texts as small as scenario files: PyYAML's parser takes about a second per megabyte."""
    import yaml

    if len(text) > SCENARIO_LIMITS.max_bytes:
        return _syntax_error(fast_error, text, display)
    try:
        action(yaml.SafeLoader)
    except yaml.YAMLError as exc:
        return _syntax_error(exc, text, display)
    return _syntax_error(fast_error, text, display)


def _scan(text: str, display: str, limits: Limits, allow_recursion: bool, loader: type[Any]) -> None:
    import yaml

    depth = 0
    frames: list[list[Any]] = []  # [anchor or None, nodes so far] of every open collection
    sizes: dict[str, int] = {}  # anchor -> nodes it stands for, aliases inside it expanded
    open_anchors: set[str] = set()
    expanded = 0
    events: Any = yaml.parse(text, Loader=loader)  # typed loosely: the stubs leave anchors and marks off Event
    for event in events:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            size = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif kind is yaml.AliasEvent:
            anchor = event.anchor
            if anchor in open_anchors:
                if not allow_recursion:
                    raise InputError(
                        display,
                        event.start_mark.line + 1,
                        f"the YAML alias *{anchor} sits inside the node it names (data that contains itself); "
                        "write the data out",
                    )
                size = 1
            else:
                size = sizes.get(anchor, 1)
                expanded += size
                if expanded > limits.max_expansions:
                    raise InputError(
                        display,
                        event.start_mark.line + 1,
                        f"YAML aliases stand for more than {limits.max_expansions} nodes in all (here *{anchor}); "
                        "write the data out or use fewer aliases",
                    )
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            depth += 1
            if depth > limits.max_depth:
                raise InputError(
                    display, event.start_mark.line + 1, f"YAML nests deeper than {limits.max_depth} levels; flatten it"
                )
            frames.append([event.anchor, 1])
            if event.anchor is not None:
                open_anchors.add(event.anchor)
            continue
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            depth -= 1
            anchor, size = frames.pop()
            if anchor is not None:
                open_anchors.discard(anchor)
                sizes[anchor] = size
        else:  # stream and document boundaries
            continue
        if frames:
            frames[-1][1] += size


def check(text: str, display: str, limits: Limits = SCENARIO_LIMITS, *, allow_recursion: bool = False) -> None:
    """Refuse ``text`` before it is composed: too big, too deep, too many alias expansions, or not YAML.

    ``allow_recursion`` lets an alias sit inside the node it names, for a caller that reports that
    itself with a better location. Raises :class:`InputError` naming ``display:line`` and the fix."""
    import yaml

    if len(text) > limits.max_bytes or (len(text) * 4 > limits.max_bytes and len(text.encode()) > limits.max_bytes):
        raise InputError(display, 0, _too_big(len(text.encode()), limits))
    fast, _ = _loaders()
    try:
        _scan(text, display, limits, allow_recursion, fast)
    except yaml.YAMLError as exc:
        raise _reworded(
            text, display, exc, lambda loader: _scan(text, display, limits, allow_recursion, loader)
        ) from None


def compose(
    text: str, display: str, limits: Limits = SCENARIO_LIMITS, *, allow_recursion: bool = False
) -> yaml.Node | None:
    """:func:`check`, then the node tree of ``text`` (None for an empty document)."""
    import yaml

    check(text, display, limits, allow_recursion=allow_recursion)
    fast, _ = _loaders()
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=fast)
    except yaml.YAMLError as exc:
        raise _reworded(text, display, exc, lambda loader: yaml.compose(text, Loader=loader)) from None
    return node


def safe_load(text: str, display: str, limits: Limits = SCENARIO_LIMITS) -> Any:
    """:func:`check`, then the plain data of ``text`` (YAML's safe types only)."""
    import yaml

    check(text, display, limits)
    fast, _ = _loaders()
    try:
        return yaml.load(text, Loader=fast)
    except yaml.YAMLError as exc:
        raise _reworded(text, display, exc, lambda loader: yaml.load(text, Loader=loader)) from None


# --- cassettes -----------------------------------------------------------------------------------


def kind_of(value: Any) -> str:
    """A parsed YAML value's kind for a message: 'a mapping', 'a list', 'null', ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "a mapping", list: "a list", str: "a string", int: "an integer", float: "a number"}.get(
        type(value), type(value).__name__
    )


def _headers_problem(headers: Any, where: str) -> str | None:
    if not isinstance(headers, dict):
        return f"{where}: expected a mapping of header names to lists of values, got {kind_of(headers)}"
    for name, values in headers.items():
        if not isinstance(name, str):
            return f"{where}: a header name is {kind_of(name)}, not a string"
        items = values if isinstance(values, list) else [values]
        if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in items):
            return f"{where}.{name[:60]}: expected a string or a list of strings"
    return None


def _interaction_problem(interaction: Any, where: str) -> str | None:
    if not isinstance(interaction, dict):
        return f"{where}: expected a mapping with request and response, got {kind_of(interaction)}"
    request, response = interaction.get("request"), interaction.get("response")
    if not isinstance(request, dict):
        return f"{where}.request: expected a mapping, got {kind_of(request)}"
    if not isinstance(response, dict):
        return f"{where}.response: expected a mapping, got {kind_of(response)}"
    for key in ("method", "uri"):
        if not isinstance(request.get(key), str):
            return f"{where}.request.{key}: expected a string, got {kind_of(request.get(key))}"
    unknown = sorted(str(k) for k in set(request) - {"method", "uri", "body", "headers"})
    if unknown:
        return f"{where}.request: unknown key '{unknown[0][:40]}' (a recorded request has method, uri, body, headers)"
    if not isinstance(request.get("body"), str | bytes | None):
        return f"{where}.request.body: expected a string, got {kind_of(request.get('body'))}"
    problem = _headers_problem(request.get("headers", {}), f"{where}.request.headers")
    if problem:
        return problem
    status = response.get("status")
    if not isinstance(status, dict):
        return f"{where}.response.status: expected a mapping with code and message, got {kind_of(status)}"
    code = status.get("code")
    if not isinstance(code, int) or isinstance(code, bool) or not 100 <= code <= 599:
        shown = repr(code)[:40] if isinstance(code, str | int) else kind_of(code)
        return f"{where}.response.status.code: expected an HTTP status (100-599), got {shown}"
    problem = _headers_problem(response.get("headers", {}), f"{where}.response.headers")
    if problem:
        return problem
    body = response.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("string"), str | bytes):
        got = kind_of(body.get("string")) if isinstance(body, dict) else kind_of(body)
        return f"{where}.response.body.string: expected a string, got {got}"
    return None


def check_cassette(data: Any, display: str) -> list[dict[str, Any]]:
    """The interactions of a loaded cassette, each checked for the shape replay and ``compare`` rely on.

    Raises :class:`CassetteError` naming the file and the first thing that is wrong, by JSON path."""
    if not isinstance(data, dict) or "interactions" not in data:
        raise CassetteError(display, 0, f"expected a mapping with 'interactions', got {kind_of(data)}")
    interactions = data["interactions"]
    if not isinstance(interactions, list):
        raise CassetteError(display, 0, f"$.interactions: expected a list, got {kind_of(interactions)}")
    for index, interaction in enumerate(interactions):
        problem = _interaction_problem(interaction, f"$.interactions[{index}]")
        if problem:
            raise CassetteError(display, 0, problem)
    return interactions


def load_cassette(path: Path, display: str | None = None) -> list[dict[str, Any]]:
    """The checked interactions of the cassette at ``path``, read within :data:`CASSETTE_LIMITS`.

    An empty file is an empty cassette, as vcrpy reads it. Every problem (unreadable, not UTF-8, too
    big or deep, alias-heavy, not YAML, wrong shape) is a :class:`CassetteError` naming the file."""
    name = display or display_path(path)
    try:
        text = read(path, name, CASSETTE_LIMITS)
        data = safe_load(text, name, CASSETTE_LIMITS)
    except CassetteError:
        raise
    except InputError as exc:
        raise CassetteError(exc.file, exc.line, exc.message) from None
    return [] if data is None else check_cassette(data, name)
