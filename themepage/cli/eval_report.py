"""Collect per-user records for the HTML evaluation report without touching the evaluation loop.

`PageRecorder.wrap` wraps a program's page maker so every page it makes is kept by (program, user);
after the loop, `records` scores each kept page against its case (no LM call) into the plain data
`themepage.report.report_html` takes. Whatever runs the loop only has to call the wrapped makers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from themepage.dataset.cases import Case
from themepage.metrics.objective_metric import Objective
from themepage.optimize.evaluation import case_scores
from themepage.page import Page
from themepage.report import UserRecord


class PageRecorder:
    """Keeps the pages the wrapped makers return, by program name and user id (thread-safe)."""

    def __init__(self) -> None:
        self.pages: dict[str, dict[int, Page]] = {}
        self._lock = threading.Lock()

    def wrap(self, name: str, make: Callable[..., Page]) -> Callable[..., Page]:
        def recording(user_id: int, history, objective: str | None = None) -> Page:
            page = make(user_id, history, objective=objective)
            with self._lock:
                self.pages.setdefault(name, {})[user_id] = page
            return page

        return recording

    def records(self, cases: list[Case], objective: Objective) -> dict[str, list[UserRecord]]:
        """Per program, per case with a kept page: ranked ids, target ids, every score, the page stats."""
        out: dict[str, list[UserRecord]] = {}
        for name, pages in self.pages.items():
            out[name] = [UserRecord(user_id=case.user_id, ranked=page.product_ids(), target=list(case.target),
                                    scores=case_scores(page, case, objective), stats=page.stats)
                         for case in cases if (page := pages.get(case.user_id)) is not None]
        return out
