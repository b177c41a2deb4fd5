"""Program names to constructors, so the CLI and evaluation pick programs by name."""

from __future__ import annotations

from collections.abc import Callable

from programs.baselines import PopularBaseline, RepurchaseBaseline
from themepage.dataset.history import UserHistory
from themepage.index import CatalogIndex
from themepage.page import Page

BASELINES = {"repurchase": RepurchaseBaseline, "popular": PopularBaseline}
LLM_PROGRAMS: dict[str, Callable] = {}
PROGRAM_NAMES = (*LLM_PROGRAMS, *BASELINES)


class UnknownProgram(ValueError):
    def __init__(self, name: str):
        super().__init__(f"unknown program {name!r}; choose from: {', '.join(program_names())}")


def program_names() -> list[str]:
    return [*LLM_PROGRAMS, *BASELINES]


def make_program(name: str, index: CatalogIndex, **options) -> Callable[[int, UserHistory], Page]:
    """A callable (user_id, history) -> Page for the named program."""
    if name in BASELINES:
        return BASELINES[name](index)
    if name in LLM_PROGRAMS:
        return LLM_PROGRAMS[name](index, **options)
    raise UnknownProgram(name)
