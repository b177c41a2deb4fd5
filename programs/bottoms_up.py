"""The bottoms-up program: pick the page's products first, group them by shelf in code, let the page rules settle
the rows, then name each row from the products it ended up with (naming before the rules swapped products in
and out left titles over rows they no longer described)."""

from __future__ import annotations

from collections.abc import Callable

import dspy
import numpy as np

from themepage.constants import DEFAULT_OBJECTIVE, USER_CANDIDATES
from themepage.dataset.history import UserHistory
from themepage.index import CatalogIndex
from themepage.lm.runtime import RunRecord, attempt, fan_out
from themepage.objectives import ObjectiveConfig, load_objective
from themepage.page import Page, Placement
from themepage.programs.bottoms_up_rows import (
    LEFTOVER_RATIONALE,
    LEFTOVER_TITLE,
    group_drafts,
    shelf_drafts,
    unique_title,
    with_leftover_row,
)
from themepage.programs.clustering import balanced_kmeans, improve_by_swaps
from themepage.programs.guards import clean_ids, top_up
from themepage.programs.kinds import kind_vectors
from themepage.programs.retrieval import render_candidates, render_names
from themepage.programs.row_text import readable_rationale, readable_title
from themepage.programs.rules.apply import MIN_TITLE_FIT, apply_page_rules
from themepage.programs.rules.duplicates import EvidenceCache
from themepage.programs.rules.row_lengths import clearly_fits_half
from themepage.programs.rules.shape import PageRules, RowDraft, is_catch_all_title
from themepage.quality import placement_scorer
from themepage.signatures.bottoms_up import GenerateItems, NamePlacement
from themepage.wording.aisle_labels import readable_aisle
from themepage.wording.answer_text import clean_rationale, clean_title, usable_title
from themepage.wording.shelf_titles import common_title
from themepage.wording.user_context import describe_user

GROUPINGS = ("shelves", "kinds")
"""How the chosen products become rows. "shelves" (the default): rows of one aisle or one department's aisles,
named after the page rules settle them, and one catch-all row ("Your Everyday Picks") of chosen products: the
page's lead under a next-basket objective (the likeliest products), else the chosen products no shelf row
holds. "kinds": every chosen product kept, balanced k-means on kind vectors, each group named before the page
rules; it keeps more of the chosen products on the page, but its rows mix several kinds under one name, so far
fewer are publishable (docs/results.md)."""


MISFIT_NAME = "a product would not belong under the name"
UNCLEAR_NAME = "less than half the row clearly belongs under the name"
NAME_ATTEMPTS = 3
"""Tries at a shelf row's name: a small model's title is often refused for one product (SmolLM2 names a dairy
row after its almond milk), and a retry samples wider; each try is one short call."""


