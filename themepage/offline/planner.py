"""The offline answer to PlanThemes: the shopper and what is asked read from the prompt, the themes from the library.

Which themes suit the shopper is the theme library's knowledge (`themepage.library.for_shopper`); the stand-in
reads the user context (reading.py) and the instruction's and guidance's cue words (steering.py), and adds what
a model would take from its demos: themes the demos planned for similar shoppers move up.
"""

from __future__ import annotations

from themepage.index import CatalogIndex
from themepage.library.for_shopper import themes_for
from themepage.library.theme_bank import BankTheme
from themepage.offline.prompt import Prompt
from themepage.offline.reading import read_shopper, words
from themepage.offline.steering import steer

DEMO_WEIGHT = 0.8
"""How much a theme gains per unit of `demo_fit`, against the library's fit to the shopper and to what is asked."""


def demo_fit(theme: BankTheme, prompt: Prompt) -> float:
    """Themes that demos of similar shoppers planned move up, in proportion to the similarity."""
    if not prompt.demos:
        return 0.0
    mine = words(prompt.inputs["user_context"])
    total = 0.0
    for demo_inputs, demo_outputs in prompt.demos:
        theirs = words(demo_inputs.get("user_context", ""))
        similarity = len(mine & theirs) / max(1, len(mine | theirs))
        planned = demo_outputs.get("themes")
        titles = {str(t.get("title", "")).lower() for t in planned if isinstance(t, dict)} if isinstance(
            planned, list) else set()
        if theme.title.lower() in titles:
            total += 0.3 + similarity
    return total / len(prompt.demos) ** 0.5


def plan(prompt: Prompt, index: CatalogIndex) -> dict[str, object]:
    shopper = read_shopper(prompt.inputs["user_context"], index)
    asks = steer(prompt.instruction, prompt.inputs["objective_guidance"])
    themes = themes_for(shopper, asks, index, prompt.count("num_themes", 6),
                        bonus=lambda theme: DEMO_WEIGHT * demo_fit(theme, prompt))
    return {"themes": themes}
