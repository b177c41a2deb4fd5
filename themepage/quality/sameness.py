"""What a product is, for near-duplicates (rule 2 of themepage/data/DATA.md): a name read as its food, not its wording.

Two products are the same item when they differ only by brand, size, a claim (organic, diet, low fat),
a flavour or scent of one product line, a cut or form of one food, or a synonym. Three readings serve the
pair model (`themepage.quality.features`):
- `item_text`: a name with synonyms written one way ("garbanzo beans" and "chick peas" -> "chickpeas",
  "stock" -> "broth", "seltzer" -> "sparkling water") and claim words left out, so the stems and heads
  of two names compare the food, not its wording;
- `Spread`: per stem, the share of its catalog names that sit in its most common aisle. A food's word
  ("cheddar", "yogurt") sits mostly in one aisle; a flavour or scent ("lime", "vanilla", "lavender") and a
  cut or form word ("sliced", "shredded") are spread over many. Two names whose differing words are all
  spread are one product line in two flavours or forms; a differing word that sits in one aisle names
  another food (cheddar vs swiss);
- the shelf: products of different aisles are rarely the same item (the pair model weighs it).

The synonym table is short and literal (the rubric's own examples and the spellings the catalog mixes);
everything else is learned from the catalog's names and aisles, and the model's weights from the labels.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from themepage.quality.text import content_stems

SYNONYMS = (
    (r"garbanzo beans?|garbanzos?|chick peas?|chickpeas?", "chickpeas"),
    (r"stocks?", "broth"),
    (r"yoghurts?", "yogurt"),
    (r"hommus|houmous|humus", "hummus"),
    (r"seltzers?|club soda|carbonated water|sparkling mineral water|mineral water,? carbonated", "sparkling water"),
    (r"almondmilk", "almond milk"),
    (r"soymilk", "soy milk"),
    (r"oatmilk", "oat milk"),
    (r"coconutmilk", "coconut milk"),
    (r"baby bellas?|crimini|cremini|portabella|portobello", "mushrooms"),
    (r"barbe?que|bbq", "barbecue"),
    (r"artesian|artisan", "spring"),
    (r"smartwater", "water"),
    (r"hand wash|handwash", "hand soap"),
    (r"dish liquid|dishwashing liquid|dish soap", "dish soap"),
    (r"ketchup|catsup", "ketchup"),
    (r"scallions?|green onions?", "scallions"),
    (r"cilantro|coriander leaves", "cilantro"),
    (r"zucchinis?|courgettes?", "zucchini"),
    (r"eggplants?|aubergines?", "eggplant"),
    (r"jelly beans?", "jellybeans"),
    (r"salame|salamis?", "salami"),
    (r"totopos", "tortilla chips"),
    (r"crisps", "chips"),
    (r"tumblers?", "cups"),
    (r"oatmeal", "oats"),
    (r"k-? ?cups?", "kcups"),
)
"""Synonyms and spellings written one way (regular expressions over lower-case names, whole words)."""
_SYNONYMS = [(re.compile(rf"\b(?:{pattern})\b"), canonical) for pattern, canonical in SYNONYMS]

CLAIM_WORDS = frozenset("organic natural diet zero calorie calories light lite reduced low lowfat nonfat fat free "
                        "sodium sugar unsweetened sweetened unsalted salted gluten gmo non original classic "
                        "plain regular whole fresh premium pure simply sliced shredded grated chopped diced cut "
                        "cuts spears florets whole halves pieces baby mini large small jumbo family size value "
                        "pack count".split())
"""Words of a claim, size or minor form (rule 2: organic or not, diet vs regular, shredded vs grated), left out of
a name when two names are compared as items."""
_CLAIM_STEMS = frozenset(s for w in CLAIM_WORDS for s in content_stems(w)) | frozenset(
    w for w in CLAIM_WORDS if len(w) > 1)


def item_text(name: str) -> str:
    """The name lower-cased with synonyms written one way (SYNONYMS)."""
    text = " ".join("".join(c if c.isalnum() or c in ",%&'" else " " for c in name.lower()).split())
    for pattern, canonical in _SYNONYMS:
        text = pattern.sub(canonical, text)
    return text


def item_stems(name: str) -> frozenset[str]:
    """Content stems of `item_text(name)` without claim words: what the product is, not how it is sold."""
    return frozenset(s for s in content_stems(item_text(name)) if s not in _CLAIM_STEMS)


@dataclass(frozen=True)
class Spread:
    """Per stem: the share of the catalog names holding it that sit in its most common aisle (1.0: one aisle)."""

    concentration: dict[str, float]

    @classmethod
    def from_catalog(cls, names: Sequence[str], aisle_ids: Sequence[int], prior: float = 3.0) -> Spread:
        """Counted over catalog names; a rare stem is shrunk toward 0.5 by `prior` pseudo-names (no evidence)."""
        by_aisle: dict[str, Counter] = defaultdict(Counter)
        for name, aisle in zip(names, aisle_ids, strict=True):
            for stem in item_stems(name):
                by_aisle[stem][int(aisle)] += 1
        return cls({s: (max(c.values()) + 0.5 * prior) / (sum(c.values()) + prior) for s, c in by_aisle.items()})

    def of(self, stem: str) -> float:
        """Concentration of a stem; 0.5 (no evidence) for a stem the catalog lacks."""
        return self.concentration.get(stem, 0.5)

    def most_specific(self, stems: frozenset[str]) -> float:
        """The highest concentration among a name's stems (0.0 for none): low for a name that names no food."""
        return max((self.of(s) for s in stems), default=0.0)

    def most_specific_difference(self, a: frozenset[str], b: frozenset[str]) -> float:
        """The highest concentration among the stems only one name has (0.0 when they differ in none):
        low when two names differ only by flavours, scents or forms, high when one names another food."""
        differ = a ^ b
        return max((self.of(s) for s in differ), default=0.0)

    def specific_shared(self, a: frozenset[str], b: frozenset[str]) -> float:
        """The highest concentration among the stems both names have (0.0 when they share none): high when the
        shared word is a food's own word ("yogurt", "broth"), low when they share only a flavour."""
        return max((self.of(s) for s in a & b), default=0.0)
