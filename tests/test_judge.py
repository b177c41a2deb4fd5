"""LLM-as-judge: the signature, the page rendering, the rubric score, and the offline engine's answer."""

from __future__ import annotations

import json

import dspy
import numpy as np
import pytest
from test_metrics_relevance import FakeIndex, page_of_ids

from metrics.judge import judge_score, placement_score, render_page_for_judge, rubric_unit
from signatures.judge import JudgePage, PlacementVerdict
from themepage.offline.judge import JUDGE_OUTPUTS, answer_judge, context_products, parse_page
from themepage.offline.prompt import parse_prompt
from themepage.page import Page, Placement, ProductRef
from themepage.user_context import describe_user


def verdict(c=3, t=3, u=3, off=()):
    return PlacementVerdict(title="t", cohesion=c, title_quality=t, user_fit=u, off_topic_products=list(off))


def test_signature_fields_follow_the_conventions():
    assert list(JudgePage.input_fields) == ["user_context", "page"]
    assert list(JudgePage.output_fields) == ["verdicts", "overall"]
    assert set(JudgePage.output_fields) == JUDGE_OUTPUTS
    assert not set(JudgePage.output_fields) & {"items", "keys", "values", "get"}
    assert all(f.json_schema_extra.get("desc") for f in {**JudgePage.input_fields, **JudgePage.output_fields}.values())
    assert "cohesion" in JudgePage.instructions and "off-topic" in JudgePage.instructions


def test_verdict_grades_are_clamped_to_the_scale():
    v = PlacementVerdict(title="x", cohesion=7, title_quality=0, user_fit="4")
    assert (v.cohesion, v.title_quality, v.user_fit, v.off_topic_products) == (5, 1, 4, [])


def test_render_page_for_judge():
    page = page_of_ids(("Fruit  Bowl", [1, 2]), ("Pasta", [3]))
    page.placements[0].rationale = "Sweet\nand fresh."
    assert render_page_for_judge(page, FakeIndex()) == (
        "Placement 1: Fruit Bowl\nWhy: Sweet and fresh.\n- Product 1 (fresh fruits)\n- Product 2 (fresh fruits)\n\n"
        "Placement 2: Pasta\n- Product 3 (dry pasta)")
    assert render_page_for_judge(page_of_ids(), FakeIndex()) == ""


def test_rubric_and_placement_scores():
    assert rubric_unit(1) == 0.0 and rubric_unit(5) == 1.0 and rubric_unit(3) == 0.5
    names = ["A", "B", "C", "D"]
    assert placement_score(names, verdict(5, 5, 5)) == 1.0
    assert placement_score(names, verdict(1, 1, 1, names)) == 0.0
    # grades 3, 4, 2 -> .5, .75, .25; one of four off-topic -> on-topic .75; "Zed" is not in the placement
    assert placement_score(names, verdict(3, 4, 2, ["b ", "Zed"])) == pytest.approx((0.5 + 0.75 + 0.25 + 0.75) / 4)


def test_judge_score_pairs_verdicts_with_placements_by_position():
    assert judge_score([], [verdict()]) == 0.0
    assert judge_score([["A"], ["B"]], [verdict(5, 5, 5)]) == 0.5  # second placement has no verdict: 0
    assert judge_score([["A"]], [verdict(5, 5, 5), verdict(1, 1, 1)]) == 1.0  # extra verdicts ignored


def _placement(index, title, ids) -> Placement:
    products = [ProductRef(product_id=int(p), name=index.catalog.name(int(p))) for p in ids]
    return Placement(title=title, products=products)


@pytest.fixture(scope="module")
def judged(index):
    """A real page (pasta, tacos) with a shuffled nonsense placement, judged by the offline answer."""
    pasta = index.search("spaghetti penne rigatoni pasta", 8, aisles=["dry pasta"])
    tacos = index.search("taco shells tortillas", 8)
    rng = np.random.default_rng(11)
    mixed = [int(p) for p in rng.choice(index.popular(3000), 6, replace=False)] + [pasta[0], tacos[0]]
    rng.shuffle(mixed)
    page = Page(user_id=1, program="t", placements=[_placement(index, "Pasta Dinner", pasta),
                                                     _placement(index, "Taco Tuesday", tacos),
                                                     _placement(index, "Pasta Dinner", mixed)])
    history = index.history(index.histories.user_ids[0])
    inputs = {"user_context": describe_user(history, index), "page": render_page_for_judge(page, index)}
    messages = dspy.ChatAdapter().format(dspy.Predict(JudgePage).signature, [], inputs)
    prompt = parse_prompt(messages[0]["content"], [(m["role"], m["content"]) for m in messages[1:]])
    return page, history, prompt, answer_judge(prompt, index)


def test_offline_prompt_is_read_as_a_judge_request(judged):
    _, _, prompt, _ = judged
    assert prompt.signature_key == JUDGE_OUTPUTS
    assert prompt.inputs["page"].startswith("Placement 1: Pasta Dinner\n- ")


def test_offline_answer_is_json_and_well_formed(judged):
    page, _, _, answer = judged
    assert set(answer) == JUDGE_OUTPUTS
    json.dumps(answer)
    assert [v["title"] for v in answer["verdicts"]] == [p.title for p in page.placements]
    for v in answer["verdicts"]:
        PlacementVerdict.model_validate(v)
        assert all(1 <= v[k] <= 5 and isinstance(v[k], int) for k in ("cohesion", "title_quality", "user_fit"))
    assert 0.0 <= answer["overall"] <= 1.0


def test_offline_judge_prefers_coherent_placements_to_nonsense(judged):
    _, _, _, answer = judged
    pasta, tacos, nonsense = answer["verdicts"]
    for good in (pasta, tacos):
        assert good["cohesion"] > nonsense["cohesion"]
        assert good["title_quality"] > nonsense["title_quality"]
        assert good["off_topic_products"] == []
    assert nonsense["off_topic_products"]  # a shuffled row has products unrelated to "Pasta Dinner"


def test_offline_judge_reads_back_the_rendered_page(index, judged):
    page, history, prompt, _ = judged
    parsed = parse_page(prompt.inputs["page"], index)
    assert [t for t, _, _ in parsed] == [p.title for p in page.placements]
    assert [ids for _, _, ids in parsed] == [[p.product_id for p in pl.products] for pl in page.placements]
    assert set(context_products(prompt.inputs["user_context"], index)) <= set(history.product_counts)
    assert context_products(prompt.inputs["user_context"], index)[:3] == history.top_products(3)


def test_offline_judge_flags_products_not_in_the_catalog(index):
    text = "Placement 1: Pasta Dinner\n- Penne Pasta (dry pasta)\n- Moon Cheese From Mars (dry pasta)"
    messages = dspy.ChatAdapter().format(JudgePage, [], {"user_context": "New shopper: no orders yet.", "page": text})
    prompt = parse_prompt(messages[0]["content"], [(m["role"], m["content"]) for m in messages[1:]])
    (v,) = answer_judge(prompt, index)["verdicts"]
    assert v["off_topic_products"] == ["Moon Cheese From Mars"]
    assert v["user_fit"] == 3  # a new shopper: nothing to judge fit against, neutral
