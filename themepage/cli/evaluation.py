"""Run programs over labeled cases and average every metric, the objective's score and the cost."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from metrics.objective import Objective
from metrics.ranking import recall_at_k
from metrics.scores import page_scores
from themepage.cases import Case
from themepage.page import Page



def cost_scores(page: Page) -> dict[str, float]:
    s = page.stats
    return {"lm_calls": s.lm_calls, "prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens,
            "cost_usd": s.cost_usd or 0.0, "latency_ms": s.total_ms, "fallbacks": len(s.fallbacks)}


def case_scores(page: Page, case: Case, objective: Objective) -> dict[str, float]:
    """Every page score against the real next basket, the objective score, and the page's cost."""
    scores = page_scores(page, case.history, objective.index, case.target)
    ranked = page.product_ids()
    extra = {"recall@10": recall_at_k(ranked, case.target, 10), "recall@20": recall_at_k(ranked, case.target, 20)}
    return {"objective_score": objective.weighted(scores), **extra, **scores, **cost_scores(page)}


def evaluate_program(program: Callable, cases: list[Case], objective: Objective,
                     on_page: Callable[[], None] | None = None) -> dict[str, float]:
    """Mean of every score over the cases (one page each)."""
    rows = []
    for case in cases:
        page = program(case.user_id, case.history, objective=objective.name)
        rows.append(case_scores(page, case, objective))
        if on_page:
            on_page()
    return {key: float(np.mean([row[key] for row in rows])) for key in rows[0]} if rows else {}
