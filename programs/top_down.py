"""The top-down program: plan themes, then fill and filter every theme concurrently, then assemble.

A page's critical path is three LM round trips (plan, fill, filter) however many
themes it has. Guards in code keep every id real, retrieved and unrepeated;
any step that fails twice falls back to retrieval and says so in the page stats.
"""

from __future__ import annotations

from dataclasses import dataclass

import dspy

from programs.guards import clean_ids, top_up
from programs.modules import ThemeFiller, ThemeFilter, ThemePlanner
from programs.retrieval import render_candidates, retrieve_for_theme
from programs.runtime import RunRecord, attempt, fan_out
from themepage.constants import CANDIDATES_PER_THEME, DEFAULT_OBJECTIVE
from themepage.dataset.history import UserHistory
from themepage.index import CatalogIndex
from themepage.objective import ObjectiveConfig, load_objective
from themepage.page import Page, Placement, ProductRef, Theme
from themepage.user_context import describe_user

SPARE_PICKS = 4
"""The filler picks a few extra products so placements can give up repeats and stay full."""


@dataclass
class Draft:
    """One theme after fill and filter, before page-level de-duplication."""

    theme: Theme
    picks: list[int]
    pool: list[int]


def fallback_themes(index: CatalogIndex, history: UserHistory, n: int) -> list[Theme]:
    """Themes built from retrieval alone: the shopper's top aisles, or the best-selling aisles."""
    catalog = index.catalog
    ranked = history.top_products() or index.popular(400)
    aisles = list(dict.fromkeys(catalog.aisle(p) for p in ranked))[:n]
    personal = not history.is_empty()
    return [Theme(title=f"{'Your ' if personal else 'Popular in '}{a.title()}", aisles=[a], from_history=personal,
                  rationale="Picked from your purchases." if personal else "What shoppers buy most here.")
            for a in aisles]


class TopDownProgram(dspy.Module):
    """ThemePlanner -> (retrieve -> ThemeFiller -> guards -> ThemeFilter) per theme -> Page."""

    name = "top-down"

    def __init__(self, index: CatalogIndex, candidates_per_theme: int = CANDIDATES_PER_THEME):
        super().__init__()
        self.index = index
        self.candidates_per_theme = candidates_per_theme
        self.planner = ThemePlanner()
        self.filler = ThemeFiller()
        self.filter = ThemeFilter()

    def forward(self, user_id: int, history: UserHistory,
                objective: str | ObjectiveConfig = DEFAULT_OBJECTIVE) -> dspy.Prediction:
        config = load_objective(objective) if isinstance(objective, str) else objective
        record = RunRecord()
        with record.phase("total"), record.tracking():
            context = describe_user(history, self.index)
            with record.phase("plan"):
                themes = self._plan(context, config, history, record)
            with record.phase("fill_filter"):
                drafts = fan_out(lambda theme: self._place(theme, context, history, config, record), themes, record)
            placements = self._assemble(drafts, config)
        page = Page(user_id=user_id, program=self.name, objective=config.name, placements=placements,
                    stats=record.stats())
        return dspy.Prediction(page=page, themes=themes)

    def _plan(self, context: str, config: ObjectiveConfig, history: UserHistory, record: RunRecord) -> list[Theme]:
        wanted = config.constraints.placements
        result, cause = attempt(
            lambda: self.planner(user_context=context, objective_guidance=config.guidance, num_themes=wanted),
            lambda r: None if r.themes else "the planner returned no themes")
        themes = []
        for theme in (result.themes if result else []):
            theme = theme if isinstance(theme, Theme) else Theme.model_validate(theme)
            if theme.title.strip() and theme.title.lower() not in {t.title.lower() for t in themes}:
                themes.append(theme)
        if cause:
            record.fallback("plan", cause)
        if len(themes) < wanted:
            if result is not None:
                record.fallback("plan", f"{len(themes)} usable themes of {wanted}; added themes from retrieval")
            known = {t.title.lower() for t in themes}
            themes += [t for t in fallback_themes(self.index, history, wanted * 2) if t.title.lower() not in known]
        return themes[:wanted]

    def _place(self, theme: Theme, context: str, history: UserHistory, config: ObjectiveConfig,
               record: RunRecord) -> Draft:
        size = config.constraints.products_per_placement
        pool = retrieve_for_theme(self.index, theme, history, self.candidates_per_theme)
        wanted = min(size + SPARE_PICKS, len(pool))
        filled, cause = attempt(
            lambda: self.filler(theme=theme, user_context=context, candidates=render_candidates(pool, self.index, history),
                                num_products=wanted),
            lambda r: None if clean_ids(r.product_ids, pool) else "no valid candidate ids")
        picks = clean_ids(filled.product_ids, pool, limit=wanted) if filled else []
        if cause:
            record.fallback(f"fill '{theme.title}'", cause)
        if len(picks) < config.constraints.min_products_per_placement:
            picks = top_up(picks, pool, wanted)
        checked, cause = attempt(lambda: self.filter(theme=theme, products=render_candidates(picks, self.index)))
        if checked is not None:
            kept = clean_ids(checked.kept_ids, picks)
            if len(kept) >= config.constraints.min_products_per_placement:
                picks = kept
        elif cause:
            record.fallback(f"filter '{theme.title}'", f"{cause}; kept the filler's picks")
        return Draft(theme, picks, pool)

    def _assemble(self, drafts: list[Draft], config: ObjectiveConfig) -> list[Placement]:
        """In display order, drop products an earlier placement already shows, refilling from the pool."""
        size, used, placements = config.constraints.products_per_placement, set(), []
        for draft in drafts:
            fresh = top_up([p for p in draft.picks if p not in used], draft.pool, size, used)
            if not fresh:
                continue
            used.update(fresh)
            placements.append(Placement(title=draft.theme.title, rationale=draft.theme.rationale,
                                        products=[ProductRef(product_id=p, name=self.index.catalog.name(p))
                                                  for p in fresh]))
        return placements
