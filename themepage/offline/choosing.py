"""The offline answers to FillTheme, FilterTheme and GenerateItems: rank and judge candidates.

Scores combine theme fit (BM25 against the theme's queries, its aisles, and
closeness to the placement's centre) with user affinity (purchase history
shown in the prompt, and the taste vector of the products the context names),
tilted by the steering cues of the instruction and guidance.
"""

from __future__ import annotations

import numpy as np

from themepage.constants import HEALTHY_AISLES
from themepage.index import CatalogIndex
from themepage.library.asks import Asks
from themepage.library.shopper import Shopper
from themepage.offline.prompt import Prompt
from themepage.offline.reading import Candidate, read_candidates, read_shopper, read_theme, shopper_from_marks
from themepage.offline.steering import steer
from themepage.page import Theme

_HEALTHY = frozenset(HEALTHY_AISLES)
MAX_QUERIES = 8
"""A theme's queries scored at most (the bank's themes have up to six); the rest of a long list is ignored."""


def theme_fit(theme: Theme, candidates: list[Candidate], index: CatalogIndex) -> np.ndarray:
    """In [0, 2]: best normalized BM25 score over the theme's queries, plus 1 inside the theme's aisles."""
    if not candidates:
        return np.zeros(0)
    rows = index.rows([c.product_id for c in candidates])
    lexical = np.zeros(len(candidates))
    for query in theme.queries[:MAX_QUERIES]:
        scores = index.lexical.scores(query)[rows]
        if scores.max() > 0:
            lexical = np.maximum(lexical, scores / scores.max())
    aisles = {a.lower() for a in theme.aisles}
    in_aisle = np.array([c.aisle.lower() in aisles for c in candidates], dtype=float) if aisles else np.ones(len(rows))
    return lexical + in_aisle


def affinity(candidates: list[Candidate], prompt: Prompt, index: CatalogIndex, steering: Asks) -> np.ndarray:
    """How likely the shopper is to buy each candidate, tilted by the objective.

    Purchase share (with a small recency tie-break) plus the cosine to the shopper's taste
    vector; asked for new products, it penalizes what was bought and leans on taste;
    asked for healthy choices, it lifts the health aisles.
    """
    shopper = _shopper(prompt, candidates, index)
    bought = np.array([max(c.bought_share, shopper.product_share.get(c.product_id, 0.0)) for c in candidates])
    recency = np.array([c.recency for c in candidates])
    taste = np.zeros(len(candidates))
    if shopper.profile is not None and candidates:
        taste = np.clip(index.vectors[index.rows([c.product_id for c in candidates])] @ shopper.profile, 0, 1)
    novelty = steering.novelty_seeking
    healthy = np.array([c.aisle.lower() in _HEALTHY for c in candidates], dtype=float)
    habit = 0.5 * (bought > 0) + bought + 0.05 * recency
    return (habit * (1 - 2.5 * novelty) + (0.15 + 0.6 * novelty) * (1 + steering.taste_seeking) * taste
            + 0.8 * steering.health_seeking * healthy)


def _shopper(prompt: Prompt, candidates: list[Candidate], index: CatalogIndex) -> Shopper:
    """The shopper from the user context when the prompt has one (GenerateItems), else from the candidates'
    purchase marks (FillTheme): the same shares, and a taste vector of the bought candidates."""
    if "user_context" in prompt.inputs:
        return read_shopper(prompt.inputs["user_context"], index)
    return shopper_from_marks(candidates, index)


def _top(candidates: list[Candidate], scores: np.ndarray, n: int) -> list[int]:
    order = np.argsort(-scores, kind="stable")[:n]
    return [candidates[i].product_id for i in order]


TOGETHER_WEIGHT = 2.0
"""How much, at full strictness, a pick's co-purchase closeness to the picks before it counts against its score."""


def _together(candidates: list[Candidate], scores: np.ndarray, n: int, index: CatalogIndex, strength: float
              ) -> list[int]:
    """Greedy picks that also weigh how often each candidate is bought with the picks so far.

    Asked for cohesive rows, a merchandiser picks products that go together, not the n best taken one by
    one: after the first pick, each next one adds `strength` x its mean co-purchase cosine to the picks.
    """
    if strength <= 0 or len(candidates) <= 1:
        return _top(candidates, scores, n)
    vectors = index.vectors[index.rows([c.product_id for c in candidates])]  # unit rows: dot products are cosines
    chosen = [int(np.argmax(scores))]
    closeness = vectors @ vectors[chosen[0]]
    while len(chosen) < min(n, len(candidates)):
        gain = scores + strength * closeness / len(chosen)
        gain[chosen] = -np.inf
        best = int(np.argmax(gain))
        chosen.append(best)
        closeness = closeness + vectors @ vectors[best]
    return [candidates[i].product_id for i in chosen]


def _steering(prompt: Prompt) -> Asks:
    return steer(prompt.instruction, prompt.inputs["objective_guidance"])


def fill(prompt: Prompt, index: CatalogIndex) -> dict[str, object]:
    theme = read_theme(prompt.inputs["theme"])
    candidates = read_candidates(prompt.inputs["candidates"], index)
    n = prompt.count("num_products", 8)
    steering = _steering(prompt)
    regulars = max(0.0, steering.weight("personal"))
    # asked for cohesion, belonging to the theme outweighs the shopper's habits
    weight = (3.0 if theme.from_history else 1.0) * (1 + regulars) * (1 - 0.3 * steering.strictness)
    fit = theme_fit(theme, candidates, index)
    if theme.from_history:  # a theme of the shopper's own products: belonging is about the aisle, not the words
        fit = np.minimum(fit, 1.0)
    scores = (1 + 3 * steering.strictness) * fit + weight * affinity(candidates, prompt, index, steering)
    picks = _together(candidates, scores, n, index, TOGETHER_WEIGHT * steering.strictness)
    if theme.from_history and theme.aisles and regulars > 0:
        # a row of the shopper's regulars shows what they buy; pad with new products only to half a row
        own = {c.product_id for c in candidates if c.bought_share > 0}
        mine = [p for p in picks if p in own]
        picks = mine + [p for p in picks if p not in own][:max(0, n // 2 - len(mine))]
    return {"product_ids": picks}


def generate_items(prompt: Prompt, index: CatalogIndex) -> dict[str, object]:
    candidates = read_candidates(prompt.inputs["candidates"], index)
    n = prompt.count("num_products", 48)
    return {"product_ids": _top(candidates, affinity(candidates, prompt, index, _steering(prompt)), n)}


def judge_fit(prompt: Prompt, index: CatalogIndex) -> dict[str, object]:
    """FilterTheme: drop products outside the theme's aisles that match none of its queries and sit far
    from the placement's centre; stricter when the instruction asks for cohesion."""
    theme = read_theme(prompt.inputs["theme"])
    products = read_candidates(prompt.inputs["products"], index)
    if not products:
        return {"kept_ids": []}
    steering = steer(prompt.instruction)
    fit = theme_fit(theme, products, index)
    vectors = index.vectors[index.rows([p.product_id for p in products])]
    centre = vectors.mean(axis=0)
    centre /= np.linalg.norm(centre) or 1.0
    closeness = vectors @ centre
    threshold = 0.15 + 0.35 * steering.strictness
    loose = 0.3 if steering.strictness < 0.5 else 1.0
    kept = [product.product_id for product, f, c in zip(products, fit, closeness, strict=True)
            if theme.from_history or f >= loose or c >= threshold]
    return {"kept_ids": kept}
