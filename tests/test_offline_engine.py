"""The offline engine through DSPy: every signature, both adapters, steering, demos, usage, state.

Every call goes through `dspy.Predict` and a real adapter, so the engine is read and
parsed exactly as a hosted model would be.
"""

from __future__ import annotations

import re

import dspy
import pytest

from themepage.constants import BUNDLED_DATA_DIR, CANDIDATES_PER_THEME, USER_CANDIDATES
from themepage.dataset.history import UserHistory
from themepage.library.theme_bank import load_theme_bank
from themepage.lm.plug import make_lm
from themepage.objectives import load_objective
from themepage.offline.engine import OfflineEngine, UnknownSignature
from themepage.page import Theme
from themepage.programs.retrieval import render_candidates, retrieve_for_theme
from themepage.signatures.bottoms_up import GenerateItems, NamePlacement
from themepage.signatures.top_down import FillTheme, FilterTheme, PlanThemes
from themepage.wording.user_context import NEW_SHOPPER, describe_user

GUIDANCE = load_objective("relevance").guidance
RANKED = load_objective("discovery").guidance
"""Guidance under which the usual ranking (steering, demos) plans every theme and draws on the catalog: asked for
regulars (relevance), the planner plans rows covering the shopper's aisles instead (themepage/library/regulars_plan.py),
and a cohesive plan of twelve may hold only the shopper's own themes."""
DISCOVER = "Help the shopper discover new products they have never tried."
_WORD = re.compile(r"[a-z]+")




@pytest.fixture
def offline(lm):
    dspy.configure(lm=lm, adapter=dspy.ChatAdapter())
    return lm


def _user(index, i=0) -> UserHistory:
    return index.histories.get(index.histories.user_ids[i])


def _aisles(index) -> set[str]:
    return {a.lower() for a in index.catalog.aisles.values()}


def _plan(user_context: str, guidance: str = GUIDANCE, n: int = 6, instruction_extra: str = "",
          demos: list | None = None) -> list[Theme]:
    predictor = dspy.Predict(PlanThemes)
    if instruction_extra:
        predictor.signature = predictor.signature.with_instructions(PlanThemes.instructions + " " + instruction_extra)
    if demos:
        predictor.demos = demos
    return predictor(user_context=user_context, objective_guidance=guidance, num_themes=n).themes


def _fill(predictor: dspy.Predict, guidance: str = GUIDANCE, **inputs) -> list[int]:
    """FillTheme's product ids; the objective's guidance goes in when the signature has that field."""
    if "objective_guidance" in predictor.signature.input_fields:
        inputs["objective_guidance"] = guidance
    return predictor(**inputs).product_ids


def _catalog_theme(index, history) -> Theme:
    """A planned theme that draws on the catalog (not only the shopper's history)."""
    themes = _plan(describe_user(history, index), RANKED, n=12)
    return next(t for t in themes if t.aisles and not t.from_history)


def _theme_and_candidates(index, history, theme=None):
    theme = theme or _catalog_theme(index, history)
    pool = retrieve_for_theme(index, theme, history, CANDIDATES_PER_THEME)
    return theme, pool, render_candidates(pool, index, history)


# ----- each signature, both adapters --------------------------------------------------------------

def test_plan_themes(index, adapter):
    themes = _plan(describe_user(_user(index), index), n=6)
    assert len(themes) == 6
    assert all(isinstance(t, Theme) for t in themes)
    titles = [t.title.strip().lower() for t in themes]
    assert all(titles) and len(set(titles)) == 6, "themes must be distinct"
    known = _aisles(index)
    for theme in themes:
        assert {a.lower() for a in theme.aisles} <= known, f"{theme.title}: aisles not in the catalog {theme.aisles}"
        assert theme.aisles or theme.from_history, f"{theme.title}: a catch-all theme must come from history"


@pytest.mark.parametrize("n", [1, 3, 9])
def test_plan_themes_honours_num_themes(index, offline, n):
    themes = _plan(describe_user(_user(index, 2), index), n=n)
    assert len(themes) == n and len({t.title for t in themes}) == n


