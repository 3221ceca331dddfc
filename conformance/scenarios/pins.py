"""``pinned.yaml``: documented alternatives the maintainers forbid, checked against the scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance import safeyaml
from conformance.errors import InputError, ScenarioError
from conformance.scenarios.loader import did_you_mean
from conformance.scenarios.model import Scenario


def load_pins(path: Path, scenarios: list[Scenario]) -> list[dict[str, Any]]:
    """The forbidden alternatives of ``pinned.yaml``, each checked against the scenarios it names."""
    display = safeyaml.display_path(path)
    try:  # read within the limits of a scenario file: size, depth, aliases
        data = safeyaml.safe_load(safeyaml.read(path, display, safeyaml.SCENARIO_LIMITS), display) or {}
    except InputError as exc:
        raise ScenarioError([str(exc)]) from None
    pins = data.get("pins") if isinstance(data, dict) else None
    if not isinstance(pins, list):
        raise ScenarioError([f"{display}: expected a mapping with a 'pins' list"])
    steps = {s.id: {step.name for step in s.steps} for s in scenarios}
    problems: list[str] = []
    for index, pin in enumerate(pins):
        where = f"{display}: pins[{index}]"
        if not isinstance(pin, dict) or set(pin) != {"scenario", "step", "forbid", "reason"}:
            problems.append(f"{where}: give exactly scenario, step, forbid and reason")
        elif not all(isinstance(pin[key], str) for key in ("scenario", "step", "reason")):
            problems.append(f"{where}: scenario, step and reason are strings")
        elif pin["scenario"] not in steps:
            problems.append(
                f"{where}: unknown scenario '{pin['scenario']}'{did_you_mean(str(pin['scenario']), sorted(steps))}"
            )
        elif pin["step"] not in steps[pin["scenario"]]:
            problems.append(f"{where}: scenario '{pin['scenario']}' has no step '{pin['step']}'")
        elif not isinstance(pin["forbid"], list) or not all(isinstance(s, int) for s in pin["forbid"]):
            problems.append(f"{where}: forbid is a list of statuses")
    if problems:
        raise ScenarioError(problems)
    return pins
