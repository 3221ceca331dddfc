"""Parsed scenarios kept on disk between runs, keyed by a hash of everything the parse reads.

Parsing the catalogue (YAML, the schema check, setups and templates) is most of a run's fixed cost.
A scenario that parsed cleanly is stored under ``$XDG_CACHE_HOME/graph-conformance/scenarios`` (or
``~/.cache/...``), named by the SHA-256 of: the file's text and display name, the known schema
names, the shared setups and rules it was parsed with, and the package's own code and data (so an
upgrade or an edited loader never reads an old entry). Files with problems are never stored: their
messages always come from a fresh parse. A cache folder that cannot be read or written only costs
the parse.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.scenarios.model import Scenario

PACKAGE = Path(__file__).resolve().parent.parent
FORMAT = b"graph-conformance parsed scenario 1"


def folder() -> Path:
    """Where parsed scenarios are kept."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "graph-conformance" / "scenarios"


@cache
def _code_digest() -> bytes:
    """The package's Python sources and data files (schema, setups, rules) with the interpreter version."""
    digest = hashlib.sha256(FORMAT + sys.version.encode())
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix in (".py", ".json", ".yaml") and "catalogue" not in path.parts and path.is_file():
            digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


_last_setups: list[Any] = [None, b""]  # the setups last hashed, and their digest: one load_scenarios passes the same


def _setups_digest(setups: Any) -> bytes:
    if _last_setups[0] is not setups:
        _last_setups[:] = [setups, hashlib.sha256(pickle.dumps(setups, protocol=5)).digest()]
    digest: bytes = _last_setups[1]
    return digest


def key(text: str, display: str, known_schemas: set[str] | None, setups: Any, rules: dict[str, Any] | None) -> str:
    """The entry name for one parse: every input of :func:`~conformance.scenarios.loader.parse_scenario`."""
    digest = hashlib.sha256(_code_digest() + _setups_digest(setups))
    for part in (
        text,
        display,
        json.dumps(None if known_schemas is None else sorted(known_schemas)),
        json.dumps(rules, sort_keys=True, default=repr),
    ):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def parsed(
    text: str,
    display: str,
    known_schemas: set[str] | None,
    setups: Any,
    rules: dict[str, Any] | None,
    parse: Callable[..., tuple[Scenario | None, list[str]]],
) -> tuple[Scenario | None, list[str]]:
    """``parse(text, display, known_schemas, setups, rules)``, from the cache when it was parsed before."""
    entry = folder() / f"{key(text, display, known_schemas, setups, rules)}.pickle"
    try:
        with entry.open("rb") as handle:
            scenario: Scenario = pickle.load(handle)  # the user's own cache folder (0700)
        return scenario, []
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        pass
    scenario_or_none, problems = parse(text, display, known_schemas, setups, rules)
    if scenario_or_none is not None and not problems:
        _store(entry, scenario_or_none)
    return scenario_or_none, problems


def _store(entry: Path, scenario: Scenario) -> None:
    temporary: str | None = None
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=entry.parent, suffix=".partial")
        with os.fdopen(handle, "wb") as out:
            pickle.dump(scenario, out, protocol=5)
        os.replace(temporary, entry)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
