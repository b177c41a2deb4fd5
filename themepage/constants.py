"""Every default in one place: page shape, retrieval depth, seeds and paths."""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_DATA_DIR = PACKAGE_DIR / "data" / "instacart"
OBJECTIVES_DIR = PACKAGE_DIR / "objectives"

PLACEMENTS_PER_PAGE = 6
PRODUCTS_PER_PLACEMENT = 8
PAGE_SIZE = PLACEMENTS_PER_PAGE * PRODUCTS_PER_PLACEMENT

CANDIDATES_PER_THEME = 30
"""How many retrieved products enter a FillTheme prompt (the RAG pruning)."""
USER_CANDIDATES = 120
"""How many personalized candidates enter a GenerateItems prompt."""

EMBEDDING_DIM = 64
MIN_PRODUCT_COUNT = 3
"""Products seen in fewer baskets than this borrow their aisle's vector."""
SEED = 7

DEFAULT_LM = "offline"
DEFAULT_PROGRAM = "top-down"
DEFAULT_OBJECTIVE = "relevance"
LM_TIMEOUT_SECONDS = 30.0
LM_NUM_RETRIES = 2


def default_cache_dir() -> Path:
    """Where derived state lives: $THEMEPAGE_CACHE_DIR, else ~/.cache/themepage."""
    configured = os.environ.get("THEMEPAGE_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "themepage"

HEALTHY_AISLES = (
    "fresh fruits", "fresh vegetables", "packaged vegetables fruits", "fresh herbs", "frozen produce",
    "yogurt", "eggs", "tofu meat alternatives", "nuts seeds dried fruit", "grains rice dried goods",
    "bulk grains rice dried goods", "bulk dried fruits vegetables", "seafood counter", "poultry counter",
    "packaged produce", "soy lactosefree", "canned jarred vegetables", "fruit vegetable snacks",
)
"""Aisles counted as healthy choices: whole or minimally processed produce, proteins, grains and dairy."""
