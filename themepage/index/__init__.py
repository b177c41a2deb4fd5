"""The catalog index: BM25 search, co-purchase vectors, user profiles and candidates."""

from themepage.index.catalog_index import CatalogIndex

__all__ = ["CatalogIndex"]