def test_fill_theme(index, adapter):
    history = _user(index, 1)
    theme, pool, candidates = _theme_and_candidates(index, history)
    for n in (8, 12):
        picks = _fill(dspy.Predict(FillTheme), theme=theme,
                      candidates=candidates, num_products=n)
        assert all(isinstance(p, int) for p in picks)
        assert set(picks) <= set(pool), "picked an id that was not a candidate"
        assert len(picks) == len(set(picks)) == n


def test_fill_theme_with_fewer_candidates_than_asked(index, offline):
    history = _user(index, 1)
    theme, pool, _ = _theme_and_candidates(index, history)
    few = pool[:5]
    picks = _fill(dspy.Predict(FillTheme), theme=theme,
                  candidates=render_candidates(few, index, history), num_products=8)
    assert sorted(picks) == sorted(few)


def test_filter_theme(index, adapter):
    history = _user(index, 1)
    theme, pool, _ = _theme_and_candidates(index, history)
    # a placement with a few obvious intruders from the far end of the catalog
    intruders = [p for p in index.popular(400) if index.catalog.aisle(p).lower() not in
                 {a.lower() for a in theme.aisles}][-3:]
    shown = pool[:8] + intruders
    pred = dspy.Predict(FilterTheme)(theme=theme, products=render_candidates(shown, index))
    kept = pred.kept_ids
    assert set(kept) <= set(shown)
    assert set(pool[:8]) & set(kept), "products of the theme's own pool are kept"
    assert kept == [p for p in shown if p in set(kept)], "kept ids keep their original order"
    assert set(pred.keys()) == {"kept_ids"}, "the filter answers ids only: what it drops is the rest"


def test_generate_items(index, adapter):
    history = _user(index, 4)
    pool = index.candidates_for_user(history, USER_CANDIDATES)
    picks = dspy.Predict(GenerateItems)(user_context=describe_user(history, index), objective_guidance=GUIDANCE,
                                        candidates=render_candidates(pool, index, history), num_products=48).product_ids
    assert all(isinstance(p, int) for p in picks)
    assert set(picks) <= set(pool)
    assert len(picks) == len(set(picks)) == 48


def test_name_placement(index, adapter):
    history = _user(index, 0)
    members = history.top_products(8)
    lines = "\n".join(f"{index.catalog.name(p)} | {index.catalog.aisle(p)}" for p in members)
    pred = dspy.Predict(NamePlacement)(products=lines)
    assert isinstance(pred.title, str) and pred.title.strip()
    assert len(pred.title.split()) <= 6, "the signature asks for at most six words"
    assert isinstance(pred.rationale, str) and pred.rationale.strip()


def test_name_placement_follows_the_products(index, offline):
    """Two clearly different groups get different names."""
    def group(aisle):
        return [p for p in index.popular(2000) if index.catalog.aisle(p) == aisle][:6]

    def title(products):
        lines = "\n".join(f"{index.catalog.name(p)} | {index.catalog.aisle(p)}" for p in products)
        return dspy.Predict(NamePlacement)(products=lines).title

    assert title(group("fresh fruits")) != title(group("soft drinks"))


# ----- errors, usage, determinism -----------------------------------------------------------------

def test_unknown_signature_names_outputs_and_known_signatures(index, offline):
    with pytest.raises(Exception) as caught:
        dspy.Predict("question -> answer")(question="What is on sale?")
    message = str(caught.value)
    assert "answer" in message
    for name in ("PlanThemes", "FillTheme", "FilterTheme", "GenerateItems", "NamePlacement"):
        assert name in message, f"{name} missing from: {message}"


def test_unknown_signature_raises_its_own_error_from_the_engine(index):
    engine = OfflineEngine(index)
    system = ("Your input fields are:\n1. `question` (str): \nYour output fields are:\n1. `answer` (str): \n"
              "All interactions will be structured in the following way\n\nIn adhering to this structure, "
              "your objective is: Answer.")
    with pytest.raises(UnknownSignature, match=r"\['answer'\].*PlanThemes"):
        engine.answer(system, [("user", "[[ ## question ## ]]\nhi")])


