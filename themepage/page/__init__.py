"""The page every program returns, and how much of it the LM made."""

from themepage.page.model import (
    Page,
    PageStats,
    Placement,
    ProductRef,
    Theme,
)

__all__ = ["Page", "PageStats", "Placement", "ProductRef", "Theme"]
