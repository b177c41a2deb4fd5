"""The top-down program: plan themes, then fill and filter every theme concurrently, then assemble.

A page's critical path is three LM round trips (plan, fill, filter) however many
themes it has. Guards in code keep every id real, retrieved and unrepeated;
any step that fails twice falls back to retrieval and says so in the page stats.
"""

from __future__ import annotations

from dataclasses import dataclass

import dspy
from pydantic import ValidationError

from programs.fill_lines import render_fill_candidates
from programs.guards import READ_FACTOR, bounded, clean_ids, top_up
from programs.modules import ThemeFiller, ThemeFilter, ThemePlanner
from programs.retrieval import render_candidates, retrieve_for_theme
from programs.runtime import RunRecord, attempt, fan_out
from themepage.constants import CANDIDATES_PER_THEME, DEFAULT_OBJECTIVE
from themepage.dataset.history import UserHistory
from themepage.index import CatalogIndex
from themepage.objective import ObjectiveConfig, load_objective
from themepage.page import Page, Placement, ProductRef, Theme
from themepage.text import clean_rationale, clean_title, usable_title
from themepage.user_context import describe_user

SPARE_PICKS = 4
"""The filler picks a few extra products so placements can give up repeats and stay full."""


def title_key(title: str) -> str:
    """Titles that differ only in case or spacing name the same theme."""
    return " ".join(title.split()).lower()


