"""Every default in one place: page shape, retrieval depth, seeds and paths."""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_DATA_DIR = PACKAGE_DIR / "data" / "instacart"
OBJECTIVES_DIR = PACKAGE_DIR / "objectives"
LABELS_FILE = PACKAGE_DIR / "data" / "placement_labels" / "labels.jsonl"
"""Merchandisers' labels of placements (themepage/data/DATA.md): the quality models are fitted and checked on them
(bench/fit_quality.py, tests); never read at run time, so not shipped in the wheel."""
OWN_LABELS_FILE = PACKAGE_DIR / "data" / "placement_labels" / "own_pages.jsonl"
"""Placements of this project's own pages labeled here with the same rubric: what the page rules let through, which
the quality models are fitted on beside LABELS_FILE."""
HELDOUT_LABELS_FILE = PACKAGE_DIR / "data" / "placement_labels" / "heldout.jsonl"
"""Placements of later pages labeled apart with the same rubric: never fitted on, only used to check the scorer."""

PLACEMENTS_PER_PAGE = 6
PRODUCTS_PER_PLACEMENT = 8
PAGE_SIZE = PLACEMENTS_PER_PAGE * PRODUCTS_PER_PLACEMENT

CANDIDATES_PER_THEME = 20
"""How many retrieved products enter a FillTheme prompt (the RAG pruning)."""
USER_CANDIDATES = 120
"""How many personalized candidates enter a GenerateItems prompt."""

CLEAR_FIT = 0.8
"""A product whose fit under a title (the core scorer's chance a merchandiser says it belongs) reaches this clearly
belongs there; below it a product is arguable at best, and a row of arguable products is not one a person publishes."""

ROW_DUPLICATE_CHANCE = 0.05
"""Within a row, two products whose near-duplicate chance (the core pair model) reaches this are not shown
together, even below the model's own threshold: three cilantros in a herb row waste slots either way. The page
rules and the offline engine's estimate of how full a theme's row can be both hold to it."""

INTENT_OVERLAP = 0.5
"""Two rows whose product aisles overlap by more than this (Jaccard) are about the same part of the shop: a page
shows one of them."""

TITLE_HITS = 20
"""How many top BM25 hits of a placement title stand for what the title means (their vectors' centroid)."""

EMBEDDING_DIM = 64
MIN_PRODUCT_COUNT = 3
"""Products seen in fewer baskets than this borrow their aisle's vector."""
SEED = 7

COMPILE_TRAIN_EXAMPLES = 24
COMPILE_VAL_EXAMPLES = 64
"""Examples a compile uses by default (see `themepage.optimize.compile_sets`): validation, every user's latest
orders before the evaluated basket; training (demos, reflection), train users' next most recent ones.
Candidates differ by a few products a page, so validation needs many shoppers to tell them apart."""
GEPA_METRIC_CALLS = 1200
GEPA_MINIBATCH = 16
"""GEPA's budget: metric calls (pages scored) a gepa compile may spend, and the minibatch it reflects on."""

DEFAULT_LM = "offline"
DEFAULT_PROGRAM = "top-down"
DEFAULT_OBJECTIVE = "relevance"
LM_TIMEOUT_SECONDS = 30.0
LM_NUM_RETRIES = 2
PAGE_DEADLINE_SECONDS = 60.0
"""Wall time one page may take; LM steps still running then fall back to retrieval."""
LOCAL_PLACEHOLDER_KEY = "themepage-local-server"
"""The API key sent to a server on a loopback address when the provider's key variable is unset."""


def default_cache_dir() -> Path:
    """Where derived state lives: $THEMEPAGE_CACHE_DIR, else ~/.cache/themepage."""
    configured = os.environ.get("THEMEPAGE_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "themepage"

HEALTHY_AISLES = (
    "fresh fruits", "fresh vegetables", "packaged vegetables fruits", "packaged produce", "fresh herbs",
    "frozen produce",
)
"""Aisles of fruit and vegetables, whole, cut or frozen: the food group every dietary guideline asks
shoppers to eat more of (WHO: at least 400 g a day; USDA MyPlate: half the plate). One definition,
read by the healthy-share metric and by the offline engine's steering."""

RESTRICTED_AISLES = ("beers coolers", "red wines", "white wines", "spirits", "specialty wines champagnes")
"""Aisles of alcohol: their products reach a page only for a shopper who bought in that aisle (page rules)."""
