"""A stand-in for programs.registry.make_program: page makers that return set pages or raise, recording calls."""

from __future__ import annotations

from themepage.page import Page, PageStats, Placement, ProductRef


def fake_page(user: int, program: str = "fake", objective: str = "relevance", fallbacks=(), title="Snacks",
              product="Crackers") -> Page:
    placement = Placement(title=title, rationale="because", products=[ProductRef(product_id=1, name=product)])
    return Page(user_id=user, program=program, objective=objective, placements=[placement],
                stats=PageStats(timings_ms={"total": 1.0}, fallbacks=list(fallbacks)))


class FakeRegistry:
    """`make_program` replacement: `behaviour(user)` returns a Page or raises; calls and kwargs are recorded."""

    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.users: list[int] = []
        self.kwargs: dict = {}

    def make_program(self, name, index, lm=None, module=None, *, page_deadline=None, compiled_from=None):
        self.kwargs = {"name": name, "lm": lm, "page_deadline": page_deadline, "compiled_from": compiled_from}

        def make(user, history, objective="relevance"):
            self.users.append(user)
            return self.behaviour(user)

        return make

    def install(self, monkeypatch):
        from themepage.programs import registry

        monkeypatch.setattr(registry, "make_program", self.make_program)
        return self