def usable_themes(raw: object, wanted: int) -> list[Theme]:
    """The planner's themes with clean, usable, distinct titles, in order, at most `wanted`.

    Reads at most READ_FACTOR·wanted entries before any other work (an answer may hold thousands),
    and de-duplicates through a set, so a huge answer costs what a normal one does.
    """
    themes: list[Theme] = []
    seen: set[str] = set()
    for entry in bounded(raw, READ_FACTOR * wanted):
        try:
            theme = entry if isinstance(entry, Theme) else Theme.model_validate(entry)
        except ValidationError:
            continue
        title = clean_title(theme.title)
        if not usable_title(title) or title_key(title) in seen:
            continue
        seen.add(title_key(title))
        themes.append(theme.model_copy(update={"title": title, "rationale": clean_rationale(theme.rationale)}))
        if len(themes) == wanted:
            break
    return themes


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

    def __init__(self, index: CatalogIndex, candidates_per_theme: int = CANDIDATES_PER_THEME,
                 objective: str = DEFAULT_OBJECTIVE):
        super().__init__()
        self.index = index
        self.objective = objective
        self.candidates_per_theme = candidates_per_theme
        self.planner = ThemePlanner()
        self.filler = ThemeFiller()
        self.filter = ThemeFilter()

    def forward(self, user_id: int, history: UserHistory,
                objective: str | ObjectiveConfig | None = None) -> dspy.Prediction:
        """One page; `objective` defaults to the one the program was made (or compiled) for."""
        objective = objective or self.objective
        config = load_objective(objective) if isinstance(objective, str) else objective
        record = RunRecord()
        with record.phase("total"), record.tracking():
            context = describe_user(history, self.index)
            with record.phase("plan"):
                themes = self._plan(context, config, history, record)
            with record.phase("fill_filter"):
                drafts = fan_out(lambda theme: self._place(theme, context, history, config, record), themes)
            placements = self._assemble(drafts, config, history)
        page = Page(user_id=user_id, program=self.name, objective=config.name, placements=placements,
                    stats=record.stats())
        return dspy.Prediction(page=page, themes=themes)

    def _plan(self, context: str, config: ObjectiveConfig, history: UserHistory, record: RunRecord) -> list[Theme]:
        wanted = config.constraints.placements
        planned, cause = attempt(
            lambda: usable_themes(self.planner(user_context=context, objective_guidance=config.guidance,
                                               num_themes=wanted).themes, wanted),
            lambda found: None if found else "the planner returned no usable themes",
            complete=lambda found: len(found) == wanted)
        themes = planned or []
        if cause:
            record.fallback("plan", cause)
        if len(themes) < wanted:
            if planned is not None:
                record.fallback("plan", f"{len(themes)} usable themes of {wanted}; added themes from retrieval")
            known = {title_key(t.title) for t in themes}
            themes += [t for t in fallback_themes(self.index, history, wanted * 2) if title_key(t.title) not in known]
        return themes[:wanted]

    def _place(self, theme: Theme, context: str, history: UserHistory, config: ObjectiveConfig,
               record: RunRecord) -> Draft:
        size = config.constraints.products_per_placement
        shown = self.candidates_per_theme
        # a catch-all row may have to grow, so it keeps a deeper pool to refill from
        pool = retrieve_for_theme(self.index, theme, history, shown if theme.aisles else 3 * shown)
        prompt_pool = pool[:shown]
        wanted = min(size + SPARE_PICKS, len(prompt_pool))
        filled, cause = attempt(
            lambda: self.filler(theme=theme, objective_guidance=config.guidance, num_products=wanted,
                                candidates=render_fill_candidates(prompt_pool, self.index, history)),
            lambda r: None if clean_ids(r.product_ids, prompt_pool) else "no valid candidate ids")
        picks = clean_ids(filled.product_ids, prompt_pool, limit=wanted) if filled else []
        if cause:
            record.fallback(f"fill '{theme.title}'", cause)
        if len(picks) < config.constraints.min_products_per_placement:
            picks = top_up(picks, prompt_pool, wanted)
        checked, cause = attempt(lambda: self.filter(theme=theme, products=render_candidates(picks, self.index)))
        if checked is not None:
            kept = clean_ids(checked.kept_ids, picks)
            if len(kept) >= config.constraints.min_products_per_placement:
                picks = kept
            else:
                record.fallback(f"filter '{theme.title}'", f"kept {len(kept)} usable ids; kept the filler's picks")
        elif cause:
            record.fallback(f"filter '{theme.title}'", f"{cause}; kept the filler's picks")
        return Draft(theme, picks, pool)

    def _assemble(self, drafts: list[Draft], config: ObjectiveConfig, history: UserHistory) -> list[Placement]:
        """Give every product to one placement, then keep the planned display order.

        Rows about one part of the shop claim their picks first; catch-all rows (no aisles) then
        share what is left of the page budget, taking the next products from their own pools, so
        "Buy It Again" gets what the specific rows left rather than their best products. A page
        still short of its size (pools run dry, e.g. after fallbacks) is filled row by row from a
        page-level reserve: the shopper's candidates, then the best sellers.
        """
        shape = config.constraints
        broad = [i for i, d in enumerate(drafts) if not d.theme.aisles]
        specific = [i for i, d in enumerate(drafts) if d.theme.aisles]
        used: set[int] = set()
        claimed: dict[int, list[int]] = {}
        for i in specific:
            fresh = [p for p in drafts[i].picks if p not in used][:shape.products_per_placement]
            floor = shape.min_products_per_placement if broad else shape.products_per_placement
            claimed[i] = top_up(fresh, drafts[i].pool, max(floor, len(fresh)), used)
            used.update(claimed[i])
        for n, i in enumerate(broad):
            share = -(-(shape.page_size - len(used)) // (len(broad) - n))
            size = min(max(share, shape.min_products_per_placement), shape.max_products_per_placement)
            claimed[i] = top_up([p for p in drafts[i].picks if p not in used], drafts[i].pool, size, used)
            used.update(claimed[i])
        self._fill_short_page(drafts, claimed, used, shape, history)
        return [Placement(title=d.theme.title, rationale=d.theme.rationale,
                          products=[ProductRef(product_id=p, name=self.index.catalog.name(p)) for p in claimed[i]])
                for i, d in enumerate(drafts) if claimed[i]]

    def _fill_short_page(self, drafts: list[Draft], claimed: dict[int, list[int]], used: set[int], shape,
                         history: UserHistory) -> None:
        """Top rows up to the usual size, then to the maximum, from their pools and then a page reserve."""
        reserve = None
        for cap in (shape.products_per_placement, shape.max_products_per_placement):
            for i in range(len(drafts)):
                missing = shape.page_size - len(used)
                if missing <= 0:
                    return
                size = min(cap, len(claimed[i]) + missing)
                if size <= len(claimed[i]):
                    continue
                grown = top_up(claimed[i], drafts[i].pool, size, used)
                if len(grown) < size:
                    if reserve is None:
                        reserve = self.index.candidates_for_user(history, 4 * shape.page_size)
                        reserve += self.index.popular(4 * shape.page_size, exclude=set(reserve))
                    grown = top_up(grown, reserve, size, used)
                used.update(grown[len(claimed[i]):])
                claimed[i] = grown
