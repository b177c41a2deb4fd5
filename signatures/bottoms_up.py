"""Signatures of the bottoms-up program: pick the page's products, then name each cluster."""

import dspy


class GenerateItems(dspy.Signature):
    """Choose the products for a personalized landing page of the store from the candidates.
    Pick only candidate ids, never repeat one, most relevant to the shopper first, serving the
    objective."""

    user_context: str = dspy.InputField(desc="readable summary of the shopper's order history")
    objective_guidance: str = dspy.InputField(desc="what the page must achieve for the business right now")
    candidates: str = dspy.InputField(desc="one candidate per line: id | name | aisle | purchase history")
    num_products: int = dspy.InputField(desc="how many products the page shows")
    product_ids: list[int] = dspy.OutputField(desc="chosen candidate ids, most relevant first")


class NamePlacement(dspy.Signature):
    """Name a placement of the store's landing page from the products grouped in it.
    The title is short, specific and appealing; the rationale is one sentence for the shopper."""

    products: str = dspy.InputField(desc="one product per line: name | aisle")
    title: str = dspy.OutputField(desc="shopper-facing placement title, at most six words")
    rationale: str = dspy.OutputField(desc="one sentence on why these products belong together")
