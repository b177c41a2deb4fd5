"""The LM plug: `offline` (the catalog-grounded engine) or any model string `dspy.LM` accepts.

For a provider model DSPy picks the HTTP client (`engine`): 'auto' takes DSPy's native lm15
client when it can carry the settings (api_base, api_key, timeout do), else LiteLLM;
'litellm' forces LiteLLM. On both, DSPy owns the retries (`num_retries`, exponential
backoff 1 s, 2 s, 4 s... or the server's Retry-After) and `timeout` bounds every wait for
the next byte (lm15 also keeps its own 10 s connect bound). Keys come from the provider's
usual environment variable (OPENAI_API_KEY, ...), never from arguments or config files; a server
on a loopback address (127.0.0.0/8, ::1, localhost) that gets no key gets a placeholder instead.
Answers are bounded in bytes on DSPy's native client and on LiteLLM's OpenAI-compatible client
(`themepage.lm.answer_limit`, `themepage.lm.litellm_limit`).
"""

from __future__ import annotations

import os
from pathlib import Path

import dspy

from themepage.constants import DEFAULT_LM, LM_NUM_RETRIES, LM_TIMEOUT_SECONDS, LOCAL_PLACEHOLDER_KEY
from themepage.index import CatalogIndex
from themepage.lm.answer_limit import limit_answer_bytes
from themepage.lm.settings import OFFLINE_NAMES, LMSettings, is_loopback_url

# litellm fetches a model price map from the network when it is imported unless this is set. DSPy imports it
# lazily, on the first call of an LM made here (or make_lm's own import), so this comes first; an exported value wins.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY"}
"""Providers whose client refuses to run without a key; checked up front for a clear error."""


def make_lm(model: str = DEFAULT_LM, index: CatalogIndex | None = None, *, api_base: str | None = None,
            timeout: float = LM_TIMEOUT_SECONDS, num_retries: int = LM_NUM_RETRIES, cache: bool = True,
            data_dir: Path | None = None, engine: str = "auto", **kwargs) -> dspy.LM:
    """A dspy.LM for `model`. Keys come from the provider's usual environment variables."""
    if model in OFFLINE_NAMES:
        from themepage.offline.engine import MODEL, OfflineEngine

        if index is None:
            raise ValueError("the offline LM needs the catalog index it answers from")
        return dspy.LM(MODEL, engine=OfflineEngine(index, data_dir), cache=cache, num_retries=num_retries, **kwargs)
    provider, _, name = model.partition("/")
    if not name:
        raise ValueError(f"model {model!r} must be 'offline' or 'provider/model' (e.g. openai/gpt-4o-mini)")
    variable = KEY_VARIABLES.get(provider)
    if variable and not kwargs.get("api_key") and not os.environ.get(variable):
        if is_loopback_url(api_base):
            kwargs["api_key"] = LOCAL_PLACEHOLDER_KEY
        else:
            local = " (a local OpenAI-compatible server accepts any value)" if api_base else ""
            raise ValueError(f"no API key for {provider}: set {variable}{local}")
    limit_answer_bytes()
    if engine == "litellm":
        from dspy.clients._litellm import get_litellm

        from themepage.lm.litellm_limit import limit_litellm_answer_bytes

        litellm = get_litellm(feature="dspy.LM")  # import it now (it is slow), not inside the first call's deadline
        limit_litellm_answer_bytes(litellm)  # and bound the bytes read per answer, as on DSPy's native client
    extra = {"api_base": api_base} if api_base else {}
    return dspy.LM(model, cache=cache, num_retries=num_retries, timeout=timeout, engine=engine, **extra, **kwargs)


def lm_from_settings(settings: LMSettings, index: CatalogIndex | None = None, **kwargs) -> dspy.LM:
    """make_lm for resolved settings (model, api_base, timeout, retries, engine, structured outputs and the
    planner's form)."""
    from themepage.lm.structured import mark_structured

    lm = make_lm(settings.model, index, api_base=settings.api_base, timeout=settings.timeout,
                 num_retries=settings.retries, engine=settings.engine, **kwargs)
    return lm if settings.offline else mark_structured(lm, settings.structured, settings.themes)
