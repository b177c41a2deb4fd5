"""The bottoms-up program: pick the page's products first, cluster them in code, then name each cluster."""

from __future__ import annotations

import dspy
import numpy as np

from programs.clustering import balanced_kmeans, improve_by_swaps
from programs.guards import clean_ids, top_up
from programs.kinds import kind_vectors
from programs.retrieval import render_candidates, render_names
from programs.runtime import RunRecord, attempt, fan_out
from signatures.bottoms_up import GenerateItems, NamePlacement
from themepage.constants import DEFAULT_OBJECTIVE, USER_CANDIDATES
from themepage.dataset.history import UserHistory
from themepage.index import CatalogIndex
from themepage.objective import ObjectiveConfig, load_objective
from themepage.page import Page, Placement, ProductRef
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
            kinds = kind_vectors(self.index, chosen)
            groups = improve_by_swaps(kinds, balanced_kmeans(kinds, shape.placements))
            clusters = [[chosen[i] for i in group] for group in groups]
            clusters.sort(key=lambda members: np.mean([chosen.index(p) for p in members]))
            with record.phase("name"):
                names = fan_out(lambda members: self._name(members, record), clusters)
            placements = self._placements(clusters, names)
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
        return common_title([catalog.name(p) for p in members], [catalog.department(p) for p in members],
                            self.index)

    def _placements(self, clusters: list[list[int]], names: list[tuple[str, str]]) -> list[Placement]:
        seen: set[str] = set()
        placements = []
        for members, (title, rationale) in zip(clusters, names, strict=True):
            base, n = title, 1
            while title.lower() in seen:
                n += 1
                title = f"More {base}" if n == 2 else f"More {base} ({n - 1})"
            seen.add(title.lower())
            placements.append(Placement(title=title, rationale=rationale, products=[
                ProductRef(product_id=p, name=self.index.catalog.name(p)) for p in members]))
        return placements