def test_usage_is_reported(index, lm):
    dspy.configure(lm=lm, adapter=dspy.ChatAdapter(), track_usage=True)
    pred = dspy.Predict(PlanThemes)(user_context=describe_user(_user(index), index), objective_guidance=GUIDANCE,
                                    num_themes=6)
    usage = pred.get_lm_usage()
    assert usage, "no usage tracked"
    entry = next(iter(usage.values()))
    assert entry["prompt_tokens"] > 0 and entry["completion_tokens"] > 0
    # a longer prompt costs more prompt tokens
    longer = dspy.Predict(PlanThemes)(user_context=describe_user(_user(index), index) + "\n" + "Likes: cheese. " * 200,
                                      objective_guidance=GUIDANCE, num_themes=6).get_lm_usage()
    assert next(iter(longer.values()))["prompt_tokens"] > entry["prompt_tokens"]


def test_same_prompt_same_answer(index, lm, adapter):
    history = _user(index, 3)
    context = describe_user(history, index)
    first = _plan(context)
    again = _plan(context)
    assert [t.model_dump() for t in first] == [t.model_dump() for t in again]
    theme, pool, candidates = _theme_and_candidates(index, history, first[0])
    fills = [_fill(dspy.Predict(FillTheme), theme=theme, candidates=candidates,
                   num_products=10) for _ in range(2)]
    assert fills[0] == fills[1]
    # a fresh engine over the same index answers identically
    with dspy.context(lm=make_lm("offline", index, cache=False)):
        assert [t.model_dump() for t in _plan(context)] == [t.model_dump() for t in first]


# ----- steering by instruction, guidance and demos ------------------------------------------------

def _bank_tags() -> dict[str, set[str]]:
    return {t.title: set(t.tags) for t in load_theme_bank()}


def test_discovery_instruction_changes_the_plan(index, offline):
    history = _user(index, 0)
    context = describe_user(history, index)
    base = _plan(context)
    steered = _plan(context, instruction_extra=DISCOVER)
    assert [t.title for t in steered] != [t.title for t in base]
    assert sum(t.from_history for t in steered) < sum(t.from_history for t in base), \
        "asked for discovery, the plan should lean less on the shopper's own history"


def _theme_with_own_products(index, history):
    """The planned catalog theme whose candidates hold most of the shopper's own products, with its candidates.

    Discovery steering can only show when a plain fill has bought products to trade for new ones: the first
    catalog theme of a discovery plan lies away from the shopper's buying, its candidates nearly all new, so
    a plain fill of it is already (nearly) all new and steering has nothing to change."""
    themes = _plan(describe_user(history, index), RANKED, n=12)
    pools = [(t, retrieve_for_theme(index, t, history, CANDIDATES_PER_THEME))
             for t in themes if t.aisles and not t.from_history]
    theme, pool = max(pools, key=lambda tp: sum(bool(history.product_counts.get(p)) for p in tp[1]))
    return theme, pool, render_candidates(pool, index, history)


def _more_new_products_when_steered(index, steer) -> int:
    """For a few shoppers: a catalog theme holding some of their own products, filled plainly and filled under
    `steer(predictor, inputs)`; the steered fill must choose more 'new to you' candidates. Returns how many
    shoppers could be compared."""
    checked = 0
    for i in range(5):
        history = _user(index, i)
        theme, pool, candidates = _theme_with_own_products(index, history)
        new = {p for p in pool if not history.product_counts.get(p)}
        inputs = dict(theme=theme, candidates=candidates, num_products=8)
        base = _fill(dspy.Predict(FillTheme), **inputs)
        if sum(p in new for p in base) >= min(8, len(new)):
            continue  # already as new as the candidates allow
        steered = steer(dspy.Predict(FillTheme), inputs)
        assert set(steered) <= set(pool)
        assert sum(p in new for p in steered) > sum(p in new for p in base), (theme.title, base, steered)
        checked += 1
    return checked


