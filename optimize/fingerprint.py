"""What a compiled file was compiled for: each predictor's code signature, the LM, and where such files live.

A predictor's fingerprint hashes its base instruction (the signature's docstring) and every field's name,
direction, type (its JSON schema, so a changed pydantic model counts), description and prefix. DSPy's loader
pairs saved fields with current ones by position and overwrites the current instruction and descriptions,
so without this check an edited signature silently runs with the old text.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, cast

import dspy
from pydantic import TypeAdapter

from themepage.lm.settings import OFFLINE_NAMES

OFFLINE_LM = "offline"


MODULE_PATH = re.compile(r"\b(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_])")
"""The dotted module path before a name in a type's repr (`themepage.page.Theme` -> `Theme`)."""


def _type_of(annotation: Any) -> Any:
    """The field type as data: its repr without module paths (moving a model to another module changes nothing a
    prompt shows) and, when pydantic can describe it, its JSON schema (which a changed model does change)."""
    try:
        schema = TypeAdapter(annotation).json_schema()
    except Exception:  # an annotation pydantic cannot describe still has a repr
        schema = None
    return {"text": MODULE_PATH.sub("", repr(annotation)), "schema": schema}


def signature_description(signature: type[dspy.Signature]) -> dict:
    """Everything about a signature that a compiled file's text depends on."""
    fields = []
    for name, field in signature.fields.items():
        extra = field.json_schema_extra or {}
        fields.append({"name": name, "kind": extra.get("__dspy_field_type"), "type": _type_of(field.annotation),
                       "desc": extra.get("desc"), "prefix": extra.get("prefix")})
    return {"instructions": signature.instructions, "fields": fields}


def predictor_fingerprints(module: dspy.Module) -> dict[str, str]:
    """Predictor name -> sha256 of its signature description; call it on a fresh (uncompiled) module."""
    # DSPy types `Predict.signature` loosely (ensure_signature's union); on a Predict it is a Signature class.
    return {name: hashlib.sha256(json.dumps(signature_description(cast(type[dspy.Signature], predictor.signature)),
                                            sort_keys=True, default=repr).encode()).hexdigest()
            for name, predictor in module.named_predictors()}


def lm_id(model: str) -> str:
    """The LM a compiled file is for: 'offline' for the offline engine, else the model string as given."""
    return OFFLINE_LM if model in OFFLINE_NAMES else model


def lm_slug(model: str) -> str:
    """A safe folder name for the model string: lower case, runs of other characters as one '-'."""
    slug = re.sub(r"[^a-z0-9._]+", "-", model.lower()).strip("-.")
    if not slug:
        raise ValueError(f"model {model!r} gives no usable folder name")
    return slug


def compiled_path(objective: str, program: str, root: Path, lm: str = OFFLINE_LM) -> Path:
    """compiled/<objective>/<program>.json for the offline engine, compiled/<lm-slug>/<objective>/... otherwise."""
    model = lm_id(lm)
    folder = Path(root) if model == OFFLINE_LM else Path(root) / lm_slug(model)
    return folder / objective / f"{program}.json"


def recompile_command(objective: str, program: str, optimizer: str, lm: str) -> str:
    """The exact command that rewrites this compiled file."""
    model = lm_id(lm)
    tail = "" if model == OFFLINE_LM else f" --lm {model}"
    return f"themepage compile --objective {objective} --program {program} --optimizer {optimizer}{tail}"
