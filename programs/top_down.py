"""The top-down program: plan themes, then fill and filter every theme concurrently, then assemble.

A page's critical path is three LM round trips (plan, fill, filter) however many
themes it has. Guards in code keep every id real, retrieved and unrepeated;
any step that fails twice falls back to retrieval and says so in the page stats.
"""

from __future__ import annotations

from itertools import chain

import dspy
from pydantic import ValidationError

from themepage.constants import CANDIDATES_PER_THEME, DEFAULT_OBJECTIVE, HEALTHY_AISLES
from themepage.dataset.history import UserHistory
from themepage.index import CatalogIndex
from themepage.lm.runtime import ATTEMPTS, RunRecord, attempt, fan_out
from themepage.objectives import ObjectiveConfig, load_objective
from themepage.page import Page, Theme
from themepage.page.lm_share import REGULARS_RATIONALE, made_by_code
from themepage.programs.fill_lines import render_fill_candidates
from themepage.programs.guards import READ_FACTOR, bounded, clean_ids, top_up
from themepage.programs.modules import ThemeFiller, ThemeFilter, ThemePlanner
from themepage.programs.relevance_rows import (
    by_own_mass,
    catch_all_first,
    catch_all_last,
    relevance_draft,
    reserve_for_lead,
    with_row_sizes,
)
from themepage.programs.retrieval import render_candidates, retrieve_for_theme, row_bound
from themepage.programs.row_text import readable_title
from themepage.programs.rules.apply import apply_page_rules
from themepage.programs.rules.fallback_rows import fallback_drafts
from themepage.programs.rules.shape import Intent, PageRules, RowDraft, is_catch_all_title, permitted_aisles
from themepage.programs.theme_grounding import grounded_on_queries
from themepage.wording.answer_text import clean_rationale, clean_title, usable_title
from themepage.wording.user_context import describe_user

SPARE_PICKS = 4
"""The filler picks a few extra products so placements can give up repeats and stay full."""
SPARE_THEMES = 3
"""The planner plans a few themes more than the page shows: spares for rows the page rules drop."""
REPLAN_TRY = ATTEMPTS
"""The try number a short plan's second call is made as: past the first call's tries, so it is sampled as a retry is
(hotter) and never served from their cache (`themepage.lm.response_cache.attempt_lm`)."""


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


def theme_intent(theme: Theme, index: CatalogIndex) -> Intent:
    """A planned theme's intent, read from what it declares (its products are not known yet)."""
    catch_all = not theme.aisles or is_catch_all_title(theme.title)
    return Intent(catch_all, frozenset(index.aisle_ids(theme.aisles)))


def planned_themes(themes: list[Theme], index: CatalogIndex, history: UserHistory) -> list[Theme]:
    """The planner's themes this shopper may see, one per intent: none about a restricted aisle they never
    bought in, none repeating an earlier theme's intent (so spare themes are rarely needed). A theme whose
    declared aisles repeat an earlier one's is read again from its queries (`grounded_on_queries`)."""
    kept: list[Theme] = []

    def new_intent(theme: Theme) -> bool:
        intent = theme_intent(theme, index)
        return permitted_aisles(theme.aisles, index, history) and not any(
            intent.same_as(theme_intent(k, index)) for k in kept)

    for theme in themes:
        if new_intent(theme):
            kept.append(theme)
        elif theme.aisles and theme.queries and (grounded := grounded_on_queries(theme, index)) is not None \
                and new_intent(grounded):
            kept.append(grounded)
    return kept


def fallback_themes(index: CatalogIndex, history: UserHistory, n: int) -> list[Theme]:
    """Themes built from retrieval alone: the shopper's top aisles, or the best-selling aisles, readably titled."""
    return [Theme(title=d.title, rationale=d.rationale, aisles=[index.catalog.aisle((d.picks or d.pool)[0])],
                  from_history=not history.is_empty())
            for d in fallback_drafts(index, history, n) if d.picks or d.pool]


REGULARS_THEME = Theme(title="Buy It Again", rationale=REGULARS_RATIONALE, from_history=True)


