"""Signatures of the top-down program: plan themes, fill each theme, filter each placement."""

import dspy

from themepage.page import Theme


class PlanThemes(dspy.Signature):
    """Plan the placements of a personalized landing page of the store for this shopper.
    Return exactly `num_themes` distinct themes, most relevant to the shopper first. Keep the
    shopper's regular purchases on the page (a theme built from their history), then add themes
    that fit their tastes and the objective."""

    user_context: str = dspy.InputField(desc="readable summary of the shopper's order history")
    objective_guidance: str = dspy.InputField(desc="the page's business goal")
    num_themes: int = dspy.InputField(desc="how many themes")
    themes: list[Theme] = dspy.OutputField(desc="the page's themes in display order")


class FillTheme(dspy.Signature):
    """Fill one themed placement: pick candidate ids, never one twice, best first: products that
    clearly belong to the theme and that this shopper is likely to buy, as their purchase history shows."""

    theme: Theme = dspy.InputField(desc="the placement to fill")
    objective_guidance: str = dspy.InputField(desc="the page's business goal")
    candidates: str = dspy.InputField(desc="one per line: id | name | times bought/orders, when last (if ever)")
    num_products: int = dspy.InputField(desc="how many to choose")
    product_ids: list[int] = dspy.OutputField(desc="chosen ids, best first")


class FilterTheme(dspy.Signature):
    """Check a filled placement: keep the products that truly fit its theme and drop the rest."""

    theme: Theme = dspy.InputField(desc="the placement to check")
    products: str = dspy.InputField(desc="one per line: id | name | aisle")
    kept_ids: list[int] = dspy.OutputField(desc="ids that fit, in the given order")
