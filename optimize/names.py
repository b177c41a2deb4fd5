"""The optimizer names `themepage compile` accepts, importable without loading DSPy (the CLI reads them)."""

OPTIMIZERS = ("bootstrap", "random-search", "knn", "gepa", "mipro", "teacher")
DEFAULT_OPTIMIZER = "gepa"
