"""The offline engine's answer to JudgePage: grade each placement from the catalog index, never by guessing.

The page text (written by metrics.judge.render_page_for_judge) is parsed back into titles and
catalog products. Per placement, with the centred co-purchase vectors the metrics use:
- cohesion      <- mean pairwise cosine of its products (intra-list similarity),
- title_quality <- mean max(0, cos) of its products to the centroid of the title's top BM25 hits
                   (3, neutral, when the title has no lexical hit),
- user_fit      <- mean max(0, cos) of its products to a profile built from the products named in the
                   user context (3, neutral, for a new shopper),
each mapped to 1-5 linearly with FULL_MARKS similarity earning a 5. Off-topic: names not in the
catalog, and products whose cosine to the title centroid (or, without title hits, to the rest of
the placement) is both more than OFF_TOPIC_MARGIN below the placement's mean and under UNRELATED,
so a real product on the aisle's edge (a well-known taco shell among aisle-average ones) stays.
"""

from __future__ import annotations

import re

import numpy as np

from themepage.constants import TITLE_HITS
from themepage.index import CatalogIndex
from themepage.offline.memo import derived, product_ids_by_name
from themepage.offline.prompt import Prompt
from themepage.prompt_text import inline
from themepage.user_context import parse_user_context

JUDGE_OUTPUTS = frozenset({"verdicts", "overall"})
FULL_MARKS = 0.5
"""A centred cosine this high earns a 5 (random products score ~0, co-purchase neighbours ~0.6)."""
OFF_TOPIC_MARGIN = 0.2
UNRELATED = 0.1
NEUTRAL_GRADE = 3

_PLACEMENT = re.compile(r"^\s*Placement\s+\d+\s*:\s*(.*?)\s*$")
_PRODUCT = re.compile(r"^\s*[-*]\s+(.*?)\s*$")


def _normal(name: str) -> str:
    return " ".join(name.lower().split())


def _lookups(index: CatalogIndex) -> tuple[tuple[dict[str, int], dict[str, int]], set[str], np.ndarray]:
    """Per index, once: product name -> id (exact, and normalized), the aisle names, and the vectors' mean.

    Names match exactly (as made prompt-safe) first, then lowercased with spaces collapsed. Where names
    collide (the catalog has names that differ only in spacing, e.g. "Organic Whole Milk" and
    "Organic  Whole Milk"), the first product in catalog order wins, in both maps.
    """
    return derived(index, "judge_lookups", _build_lookups)


def _build_lookups(index: CatalogIndex) -> tuple[tuple[dict[str, int], dict[str, int]], set[str], np.ndarray]:
    exact = product_ids_by_name(index)
    loose: dict[str, int] = {}
    for name, pid in exact.items():
        loose.setdefault(_normal(name), pid)
    aisles = {_normal(a) for a in index.catalog.aisles.values()} | {"unknown aisle"}
    return (exact, loose), aisles, np.asarray(index.vectors, dtype=np.float64).mean(axis=0)


def _product_id(name: str, names: tuple[dict[str, int], dict[str, int]]) -> int | None:
    exact, loose = names
    name = inline(name)
    return exact.get(name, loose.get(_normal(name)))


def _unit(matrix: np.ndarray) -> np.ndarray:
    matrix = np.atleast_2d(matrix)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def _vectors(index: CatalogIndex, product_ids: list[int]) -> np.ndarray:
    center = _lookups(index)[2]
    return _unit(np.asarray(index.vectors[index.rows(product_ids)], dtype=np.float64) - center)


def parse_page(text: str, index: CatalogIndex) -> list[tuple[str, list[str], list[int | None]]]:
    """(title, product names, product ids or None when not in the catalog) per placement, in page order."""
    names, aisles, _ = _lookups(index)
    placements: list[tuple[str, list[str], list[int | None]]] = []
    for line in text.splitlines():
        if header := _PLACEMENT.match(line):
            placements.append((header.group(1), [], []))
        elif (item := _PRODUCT.match(line)) and placements:
            name = item.group(1)
            head, _, tail = name.rpartition(" (")
            if head and tail.endswith(")") and _normal(tail[:-1]) in aisles:
                name = head
            placements[-1][1].append(name)
            placements[-1][2].append(_product_id(name, names))
    return placements