def is_healthy(theme: Theme) -> bool:
    """A theme mostly about fruit and vegetables (HEALTHY_AISLES)."""
    return bool(theme.aisles) and sum(a in HEALTHY_AISLES for a in theme.aisles) / len(theme.aisles) >= 0.5


def is_regulars_theme(theme: Theme) -> bool:
    """The shopper's catch-all regulars theme: built from their history, about no aisle in particular."""
    return theme.from_history and not theme.aisles


def lead_for_objective(themes: list[Theme], config: ObjectiveConfig, history: UserHistory) -> list[Theme]:
    """The page opens with what the objective is for, whatever the planner's order.

    An objective weighing next-basket metrics most opens with the shopper's catch-all regulars row (added
    when not planned); one weighing healthy_share most opens with its first healthy theme.
    """
    if config.opens_with == "regulars" and not history.is_empty():
        first = next((t for t in themes if is_regulars_theme(t)), REGULARS_THEME)
    elif config.opens_with == "healthy":
        first = next((t for t in themes if is_healthy(t)), None)
    else:
        first = None
    return themes if first is None else [first, *[t for t in themes if t is not first]]


def regulars_first(theme: Theme, picks: list[int], pool: list[int], history: UserHistory) -> list[int]:
    """A row of the shopper's own products lists them likeliest first (P-TopFreq), then the rest of the picks.

    A catch-all row takes any product they bought; a row about some aisles, those its pool holds.
    """
    if not theme.from_history:
        return picks
    ranked = history.top_products()
    if theme.aisles:
        reach = set(pool)
        ranked = [p for p in ranked if p in reach]
    return [*ranked, *[p for p in picks if p not in history.product_counts]]


