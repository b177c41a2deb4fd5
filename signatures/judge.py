"""Signature of the LLM-as-judge: grade a rendered page placement by placement against a rubric."""

import dspy
from pydantic import BaseModel, Field, field_validator


class PlacementVerdict(BaseModel):
    """The judge's grades for one placement (1 = poor, 5 = excellent)."""

    title: str = Field(description="the placement's title, as shown on the page")
    cohesion: int = Field(description="1-5: do the products belong together as one theme?")
    title_quality: int = Field(description="1-5: is the title clear, appealing and true to the products?")
    user_fit: int = Field(description="1-5: would this shopper want this placement, given their history?")
    off_topic_products: list[str] = Field(default_factory=list,
                                          description="exact names of products that do not fit the title")

    @field_validator("cohesion", "title_quality", "user_fit", mode="before")
    @classmethod
    def _on_scale(cls, value):
        """Round and clamp to the 1-5 scale, so one out-of-range grade does not void the whole verdict."""
        return min(5, max(1, round(float(value))))


class JudgePage(dspy.Signature):
    """You are grading a personalized grocery landing page made of themed placements.
    For every placement, in page order, grade on a 1-5 scale (1 = poor, 5 = excellent):
    - cohesion: the products clearly belong together as one theme a shopper would recognize;
    - title_quality: the title is specific, appealing and accurately describes its products;
    - user_fit: this shopper, given their order history, would want this placement.
    Then list, by exact name, every product that is off-topic for its placement's title.
    Finally give an overall page score from 0 to 1: placements are relevant to the shopper, each is
    cohesive, they do not repeat each other, and the most relevant come first. Be strict and consistent."""

    user_context: str = dspy.InputField(desc="readable summary of the shopper's order history")
    page: str = dspy.InputField(desc="the page: numbered placements, each with its title and products (name and aisle)")
    verdicts: list[PlacementVerdict] = dspy.OutputField(desc="one verdict per placement, in page order")
    overall: float = dspy.OutputField(desc="overall quality of the page, from 0 (bad) to 1 (excellent)")
