"""What a scenario is once loaded: frozen :class:`Scenario`, :class:`Step` and :class:`Request`.

Also where the packaged files are: the catalogue, the pins and the schema every scenario file
is validated by (its format, read here once)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from conformance.versions import Version

_PACKAGE = Path(__file__).parent.parent
SCHEMA_PATH = _PACKAGE / "scenario.schema.json"
CATALOGUE = _PACKAGE / "catalogue"  # the packaged scenarios
PINNED = _PACKAGE / "pinned.yaml"  # documented alternatives the maintainers forbid
WRITE_METHODS = frozenset({"PUT", "PATCH", "POST", "DELETE"})
BUILTIN_VARIABLES = ("user", "version", "user_without_method")


@cache
def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file, as plain data (read once)."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@dataclass(frozen=True)
class Request:
    """One HTTP request of a step, its templates not yet filled."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any = field(repr=False)  # request bodies may hold PINs
    has_json: bool = False
    auth: bool = True


@dataclass(frozen=True)
class Step:
    """One request and what its answer must be; ``line`` is where it starts in its file."""

    name: str
    request: Request
    expect: dict[str, Any]
    capture: dict[str, str]
    line: int
    phase: str  # "given", "step" or "cleanup"
    not_applicable: tuple[frozenset[int], str] | None = None  # statuses that end the case as skipped, and why


@dataclass(frozen=True)
class Scenario:
    """One scenario file: its steps by phase, the API versions it runs on, and where it is."""

    id: str
    title: str
    docs: tuple[str, ...]
    versions: tuple[Version, ...]
    tags: tuple[str, ...]
    writes: bool
    given: tuple[Step, ...]
    steps: tuple[Step, ...]
    cleanup: tuple[Step, ...]
    file: str
    line: int

    @property
    def location(self) -> str:
        """``file:line`` of the scenario's id."""
        return f"{self.file}:{self.line}"
