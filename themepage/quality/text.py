"""Text meaning for titles and product names: WordLlama static embeddings, shipped inside the wheel.

WordLlama (PyPI `wordllama`, MIT) packs 256-dimensional token embeddings distilled from
LLaMA-2's embedding table (`weights/l2_supercat_256.safetensors`) and its tokenizer config; a text
is the normalised average of its tokens. Its own `WordLlama.load()` looks for the tokenizer under a
folder name the wheel does not use and then downloads it, so the files are opened here directly from
the installed package: nothing is fetched at run time. Loading and embedding are cheap enough for
every page.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import Stemmer

from themepage.index.vectors import unit_rows

WEIGHTS_FILE = Path("weights") / "l2_supercat_256.safetensors"
TOKENIZER_FILE = Path("tokenizers") / "l2_supercat_tokenizer_config.json"
STOPWORDS = frozenset("a an and the of for with in on to your my our & n' - by from at or".split())
VARIANT_WORDS = frozenset("organic natural original classic fresh pack count oz lb fl ct large small mini".split())
"""Words that name a variant (brand-free ones only), not the food: ignored when comparing two names."""


class TextEmbedder:
    """Unit embedding of a text (title, product, aisle or department name), memoised per text."""

    def __init__(self):
        from safetensors import safe_open
        from tokenizers import Tokenizer
        from wordllama.inference import WordLlamaInference

        root = Path(__import__("wordllama").__file__).parent
        tokenizer = Tokenizer.from_file(str(root / TOKENIZER_FILE))
        with safe_open(str(root / WEIGHTS_FILE), framework="np") as weights:
            table = weights.get_tensor("embedding.weight")
        self._model = WordLlamaInference(table, tokenizer, binary=False)
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """One unit row per text (lower-cased, spaces collapsed), in input order."""
        keys = [" ".join(t.lower().split()) for t in texts]
        with self._lock:
            missing = sorted({k for k in keys if k not in self._cache})
            if missing:
                rows = unit_rows(np.asarray(self._model.embed(missing, norm=False)))
                self._cache.update(zip(missing, rows, strict=True))
            return np.stack([self._cache[k] for k in keys]) if keys else np.zeros((0, 256))


_EMBEDDER: list[TextEmbedder] = []
_EMBEDDER_LOCK = threading.Lock()


def shared_embedder() -> TextEmbedder:
    """The process-wide TextEmbedder (loaded once, on first use)."""
    with _EMBEDDER_LOCK:
        if not _EMBEDDER:
            _EMBEDDER.append(TextEmbedder())
        return _EMBEDDER[0]


@lru_cache(maxsize=1)
def _stemmer():
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def content_stems(text: str) -> frozenset[str]:
    """Stemmed words of a name without stop words, variant words, numbers and sizes ("Organic Cilantro" -> cilantro)."""
    words = "".join(c if c.isalpha() else " " for c in text.lower()).split()
    kept = [w for w in words if len(w) > 1 and w not in STOPWORDS and w not in VARIANT_WORDS]
    return frozenset(_stemmer().stemWords(kept))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a & b| / |a | b|, in [0, 1]; 0 when both are empty."""
    union = a | b
    return len(a & b) / len(union) if union else 0.0