def leads_with_regulars(config: ObjectiveConfig) -> bool:
    """Whether the objective rewards the shopper's next basket most (relevance): its rows lead with their products."""
    return config.opens_with == "regulars"


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
                if leads_with_regulars(config):
                    themes = by_own_mass(themes, history, self.index, config.constraints.products_per_placement)
            with record.phase("fill_filter"):
                wanted = config.constraints.placements
                drafts = fan_out(lambda theme: self._row(theme, history, config, record), themes[:wanted])
                spares = (self._row(theme, history, config, record) for theme in themes[wanted:])
            with record.phase("rules"):  # spare themes are filled here, only when a row was dropped
                reserve = self.index.candidates_for_user(history, 4 * config.constraints.page_size)
                regulars = leads_with_regulars(config)
                held: frozenset[int] = frozenset()
                if regulars:
                    drafts, held = reserve_for_lead(themes, drafts, history, config.constraints.products_per_placement)
                    drafts = with_row_sizes(themes, drafts, history, config.constraints)
                queue = catch_all_last(themes, drafts, spares) if regulars else chain(drafts, spares)
                placements = apply_page_rules(queue, PageRules.for_objective(config), self.index, history, reserve,
                                              held=held, holder=drafts[0] if held else None)
                if regulars:
                    placements = catch_all_first(placements, themes, drafts)
        page = Page(user_id=user_id, program=self.name, objective=config.name, placements=placements,
                    stats=record.stats())
        shown = {p.title for p in placements}
        return dspy.Prediction(page=page, themes=[t for t in themes if readable_title(t.title) in shown])

    def _plan(self, context: str, config: ObjectiveConfig, history: UserHistory, record: RunRecord) -> list[Theme]:
        """The planned themes and a few spares; short plans are recorded (the page rules add fallback rows).

        A plan that answered but holds fewer themes of distinct intents than the page shows (a model writing one
        idea several ways) is asked for once more, sampled as a retry is (REPLAN_TRY), and the new
        themes join the kept ones; the code's retrieval themes fill only what is still missing. With llama.cpp the
        second call reuses the first one's prompt, so it costs only the answer's tokens."""
        wanted = config.constraints.placements
        asked = wanted + SPARE_THEMES

        def ask(first_try: int, tries: int) -> tuple[list[Theme] | None, str | None]:
            return attempt(
                lambda: usable_themes(self.planner(user_context=context, objective_guidance=config.guidance,
                                                   num_themes=asked).themes, asked),
                lambda found: None if found else "the planner returned no usable themes",
                attempts=tries, complete=lambda found: len(found) >= wanted, first_try=first_try)

        planned, cause = ask(0, ATTEMPTS)
        themes = planned_themes(planned or [], self.index, history)
        if planned is not None and len(themes) < wanted:
            more, _ = ask(REPLAN_TRY, 1)
            themes = planned_themes([*themes, *(more or [])], self.index, history)
        if cause:
            record.fallback("plan", cause)
        if len(themes) < wanted:
            if planned is not None:
                record.fallback("plan", f"{len(themes)} usable themes of {wanted}; added themes from retrieval")
            known = {title_key(t.title) for t in themes}
            themes += [t for t in fallback_themes(self.index, history, wanted * 2) if title_key(t.title) not in known]
        return lead_for_objective(themes[:asked], config, history)

    def _row(self, theme: Theme, history: UserHistory, config: ObjectiveConfig, record: RunRecord) -> RowDraft:
        """The theme's row draft; under a next-basket objective it leads with the shopper's own products."""
        draft = self._place(theme, history, config, record)
        return relevance_draft(draft, theme, history, self.index) if leads_with_regulars(config) else draft

    def _place(self, theme: Theme, history: UserHistory, config: ObjectiveConfig, record: RunRecord) -> RowDraft:
        """One row: retrieve, fill, guard, filter. The filler reads the shopper from the candidates' purchase
        marks, not the user context (the planner's input), which would add hundreds of tokens to every call.
        A row the code made (a retrieval theme for a short plan, the regulars row) takes retrieval's order
        without LM calls: the LM's picks would not make it the LM's row (the regulars row lists the shopper's
        regulars whatever it picked), and a real model spends a fill and a filter call on it (~800 prompt tokens).
        The same holds for a regulars theme the planner planned: its title and place are the LM's, its products
        the shopper's regulars."""
        size = config.constraints.products_per_placement
        shown = self.candidates_per_theme
        # a catch-all row may have to grow, so it keeps a deeper pool to refill from
        pool = retrieve_for_theme(self.index, theme, history, shown if theme.aisles else 3 * shown)
        prompt_pool = pool[:shown]
        wanted = min(size + SPARE_PICKS, len(prompt_pool))
        found = row_bound(self.index, theme, shown)
        if made_by_code(theme.rationale) or is_regulars_theme(theme):
            return RowDraft(theme.title, theme.rationale, regulars_first(theme, prompt_pool[:wanted], pool, history),
                            pool, found=found)
        filled, cause = attempt(
            lambda: self.filler(theme=theme, objective_guidance=config.guidance, num_products=wanted,
                                candidates=render_fill_candidates(prompt_pool, self.index, history)),
            lambda r: None if clean_ids(r.product_ids, prompt_pool) else "no valid candidate ids")
        picks = clean_ids(filled.product_ids, prompt_pool, limit=wanted) if filled else []
        if cause:
            record.fallback(f"fill '{theme.title}'", cause)
        if len(picks) < config.constraints.min_products_per_placement:
            picks = top_up(picks, prompt_pool, wanted)
        picks = self._filtered(theme, picks, config.constraints.min_products_per_placement, record)
        return RowDraft(theme.title, theme.rationale, regulars_first(theme, picks, pool, history), pool, found=found)

    def _filtered(self, theme: Theme, picks: list[int], fewest: int, record: RunRecord) -> list[int]:
        """The filter's kept ids, or the filler's picks when it keeps fewer than `fewest` or fails.

        An answer that keeps too few is not left in the cache (as a short plan is not): with ids only, a
        truncated answer still parses (the lost tail of the list is simply missing), and must not be served
        again once the provider recovers.
        """
        checked, cause = attempt(lambda: self.filter(theme=theme, products=render_candidates(picks, self.index)),
                                 complete=lambda answer: len(clean_ids(answer.kept_ids, picks)) >= fewest)
        if checked is None:
            if cause:
                record.fallback(f"filter '{theme.title}'", f"{cause}; kept the filler's picks")
            return picks
        kept = clean_ids(checked.kept_ids, picks)
        if len(kept) >= fewest:
            return kept
        record.fallback(f"filter '{theme.title}'", f"kept {len(kept)} usable ids; kept the filler's picks")
        return picks
