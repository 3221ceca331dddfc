"""One test, parametrized by the plugin with every scenario and API version: ``<id>[<version>]``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def test_scenario(graph_case: Any, graph_run: Callable[[Any], Any]) -> None:
    """Run one graph case; the plugin fails it with every violation found."""
    graph_run(graph_case)
