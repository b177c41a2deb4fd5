"""The offline engine's cues: negation, phrases and clauses read as the instruction means them."""

from __future__ import annotations

from pathlib import Path

import pytest

from themepage.offline import steering
from themepage.offline.steering import emphasis, steer


def test_asking_to_avoid_new_products_does_not_raise_discovery():
    read = steer("Avoid new products; do not try anything unfamiliar.")
    assert read.weight("discovery") == pytest.approx(-emphasis(3))  # new, try, unfamiliar: all against
    assert read.novelty_seeking == 0.0


def test_surprising_the_shopper_raises_discovery_not_personalisation():
    read = steer("Surprise the shopper with items outside their usual basket")
    assert read.weight("discovery") == pytest.approx(emphasis(2))  # "surprise", "outside their usual"
    assert read.weight("personal") < 0


def test_home_page_is_not_household():
    assert steer("Build the home page for this shopper.").weight("household") == 0.0
    assert steer("Feature household cleaning supplies.").weight("household") == pytest.approx(emphasis(3))


def test_negation_stays_in_its_clause_and_two_negators_cancel():
    assert steer("Never repeat a product, but help them discover new products.").weight("discovery") == pytest.approx(
        emphasis(2))
    assert steer("Do not avoid new products.").weight("discovery") == pytest.approx(emphasis(1))


def test_preferring_one_thing_over_another_counts_against_the_other():
    read = steer("Favour nutritious choices over treats.")
    assert read.weight("healthy") == pytest.approx(emphasis(1))
    assert read.weight("indulgent") == pytest.approx(-emphasis(1))


def test_cohesion_cues_set_strictness_and_negated_ones_do_not():
    assert steer("Keep every placement cohesive and focused.").strictness == pytest.approx(emphasis(2))
    assert steer("Placements need not be cohesive.").strictness == 0.0


def test_the_module_says_offline_compiles_check_plumbing_and_points_to_the_one_statement():
    doc = steering.__doc__ or ""
    section = "What offline figures can and cannot show"
    assert "plumbing" in doc and section in doc
    design = (Path(__file__).resolve().parent.parent / "docs" / "design.md").read_text()
    assert f"## {section}" in design
    for tag in steering.CUES:
        assert f"| {tag}" in doc, f"the cue table does not document {tag}"
