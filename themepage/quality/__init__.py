"""Placement quality in the core: product fit under a title, near-duplicates, publishable (see `scorer`)."""

from themepage.quality.scorer import PlacementQuality, PlacementScorer, placement_scorer

__all__ = ["PlacementQuality", "PlacementScorer", "placement_scorer"]
