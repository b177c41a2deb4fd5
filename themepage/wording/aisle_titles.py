"""Titles a grammar lets a small model write about a row of given aisles: "Your Yogurt Picks", "Chips & Pretzels".

Under llama.cpp's grammar (JSON Schema `pattern`) a title must name what its aisles hold, with at most a
lead word before and a tail after, so a 135M model cannot copy another row's title or write a fragment. Used by
the planner's slots (`themepage.lm.plan_slots`) and by the bottoms-up namer's schema (`themepage.lm.output_schemas`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from themepage.wording.aisle_labels import AISLE_LABELS

TITLE_LEADS = ("Your", "Fresh", "Everyday", "Family", "Weekly", "Favorite", "Classic", "Easy", "Quick")
TITLE_TAILS = ("Picks", "Favorites", "Staples", "Shelf", "Corner", "Lovers", "Time", "Run", "& More")
"""Words a slot's title may put before and after what its aisle holds: "Your Yogurt Picks", "Easy Freezer Meals"."""
_UNSPECIFIC = frozenset("fresh packaged other more specialty finds basics care goods foods food items supplies "
                        "favourites favorites quick soft frozen lunch instant energy prepped prepared refrigerated "
                        "hot salty cut canned jarred chilled dry dried bulk ready raw whole mixed counter fine "
                        "flat sliced everyday preserved pickled missing".split())
"""Aisle and label words that do not say what a product is (seen as whole titles: "Soft", "Prepped", "Frozen")."""
_PLAIN = re.compile(r"[A-Za-z][A-Za-z &,'-]*")
"""Text that means itself in a pattern (llama.cpp's converter copies backslash escapes into its grammar)."""
LABEL_WORDS = 4
"""A readable label this long or shorter may be a title's core ("Fresh Dips & Hummus")."""


def _singular(word: str) -> str:
    """English singular of a catalog word: pastries -> pastry, bunches -> bunch, mixes -> mix, dips -> dip."""
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith(("ss", "us", "is")) else word


def aisle_keywords(aisle: str) -> list[str]:
    """Capitalised words that say what an aisle holds, from its name and readable label, each also without a
    plural s ("fresh vegetables", "Fresh Veg" -> Vegetables, Vegetable, Veg)."""
    every = [w for w in re.split(r"[\s&,]+", f"{aisle} {AISLE_LABELS.get(aisle, '')}".lower()) if len(w) >= 3]
    words = [w for w in every if w not in _UNSPECIFIC] or every
    forms = [form for w in words for form in (w, _singular(w))]
    return list(dict.fromkeys(form.capitalize() for form in forms))


def title_pattern(aisles: Sequence[str]) -> str:
    """Titles a row of products from `aisles` may take: an optional lead (TITLE_LEADS), what the aisles hold (a
    readable label, or one or two of their keywords joined by '&'), an optional tail (TITLE_TAILS).

    A small model left free copies the previous slot's title ("Bakery" over many aisles), so the title must name
    what the aisles hold; made to name the aisle's keyword but otherwise free, it writes "Buglii Agoi Cereals"
    and "Bakery-style of Herbs", so the lead and tail come from short lists."""
    words = dict.fromkeys(k for aisle in aisles for k in aisle_keywords(aisle) if _PLAIN.fullmatch(k))
    keyword = "(" + "|".join(words) + ")"
    labels = [label for label in dict.fromkeys(AISLE_LABELS.get(aisle, "") for aisle in aisles)
              if _PLAIN.fullmatch(label) and len(label.split()) <= LABEL_WORDS]
    cores = [f"{keyword}( & {keyword})?", *labels]
    leads = "|".join(TITLE_LEADS)
    tails = "|".join(TITLE_TAILS)
    return rf"^(({leads}) )?({'|'.join(cores)})( ({tails}))?$"


def aisles_in_lines(text: object) -> list[str]:
    """The known aisle names closing the lines of a prompt's `name | aisle` list, each once, in order."""
    if not isinstance(text, str):
        return []
    ends = (line.rsplit("|", 1)[-1].strip() for line in text.splitlines() if "|" in line)
    return list(dict.fromkeys(aisle for aisle in ends if aisle in AISLE_LABELS))
