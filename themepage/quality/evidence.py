"""What the scorer knows about one placement, read from the catalog index and the text embedder.

Centred co-purchase vectors: the index's PPMI+SVD vectors share a strong common direction, so the raw
cosine of two unrelated products is ~0.5; centring on the catalog mean and renormalising
("all-but-the-top", Mu & Viswanath, ICLR 2018) brings unrelated products to ~0.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace

import numpy as np

from themepage.constants import TITLE_HITS
from themepage.index.vectors import unit_rows
from themepage.quality.heads import WordStats, core_phrase, ordered_stems
from themepage.quality.sameness import Spread, item_stems, item_text
from themepage.quality.text import TextEmbedder, content_stems

_CENTERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_WORDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SPREADS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SHELVES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
AISLE_CHOICE_TEMPERATURE = 0.05
"""Softness of the title's choice among aisles by embedding similarity (`TitleEvidence.aisle_choice`): at 0.05 an
aisle 0.1 less similar than the best is about 7 times less likely."""


def word_stats(index) -> WordStats:
    """Headness and IDF of the stems of the index's catalog names (counted once per index)."""
    found = _WORDS.get(index)
    if found is None:
        found = _WORDS[index] = WordStats.from_names(index.catalog.names)
    return found


@dataclass(frozen=True)
class KnownSpread(Spread):
    """A Spread that remembers each name's most specific stem: the pair features ask it of both names of every
    pair, and a product meets many others."""

    known: dict[frozenset[str], float] = field(default_factory=dict, compare=False, repr=False)

    def most_specific(self, stems: frozenset[str]) -> float:
        found = self.known.get(stems)
        if found is None:
            found = self.known[stems] = super().most_specific(stems)
        return found


def item_spread(index) -> Spread:
    """How concentrated in one aisle each item stem of the index's catalog names is (counted once per index)."""
    found = _SPREADS.get(index)
    if found is None:
        counted = Spread.from_catalog(index.catalog.names, index.catalog.aisle_ids)
        found = _SPREADS[index] = KnownSpread(**{f.name: getattr(counted, f.name) for f in fields(counted)})
    return found


def shelf_embeddings(index, embed: TextEmbedder) -> tuple[dict[int, int], np.ndarray, dict[int, int], np.ndarray]:
    """Each aisle's and department's row in its table of name embeddings (embedded once per index and embedder)."""
    tables = _SHELVES.setdefault(index, {})
    found = tables.get(embed)
    if found is None:
        aisles, departments = list(index.catalog.aisles), list(index.catalog.departments)
        found = tables[embed] = ({int(a): i for i, a in enumerate(aisles)},
                                 embed([index.catalog.aisles[a] for a in aisles]),
                                 {int(d): i for i, d in enumerate(departments)},
                                 embed([index.catalog.departments[d] for d in departments]))
    return found


def vector_center(index) -> np.ndarray:
    """The mean of the index's co-purchase vectors over all catalog rows (computed once per index)."""
    center = _CENTERS.get(index)
    if center is None:
        center = _CENTERS[index] = np.asarray(index.vectors, dtype=np.float64).mean(axis=0)
    return center


def centred_vectors(index, product_ids: Sequence[int] | np.ndarray) -> np.ndarray:
    """Centred unit co-purchase vectors of the products, one row each (see the module docstring)."""
    rows = index.catalog.row_of[np.asarray(list(product_ids), dtype=np.int64)]
    return unit_rows(np.asarray(index.vectors[rows], dtype=np.float64) - vector_center(index))


DRESSING_WORDS = frozenset(["more", "picks", "aisle", "favorites", "your", "the"])
"""Words a generated title wraps around a raw aisle name ("More Fresh Vegetables Picks")."""


def aisle_words(text: str) -> str:
    """A title or aisle name reduced to its words, without dressing words, numbers and punctuation."""
    words = "".join(c if c.isalpha() else " " for c in text.lower()).split()
    return " ".join(w for w in words if w not in DRESSING_WORDS)


@dataclass(frozen=True)
class TitleEvidence:
    """A title's embedding, its top BM25 hits' centred centroid (None: no hit), their aisles/departments, and
    whether the title is only a catalog aisle's name dressed up ("Fresh Fruits Picks", see `aisle_words`):
    `named_aisle` is that aisle's id (-1: the title names no aisle). What its words name: `stems` (content
    stems), `aisle_choice` (per aisle id, a softmax
    over the catalog's aisles of their names' embedding similarity to the title) and `word_embeddings` (one row
    per content word of the title, None without one)."""

    embedding: np.ndarray
    centroid: np.ndarray | None
    hit_aisles: np.ndarray
    hit_departments: np.ndarray
    names_an_aisle: bool = False
    named_aisle: int = -1
    stems: frozenset[str] = frozenset()
    aisle_choice: np.ndarray | None = None
    word_embeddings: np.ndarray | None = None


