"""Shared fixtures: the doc pages, what they derive, and the committed schemas (paths: tests/helpers.py)."""

from __future__ import annotations

import pytest
import yaml  # noqa: F401  # imported before pytester's in-process runs: PyYAML's C loader cannot be re-imported

from conformance import derive as derivation
from conformance.schemas import SchemaSet
from tests.helpers import COMMITTED, DOC_DIRS

pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    """Stop at once when the doc corpus beside the clone is missing."""
    missing = [str(d) for d in DOC_DIRS if not d.is_dir()]
    if missing:
        raise pytest.UsageError(f"the tests read the doc corpus beside the clone; missing: {', '.join(missing)}")


@pytest.fixture(scope="session")
def pages() -> list:
    """Every doc page, read once."""
    return derivation.load_pages(DOC_DIRS)


@pytest.fixture(scope="session")
def derived(pages: list) -> derivation.Derived:
    """What the doc pages derive, once."""
    return derivation.derive(pages)


@pytest.fixture(scope="session")
def committed() -> SchemaSet:
    """The committed derived schemas."""
    return SchemaSet(COMMITTED)
