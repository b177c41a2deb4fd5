"""Labeled examples (JSON Lines) cut from real order histories, and their loader."""

from themepage.trainsets.loader import load_examples

__all__ = ["load_examples"]
