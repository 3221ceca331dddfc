"""The parsed-scenario cache: the same scenarios as a fresh parse, never stale, never storing a broken file."""

from __future__ import annotations

import pickle
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.errors import ScenarioError
from conformance.scenarios import CATALOGUE, cache, load_scenarios


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return cache.folder()


def test_a_second_load_reads_the_cache_and_equals_a_fresh_parse(cache_home: Path, tmp_path: Path) -> None:
    first = load_scenarios([CATALOGUE], base=tmp_path)
    entries = sorted(cache_home.glob("scenario-*.pickle"))
    assert len(entries) == len(list(CATALOGUE.glob("*.yaml")))
    assert len(list(cache_home.glob("setups-*.pickle"))) == 1  # the packaged shared setups
    second = load_scenarios([CATALOGUE], base=tmp_path)
    assert second == first
    shutil.rmtree(cache_home)
    assert load_scenarios([CATALOGUE], base=tmp_path) == first  # a fresh parse gives the same


def test_an_edited_file_is_parsed_again(cache_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    source = CATALOGUE / "me-read.yaml"
    copy = folder / source.name
    copy.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (before,) = {s.title for s in load_scenarios([folder], base=tmp_path, cached_under=folder)}
    assert len(list(cache_home.glob("scenario-*.pickle"))) == 1
    copy.write_text(copy.read_text(encoding="utf-8").replace(f"title: {before}", "title: an edited title"), "utf-8")
    edited = load_scenarios([folder], base=tmp_path, cached_under=folder)
    assert {s.title for s in edited} == {"an edited title"}


def test_a_users_own_scenarios_are_never_copied_into_the_cache(cache_home: Path, tmp_path: Path) -> None:
    own = tmp_path / "mine.yaml"
    own.write_text((CATALOGUE / "me-read.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_scenarios([own], base=tmp_path)
    assert not cache_home.exists() or not list(cache_home.glob("scenario-*.pickle"))


def test_a_file_with_problems_is_never_stored_and_always_reported(cache_home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\ntitle: t\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ScenarioError) as raised:
            load_scenarios([bad], base=tmp_path, cached_under=tmp_path)
        assert any(p.startswith("bad.yaml:") for p in raised.value.problems)
    assert not list(cache_home.glob("scenario-*.pickle"))


def test_a_damaged_entry_is_parsed_again_and_replaced(cache_home: Path, tmp_path: Path) -> None:
    first = load_scenarios([CATALOGUE / "me-read.yaml"], base=tmp_path)
    (entry,) = cache_home.glob("scenario-*.pickle")
    entry.write_bytes(b"not a pickle")
    assert load_scenarios([CATALOGUE / "me-read.yaml"], base=tmp_path) == first
    assert entry.read_bytes() != b"not a pickle"


def test_an_unwritable_cache_only_costs_the_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file where the folder would be
    assert load_scenarios([CATALOGUE / "me-read.yaml"], base=tmp_path)


def test_a_folder_others_may_write_into_is_never_read(cache_home: Path, tmp_path: Path) -> None:
    first = load_scenarios([CATALOGUE / "me-read.yaml"], base=tmp_path)
    (entry,) = cache_home.glob("scenario-*.pickle")
    planted = [replace(s, title="planted by someone else") for s in first]
    entry.write_bytes(pickle.dumps(planted[0]))
    assert {s.title for s in load_scenarios([CATALOGUE / "me-read.yaml"], base=tmp_path)} == {"planted by someone else"}
    cache_home.chmod(0o777)  # a shared folder: its pickles could be anyone's code
    assert load_scenarios([CATALOGUE / "me-read.yaml"], base=tmp_path) == first
    cache_home.chmod(0o700)
    entry.chmod(0o666)  # the folder is private, the file is not
    assert load_scenarios([CATALOGUE / "me-read.yaml"], base=tmp_path) == first


def test_setups_of_ones_own_are_never_stored_and_their_problems_always_reported(
    cache_home: Path, tmp_path: Path
) -> None:
    setups = tmp_path / "setups.yaml"
    setups.write_text("no-method:\n  - request: {method: DELETE}\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ScenarioError) as raised:
            load_scenarios([CATALOGUE / "me-read.yaml"], base=tmp_path, setups=setups)
        assert any("setups.yaml:2: " in p and "path" in p for p in raised.value.problems), raised.value.problems
    assert not list(cache_home.glob("setups-*.pickle"))
