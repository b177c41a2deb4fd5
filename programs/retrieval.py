"""Retrieval for the LLM steps: only these candidates enter a prompt (the RAG pruning)."""

from __future__ import annotations

import numpy as np

from themepage.constants import CLEAR_FIT
from themepage.dataset.history import UserHistory
from themepage.index import CatalogIndex
from themepage.index.lexical import text_tokens
from themepage.library.theme_bank import bank_theme_titled
from themepage.page import Theme
from themepage.programs.rules.duplicates import EvidenceCache
from themepage.programs.rules.row_lengths import MIN_TITLE_FIT
from themepage.quality import placement_scorer
from themepage.wording.prompt_text import COLUMN, inline

OWN_SHARE = 0.5
"""At most this share of a catalog theme's candidates come from the shopper's own history."""
FIT_DEPTH = 3
"""A catalog theme gathers this many times the candidates it shows, so that clear fits found deeper move up."""


def _round_robin(lists: list[list[int]]) -> list[int]:
    merged, seen = [], set()
    for rank in range(max((len(x) for x in lists), default=0)):
        for ranked in lists:
            if rank < len(ranked) and ranked[rank] not in seen:
                seen.add(ranked[rank])
                merged.append(ranked[rank])
    return merged


def retrieve_for_theme(index: CatalogIndex, theme: Theme, history: UserHistory, n: int) -> list[int]:
    """Up to n candidates. A theme from history: its shopper's products first (`gather`). Any other theme:
    FIT_DEPTH * n gathered, what its queries find that fits its title first (`clear_fits_first`), so that a row
    about mushrooms is filled with mushrooms rather than the raspberries that sell best in its aisles."""
    if theme.from_history:
        return gather(index, theme, history, n)
    pool = gather(index, theme, history, FIT_DEPTH * n)
    return clear_fits_first(index, theme.title, pool, history, found=query_hits(index, theme, FIT_DEPTH * n))[:n]


def query_hits(index: CatalogIndex, theme: Theme, n: int) -> set[int]:
    """What the theme's queries find in its aisles by name, each query's best n: BM25 also reads a product's aisle
    and department, so "pancake" reaches the oats of the "hot cereal pancake mixes" aisle, but only a product whose
    own name holds a query's word is found (`gather` runs the same searches)."""
    aisles = sorted(index.aisle_ids(theme.aisles)) or None
    name = index.catalog.name
    found: set[int] = set()
    for query in theme.queries:
        words = text_tokens(query)
        found.update(p for p in index.search(query, k=n, aisles=aisles) if words & text_tokens(name(p)))
    return found


def row_bound(index: CatalogIndex, theme: Theme, n: int) -> frozenset[int] | None:
    """What a library theme's row may hold (`RowDraft.found`): what its queries find by name among the FIT_DEPTH * n
    each that retrieval reads (`query_hits`), nothing else. The library's queries name the items its row holds
    (`themepage/library/theme_bank.toml`); the aisles' best sellers the fit model rates clear fits are often what
    the title does not name (oats beside the pancake mixes), and the one product a row once took beyond its
    queries' finds was, on the labels, as often a near-duplicate of a find (Honey Nut beside Chocolate Cheerios) or
    a misfit (raspberries among the tropical fruit) as not. None for any other theme: a model's two or three
    queries name examples of what its row is about ("potato chips" for "Salty Snacks"), not every item, and its
    row would be a few near-duplicates; retrieval still puts what they find first (`clear_fits_first`)."""
    if theme.from_history or not theme.queries or not from_library(theme):
        return None
    return frozenset(query_hits(index, theme, FIT_DEPTH * n))


def from_library(theme: Theme) -> bool:
    """Whether the theme is a library theme as the library wrote it (its title, and queries the library's)."""
    known = bank_theme_titled(theme.title)
    return known is not None and set(theme.queries) <= set(known.queries)


def clear_fits_first(index: CatalogIndex, title: str, pool: list[int], history: UserHistory | None = None,
                     found: set[int] | None = None) -> list[int]:
    """`pool` with the products that clearly fit `title` (CLEAR_FIT) first; the rest keep their places after them.

    The clear fits are all products the title promises, so among them the shopper's taste decides: nearest their
    taste profile first (`by_taste`), as the discovery objective asks of new products. Without a history they keep
    retrieval's order (BM25 ranks how well a name matches the query, not whom it suits).

    With `found` (what the theme's queries find), the fit model's verdict is weighed by where a product came
    from: a product a query found that fits the title (MIN_TITLE_FIT) comes before an aisle-mate the model rates
    a clear fit. An aisle holds more than a title names (oats beside pancake mixes, colas beside energy drinks),
    and on the labels a query's find that fits was far more often a product a labeler would place than an
    aisle's best seller the model rated clear (docs/results.md, session 15)."""
    if not pool:
        return pool
    fits = EvidenceCache(placement_scorer(index)).fits(title, pool)
    tiers: list[list[int]] = [[], [], [], []]
    for p, fit in zip(pool, fits, strict=True):
        tiers[_tier(fit, None if found is None else p in found)].append(p)
    if history is not None and not history.is_empty():
        tiers[:3] = [by_taste(index, tier, history) for tier in tiers[:3]]
    return [p for tier in tiers for p in tier]


