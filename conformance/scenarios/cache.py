"""Parsed scenarios kept on disk between runs, keyed by a hash of everything the parse reads.

Parsing the catalogue (YAML, the schema check, setups and templates) is most of a run's fixed cost.
A scenario of the packaged catalogue that parsed cleanly is stored (a user's own scenarios may hold
PINs: they are never copied) under ``$XDG_CACHE_HOME/graph-conformance/scenarios`` (or
``~/.cache/...``), named by the SHA-256 of: the file's text and display name, the known schema
names, the shared setups and rules it was parsed with, and the package's own code and data (so an
upgrade or an edited loader never reads an old entry). The packaged shared setups are kept the same
way. Files with problems are never stored: their messages always come from a fresh parse. A cache
folder that cannot be read or written only costs the parse. Entries are pickles, so they are read
only from a folder this user owns and no one else may write into.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import stat
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
        inside = path.relative_to(PACKAGE).parts  # where the package lies is nobody's business
        if path.suffix in (".py", ".json", ".yaml") and "catalogue" not in inside and path.is_file():
            digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


def _private(info: os.stat_result) -> bool:
    """Whether a file or folder is this user's and no one else may write to it (a pickle is code)."""
    owner = os.getuid() if hasattr(os, "getuid") else info.st_uid
    return info.st_uid == owner and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _safe_folder(path: Path) -> bool:
    """Whether ``path`` is a private folder of this user's."""
    try:
        info = path.stat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and _private(info)


class ScenarioCache:
    """The cache for one load: the inputs every file of it shares (schemas, setups, rules) hashed once."""

    def __init__(self, known_schemas: set[str] | None, rules: dict[str, Any] | None) -> None:
        self.known_schemas = known_schemas
        self.rules = rules
        self.setups: Any = None
        shared = hashlib.sha256(_code_digest())
        shared.update(json.dumps(None if known_schemas is None else sorted(known_schemas)).encode() + b"\0")
        shared.update(json.dumps(rules, sort_keys=True, default=repr).encode() + b"\0")
        self.shared = shared.digest()
        self.folder = folder()

    def load_setups(self, path: Path, packaged: Path, load: Callable[[Path], Any]) -> Any:
        """``load(path)``: the shared setups the scenarios are parsed with; the packaged file's (its text is
        part of the code's digest) from the cache when it was parsed before."""
        from conformance.safeyaml import display_path  # the name its steps' messages give it

        named = f"setups\0{display_path(path)}".encode()
        entry = self.folder / f"setups-{hashlib.sha256(self.shared + named).hexdigest()}.pickle"
        cached = _read(entry) if path.resolve() == packaged.resolve() else None
        if cached is None:
            cached = load(path)  # raises with the file's problems: never stored
            if path.resolve() == packaged.resolve():
                _store(entry, cached)
        self.setups = cached
        self.shared = hashlib.sha256(self.shared + pickle.dumps(cached, protocol=5)).digest()
        return cached

    def parsed(
        self, text: str, display: str, parse: Callable[..., tuple[Scenario | None, list[str]]]
    ) -> tuple[Scenario | None, list[str]]:
        """``parse(text, display, known_schemas, setups, rules)``, from the cache when it was parsed before."""
        digest = hashlib.sha256(self.shared)
        digest.update(text.encode() + b"\0" + display.encode())
        entry = self.folder / f"scenario-{digest.hexdigest()}.pickle"
        scenario: Scenario | None = _read(entry)
        if scenario is not None:
            return scenario, []
        scenario, problems = parse(text, display, self.known_schemas, self.setups, self.rules)
        if scenario is not None and not problems:
            _store(entry, scenario)
        return scenario, problems


def _read(entry: Path) -> Any:
    """What ``entry`` holds, when it is a private file of this user's in a private folder; else None."""
    if not _safe_folder(entry.parent):
        return None
    try:
        with entry.open("rb") as handle:
            if _private(os.fstat(handle.fileno())):  # the file opened, not the name checked
                return pickle.load(handle)
    except Exception:  # unreadable, damaged or from another version: only costs the parse
        pass
    return None


def _store(entry: Path, value: Any) -> None:
    temporary: str | None = None
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _safe_folder(entry.parent):
            return  # another user's, or writable by others: never read, so never written
        handle, temporary = tempfile.mkstemp(dir=entry.parent, suffix=".partial")
        with os.fdopen(handle, "wb") as out:
            pickle.dump(value, out, protocol=5)
        os.replace(temporary, entry)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
