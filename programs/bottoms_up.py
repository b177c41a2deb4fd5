"""The bottoms-up program: pick the page's products first, cluster them in code, then name each cluster."""

from __future__ import annotations

import dspy
import numpy as np

from programs.aisle_labels import readable_aisle
from programs.bottoms_up_rows import group_drafts
from programs.clustering import balanced_kmeans, improve_by_swaps
from programs.guards import clean_ids, top_up
from programs.kinds import kind_vectors
from programs.page_rules import PageRules, apply_page_rules
from programs.retrieval import render_candidates, render_names
from programs.runtime import RunRecord, attempt, fan_out
from signatures.bottoms_up import GenerateItems, NamePlacement
from themepage.constants import DEFAULT_OBJECTIVE, USER_CANDIDATES
from themepage.dataset.history import UserHistory
from themepage.index import CatalogIndex
from themepage.objective import ObjectiveConfig, load_objective
from themepage.page import Page
from themepage.shelf_title import common_title
from themepage.text import clean_rationale, clean_title, usable_title
from themepage.user_context import describe_user


class BottomsUpProgram(dspy.Module):
    """Personalized candidates -> GenerateItems -> guards -> balanced k-means -> NamePlacement per cluster."""

    name = "bottoms-up"

    def __init__(self, index: CatalogIndex, candidates: int = USER_CANDIDATES, objective: str = DEFAULT_OBJECTIVE):
        super().__init__()
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
            candidates = [*chosen, *(p for p in pool if p not in set(chosen))]
            kinds = kind_vectors(self.index, candidates)
            groups = improve_by_swaps(kinds[:len(chosen)], balanced_kmeans(kinds[:len(chosen)], shape.placements))
            groups.sort(key=np.mean)
            with record.phase("name"):
                names = fan_out(lambda group: self._name([candidates[i] for i in group], record), groups)
            drafts = group_drafts(groups, names, candidates, self.index)
            placements = apply_page_rules(drafts, PageRules.for_objective(config), self.index, history,
                                          reserve=pool)
        page = Page(user_id=user_id, program=self.name, objective=config.name, placements=placements,
                    stats=record.stats())
        return dspy.Prediction(page=page)

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

    def _name(self, members: list[int], record: RunRecord) -> tuple[str, str]:
        lines = render_names(members, self.index)
        result, cause = attempt(lambda: self.namer(products=lines),
                                lambda r: None if usable_title(clean_title(r.title)) else "no usable title")
        if result is not None:
            return clean_title(result.title), clean_rationale(result.rationale)
        record.fallback("name", f"{cause}; titled after what the products have in common")
        catalog = self.index.catalog
        return common_title([catalog.name(p) for p in members], [catalog.aisle(p) for p in members],
                            [catalog.department(p) for p in members], self.index, label=readable_aisle)
