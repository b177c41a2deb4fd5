"""Signatures of the top-down program: plan themes, fill each theme, filter each placement."""

import dspy

from themepage.page import DroppedProduct, Theme


class PlanThemes(dspy.Signature):
    """Plan the placements of a personalized grocery landing page for this shopper.
    Return exactly `num_themes` distinct themes, most relevant to the shopper first. Keep the
    shopper's regular purchases on the page (a theme built from their history), then add themes
    that fit their tastes and the objective. Each theme gives catalog search queries and the
    aisles its products live in."""

    user_context: str = dspy.InputField(desc="readable summary of the shopper's order history")
    objective_guidance: str = dspy.InputField(desc="the page's business goal")
    num_themes: int = dspy.InputField(desc="how many placements the page has")
    themes: list[Theme] = dspy.OutputField(desc="the page's themes in display order")


class FillTheme(dspy.Signature):
    """Choose the products for one themed placement from the retrieved candidates.
    Pick only candidate ids, never repeat one, best first: products that clearly belong to the
    theme and that this shopper is likely to buy, as their purchase history shows."""

    theme: Theme = dspy.InputField(desc="the placement to fill")
    objective_guidance: str = dspy.InputField(desc="the page's business goal")
    candidates: str = dspy.InputField(desc="one per line: id | name | aisle | purchase history")
    num_products: int = dspy.InputField(desc="how many to choose")
    product_ids: list[int] = dspy.OutputField(desc="chosen candidate ids, best first")


class FilterTheme(dspy.Signature):
    """Check a filled placement: keep the products that truly fit its theme, drop the rest,
    each with a short reason."""

    theme: Theme = dspy.InputField(desc="the placement being checked")
    products: str = dspy.InputField(desc="one per line: id | name | aisle")
    kept_ids: list[int] = dspy.OutputField(desc="ids that fit, in the given order")
    dropped: list[DroppedProduct] = dspy.OutputField(desc="the others, each with a short reason")
