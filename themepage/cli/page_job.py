"""A batch's page maker as picklable settings, so a Ray actor can rebuild exactly what the CLI builds.

`PageJob(...)()` loads the index and the (compiled) program once and returns `make(user_id) -> Page`;
the threaded batch and every Ray worker call the same code, so both engines make the same pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from themepage.cli.common import CompiledChoice
from themepage.page import Page


@dataclass(frozen=True)
class PageJob:
    """Everything that decides a batch's pages (never an LM key: providers read theirs from the environment)."""

    data: Path
    cache_dir: Path | None
    program: str
    objective: str
    lm: str | None = None
    api_base: str | None = None
    lm_timeout: float | None = None
    lm_retries: int | None = None
    compiled: CompiledChoice | Path | None = None
    page_deadline: float | None = None
    store_kind: str | None = None

    def __call__(self) -> PageMaker:
        return PageMaker(self)


class PageMaker:
    """The opened job: the index and the program, called per user."""

    def __init__(self, job: PageJob):
        from themepage.cli.common import _index, _load_compiled, _program, lm_settings

        self.job = job
        settings = lm_settings(job.lm, job.api_base, job.lm_timeout, job.lm_retries, job.page_deadline)
        self.index = _index(job.data, job.cache_dir, job.store_kind)
        module, compiled_from = _load_compiled(job.compiled, job.program, job.objective, self.index, settings.model)
        self.make = _program(job.program, self.index, job.lm, job.api_base, job.lm_timeout, job.lm_retries,
                             module=module, page_deadline=settings.page_deadline, compiled_from=compiled_from)

    def __call__(self, user_id: int) -> Page:
        return self.make(user_id, self.index.histories.get(user_id), objective=self.job.objective)