def _tier(fit: float, found: bool | None) -> int:
    """0: found and a clear fit; 1: found and fitting; 2: a clear fit not found; 3: the rest (pool order).
    With nothing to weigh by (`found` None) a clear fit is tier 0 and every other product tier 3."""
    if fit >= CLEAR_FIT:
        return 2 if found is False else 0
    return 1 if found and fit >= MIN_TITLE_FIT else 3


def by_taste(index: CatalogIndex, product_ids: list[int], history: UserHistory) -> list[int]:
    """The products, nearest the shopper's taste profile first (cosine of co-purchase vectors; ties keep order)."""
    if len(product_ids) < 2:
        return product_ids
    vectors = index.vectors[index.rows(product_ids)]
    norms = np.linalg.norm(vectors, axis=1)
    taste = (vectors @ index.profile(history)) / np.where(norms > 0, norms, 1.0)
    return [product_ids[i] for i in np.argsort(-taste, kind="stable")]


def gather(index: CatalogIndex, theme: Theme, history: UserHistory, n: int) -> list[int]:
    """Up to n candidates: the shopper's products in the theme's aisles, then BM25 hits of each query
    (interleaved), then the aisles' best sellers. A theme from history draws on the history first, then on the
    products of its aisles nearest the shopper's taste (`CatalogIndex.likely_in`: a "Your Drink Fridge" row
    short of the shopper's own drinks is topped up with drinks like theirs, not the store's teas); any other
    theme with queries takes only those of the shopper's products that a query finds."""
    aisle_ids = set(index.aisle_ids(theme.aisles))
    catalog = index.catalog
    own = history.top_products()
    if aisle_ids and own:
        in_aisles = np.isin(catalog.aisle_ids[index.rows(own)], list(aisle_ids))
        own = [p for p, keep in zip(own, in_aisles, strict=True) if keep]
    own = own[:n] if theme.from_history else own[:int(n * OWN_SHARE)]
    if theme.from_history and not aisle_ids:  # a catch-all row of the shopper's own: history, then its neighbours
        return index.candidates_for_user(history, n) if own else index.popular(n)
    per_query = [index.search(q, k=n, aisles=sorted(aisle_ids) or None) for q in theme.queries]
    if not theme.from_history and per_query:  # their onions are not "Mushroom Lovers": only what a query finds
        found = {p for hits in per_query for p in hits}
        own = [p for p in own if p in found]
    if theme.from_history:  # then what the shopper is likely to want from those aisles, then what queries find
        likely = index.likely_in(history, aisle_ids, n - len(own)) if len(own) < n else []
        pool = list(dict.fromkeys([*own, *likely, *_round_robin(per_query)]))
    else:
        pool = _round_robin([own, *per_query])
    if len(pool) < n and aisle_ids:  # the aisles' best sellers, however far down the store's list
        pool += index.popular_in(aisle_ids, n - len(pool), exclude=set(pool))
    if len(pool) < n:
        pool += [p for p in index.popular(n, exclude=set(pool))]
    return pool[:n]


def purchase_mark(product_id: int, history: UserHistory) -> str:
    """`3/11, 2 orders ago` (bought in 3 of 11 orders, last 2 orders ago), `11/11, last order`, or "" if never."""
    count = history.product_counts.get(product_id, 0)
    if not count:
        return ""
    ago = len(history.orders) - 1 - history.last_seen[product_id][0]
    when = "last order" if ago == 0 else f"{ago} orders ago"
    return f"{count}/{len(history.orders)}, {when}"


def history_note(product_id: int, history: UserHistory) -> str:
    """`bought 3/11, 2 orders ago`, `bought 11/11, last order` or `new`."""
    mark = purchase_mark(product_id, history)
    return f"bought {mark}" if mark else "new"


def render_candidates(product_ids: list[int], index: CatalogIndex, history: UserHistory | None = None) -> str:
    """One line per product: `id | name | aisle` (and `| purchase history` when a history is given).

    Names and aisles pass through `prompt_text.inline`, so no catalog text can add a line, a column or a
    prompt field, whichever LM reads the prompt.
    """
    lines = []
    for p in product_ids:
        columns = [str(p), inline(index.catalog.name(p)), inline(index.catalog.aisle(p))]
        if history is not None:
            columns.append(history_note(p, history))
        lines.append(COLUMN.join(columns))
    return "\n".join(lines)


def render_names(product_ids: list[int], index: CatalogIndex) -> str:
    """One line per product: `name | aisle` (prompt-safe, as in render_candidates), for naming a group."""
    return "\n".join(COLUMN.join((inline(index.catalog.name(p)), inline(index.catalog.aisle(p))))
                     for p in product_ids)