def context_products(user_context: str, index: CatalogIndex) -> list[int]:
    """Catalog products named in the user context: the frequent products, then the rest of the last basket."""
    names = _lookups(index)[0]
    context = parse_user_context(user_context)
    found: list[int] = []
    for name in [n for n, _ in context.frequent] + context.recent:
        pid = _product_id(name, names)
        if pid is not None and pid not in found:
            found.append(pid)
    return found


def _grade(similarity: float | None) -> int:
    """1-5 from a similarity: linear, FULL_MARKS and above earn 5; None (nothing to measure) is neutral."""
    if similarity is None:
        return NEUTRAL_GRADE
    return 1 + int(round(4 * min(max(similarity / FULL_MARKS, 0.0), 1.0)))


def _title_centroid(title: str, index: CatalogIndex) -> np.ndarray | None:
    hits = index.search(title, TITLE_HITS) if title.strip() else []
    return _unit(_vectors(index, hits).mean(axis=0))[0] if hits else None


def judge_placement(title: str, names: list[str], ids: list[int | None], index: CatalogIndex,
                    profile: np.ndarray | None) -> dict[str, object]:
    """One verdict dict (title, cohesion, title_quality, user_fit, off_topic_products) for a parsed placement."""
    known = [(n, p) for n, p in zip(names, ids, strict=True) if p is not None]
    off_topic = [n for n, p in zip(names, ids, strict=True) if p is None]
    if not known:
        return {"title": title, "cohesion": 1, "title_quality": 1, "user_fit": 1, "off_topic_products": off_topic}
    vectors = _vectors(index, [p for _, p in known])
    n = len(vectors)
    total = vectors.sum(axis=0)
    ils = float((total @ total - n) / (n * (n - 1))) if n > 1 else None
    centroid = _title_centroid(title, index)
    if centroid is not None:
        cosines = vectors @ centroid
    elif n > 1:  # no title hit: each product against the rest of the placement
        cosines = np.einsum("ij,ij->i", vectors, _unit(total - vectors))
    else:
        cosines = np.ones(1)
    cut = min(cosines.mean() - OFF_TOPIC_MARGIN, UNRELATED)
    off_topic += [name for (name, _), c in zip(known, cosines, strict=True) if c < cut]
    user = None if profile is None else float(np.clip(vectors @ profile, 0, 1).mean())
    title_fit = None if centroid is None else float(np.clip(cosines, 0, 1).mean())
    return {"title": title, "cohesion": _grade(ils), "title_quality": _grade(title_fit),
            "user_fit": _grade(user), "off_topic_products": off_topic}


def _overall(verdicts: list[dict], placements) -> float:
    """Mean over placements of the normalized grades and on-topic share (as metrics.judge scores them)."""
    if not verdicts:
        return 0.0
    scores = []
    for verdict, (_, names, _) in zip(verdicts, placements, strict=False):
        grades = sum((verdict[k] - 1) / 4 for k in ("cohesion", "title_quality", "user_fit"))
        on_topic = 1 - len(set(verdict["off_topic_products"])) / len(set(names)) if names else 0.0
        scores.append((grades + on_topic) / 4)
    return round(float(np.mean(scores)), 3)


def answer_judge(prompt: Prompt, index: CatalogIndex) -> dict[str, object]:
    """The JudgePage outputs for this prompt: a verdict dict per placement and an overall score in [0, 1]."""
    placements = parse_page(prompt.inputs["page"], index)
    liked = context_products(prompt.inputs["user_context"], index)
    profile = _unit(_vectors(index, liked).sum(axis=0))[0] if liked else None
    verdicts = [judge_placement(title, names, ids, index, profile) for title, names, ids in placements]
    return {"verdicts": verdicts, "overall": _overall(verdicts, placements)}
