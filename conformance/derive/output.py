"""The derived files as text, and writing them to an ``--out`` folder that a manifest says is ours."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from conformance.errors import UsageError

MANIFEST = ".graph-conformance-manifest"  # in an --out folder: what derive wrote there (JSON; not *.json)


@dataclass
class Derived:
    """What a derivation made: the files (relative path -> JSON document) and the response examples."""

    files: dict[str, Any]
    examples: list[dict[str, Any]]


def to_json_text(document: Any) -> str:
    """A derived document as written: indented, keys sorted, non-ASCII kept, one final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(derived: Derived, out: Path) -> list[Path]:
    """Write every derived file under ``out``, and remove the files an earlier write made that are no longer derived.

    ``out`` must be new, empty, or a folder an earlier write made (it holds the manifest
    :data:`MANIFEST`, listing the files written, sorted). Anything else in it, derive did not write:
    the folder is refused before anything is written, and nothing in it is ever deleted.
    Returns the files written; a folder that cannot be written is a :class:`UsageError`.
    """
    owned = _owned_files(out)
    fresh = sorted(derived.files)

    def manifest(files: Iterable[str]) -> None:
        listing = {"files": sorted(files), "written by": "graph-conformance derive"}
        (out / MANIFEST).write_text(to_json_text(listing), "utf-8")

    written: list[Path] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        manifest(owned | set(fresh))  # claims every file before it is written: an interrupted write stays ours
        for rel in fresh:
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(to_json_text(derived.files[rel]), encoding="utf-8")
            written.append(target)
        for rel in sorted(owned - set(fresh)):
            stale = out / rel
            if stale.is_symlink() or stale.is_file():
                stale.unlink()
            folder = stale.parent
            while folder != out and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent
        manifest(fresh)
    except OSError as exc:
        raise UsageError(f"derive --out {out}: cannot write {exc.filename or out}: {exc.strerror or exc}") from None
    return written


def _owned_files(out: Path) -> set[str]:
    """The files an earlier ``write`` listed in ``out``'s manifest; refuses a folder holding anything else.

    A missing or empty folder owns nothing. A folder with files but no manifest, or with files its
    manifest does not list, is refused with :class:`UsageError` naming them: they are not ours to
    overwrite or delete.
    """
    if not out.exists():
        return set()
    if not out.is_dir():
        raise UsageError(f"derive --out {out}: not a folder")
    present = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_symlink() or not p.is_dir())
    owned: set[str] = set()
    manifest = out / MANIFEST
    managed = manifest.is_file() and not manifest.is_symlink()
    if managed:
        try:
            listed = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        except (OSError, ValueError, KeyError, TypeError):
            listed = None
        safe = isinstance(listed, list) and all(
            isinstance(rel, str)
            and rel.endswith(".json")
            and "\\" not in rel
            and not PurePosixPath(rel).is_absolute()
            and all(part not in ("", ".", "..") for part in rel.split("/"))
            for rel in listed
        )
        if not safe:
            raise UsageError(
                f"derive --out {out}: {MANIFEST} is not a manifest graph-conformance wrote; give an empty or new folder"
            )
        owned = set(listed)
    foreign = [rel for rel in present if not managed or (rel != MANIFEST and rel not in owned)]
    if foreign:
        names = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        advice = "move them out, or give an empty or new folder" if managed else "give an empty or new folder"
        raise UsageError(
            f"derive --out {out}: the folder holds files graph-conformance did not write: {names}; {advice}"
        )
    return owned
