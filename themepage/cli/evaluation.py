"""Run programs over labeled cases and average their metrics and costs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from metrics.ranking import ndcg_at_k, recall_at_k
from themepage.cases import Case
from themepage.constants import PAGE_SIZE
from themepage.page import Page


def relevance_scores(page: Page, case: Case) -> dict[str, float]:
    ranked = page.product_ids()
    return {
        "recall@10": recall_at_k(ranked, case.target, 10),
        "recall@20": recall_at_k(ranked, case.target, 20),
        f"recall@{PAGE_SIZE}": recall_at_k(ranked, case.target, PAGE_SIZE),
        f"ndcg@{PAGE_SIZE}": ndcg_at_k(ranked, case.target, PAGE_SIZE),
    }


def cost_scores(page: Page) -> dict[str, float]:
    s = page.stats
    return {"lm_calls": s.lm_calls, "prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens,
            "latency_ms": s.total_ms, "fallbacks": len(s.fallbacks)}


def evaluate_program(program: Callable, cases: list[Case], objective: str,
                     on_page: Callable[[], None] | None = None) -> dict[str, float]:
    """Mean of every metric over the cases (one page each)."""
    rows = []
    for case in cases:
        page = program(case.user_id, case.history, objective=objective)
        rows.append({**relevance_scores(page, case), **cost_scores(page)})
        if on_page:
            on_page()
    return {key: float(np.mean([row[key] for row in rows])) for key in rows[0]} if rows else {}
