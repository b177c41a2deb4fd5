"""The three steps of the top-down program, one `dspy.Module` each around one predictor."""

from __future__ import annotations

import dspy

from themepage.page import Theme
from themepage.signatures.top_down import FillTheme, FilterTheme, PlanThemes


class ThemePlanner(dspy.Module):
    """Plans the page's ordered themes from the shopper's context and the objective's guidance."""

    def __init__(self):
        super().__init__()
        self.plan = dspy.Predict(PlanThemes)

    def forward(self, user_context: str, objective_guidance: str, num_themes: int) -> dspy.Prediction:
        return self.plan(user_context=user_context, objective_guidance=objective_guidance, num_themes=num_themes)


class ThemeFiller(dspy.Module):
    """Chooses a theme's products among the retrieved candidates (their lines carry the shopper's history)."""

    def __init__(self):
        super().__init__()
        self.fill = dspy.Predict(FillTheme)

    def forward(self, theme: Theme, objective_guidance: str, candidates: str, num_products: int) -> dspy.Prediction:
        return self.fill(theme=theme, objective_guidance=objective_guidance, candidates=candidates,
                         num_products=num_products)


class ThemeFilter(dspy.Module):
    """Drops the products of a filled placement that do not fit its theme."""

    def __init__(self):
        super().__init__()
        self.check = dspy.Predict(FilterTheme)

    def forward(self, theme: Theme, products: str) -> dspy.Prediction:
        return self.check(theme=theme, products=products)
