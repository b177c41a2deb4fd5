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
    compiled: str | None = None
    """The compiled program file the page was made with; None for the bare (uncompiled) program."""

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


class Theme(BaseModel):
    """A planned placement before it has products: what it is about and how to find its products."""

    title: str = Field(description="shopper-facing placement title, short and specific")
    rationale: str = Field(default="", description="one sentence on why this shopper gets this placement")
    queries: list[str] = Field(default_factory=list, description="2-6 short catalog search queries for its products")
    aisles: list[str] = Field(default_factory=list, description="catalog aisle names its products live in; empty = any")
    attributes: list[str] = Field(default_factory=list, description="optional hints the products share")
    from_history: bool = Field(default=False, description="true when built from the shopper's own past purchases")