class BottomsUpProgram(dspy.Module):
    """Personalized candidates -> GenerateItems -> guards -> rows by shelf -> page rules -> NamePlacement per row."""

    name = "bottoms-up"

    def __init__(self, index: CatalogIndex, candidates: int = USER_CANDIDATES, objective: str = DEFAULT_OBJECTIVE,
                 grouping: str = "shelves"):
        super().__init__()
        if grouping not in GROUPINGS:
            raise ValueError(f"unknown grouping {grouping!r}: use one of {', '.join(GROUPINGS)}")
        self.grouping = grouping
        self.index = index
        self.objective = objective
        self.candidates = candidates
        self.generate = dspy.Predict(GenerateItems)
        self.namer = dspy.Predict(NamePlacement)

    def forward(self, user_id: int, history: UserHistory,
                objective: str | ObjectiveConfig | None = None) -> dspy.Prediction:
        """One page; `objective` defaults to the one the program was made (or compiled) for."""
        objective = objective or self.objective
        config = load_objective(objective) if isinstance(objective, str) else objective
        shape = config.constraints
        record = RunRecord()
        with record.phase("total"), record.tracking():
            context = describe_user(history, self.index)
            pool = self.index.candidates_for_user(history, max(self.candidates, shape.page_size))
            with record.phase("generate"):
                chosen = self._generate(context, config, pool, history, record)
            picked = set(chosen)
            candidates = [*chosen, *(p for p in pool if p not in picked)]
            if self.grouping == "shelves":
                placements = self._shelf_rows(candidates, len(chosen), config, history, pool, record)
            else:
                placements = self._kind_rows(candidates, len(chosen), config, history, pool, record)
        page = Page(user_id=user_id, program=self.name, objective=config.name, placements=placements,
                    stats=record.stats())
        return dspy.Prediction(page=page)

    def _kind_rows(self, candidates: list[int], chosen: int, config: ObjectiveConfig, history: UserHistory,
                   pool: list[int], record: RunRecord) -> list[Placement]:
        """Every chosen product kept: balanced k-means on kind vectors, groups named, then the page rules."""
        kinds = kind_vectors(self.index, candidates)[:chosen]
        groups = improve_by_swaps(kinds, balanced_kmeans(kinds, config.constraints.placements))
        groups.sort(key=np.mean)
        with record.phase("name"):
            names = fan_out(lambda group: self._name([candidates[i] for i in group], record), groups)
        drafts = group_drafts(groups, names, candidates, self.index)
        return apply_page_rules(drafts, PageRules.for_objective(config), self.index, history, reserve=pool)

    def _shelf_rows(self, candidates: list[int], chosen: int, config: ObjectiveConfig, history: UserHistory,
                    pool: list[int], record: RunRecord) -> list[Placement]:
        """Rows by shelf, settled by the page rules, then named from the products they ended up with."""
        size, rows = config.constraints.products_per_placement, config.constraints.placements
        if config.opens_with == "regulars":  # likeliest first, as top-down leads with "Buy It Again"
            lead = RowDraft(LEFTOVER_TITLE, LEFTOVER_RATIONALE, candidates[:size], candidates[size:chosen])
            drafts = [lead, *shelf_drafts(candidates[size:], max(chosen - size, 0), size, self.index)]
        else:
            drafts = with_leftover_row(shelf_drafts(candidates, chosen, size, self.index), candidates[:chosen],
                                       rows, size)
        settled = apply_page_rules(drafts, PageRules.for_objective(config), self.index, history, reserve=pool)
        fits, clear = title_fits(self.index), clearly_titled(self.index, size)
        with record.phase("name"):
            names = fan_out(lambda row: (row.title, row.rationale) if is_catch_all_title(row.title)
                            else self._name([p.product_id for p in row.products], record, fits, row, clear), settled)
        return named_rows(settled, names)

    def _generate(self, context: str, config: ObjectiveConfig, pool: list[int], history: UserHistory,
                  record: RunRecord) -> list[int]:
        size = config.constraints.page_size
        result, cause = attempt(
            lambda: self.generate(user_context=context, objective_guidance=config.guidance,
                                  candidates=render_candidates(pool, self.index, history), num_products=size),
            lambda r: None if clean_ids(r.product_ids, pool) else "no valid candidate ids")
        if cause:
            record.fallback("generate", f"{cause}; used the candidates in retrieval order")
        chosen = clean_ids(result.product_ids, pool, limit=size) if result else []
        return top_up(chosen, pool, size)

    def _name(self, members: list[int], record: RunRecord, fits: Callable[[str, list[int]], bool] | None = None,
              settled: Placement | None = None,
              clear: Callable[[str, list[int]], bool] | None = None) -> tuple[str, str]:
        """The namer's title and rationale for these products. With `fits`, a title under which some product
        would not belong is refused like an unusable one: the namer is asked again (a retry samples wider,
        `themepage.lm.response_cache.attempt_lm`), and if no answer fits, the `settled` row keeps its own title.
        With `clear`, an accepted title under which less than half the row clearly belongs also leaves the row its
        own title, without asking again: the title is not wrong, only vaguer than the shelf's."""
        lines = render_names(members, self.index)
        judge = fits if fits is not None and settled is not None else None
        shelf_title = settled.title if settled is not None else ""

        def refusal(answer) -> str | None:
            title = clean_title(answer.title)
            if not usable_title(title):
                return "no usable title"
            if judge is not None and not judge(readable_title(title, fallback=shelf_title), members):
                return MISFIT_NAME
            return None

        result, cause = attempt(lambda: self.namer(products=lines), refusal,
                                refused_attempts=NAME_ATTEMPTS if judge is not None else None)
        if result is not None:
            title = clean_title(result.title)
            if clear is not None and settled is not None and not clear(readable_title(title, fallback=shelf_title),
                                                                       members):
                record.fallback("name", f"{UNCLEAR_NAME}; kept the shelf's title")
                return settled.title, settled.rationale
            return title, clean_rationale(result.rationale)
        if cause == MISFIT_NAME and settled is not None:
            record.fallback("name", f"{MISFIT_NAME}; kept the shelf's title")
            return settled.title, settled.rationale
        record.fallback("name", f"{cause}; titled after what the products have in common")
        catalog = self.index.catalog
        return common_title([catalog.name(p) for p in members], [catalog.aisle(p) for p in members],
                            [catalog.department(p) for p in members], self.index, label=readable_aisle)


def named_rows(settled: list[Placement], names: list[tuple[str, str]]) -> list[Placement]:
    """The settled rows under the names given for their final products: readable, distinct titles; a name that
    would make a second catch-all row ("Your Weekly Staples") keeps the title the page rules settled on."""
    placements, seen, catch_all = [], set(), False
    for row, (title, rationale) in zip(settled, names, strict=True):
        title = readable_title(title, fallback=row.title)
        if catch_all and is_catch_all_title(title):
            title = row.title
        title = unique_title(title, seen)
        seen.add(title.lower())
        catch_all = catch_all or is_catch_all_title(title)
        placements.append(row.model_copy(update={"title": title, "rationale": readable_rationale(
            rationale, f"Picked for you: {title.lower()}")}))
    return placements


def title_fits(index: CatalogIndex) -> Callable[[str, list[int]], bool]:
    """A test: does every product belong under this title (the core scorer's fit, as the page rules ask)? The
    products' evidence comes from the pieces the page rules just read (`EvidenceCache`), not read again."""
    scorer = placement_scorer(index)

    def fits(title: str, ids: list[int]) -> bool:
        return not ids or min(EvidenceCache(scorer).fits(title, ids)) >= MIN_TITLE_FIT

    return fits


def clearly_titled(index: CatalogIndex, products_per_placement: int) -> Callable[[str, list[int]], bool]:
    """A test: does at least half a row clearly belong under this title, as the page rules hold every themed row
    (`clearly_fits_half`)?"""
    scorer = placement_scorer(index)

    def clear(title: str, ids: list[int]) -> bool:
        return clearly_fits_half(title, EvidenceCache(scorer).fits(title, ids), products_per_placement)

    return clear
