"""Program names to constructors, so the CLI and evaluation pick programs by name.

Every entry becomes a callable `(user_id, history, objective=...) -> Page`; the
LLM programs run under the LM they were made with.
"""

from __future__ import annotations

from collections.abc import Callable

import dspy

from themepage.dataset.history import UserHistory
from themepage.index import CatalogIndex
from themepage.lm.deadline import page_clock
from themepage.lm.structured import adapter_for
from themepage.page import Page
from themepage.programs.baselines import PopularBaseline, RepurchaseBaseline
from themepage.programs.bottoms_up import BottomsUpProgram
from themepage.programs.top_down import TopDownProgram

BASELINES = {"repurchase": RepurchaseBaseline, "popular": PopularBaseline}
LLM_PROGRAMS = {"top-down": TopDownProgram, "bottoms-up": BottomsUpProgram}


class UnknownProgram(ValueError):
    def __init__(self, name: str):
        super().__init__(f"unknown program {name!r}; choose from: {', '.join(program_names())}")


def program_names() -> list[str]:
    return [*LLM_PROGRAMS, *BASELINES]


class LMPageMaker:
    """Runs a DSPy program under its LM (and the adapter its server's structured outputs call for),
    within the page deadline, and returns the Page."""

    def __init__(self, module: dspy.Module, lm: dspy.LM, page_deadline: float | None = None,
                 compiled_from: str | None = None):
        page_clock(page_deadline)  # a bad deadline fails here, with a clear message, not on the first page
        self.module, self.lm, self.page_deadline = module, lm, page_deadline
        self.compiled_from = compiled_from
        self.adapter = adapter_for(lm)

    def __call__(self, user_id: int, history: UserHistory, objective: str | None = None) -> Page:
        with dspy.context(lm=self.lm, adapter=self.adapter, **page_clock(self.page_deadline)):
            page = self.module(user_id=user_id, history=history, objective=objective).page
        page.stats.compiled = self.compiled_from
        return page


def make_program(name: str, index: CatalogIndex, lm: dspy.LM | None = None,
                 module: dspy.Module | None = None, *, page_deadline: float | None = None,
                 compiled_from: str | None = None) -> Callable[..., Page]:
    """A callable (user_id, history, objective=...) -> Page for the named program.

    LLM programs need `lm`; `module` replaces the fresh (uncompiled) module, e.g. a compiled one, and
    `compiled_from` names its file in every page's stats.
    `page_deadline` (seconds, None = unbounded) bounds each page's wall time: steps still running at
    the deadline fall back to retrieval (noted in stats.fallbacks). The call raises ProviderUnreachable
    when the provider cannot be reached at all.
    """
    if name in BASELINES:
        return BASELINES[name](index)
    if name in LLM_PROGRAMS:
        if lm is None:
            raise ValueError(f"program {name!r} needs an LM")
        return LMPageMaker(module or LLM_PROGRAMS[name](index), lm, page_deadline,
                           compiled_from if module is not None else None)
    raise UnknownProgram(name)
