"""The offline LM: a deterministic, catalog-grounded engine behind DSPy's engine contract.

`dspy.LM("themepage/offline", engine=OfflineEngine(index))` routes every call of
the program's predictors here as a `dspy.lm15.Request`. The engine reads the
prompt the adapter wrote (fields, instruction, demos), answers the signature it
recognizes by its exact field names (known.py), and writes the answer in the adapter's format
(chat sections or JSON), reporting token usage like a provider. A test double (see the
package docstring): it never invents products, only ranks the catalog's.
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from pathlib import Path

from dspy.lm15 import Message, Response, TextPart, Usage, response_to_events

from themepage.index import CatalogIndex
from themepage.offline.known import MissingInput, UnknownSignature, recognise
from themepage.offline.prompt import REASONING, Prompt, parse_prompt

MODEL = "themepage/offline"
__all__ = ["MODEL", "MissingInput", "OfflineEngine", "UnknownSignature", "estimate_tokens", "format_answer",
           "knowledge_digest"]


@lru_cache(maxsize=1)
def knowledge_digest() -> str:
    """A digest of what the engine answers from besides the prompt: the theme library (its bank and code) and the
    engine's own code. DSPy's response cache keys on the request alone, so an answer cached before the library
    changed would be served after it; a retry's cache key folds this in (`themepage.lm.response_cache.attempt_lm`)."""
    return digest_of(Path(__file__).resolve().parent.parent)


def digest_of(package: Path) -> str:
    """`knowledge_digest` of the package at `package` (the folder holding `offline/` and `library/`)."""
    digest = hashlib.blake2b(digest_size=16)
    for folder, pattern in (("offline", "*.py"), ("library", "*.py"), ("library", "*.toml")):
        for path in sorted((package / folder).glob(pattern)):
            digest.update(f"\0{folder}/{path.name}\0".encode() + path.read_bytes())
    return digest.hexdigest()


def estimate_tokens(text: str) -> int:
    """About four characters a token, as for English text with common BPE vocabularies."""
    return max(1, math.ceil(len(text) / 4))


def format_answer(prompt: Prompt, values: dict[str, object]) -> str:
    """The answer in the adapter's format: a JSON object, or `[[ ## field ## ]]` sections."""
    if prompt.json_mode:
        return json.dumps({k: values[k] for k in prompt.output_names})
    parts = []
    for field in prompt.output_names:
        value = values[field]
        parts.append(f"[[ ## {field} ## ]]\n{value if isinstance(value, str) else json.dumps(value)}")
    return "\n\n".join(parts + ["[[ ## completed ## ]]"])


class OfflineEngine:
    """Answers the program's signatures from the catalog index; see the module docstring."""

    answers_in_process = True
    """It computes each answer on the caller's thread and never waits on I/O, so the programs need no threads for it
    (`themepage.lm.runtime.answers_in_process`)."""

    deterministic = True
    """It answers a prompt alike on every try, retries included (`themepage.lm.runtime.answers_alike`): a refused
    answer is not asked for again."""

    @property
    def cache_salt(self) -> str:
        """What DSPy's cache key must also hold for this engine's answers (`knowledge_digest`)."""
        return knowledge_digest()

    def __init__(self, index: CatalogIndex, data_dir: Path | None = None, cache_dir: Path | None = None):
        self.index = index
        self._source = {"data_dir": str(data_dir) if data_dir else None,
                        "cache_dir": str(cache_dir) if cache_dir else None}

    @classmethod
    def open(cls, data_dir: Path, cache_dir: Path | None = None) -> OfflineEngine:
        return cls(CatalogIndex.open(data_dir, cache_dir), data_dir, cache_dir)

    def answer(self, system: str, turns: list[tuple[str, str]]) -> str:
        """The completion text for a prompt given as system text and (role, text) turns."""
        prompt = parse_prompt(system, turns)
        known = recognise(prompt)
        values = known.handler(prompt, self.index)
        if REASONING in prompt.output_names:
            values = {REASONING: f"Offline engine: {known.label} answered by rule from the catalog index.", **values}
        return format_answer(prompt, values)

    def complete(self, request) -> Response:
        system = request.system if isinstance(request.system, str) else "".join(
            getattr(p, "text", "") for p in (request.system or ()))
        turns = [(m.role, m.text or "") for m in request.messages]
        text = self.answer(system or "", turns)
        prompt_tokens = estimate_tokens(system or "") + sum(estimate_tokens(t) for _, t in turns)
        completion_tokens = estimate_tokens(text)
        return Response(id=None, model=request.model, message=Message.assistant((TextPart(text),)),
                        finish_reason="stop",
                        usage=Usage(input_tokens=prompt_tokens, output_tokens=completion_tokens,
                                    total_tokens=prompt_tokens + completion_tokens))

    def stream(self, request):
        return response_to_events(self.complete(request))

    def close(self) -> None:
        pass

    def dump_state(self) -> dict:
        return dict(self._source)

    @classmethod
    def load_state(cls, state: dict) -> OfflineEngine:
        from themepage.constants import BUNDLED_DATA_DIR

        data_dir = Path(state.get("data_dir") or BUNDLED_DATA_DIR)
        cache_dir = Path(state["cache_dir"]) if state.get("cache_dir") else None
        return cls.open(data_dir, cache_dir)