def test_discovery_instruction_fills_with_new_products(index, offline):
    """The same theme and candidates: asked (in the instruction) for discovery, more new products are chosen."""
    def steer(predictor, inputs):
        predictor.signature = predictor.signature.with_instructions(FillTheme.instructions + " " + DISCOVER)
        return _fill(predictor, **inputs)

    assert _more_new_products_when_steered(index, steer) >= 4


def test_discovery_guidance_fills_theme_with_new_products(index, offline):
    if "objective_guidance" not in FillTheme.input_fields:
        pytest.skip("FillTheme takes no objective_guidance")

    def steer(predictor, inputs):
        return _fill(predictor, guidance="Discovery: " + DISCOVER, **inputs)

    assert _more_new_products_when_steered(index, steer) >= 4


def test_discovery_guidance_fills_with_new_products(index, offline):
    """The objective's guidance steers GenerateItems too."""
    history = _user(index, 2)
    pool = index.candidates_for_user(history, USER_CANDIDATES)
    new = {p for p in pool if not history.product_counts.get(p)}
    kwargs = dict(user_context=describe_user(history, index), candidates=render_candidates(pool, index, history),
                  num_products=24)
    base = dspy.Predict(GenerateItems)(objective_guidance=GUIDANCE, **kwargs).product_ids
    steered = dspy.Predict(GenerateItems)(objective_guidance="Discovery: " + DISCOVER, **kwargs).product_ids
    assert sum(p in new for p in steered) > sum(p in new for p in base)


def test_healthy_guidance_changes_the_plan(index, offline):
    tags = _bank_tags()
    history = _user(index, 0)
    context = describe_user(history, index)
    base = _plan(context)
    healthy = _plan(context, guidance="Healthy: more fresh fruits and vegetables, wholesome and nutritious choices.")
    assert [t.title for t in healthy] != [t.title for t in base]
    def count(themes):
        return sum("healthy" in tags.get(t.title, set()) for t in themes)
    assert count(healthy) > count(base)


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def test_demos_of_similar_users_pull_their_theme_up(index, offline):
    """For a shopper whose plan lacks theme T (their next-best), demos of the two most similar shoppers
    whose plans had T bring T onto the page; the same demos without T do not."""
    users = index.histories.user_ids
    contexts = {u: describe_user(index.histories.get(u), index) for u in users}
    for a in users[:6]:
        def similarity(u):
            mine, theirs = _words(contexts[a]), _words(contexts[u])
            return len(mine & theirs) / len(mine | theirs)

        similar = sorted((u for u in users if u != a), key=similarity, reverse=True)[:2]
        six = _plan(contexts[a], RANKED)
        longer = _plan(contexts[a], RANKED, n=12)
        assert [t.title for t in longer[:6]] == [t.title for t in six]
        missing = longer[6]
        on_page = {t.title for t in longer[:7]}

        def demo(b, with_missing: bool):
            # their plan: (T and) what else they got that is not on this shopper's page
            themes = [missing] * with_missing + [t for t in _plan(contexts[b], RANKED) if t.title not in on_page]
            return dspy.Example(user_context=contexts[b], objective_guidance=RANKED, num_themes=len(themes),
                                themes=[t.model_dump() for t in themes])

        with_demos = [t.title for t in _plan(contexts[a], RANKED, demos=[demo(b, True) for b in similar])]
        assert missing.title in with_demos, (a, similar, missing.title, with_demos)
        without = [t.title for t in _plan(contexts[a], RANKED, demos=[demo(b, False) for b in similar])]
        assert missing.title not in without, (a, similar, missing.title, without)


def test_new_shopper_still_gets_a_plan(index, adapter):
    themes = _plan(NEW_SHOPPER)
    assert len(themes) == 6 and len({t.title for t in themes}) == 6
    assert not any(t.from_history for t in themes), "a shopper with no orders has no history to build on"
    known = _aisles(index)
    assert all(t.aisles and {a.lower() for a in t.aisles} <= known for t in themes)


