"""The README's GitHub Actions workflow: valid YAML whose check step, run as the runner runs it (bash,
``GITHUB_STEP_SUMMARY`` set), gates a mock on loopback: 0 against the reference mock, 1 against a
broken one, the reports and the step summary written."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conformance.mock import create_app
from conformance.mock.serve import BackgroundServer
from tests.helpers import REPO
from tests.mutants import BROKEN

WORKFLOW = re.search(
    r"## Gating a mock in GitHub Actions\n.*?```yaml\n(.*?)```", (REPO / "README.md").read_text(), re.S
)


def workflow() -> dict[str, object]:
    assert WORKFLOW is not None, "the README has no workflow under '## Gating a mock in GitHub Actions'"
    loaded = yaml.safe_load(WORKFLOW.group(1))
    assert isinstance(loaded, dict)
    return loaded


def check_step() -> str:
    steps = workflow()["jobs"]["conformance"]["steps"]  # type: ignore[index]
    (step,) = [s for s in steps if "graph-conformance run" in str(s.get("run", ""))]
    return str(step["run"])


@pytest.fixture
def mock_url() -> Iterator[str]:
    with BackgroundServer(create_app()) as server:
        yield server.url


@pytest.fixture
def broken_url() -> Iterator[str]:
    """A mock that leaks the PIN on every read (pin-code-once)."""
    with BackgroundServer(next(v for v in BROKEN if v.name == "PIN leaked on GET").build()) as server:
        yield server.url


def run_check_step(url: str, folder: Path) -> subprocess.CompletedProcess[str]:
    command = check_step().replace("http://127.0.0.1:8000", url)
    summary = folder / "step-summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    return subprocess.run(
        ["bash", "-e", "-c", command], cwd=folder, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_workflow_is_valid_and_has_the_steps_a_gate_needs() -> None:
    loaded = workflow()
    steps = loaded["jobs"]["conformance"]["steps"]  # type: ignore[index]
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"] and "actions/upload-artifact" in uses
    assert any("graph-conformance mock --port 8000 &" in str(s.get("run", "")) for s in steps)
    assert '--report-markdown "$GITHUB_STEP_SUMMARY"' in check_step()


def test_its_check_step_passes_a_conformant_mock_and_writes_every_report(mock_url: str, tmp_path: Path) -> None:
    result = run_check_step(mock_url, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    for name in ("conformance.xml", "conformance.json", "conformance.html"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert (tmp_path / "step-summary.md").read_text().startswith("## graph-conformance: conformant")


def test_its_check_step_fails_a_broken_mock(broken_url: str, tmp_path: Path) -> None:
    result = run_check_step(broken_url, tmp_path)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    assert (tmp_path / "step-summary.md").read_text().startswith("## graph-conformance: not conformant")
