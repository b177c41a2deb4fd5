"""Which form the planner answers in under constrained decoding, by the model's capability, not by its server.

`slots` (`themepage.lm.plan_slots`): the code deals one aisle to each theme and the model only titles it after
that aisle; for models too small to author a page (left free, a 135M model titles a row of eight aisles after
one product).
`free` (`themepage.lm.output_schemas.free_themes_schema`): the model writes its own themes (title, rationale,
queries, aisles) under a schema that only bounds their shape.

The LM setting `themes` picks it: `slots`, `free`, or `auto`, which recognises the packaged models by the model
name the client asks for, then by the ids llama.cpp's `/models` lists (a served file's name, when the server
was started without an alias), and takes `free` for any other model: hosted models write themes. Under `auto` a
packaged model may answer in another form once its planner holds demos (a compiled program shows it whole
themes): `SHOWN_FORMS`.
"""

from __future__ import annotations

import json
import urllib.request
from functools import lru_cache
from pathlib import PurePosixPath

PLANNER_FORMS = ("auto", "slots", "free")
MODEL_FORMS = {"qwen2.5-coder-1.5b": "slots", "qwen2.5-coder-0.5b": "slots", "smollm2": "slots"}
"""The measured form of each packaged model (`themepage.lm.model_fetch.MODELS`), matched inside a model's name.
Uncompiled, the 1.5B model titles free themes after their aisles and leaves more rows to the code than in slots
(docs/results.md); it can author themes once a demo shows it some, so `free` is for its compiled programs."""
SHOWN_FORMS = {"qwen2.5-coder-1.5b": "free"}
"""The form of a packaged model whose planner holds demos, where it differs from MODEL_FORMS: shown whole themes of
other shoppers, the 1.5B model writes its own (docs/results.md); the smaller ones copy product names."""
DEFAULT_FORM = "free"


def model_form(name: str | None, shown: bool = False) -> str | None:
    """The measured form of the packaged model `name` names ("openai/qwen2.5-coder-1.5b", a GGUF file's path,
    any case), or None for a model not measured here; `shown`: when its planner holds demos."""
    if not name:
        return None
    base = PurePosixPath(str(name).replace("\\", "/")).name.lower().replace("_", "-")
    forms = {**MODEL_FORMS, **SHOWN_FORMS} if shown else MODEL_FORMS
    return next((form for key, form in forms.items() if key in base), None)


def listed_models(api_base: str, timeout: float = 3.0) -> list[dict]:
    """The entries of the server's `/models` answer (empty when it cannot be read)."""
    try:
        with urllib.request.urlopen(api_base.rstrip("/") + "/models", timeout=timeout) as response:
            listing = json.loads(response.read())
    except (OSError, ValueError):
        return []
    models = listing.get("data", []) if isinstance(listing, dict) else []
    return [m for m in models if isinstance(m, dict)]


@lru_cache(maxsize=32)
def served_form(api_base: str, shown: bool = False) -> str | None:
    """The measured form of the first model the server at `api_base` lists that is known here, else None."""
    return next((form for m in listed_models(api_base) if (form := model_form(str(m.get("id", "")), shown))), None)


def resolve_planner_form(mode: str, model: str | None, api_base: str | None = None, shown: bool = False) -> str:
    """`slots` or `free`: `mode` when it is one of them; for `auto`, the form measured for `model` (or for what
    the server at `api_base` lists; `shown`: with demos in its planner), else DEFAULT_FORM."""
    if mode not in PLANNER_FORMS:
        raise ValueError(f"themes must be one of {', '.join(PLANNER_FORMS)}, not {mode!r}")
    if mode != "auto":
        return mode
    return model_form(model, shown) or (served_form(api_base, shown) if api_base else None) or DEFAULT_FORM
