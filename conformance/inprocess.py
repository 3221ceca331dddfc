"""In-process targets: ``--app module:attr`` names an ASGI app that the suite drives without a server.

The app is imported here (the current directory first on ``sys.path``, as ``python -m`` and uvicorn
have it), once per spec; ``module:factory()`` calls a factory with no arguments. Every way a spec can
be wrong is a :class:`UsageError` naming the flag and the fix. Requests go to :data:`APP_ORIGIN`, a
name that never resolves (RFC 6761), through :class:`conformance.transport.app.AppTransport`: no socket
is opened. This module imports nothing heavy, so the settings table may use it.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from conformance.errors import UsageError

APP_ORIGIN = "http://app.invalid"  # the base URL of an in-process run: .invalid never resolves
SPEC_FORM = "module:attribute (e.g. mypackage.mock:app) or module:factory() (called with no arguments)"


class _BadSpec(Exception):
    """Why a spec names no app (without the flag: the caller says which one was typed)."""


def load_app(spec: str, given_as: str = "--graph-app") -> Callable[..., Any]:
    """The ASGI app ``spec`` names: imported (and built, for ``module:factory()``) once per process."""
    try:
        return _load(spec.strip())
    except _BadSpec as exc:
        raise UsageError(f"{given_as} {spec!r}: {exc}") from None


@functools.cache
def _load(spec: str) -> Callable[..., Any]:
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise _BadSpec(f"give {SPEC_FORM}")
    factory = attribute.endswith("()")
    path = attribute.removesuffix("()")
    if not all(part.isidentifier() for part in (*module_name.split("."), *path.split("."))):
        raise _BadSpec(f"give {SPEC_FORM}; arguments cannot be passed to a factory")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):  # the module or its package
            raise _BadSpec(
                f"no module named {exc.name!r} (run from the folder that holds it, or add that folder to PYTHONPATH)"
            ) from None
        raise _BadSpec(f"importing {module_name} raised {said(exc)}; fix the module") from None
    except (Exception, SystemExit) as exc:
        raise _BadSpec(f"importing {module_name} raised {said(exc)}; fix the module") from None
    where = module_name
    for name in path.split("."):
        if not hasattr(found, name):
            raise _BadSpec(f"{where} has no attribute {name!r}; name the app object after the colon")
        found, where = getattr(found, name), f"{where}.{name}"
    if factory:
        if not callable(found):
            raise _BadSpec(f"{where} is {kind_of(found)}, not a factory to call; drop the '()'")
        try:
            found = found()
        except (Exception, SystemExit) as exc:
            raise _BadSpec(f"calling {where}() raised {said(exc)}; fix the factory") from None
    if not callable(found):
        made = f"{where}() returned" if factory else f"{where} is"
        raise _BadSpec(f"{made} {kind_of(found)}, not an ASGI app (a callable taking scope, receive and send)")
    return found  # type: ignore[no-any-return]


def said(exc: BaseException) -> str:
    """An exception as one short line: its class and the first line of its message."""
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def kind_of(value: Any) -> str:
    """What a value is, for a message: ``a str``, ``None``, ``a module``."""
    if value is None:
        return "None"
    name = type(value).__name__
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"
