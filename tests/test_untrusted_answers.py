"""LM answers are untrusted: titles are cleaned and capped, broken ones fall back, huge answers are read
only as far as needed, and a bug in our own code surfaces instead of hiding behind a fallback."""

from __future__ import annotations

import json

import dspy
import pytest
from cli_runner import run_cli

import themepage.programs.bottoms_up as bottoms_up
import themepage.programs.top_down as top_down
from themepage.objectives import load_objective
from themepage.page import Theme
from themepage.programs.bottoms_up import BottomsUpProgram
from themepage.programs.bottoms_up_rows import LEFTOVER_TITLE
from themepage.programs.guards import READ_FACTOR, clean_ids
from themepage.programs.modules import ThemePlanner
from themepage.programs.registry import make_program
from themepage.signatures.top_down import PlanThemes
from themepage.wording.answer_text import (
    RATIONALE_MAX_CHARS,
    TITLE_MAX_CHARS,
    TITLE_MAX_WORDS,
    clean_rationale,
    clean_text,
    clean_title,
    usable_title,
)

WANTED = load_objective("relevance").constraints.placements
HOSTILE = "Easy\ud800 Pasta\x00 Night\u202e\u2066\u200b\ufeff\x1b[31m"


def test_clean_text_drops_surrogates_controls_bidi_and_zero_width():
    cleaned = clean_text(HOSTILE)
    assert cleaned == "Easy Pasta Night[31m"
    cleaned.encode("utf-8")  # would raise on a lone surrogate


def test_titles_are_capped_at_a_word_boundary():
    long = "Sweet and Salty Snacks for the Whole Family Movie Night Weekend Marathon"
    title = clean_title(long)
    assert title == "Sweet and Salty Snacks for the Whole Family"
    assert len(title) <= TITLE_MAX_CHARS and len(title.split()) <= TITLE_MAX_WORDS
    assert clean_title("x" * 100) == "x" * TITLE_MAX_CHARS  # one giant word is cut, not dropped


def test_rationales_are_capped_at_a_word_boundary_and_marked():
    rationale = clean_rationale("because " * 100)
    assert len(rationale) <= RATIONALE_MAX_CHARS and rationale.endswith("because…")
    assert clean_rationale("Short and sweet.") == "Short and sweet."


@pytest.mark.parametrize("title", ["Y", "", "12 34", '{"title": "Eas', "[[ ## themes ## ]]", "- Snacks", "a\\b cde"])
def test_fragments_are_not_titles(title):
    assert not usable_title(clean_title(title))


@pytest.mark.parametrize("title", ["Your Weekly Staples", "Snacks: Sweet & Salty", "Kids' Lunchbox Fixings"])
def test_real_titles_are_titles(title):
    assert usable_title(clean_title(title))


def _planner_answers(monkeypatch, themes: list[Theme]) -> None:
    monkeypatch.setattr(ThemePlanner, "forward", lambda self, **_: dspy.Prediction(themes=themes))


def _namer_answers(monkeypatch, title: str, rationale: str) -> None:
    original = BottomsUpProgram.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.namer = lambda **_: dspy.Prediction(title=title, rationale=rationale)

    monkeypatch.setattr(BottomsUpProgram, "__init__", init)


@pytest.mark.parametrize("fmt", ["json", "text"])
@pytest.mark.parametrize("program", ["top-down", "bottoms-up"])
def test_a_surrogate_in_an_lm_title_does_not_crash_generate(monkeypatch, capsys, program, fmt):
    _planner_answers(monkeypatch, [Theme(title=f"{HOSTILE} {i}", rationale=HOSTILE, queries=["pasta", "pasta sauce"])
                                   for i in range(WANTED)])
    _namer_answers(monkeypatch, HOSTILE, HOSTILE)
    # this test is about text, not fit: every row may carry the hostile title whatever its products
    monkeypatch.setattr(bottoms_up, "title_fits", lambda index: lambda title, ids: True)
    monkeypatch.setattr(bottoms_up, "clearly_titled", lambda index, size: lambda title, ids: True)
    code, out, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--program", program, "--format", fmt)
    assert code == 0, err
    out.encode("utf-8")
    assert "Easy Pasta Night" in out and "\x00" not in out and "\u202e" not in out
    if fmt == "json":
        page = json.loads(out)
        assert all(usable_title(p["title"]) and p["title"] == clean_title(p["title"]) for p in page["placements"])


