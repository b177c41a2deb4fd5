"""The aisle labels live in the core (`themepage.aisle_labels`), where the offline namer can use them too;
re-exported here for the programs that import them from programs/."""

from themepage.aisle_labels import AISLE_LABELS, readable_aisle

__all__ = ["AISLE_LABELS", "readable_aisle"]
