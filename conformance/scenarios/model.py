"""What a scenario is once loaded: frozen :class:`Scenario`, :class:`Step`, :class:`Request` and
:class:`Expect`.

Also where the packaged files are: the catalogue, the shared setups, the pins and the schema every
scenario file is validated by (its format, read here once)."""

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
SETUPS = _PACKAGE / "setups.yaml"  # named step lists a scenario writes as {use: NAME}
PINNED = _PACKAGE / "pinned.yaml"  # documented alternatives the maintainers forbid
WRITE_METHODS = frozenset({"PUT", "PATCH", "POST", "DELETE"})
NOT_ROUTED = frozenset({404, 405, 501})  # a verb of a list that answers these was not routed: the next is tried
OPERAND_KINDS = ("equals", "not_equals", "one_of")  # assertions whose operands hold templates
BUILTIN_VARIABLES = ("other_pin", "pin", "user", "user_upn", "user_without_method", "version")


@cache
def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file, as plain data (read once)."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@dataclass(frozen=True)
class Request:
    """One HTTP request of a step, its templates not yet filled.

    ``methods`` holds one verb, or the documented verbs of one operation in the order they are tried."""

    methods: tuple[str, ...]
    path: str
    headers: dict[str, str]
    json: Any = field(repr=False)  # request bodies may hold PINs
    has_json: bool = False
    auth: bool = True

    @property
    def writes(self) -> bool:
        """Whether any of the verbs changes the target (then every one of them counts as a write)."""
        return any(method in WRITE_METHODS for method in self.methods)

    @property
    def verbs(self) -> str:
        """The verbs as written in messages: ``GET``, or ``POST or PATCH``."""
        return " or ".join(self.methods)


@dataclass(frozen=True)
class Assertion:
    """An assertion on the member at ``path`` of a JSON answer: its ``kind`` (``equals``, ``present``...), operand."""

    path: str
    kind: str
    operand: Any = None


@dataclass(frozen=True)
class Span:
    """The time from ``start`` to ``end`` (JSON paths of two date-times) is at most / at least a duration."""

    start: str
    end: str
    at_most: str | None = None
    at_least: str | None = None


@dataclass(frozen=True)
class Expect:
    """What one answer must be. An empty ``status`` accepts any status; ``error_codes`` is set by ``error:``."""

    status: tuple[int, ...] = ()
    content_type: str | None = None
    schema: str | None = None
    body: tuple[Assertion, ...] = ()
    span: tuple[Span, ...] = ()
    error_codes: tuple[str, ...] = ()

    @property
    def needs_json(self) -> bool:
        """Whether anything beyond the status line and headers is checked."""
        return bool(self.schema or self.body or self.span or self.error_codes)

    def headline(self) -> Expect:
        """Only what the status line and headers show (for an answer whose body was not read)."""
        return Expect(status=self.status, content_type=self.content_type)


Expectation = Expect | tuple[Expect, ...]  # one expectation, or documented alternatives (the first that matches)


def alternatives(expectation: Expectation) -> tuple[Expect, ...]:
    """The alternatives of an expectation (one, unless it was written as a list)."""
    return expectation if isinstance(expectation, tuple) else (expectation,)


@dataclass(frozen=True)
class Step:
    """One request and what its answer must be; ``line`` is where it starts in ``file`` (the scenario's
    own file, or the setups file for a step of a ``{use: NAME}``)."""

    name: str
    request: Request
    expect: Expectation
    capture: dict[str, str]
    line: int
    phase: str  # "given", "step" or "cleanup"
    not_applicable: tuple[frozenset[int], str] | None = None  # statuses that end the case as skipped, and why
    expect_outside: Expectation | None = None  # instead of expect when the case's value is outside its bounds
    when: str | None = None  # "inside" or "outside": the step runs only on that side of the bounds
    file: str = ""

    def expectation(self, inside: bool = True) -> Expectation:
        """What the answer must be on this side of the case's bounds."""
        return self.expect if inside or self.expect_outside is None else self.expect_outside

    @property
    def statuses(self) -> frozenset[int]:
        """Every status this step accepts, on either side of the bounds."""
        written = (self.expect, self.expect_outside) if self.expect_outside is not None else (self.expect,)
        return frozenset(s for e in written for alt in alternatives(e) for s in alt.status)


@dataclass(frozen=True)
class Binding:
    """One case of a scenario-level ``each``: the value bound to the variable ``name``.

    With a rule, the value sits at ``offset`` (-1, 0 or +1) from one of the rule's ``bounds``
    (``anchor`` is "min" or "max"); a bound may be a template (``"{pin_length}"``) resolved after
    the case's given steps. With a value set, ``value`` is the value and ``outside`` says on which side it is.
    """

    name: str
    label: str
    rule: str | None = None
    unit: str | None = None  # digits, number, hours or days
    bounds: tuple[int | str | None, int | str | None] = (None, None)  # min and max, as rules.yaml gives them
    anchor: str | None = None
    offset: int = 0
    value: Any = field(default=None, repr=False)
    outside: bool = False


@dataclass(frozen=True)
class Scenario:
    """One scenario (one case of an ``each``): its steps by phase, the API versions it runs on, and where it is."""

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
    binding: Binding | None = None  # the value of this case of an ``each``
    cases: tuple[Binding, ...] = ()  # as parsed, before expand_cases: the cases its ``each`` makes

    @property
    def location(self) -> str:
        """``file:line`` of the scenario's id."""
        return f"{self.file}:{self.line}"

    @property
    def every_step(self) -> tuple[Step, ...]:
        """Its given steps, steps and cleanup steps, in that order."""
        return (*self.given, *self.steps, *self.cleanup)

    @property
    def through_me(self) -> bool:
        """Whether a step of it goes through ``/me``: it acts on the token's owner."""
        return any(step.request.path.strip("/").split("/")[0].lower() == "me" for step in self.every_step)
