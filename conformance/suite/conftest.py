"""Fixtures that must outrank pytest-recording's own, so they live beside the suite module:
cassettes go to the run's cassette folder (never into the installed package), one per case."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.config import Settings
from conformance.plugin import SETTINGS_KEY, Case


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(request.config.stash[SETTINGS_KEY].cassette_dir.resolve())


@pytest.fixture
def vcr_config(graph_settings: Settings) -> dict[str, Any]:
    from conformance.recording import vcr_config

    return vcr_config(graph_settings.base_url or "")


@pytest.fixture
def default_cassette_name(request: pytest.FixtureRequest) -> str:
    from conformance.recording import cassette_name

    case = request.node.callspec.params.get("graph_case") if hasattr(request.node, "callspec") else None
    if isinstance(case, Case):
        return cassette_name(case.scenario.id, case.version)
    return str(request.node.name)