class TitleLookup:
    """Title -> TitleEvidence, memoised (titles repeat across pages), bounded LRU."""

    def __init__(self, index, embed: TextEmbedder, hits: int = TITLE_HITS, max_titles: int = 4096):
        self.index, self.embed, self.hits, self.max_titles = index, embed, hits, max_titles
        self.aisle_names = {aisle_words(name): int(a) for a, name in index.catalog.aisles.items()}
        self.aisle_ids = np.array(sorted(index.catalog.aisles), dtype=np.int64)
        aisle_row, aisle_table, _, _ = shelf_embeddings(index, embed)
        self.aisle_embeddings = aisle_table[[aisle_row[int(a)] for a in self.aisle_ids]]
        self._cache: OrderedDict[str, TitleEvidence] = OrderedDict()

    def __call__(self, title: str) -> TitleEvidence:
        key = " ".join(title.lower().split())
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        hits = self.index.search(key, self.hits) if key else []
        rows = self.index.catalog.row_of[np.asarray(hits, dtype=np.int64)]
        centroid = unit_rows(centred_vectors(self.index, hits).mean(axis=0))[0] if hits else None
        named = self.aisle_names.get(aisle_words(key), -1)
        embedding = self.embed([key])[0]
        similarity = self.aisle_embeddings @ embedding
        weights = np.exp((similarity - similarity.max()) / AISLE_CHOICE_TEMPERATURE)
        choice = np.zeros(int(self.aisle_ids.max()) + 1 if len(self.aisle_ids) else 1)
        choice[self.aisle_ids] = weights / weights.sum()
        words = [w for w in "".join(c if c.isalpha() else " " for c in key).split() if content_stems(w)]
        found = TitleEvidence(embedding, centroid, np.asarray(self.index.catalog.aisle_ids)[rows],
                              np.asarray(self.index.catalog.department_ids)[rows], named >= 0, named,
                              content_stems(key), choice,
                              self.embed(words) if words else None)
        self._cache[key] = found
        if len(self._cache) > self.max_titles:
            self._cache.popitem(last=False)
        return found


@dataclass(frozen=True)
class PlacementEvidence:
    """Per product of a placement (rows in input order): names, shelves, embeddings, vectors, heads and stems.

    `core_embeddings` embed each name's core phrase (`heads.core_phrase`); `words` weighs stems. `items` and
    `item_heads` read each name as its food (`sameness.item_stems`, the head of `sameness.item_text`), `spread`
    says which stems name a food and which a flavour or form (`sameness.Spread`; None: not read).
    """

    product_ids: list[int]
    names: list[str]
    aisle_ids: np.ndarray
    department_ids: np.ndarray
    name_embeddings: np.ndarray
    aisle_embeddings: np.ndarray
    department_embeddings: np.ndarray
    vectors: np.ndarray
    heads: list[str | None]
    stems: list[frozenset[str]]
    core_embeddings: np.ndarray
    words: WordStats
    items: list[frozenset[str]] = field(default_factory=list)
    item_heads: list[str | None] = field(default_factory=list)
    spread: Spread | None = None

    @classmethod
    def read(cls, index, embed: TextEmbedder, product_ids: Sequence[int], pairs: bool = True) -> PlacementEvidence:
        """The evidence of these products; without `pairs`, only what a title's fit reads (`PAIR_PARTS` empty)."""
        catalog = index.catalog
        ids = [int(p) for p in product_ids]
        rows = catalog.row_of[np.asarray(ids, dtype=np.int64)]
        aisles = np.asarray(catalog.aisle_ids)[rows]
        departments = np.asarray(catalog.department_ids)[rows]
        names = [catalog.names[r] for r in rows]
        aisle_row, aisle_table, department_row, department_table = shelf_embeddings(index, embed)
        texts = embed([*names, *(core_phrase(n) for n in names)])  # one pass for both
        words = word_stats(index)
        found = cls(ids, names, aisles, departments, texts[:len(names)],
                    aisle_table[[aisle_row[int(a)] for a in aisles]],
                    department_table[[department_row[int(d)] for d in departments]], centred_vectors(index, ids),
                    [words.head(n) for n in names], [frozenset(ordered_stems(n)) for n in names],
                    texts[len(names):], words, item_heads=[words.head(item_text(n)) for n in names])
        return found.with_pair_parts(index) if pairs else found

    def with_pair_parts(self, index) -> PlacementEvidence:
        """This evidence with its `PAIR_PARTS` read."""
        return replace(self, items=[item_stems(n) for n in self.names], spread=item_spread(index))

    @property
    def has_pair_parts(self) -> bool:
        return len(self.items) == len(self.product_ids)


PAIR_PARTS = ("items", "spread")
"""The fields only pair features read (a name's item stems, the catalog's spread of stems): the fit of a product
under a title reads its head, stems and core phrase, but none of these."""
