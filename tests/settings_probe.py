"""A pytest plugin for the option tests (``-p tests.settings_probe``): once graph cases are collected, it
writes the run's resolved settings, every field, to ``settings.json`` in the working folder."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from conformance.plugin import SETTINGS_KEY


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return str(value) if isinstance(value, Path) else value


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    settings = session.config.stash[SETTINGS_KEY]
    fields = {f.name: _plain(getattr(settings, f.name)) for f in dataclasses.fields(settings)}
    Path("settings.json").write_text(json.dumps(fields, indent=1))
