"""Fixtures that must outrank pytest-recording's own, so they live beside the suite module:
cassettes go to the run's cassette folder (never into the installed package), one per case.

vcrpy reads cassettes through a hardened persister: each is read within the limits of
:mod:`conformance.safeyaml` and its shape checked before vcrpy parses it. A cassette that is not
readable fails its case with one line, ``cassette cassettes/x--beta.yaml is not a readable
cassette: <why>``, and the run ends with pytest's usage-error status (``graph-conformance run``
exits 2: bad input)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.config import Settings
from conformance.plugin import BAD_INPUT_KEY as UNREADABLE_KEY
from conformance.plugin import Case


class HardenedPersister:
    """vcrpy's persister, with every cassette checked before vcrpy (or pytest-recording) parses it."""

    def __init__(self, inner: Any, config: pytest.Config, record_mode: str) -> None:
        self.inner = inner
        self.config = config
        self.record_mode = record_mode

    def load_cassette(self, cassette_path: str | Path, serializer: Any) -> Any:
        """The cassette's requests and responses; a missing or empty one is vcrpy's "no cassette"."""
        from vcr.persisters.filesystem import CassetteNotFoundError  # type: ignore[import-untyped]

        from conformance.errors import CassetteError
        from conformance.recording import recorded_clock
        from conformance.safeyaml import display_path, load_cassette

        path = Path(cassette_path)
        display = display_path(path)
        if not path.exists() and not path.is_symlink():
            raise CassetteNotFoundError(display)
        try:
            if not load_cassette(path, display):
                raise CassetteNotFoundError(display)  # empty: recorded afresh, or "no cassette" at replay
            if self.record_mode == "none":
                recorded_clock(path)  # the clock a replay renders templates with must be a date-time
            return self.inner.load_cassette(cassette_path, serializer)
        except CassetteNotFoundError:
            raise
        except CassetteError as exc:
            problem = str(exc)
        except Exception as exc:  # whatever else vcrpy finds wrong with a cassette of the right shape
            problem = str(CassetteError(display, 0, f"{type(exc).__name__}: {str(exc)[:200]}"))
        if self.record_mode == "all":
            raise CassetteNotFoundError(display)  # recorded anew: what was there is never replayed
        self.config.stash.setdefault(UNREADABLE_KEY, []).append(problem)
        pytest.fail(problem, pytrace=False)

    def save_cassette(self, cassette_path: str | Path, cassette_dict: Any, serializer: Any) -> None:
        """Written as vcrpy writes it."""
        self.inner.save_cassette(cassette_path, cassette_dict, serializer=serializer)


@pytest.hookimpl(optionalhook=True)
def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """Every cassette vcrpy reads for this suite goes through :class:`HardenedPersister`."""
    mode = vcr.record_mode
    vcr.register_persister(HardenedPersister(vcr.persister, config, str(getattr(mode, "value", mode))))


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """After the run's summary: how many cassettes could not be read, and what that means."""
    unreadable = config.stash.get(UNREADABLE_KEY, [])
    if unreadable:
        terminalreporter.write_line(
            f"graph-conformance: {len(unreadable)} case(s) could not be replayed from their cassettes "
            "(unreadable, or missing a request); record or fix them (exit 2: bad input)"
        )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """An unreadable cassette is bad input: the run ends with the usage-error status."""
    if session.config.stash.get(UNREADABLE_KEY, []) and session.exitstatus in (
        pytest.ExitCode.OK,
        pytest.ExitCode.TESTS_FAILED,
    ):
        session.exitstatus = pytest.ExitCode.USAGE_ERROR


@pytest.fixture(scope="module")
def vcr_cassette_dir(graph_settings: Settings) -> str:
    """The run's cassette folder (``--cassette-dir``)."""
    return str(graph_settings.cassette_dir.resolve())


@pytest.fixture
def vcr_config(graph_settings: Settings) -> dict[str, Any]:
    """VCR settings for the run's target: canonical origin, scrubbing, header filters."""
    from conformance.recording import vcr_config

    return vcr_config(graph_settings.base_url or "")


@pytest.fixture
def default_cassette_name(request: pytest.FixtureRequest) -> str:
    """One cassette per case: ``<scenario id>--<version>``."""
    from conformance.recording import cassette_name

    case = request.node.callspec.params.get("graph_case") if hasattr(request.node, "callspec") else None
    if isinstance(case, Case):
        return cassette_name(case.scenario.id, case.version)
    return str(request.node.name)
