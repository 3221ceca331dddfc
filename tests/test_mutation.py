"""Mutation testing of the catalogue: every broken variant of the reference mock is caught, every
correct-but-different variant passes (``python -m tests.mutants`` prints the whole table)."""

from __future__ import annotations

import pytest

from conformance.report import failure_message
from tests.mutants import ACCEPTED, BROKEN, CORRECT, Variant, catalogue, run_catalogue

SCENARIOS = catalogue()


@pytest.mark.parametrize("variant", BROKEN, ids=lambda v: v.name)
def test_every_broken_variant_is_caught(variant: Variant) -> None:
    results = run_catalogue(variant.build(), SCENARIOS)
    caught = [r for r in results if r.outcome not in ACCEPTED]
    assert caught, f"no scenario catches '{variant.name}' (breaks {variant.breaks})"
    if variant.breaks in {rule for s in SCENARIOS for rule in s.tags}:
        # at least one of the scenarios written for that rule is among those that caught it
        assert {r.scenario.id for r in caught} & {s.id for s in SCENARIOS if variant.breaks in s.tags}


@pytest.mark.parametrize("variant", CORRECT, ids=lambda v: v.name)
def test_every_correct_variant_passes(variant: Variant) -> None:
    results = run_catalogue(variant.build(), SCENARIOS)
    assert [(r.case_id, failure_message(r)) for r in results if r.outcome not in ACCEPTED] == []
    warnings = sum(len(r.notes) for r in results)
    assert (warnings > 0) == (variant.name == "undocumented extra properties")


def test_every_rule_has_a_broken_variant() -> None:
    from conformance.coverage import load_rules

    missing = set(load_rules()) - {v.breaks for v in BROKEN}
    assert missing == set()
