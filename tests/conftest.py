"""Shared fixtures: where the project, the doc corpus and the committed schemas are."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml  # noqa: F401  # imported before pytester's in-process runs: PyYAML's C loader cannot be re-imported

from conformance import derive as derivation
from conformance.schemas import SchemaSet

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DOC_DIRS = [SHARED / "seeds", SHARED / "graph-docs"]
COMMITTED = REPO / "schemas" / "derived"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    missing = [str(d) for d in DOC_DIRS if not d.is_dir()]
    if missing:
        raise pytest.UsageError(f"the tests read the doc corpus beside the clone; missing: {', '.join(missing)}")


@pytest.fixture(scope="session")
def pages() -> list:
    return derivation.load_pages(DOC_DIRS)


@pytest.fixture(scope="session")
def derived(pages: list) -> derivation.Derived:
    return derivation.derive(pages)


@pytest.fixture(scope="session")
def committed() -> SchemaSet:
    return SchemaSet(COMMITTED)
