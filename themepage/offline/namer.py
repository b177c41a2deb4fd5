"""The offline answer to NamePlacement: name a group of products after the theme it most resembles."""

from __future__ import annotations

from collections import Counter

from themepage.index import CatalogIndex
from themepage.offline.prompt import Prompt
from themepage.offline.reading import read_candidates, words
from themepage.offline.theme_bank import load_theme_bank


def _groups(text: str) -> list[tuple[str, str]]:
    """`name | aisle` lines (an id column first is tolerated)."""
    pairs = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if parts and parts[0].lstrip("-").isdigit():
            parts = parts[1:]
        if len(parts) >= 2 and parts[0]:
            pairs.append((parts[0], parts[1].lower()))
    return pairs


def name(prompt: Prompt, index: CatalogIndex) -> dict[str, object]:
    products = _groups(prompt.inputs["products"])
    if not products:
        products = [(c.name, c.aisle.lower()) for c in read_candidates(prompt.inputs["products"])]
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
