"""The LM plug: `offline` (the catalog-grounded engine) or any model string `dspy.LM` accepts."""

from __future__ import annotations

from pathlib import Path

import dspy

from themepage.constants import DEFAULT_LM, LM_NUM_RETRIES, LM_TIMEOUT_SECONDS
from themepage.index import CatalogIndex

OFFLINE_NAMES = {"offline", "themepage/offline"}


def make_lm(model: str = DEFAULT_LM, index: CatalogIndex | None = None, *, api_base: str | None = None,
            timeout: float = LM_TIMEOUT_SECONDS, num_retries: int = LM_NUM_RETRIES, cache: bool = True,
            data_dir: Path | None = None, **kwargs) -> dspy.LM:
    """A dspy.LM for `model`. Keys come from the provider's usual environment variables."""
    if model in OFFLINE_NAMES:
        from themepage.offline.engine import MODEL, OfflineEngine

        if index is None:
            raise ValueError("the offline LM needs the catalog index it answers from")
        return dspy.LM(MODEL, engine=OfflineEngine(index, data_dir), cache=cache, num_retries=num_retries, **kwargs)
    if "/" not in model:
        raise ValueError(f"model {model!r} must be 'offline' or 'provider/model' (e.g. openai/gpt-4o-mini)")
    extra = {"api_base": api_base} if api_base else {}
    return dspy.LM(model, cache=cache, num_retries=num_retries, timeout=timeout, **extra, **kwargs)