def test_new_shopper_fill_uses_only_candidates(index, offline):
    empty = UserHistory(user_id=0)
    theme = _plan(NEW_SHOPPER)[0]
    pool = retrieve_for_theme(index, theme, empty, CANDIDATES_PER_THEME)
    picks = _fill(dspy.Predict(FillTheme), theme=theme,
                  candidates=render_candidates(pool, index, empty), num_products=8)
    assert set(picks) <= set(pool) and len(set(picks)) == 8


# ----- engine state -------------------------------------------------------------------------------

def test_engine_state_round_trip(index, isolated_cache_dir):
    engine = OfflineEngine(index, BUNDLED_DATA_DIR, isolated_cache_dir)
    state = engine.dump_state()
    assert state == {"data_dir": str(BUNDLED_DATA_DIR), "cache_dir": str(isolated_cache_dir)}
    restored = OfflineEngine.load_state(state)
    assert isinstance(restored, OfflineEngine)
    assert restored.dump_state() == state
    adapter = dspy.ChatAdapter()
    context = describe_user(_user(index), index)
    messages = adapter.format(PlanThemes, [], dict(user_context=context, objective_guidance=GUIDANCE, num_themes=6))
    system, turns = messages[0]["content"], [(m["role"], m["content"]) for m in messages[1:]]
    assert restored.answer(system, turns) == engine.answer(system, turns)


def test_lm_state_round_trip_keeps_the_engine(index, isolated_cache_dir):
    lm = make_lm("offline", index, cache=False, data_dir=BUNDLED_DATA_DIR)
    state = lm.dump_state()
    assert state["engine"]["class"] == "themepage.offline.engine:OfflineEngine"
    assert state["engine"]["state"]["data_dir"] == str(BUNDLED_DATA_DIR)
    with pytest.raises(Exception, match="allow_unsafe_lm_state"):
        dspy.LM.load_state(dict(state))  # custom engine classes load only when trusted
    restored = dspy.LM.load_state(dict(state), allow_custom_lm_class=True)
    assert isinstance(restored.engine, OfflineEngine)
    dspy.configure(lm=restored, adapter=dspy.ChatAdapter())
    context = describe_user(_user(index), index)
    with dspy.context(lm=lm):
        expected = [t.title for t in _plan(context)]
    assert [t.title for t in _plan(context)] == expected


def test_together_picks_products_bought_with_the_first_pick():
    import numpy as np

    from themepage.offline.choosing import _together
    from themepage.offline.reading import Candidate

    class Vectors:
        vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1], [0.0, 1.0]])

        def rows(self, ids):
            return np.asarray(list(ids))

    candidates = [Candidate(i, f"product {i}", "aisle", 0.0) for i in range(4)]
    scores = np.array([1.0, 0.9, 0.5, 0.8])
    assert _together(candidates, scores, 2, Vectors(), 0.0) == [0, 1], "no strictness: the best scores"
    assert _together(candidates, scores, 2, Vectors(), 2.0) == [0, 2], "asked for cohesion: what goes with 0"
    assert sorted(_together(candidates, scores, 9, Vectors(), 2.0)) == [0, 1, 2, 3]


def test_cohesion_instruction_fills_with_products_bought_together(index, offline):
    """The same themes and candidates: asked for cohesive placements, the picks are bought together more often."""
    import numpy as np

    from themepage.metrics.cohesion import mean_pairwise_cosine
    from themepage.metrics.relevance import metric_vectors

    base, steered = [], []
    for i in range(4):
        history = _user(index, i)
        theme, _, candidates = _theme_and_candidates(index, history)
        inputs = dict(theme=theme, candidates=candidates, num_products=8)
        plain = dspy.Predict(FillTheme)
        cohesive = dspy.Predict(FillTheme.with_instructions(
            FillTheme.instructions + " Keep every placement cohesive, focused and distinct."))
        base.append(mean_pairwise_cosine(metric_vectors(index, _fill(plain, **inputs))))
        steered.append(mean_pairwise_cosine(metric_vectors(index, _fill(cohesive, **inputs))))
    assert np.mean(steered) > np.mean(base)
