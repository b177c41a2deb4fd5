"""The offline answer to NamePlacement: name a group of products after the theme it most resembles."""

from __future__ import annotations

from collections import Counter

from themepage.index import CatalogIndex
from themepage.offline.prompt import Prompt
from themepage.offline.reading import read_named_products, words
from themepage.offline.theme_bank import load_theme_bank


def name(prompt: Prompt, index: CatalogIndex) -> dict[str, object]:
    products = [(n, aisle.lower()) for n, aisle in read_named_products(prompt.inputs["products"])]
    aisles = Counter(aisle for _, aisle in products)
    name_words = Counter(w for product, _ in products for w in words(product))
    best, best_score = None, 0.0
    for theme in load_theme_bank():
        if "personal" in theme.tags:
            continue
        aisle_share = sum(aisles[a] for a in theme.aisles) / max(1, len(products))
        query_hits = sum(name_words[w] for q in theme.queries for w in words(q)) / max(1, len(products))
        score = aisle_share + 0.5 * min(1.0, query_hits)
        if score > best_score:
            best, best_score = theme, score
    top_aisle = aisles.most_common(1)[0][0] if aisles else "favourites"
    if best is None or best_score < 0.5:
        return {"title": f"{top_aisle.title()} Picks",
                "rationale": f"A mix built around {top_aisle} and what goes with it."}
    return {"title": best.title, "rationale": best.description}
