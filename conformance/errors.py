"""Errors raised by graph-conformance, each carrying the fields a message needs.

    ConformanceError                 base of everything below; ``exit_code`` says how the CLI ends
    ├── UsageError                   bad command line or configuration (exit 2)
    ├── DocError                     a doc page could not be read as documentation (exit 2)
    │   └── DocJsonError             JSON in a doc page that no known repair explains (page:line:col)
    ├── InputError                   an input file (scenario, pins, cassette) is unreadable or too big (file:line)
    │   └── CassetteError            a cassette that cannot be replayed or compared
    ├── ScenarioError                scenario or pins files are malformed: every problem as file:line
    ├── AuthError                    no token could be had (msal, token file)
    ├── TargetError                  the target could not be reached or answered unreadably (a case errors)
    ├── SetupError                   a ``given`` step did not answer as expected (a case errors)
    └── WriteRefused                 the live-tenant guard refused a write (a case errors)

    NotApplicable                    not an error: the target's state ends a case as skipped

The CLI prints ``str(error)`` and exits with ``error.exit_code``; no traceback reaches the user.
The last three end one case, not the run: the runner records them in the case's result.

Two kinds of exception live elsewhere, on purpose. The transport's signals (``transport.Incomplete``,
``TooLarge``, ``TooDeep``) are httpx errors or JSON refusals raised and caught inside one exchange; the
first two must subclass httpx's classes, which this module may not import (plugin load stays light).
The mock's ``GraphError`` is an answer in Graph's error envelope: the mock is a separate product.
"""

from __future__ import annotations


class ConformanceError(Exception):
    """Base class: a failure the user can act on, with a one-line message."""

    exit_code = 2


class UsageError(ConformanceError):
    """The command line or configuration is wrong."""


class DocError(ConformanceError):
    """A documentation page could not be read."""

    def __init__(self, page: str, line: int, message: str) -> None:
        self.page = page
        self.line = line
        self.message = message
        super().__init__(f"{page}:{line}: {message}")


class DocJsonError(DocError):
    """JSON in a doc page is broken in a way that no known repair covers."""

    def __init__(self, page: str, line: int, column: int, message: str) -> None:
        self.column = column
        DocError.__init__(self, page, line, message)
        self.args = (f"{page}:{line}:{column}: {message}",)

    def __str__(self) -> str:
        return f"{self.page}:{self.line}:{self.column}: {self.message}"


class InputError(ConformanceError):
    """An input file is unreadable, malformed or beyond the limits on size, nesting and aliases."""

    def __init__(self, file: str, line: int, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        super().__init__(f"{file}:{line}: {message}" if line else f"{file}: {message}")


class CassetteError(InputError):
    """A cassette that cannot be replayed or compared: ``cassette F is not a readable cassette: why``."""

    def __init__(self, file: str, line: int, message: str) -> None:
        InputError.__init__(self, file, line, message)
        where = f"line {line}: " if line else ""
        self.args = (f"cassette {file} is not a readable cassette: {where}{message}",)

    def __str__(self) -> str:
        return str(self.args[0])


class ScenarioError(ConformanceError):
    """One or more scenario files are malformed; ``problems`` lists every one as ``file:line: ...``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class AuthError(ConformanceError):
    """No access token could be obtained (msal failed, or the token source is unusable)."""


class TargetError(ConformanceError):
    """The target could not be reached, or answered in a way no check can read."""


class SetupError(ConformanceError):
    """A ``given`` step did not answer as expected: the case could not be set up."""


class WriteRefused(ConformanceError):
    """The live-tenant guard refused a write that the scenario's paths did not announce."""


class NotApplicable(Exception):
    """The target's state makes the rest of a case meaningless (a step's ``not_applicable`` status came)."""
