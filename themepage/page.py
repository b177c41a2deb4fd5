"""The page every program returns: ordered placements of catalog products, with run statistics."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ProductRef(BaseModel):
    """A catalog product as shown on the page."""

    product_id: int
    name: str


class Placement(BaseModel):
    """One themed row of the page."""

    title: str
    rationale: str = ""
    products: list[ProductRef] = Field(default_factory=list)


class PageStats(BaseModel):
    """What making the page cost: wall time per phase (ms), LM usage, and fallbacks taken."""

    timings_ms: dict[str, float] = Field(default_factory=dict)
    lm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    fallbacks: list[str] = Field(default_factory=list)

    @property
    def total_ms(self) -> float:
        return self.timings_ms.get("total", sum(self.timings_ms.values()))


class Page(BaseModel):
    """A personalized page: ordered placements for one user under one objective."""

    user_id: int
    program: str
    objective: str = "relevance"
    placements: list[Placement] = Field(default_factory=list)
    stats: PageStats = Field(default_factory=PageStats)

    def product_ids(self) -> list[int]:
        """Every product on the page in reading order (placement by placement), repeats included."""
        return [p.product_id for placement in self.placements for p in placement.products]
