"""The theme library's themes: ``theme_bank.toml`` beside this module, typed, validated and loaded.

Every aisle a theme names is one of the bundled catalog's, and its queries hit real product names in those
aisles (tests/test_theme_library.py), so retrieval can fill it from the catalog.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

DEFAULT_BANK_PATH = Path(__file__).with_name("theme_bank.toml")

Tag = Literal[
    "healthy", "quick", "indulgent", "household", "discovery", "seasonal",
    "staples", "personal", "family", "breakfast", "lunch", "dinner", "snack",
    "drinks", "baking", "international", "vegetarian", "organic", "party",
    "baby", "pet", "self-care", "budget",
]
Diet = Literal[
    "vegetarian", "vegan", "gluten-free", "organic", "low-sugar", "dairy-free",
    "high-protein",
]
Claim = Literal["organic", "gluten free", "vegan", "dairy free", "whole grain"]
"""What a title can promise of every product under it; a product's name must say it too."""


MAX_QUERIES = 10
"""A library theme's row holds only what its queries find (`programs.retrieval.row_bound`): enough queries to name
a row's worth of different items, each a word product names use."""


class BankTheme(BaseModel):
    """One curated theme: a shopper-facing title plus how to fill it from the catalog.

    ``aisles`` empty means "any aisle" (personal themes drawn from history).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    description: str
    queries: list[str]
    aisles: list[str]
    tags: list[Tag]
    diet: list[Diet] = []
    claims: list[Claim] = []

    def claims_made_by(self, product_name: str) -> bool:
        """Whether the product's name makes every claim of the theme ("Organic Essentials": "organic")."""
        name = " " + " ".join("".join(c if c.isalnum() else " " for c in product_name.lower()).split()) + " "
        return all(f" {claim} " in name for claim in self.claims)

    @field_validator("id", "title", "description")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a non-empty string")
        return value.strip()

    @field_validator("tags")
    @classmethod
    def _tag_count(cls, value: list[str]) -> list[str]:
        if not 1 <= len(value) <= 5:
            raise ValueError(f"needs 1-5 tags, got {len(value)}")
        return value

    @field_validator("queries")
    @classmethod
    def _queries(cls, value: list[str]) -> list[str]:
        if not 2 <= len(value) <= MAX_QUERIES:
            raise ValueError(f"needs 2-{MAX_QUERIES} queries, got {len(value)}")
        if any(not q.strip() for q in value):
            raise ValueError("queries must be non-empty strings")
        return [q.strip() for q in value]


def _parse(path: Path) -> tuple[BankTheme, ...]:
    """Read and validate one bank file; every error is a one-line ValueError."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: cannot read theme bank: {exc}") from exc
    entries = raw.get("themes")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path}: expected a non-empty [[themes]] array")
    themes: list[BankTheme] = []
    seen_ids: set[str] = set()
    seen_titles: dict[str, str] = {}
    for index, entry in enumerate(entries):
        ident = entry.get("id", f"#{index}") if isinstance(entry, dict) else f"#{index}"
        try:
            theme = BankTheme.model_validate(entry)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "<theme>"
            raise ValueError(f"{path}: theme {ident!r} field {field!r}: {err['msg']}") from None
        if theme.id in seen_ids:
            raise ValueError(f"{path}: theme {theme.id!r} field 'id': duplicate id")
        key = theme.title.casefold()
        if key in seen_titles:
            dup = seen_titles[key]
            raise ValueError(f"{path}: theme {theme.id!r} field 'title': duplicate of {dup!r}")
        seen_ids.add(theme.id)
        seen_titles[key] = theme.id
        themes.append(theme)
    return tuple(themes)


@lru_cache(maxsize=1)
def _load_default() -> tuple[BankTheme, ...]:
    return _parse(DEFAULT_BANK_PATH)


def load_theme_bank(path: Path | None = None) -> tuple[BankTheme, ...]:
    """Load and validate the theme bank (default: the TOML beside this module).

    The default bank is parsed once and cached; an explicit path is always re-read
    so tests and tools can point at their own files.
    """
    return _load_default() if path is None else _parse(Path(path))


@lru_cache(maxsize=1)
def _by_title() -> dict[str, BankTheme]:
    return {theme.title.casefold(): theme for theme in _load_default()}


def bank_theme_titled(title: str) -> BankTheme | None:
    """The default bank's theme of this title (any case), or None."""
    return _by_title().get(title.strip().casefold())