def test_unusable_planner_titles_fall_back_to_retrieval_themes(monkeypatch, index, lm):
    broken = [Theme(title=t, queries=["pasta", "pasta sauce"])
              for t in ["Y", '{"title": "Eas', "", "Easy Pasta Night", "easy  pasta night"]]
    _planner_answers(monkeypatch, broken)
    page = make_program("top-down", index, lm=lm)(1, index.histories.get(1))
    titles = [p.title for p in page.placements]
    assert "Easy Pasta Night" in titles and len(titles) == WANTED
    assert all(usable_title(t) for t in titles)
    assert any("1 usable themes" in note for note in page.stats.fallbacks), page.stats.fallbacks


def test_an_unusable_placement_name_falls_back_to_what_the_products_share(monkeypatch, index, lm):
    _namer_answers(monkeypatch, "Y", "cut")
    page = make_program("bottoms-up", index, lm=lm)(7, index.histories.get(7))
    assert all(usable_title(p.title) and len(p.title.split()) <= 6
               and (p.title == LEFTOVER_TITLE or not p.title.endswith("Picks"))
               for p in page.placements), [p.title for p in page.placements]
    assert any("no usable title" in note and "have in common" in note for note in page.stats.fallbacks)


def test_a_huge_plan_is_read_only_a_few_times_over(monkeypatch, index, lm):
    """20,000 copies of one theme took minutes (quadratic de-duplication); now at most READ_FACTOR·wanted are read
    of each answer (two: a plan of one theme is asked for once more)."""
    _planner_answers(monkeypatch, [Theme(title="Same Theme")] * 20_000)
    seen = []
    real_title_key = top_down.title_key
    monkeypatch.setattr(top_down, "title_key", lambda title: seen.append(title) or real_title_key(title))
    page = make_program("top-down", index, lm=lm)(1, index.histories.get(1))
    assert len(page.placements) == WANTED
    assert len(seen) <= 2 * (2 * READ_FACTOR * WANTED) + 4 * WANTED, len(seen)


def test_long_id_lists_are_read_only_a_few_times_over():
    junk = ["x"] * 1_000_000
    assert clean_ids([*junk, 1], [1, 2]) == []
    assert clean_ids([*junk[:7], 2], [1, 2]) == [2]  # within READ_FACTOR·2 = 8 entries
    assert clean_ids([3, 3, 3, 3, 1], [1, 2, 3], limit=1) == [3]


@pytest.mark.parametrize("error", [TypeError, AttributeError, KeyError, IndexError])
def test_a_bug_in_our_code_surfaces_instead_of_falling_back(monkeypatch, index, lm, error):
    def broken(*_args, **_kwargs):
        raise error("injected bug")

    monkeypatch.setattr(top_down, "render_candidates", broken)
    with pytest.raises(error, match="injected bug"):
        make_program("top-down", index, lm=lm)(1, index.histories.get(1))


def test_an_lm_failure_still_falls_back(monkeypatch, index, lm):
    def unparseable(self, **_):
        raise dspy.utils.exceptions.AdapterParseError(adapter_name="ChatAdapter", signature=PlanThemes,
                                                      lm_response="prose", message="no fields")

    monkeypatch.setattr(ThemePlanner, "forward", unparseable)
    page = make_program("top-down", index, lm=lm)(1, index.histories.get(1))
    assert page.stats.fallbacks[0].startswith("fallback in plan: AdapterParseError")
