"""The evaluation case rule, training cuts, and the P-TopFreq cross-check on the bundled users."""

import pytest

from themepage.constants import BUNDLED_DATA_DIR, PAGE_SIZE
from themepage.dataset import Histories, read_dataset
from themepage.dataset.cases import (
    evaluation_case_count,
    evaluation_cases,
    held_out_order_ids,
    split_of,
    training_cases,
)
from themepage.dataset.model import PRIOR
from themepage.metrics.ranking import recall_at_k
from themepage.programs.baselines import PopularBaseline, RepurchaseBaseline


def test_case_rule_on_tiny_data(tiny_data_dir):
    dataset = read_dataset(tiny_data_dir)
    cases = {c.user_id: c for c in evaluation_cases(Histories(dataset))}
    # user 1 has a train order (14): it is the target, all four prior orders are the history
    assert cases[1].target_order_id == 14 and cases[1].target == (1, 4)
    assert [o.order_id for o in cases[1].history.orders] == [10, 11, 12, 13]
    # user 2 has no train order: the last prior order with items is the target
    assert cases[2].target_order_id == 22 and [o.order_id for o in cases[2].history.orders] == [20, 21]
    assert held_out_order_ids(Histories(dataset)) == {14, 22}


def per_user_held_out(histories: Histories) -> set[int]:
    """The definition, one user at a time: the target order of every evaluation case."""
    return {case.target_order_id for case in evaluation_cases(histories)}


def add_lines(path, *lines: str) -> None:
    path.write_text(path.read_text() + "".join(line + "\n" for line in lines))


def test_held_out_ids_match_the_per_user_definition_on_tiny_data(tiny_data_dir):
    """Users with one order with items (3), none (4), orders listed out of number order (5) and a train basket."""
    add_lines(tiny_data_dir / "orders.csv", "30,3,prior,1,0,8,", "31,3,test,2,0,8,1.0", "40,4,prior,1,0,8,",
              "52,5,prior,3,0,8,2.0", "50,5,prior,1,0,8,", "51,5,prior,2,0,8,2.0", "53,5,train,4,0,8,2.0")
    add_lines(tiny_data_dir / "order_products__prior.csv", "30,1,1,0", "52,2,1,0", "50,3,1,0", "51,4,1,0")
    add_lines(tiny_data_dir / "order_products__train.csv", "53,5,1,0")
    histories = Histories(read_dataset(tiny_data_dir))
    assert held_out_order_ids(histories) == per_user_held_out(histories) == {14, 22, 53}
    assert evaluation_case_count(histories) == len(evaluation_cases(histories)) == 3


def test_held_out_ids_match_the_per_user_definition_on_bundled_data():
    histories = Histories(read_dataset(BUNDLED_DATA_DIR))
    held = held_out_order_ids(histories)
    assert held == per_user_held_out(histories) and len(held) == 33
    assert evaluation_case_count(histories) == 33
    prior_only = Histories(read_dataset(BUNDLED_DATA_DIR), eval_sets=(PRIOR,))
    assert held_out_order_ids(prior_only) == per_user_held_out(prior_only)


def test_training_cuts_use_prior_orders_from_the_third(tiny_data_dir):
    dataset = read_dataset(tiny_data_dir)
    cases = training_cases(Histories(dataset, eval_sets=(PRIOR,)), split="all")
    by_user = {}
    for case in cases:
        by_user.setdefault(case.user_id, []).append(case)
    assert [c.target_order_id for c in by_user[1]] == [12, 13]
    assert [len(c.history.orders) for c in by_user[1]] == [2, 3]
    assert [c.target_order_id for c in by_user[2]] == [22]


def test_split_is_deterministic_and_covers_both():
    splits = {u: split_of(u) for u in range(1, 200)}
    assert splits == {u: split_of(u) for u in range(1, 200)}
    assert set(splits.values()) == {"train", "dev"}


def test_repurchase_recall_cross_check(index):
    """P-TopFreq recall@48 under the case rule on the bundled 33 users is 0.523."""
    cases = evaluation_cases(index.histories)
    assert len(cases) == 33
    program = RepurchaseBaseline(index)
    recalls = [recall_at_k(program(c.user_id, c.history).product_ids(), c.target, PAGE_SIZE) for c in cases]
    assert sum(recalls) / len(recalls) == pytest.approx(0.523, abs=0.0005)


def test_baseline_pages_have_the_default_shape(index):
    history = index.histories.get(1)
    popular = PopularBaseline(index)(1, history)
    assert len(popular.placements) == 6 and all(len(p.products) == 8 for p in popular.placements)
    assert popular.product_ids() == index.popular(PAGE_SIZE)
    repurchase = RepurchaseBaseline(index)(1, history)
    assert repurchase.product_ids() == history.top_products(PAGE_SIZE)
    assert len(set(repurchase.product_ids())) == len(repurchase.product_ids())
