"""``graph-conformance run`` is the suite and nothing else: a conftest.py of the folder it starts in,
or of a tests folder there, is never read, and the plugins the environment would load are not."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPLAY_CATALOGUE, REPO, graph_conformance

BREAKS = "raise SystemExit('this conftest.py must not be loaded by graph-conformance run')\n"


def test_a_conftest_of_the_folder_run_starts_in_is_not_loaded(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(BREAKS, encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "conftest.py").write_text(BREAKS, encoding="utf-8")
    result = graph_conformance(*REPLAY_CATALOGUE, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^\d+ passed, \d+ skipped in ", result.stdout, re.M), result.stdout[-500:]
    assert "must not be loaded" not in result.stdout + result.stderr


def test_plain_pytest_in_that_folder_does_load_it(tmp_path: Path) -> None:
    """The folder above does break pytest there: the test before shows run keeps out of it."""
    (tmp_path / "conftest.py").write_text(BREAKS, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--co", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "must not be loaded" in result.stdout + result.stderr


def installed_plugin_that_breaks(site: Path) -> dict[str, str]:
    """A pytest plugin installed by entry point (as pip would) that ends any run loading it; the environment
    to run with it on the path."""
    site.mkdir()
    (site / "breaking_plugin.py").write_text(BREAKS.replace("conftest.py", "installed plugin"), encoding="utf-8")
    info = site / "breaking_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: breaking-plugin\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[pytest11]\nbreaking = breaking_plugin\n", encoding="utf-8")
    path = os.pathsep.join(filter(None, [str(site), str(REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def test_a_plugin_installed_in_the_environment_is_not_loaded_by_run(tmp_path: Path) -> None:
    env = installed_plugin_that_breaks(tmp_path / "site")
    plain = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--co", "-q"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert plain.returncode != 0 and "installed plugin must not be loaded" in plain.stdout + plain.stderr
    result = graph_conformance(*REPLAY_CATALOGUE, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "must not be loaded" not in result.stdout + result.stderr
