"""Shared fixtures: the doc pages and metadata, what they derive, and the committed schemas (paths: tests/helpers.py)."""

from __future__ import annotations

import pytest
import yaml  # noqa: F401  # imported before pytester's in-process runs: PyYAML's C loader cannot be re-imported

from conformance import derive as derivation
from conformance.schemas import SchemaSet
from tests.helpers import COMMITTED, DOC_DIRS, METADATA

pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    """Stop at once when the doc corpus beside the clone is missing."""
    missing = [str(d) for d in DOC_DIRS if not d.is_dir()] + [str(m) for m in METADATA if not m.is_file()]
    if missing:
        raise pytest.UsageError(f"the tests read the doc corpus beside the clone; missing: {', '.join(missing)}")


@pytest.fixture(scope="session")
def pages() -> list:
    """Every doc page, read once."""
    return derivation.load_pages(DOC_DIRS)


@pytest.fixture(scope="session")
def models() -> list:
    """Each version's metadata, read once."""
    return derivation.read_models(derivation.metadata_files([str(m) for m in METADATA]))


@pytest.fixture(scope="session")
def derived(pages: list, models: list) -> derivation.Derived:
    """What the doc pages and the metadata derive, once."""
    return derivation.derive(pages, models)


@pytest.fixture(scope="session")
def committed() -> SchemaSet:
    """The committed derived schemas."""
    return SchemaSet(COMMITTED)
