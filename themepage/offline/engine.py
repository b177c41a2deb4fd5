"""The offline LM: a deterministic, catalog-grounded engine behind DSPy's engine contract.

`dspy.LM("themepage/offline", engine=OfflineEngine(index))` routes every call of
the program's predictors here as a `dspy.lm15.Request`. The engine reads the
prompt the adapter wrote (fields, instruction, demos), answers the signature it
recognizes from its output fields, and writes the answer in the adapter's format
(chat sections or JSON), reporting token usage like a provider. It is a stand-in
for development, CI and the demo: it never invents products, only ranks the
catalog's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

from dspy.lm15 import Message, Response, TextPart, Usage, response_to_events

from themepage.index import CatalogIndex
from themepage.offline.choosing import fill, generate_items, judge_fit
from themepage.offline.namer import name
from themepage.offline.planner import plan
from themepage.offline.prompt import Prompt, parse_prompt
from themepage.offline.proposing import PROPOSING_HANDLERS

MODEL = "themepage/offline"
Handler = Callable[[Prompt, CatalogIndex], dict[str, object]]


def _products(prompt: Prompt, index: CatalogIndex) -> dict[str, object]:
    return fill(prompt, index) if "theme" in prompt.inputs else generate_items(prompt, index)


def _handlers() -> dict[frozenset[str], tuple[str, Handler]]:
    handlers: dict[frozenset[str], tuple[str, Handler]] = {
        frozenset({"themes"}): ("PlanThemes", plan),
        frozenset({"product_ids"}): ("FillTheme / GenerateItems", _products),
        frozenset({"kept_ids", "dropped"}): ("FilterTheme", judge_fit),
        frozenset({"title", "rationale"}): ("NamePlacement", name),
        **PROPOSING_HANDLERS,
    }
    try:
        from themepage.offline.judge import JUDGE_OUTPUTS, answer_judge
    except ImportError:
        return handlers
    handlers[JUDGE_OUTPUTS] = ("JudgePage", answer_judge)
    return handlers


class UnknownSignature(ValueError):
    """The prompt asks for outputs the offline engine has no answer for."""


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

    def __init__(self, index: CatalogIndex, data_dir: Path | None = None, cache_dir: Path | None = None):
        self.index = index
        self._source = {"data_dir": str(data_dir) if data_dir else None,
                        "cache_dir": str(cache_dir) if cache_dir else None}
        self._handlers = _handlers()

    @classmethod
    def open(cls, data_dir: Path, cache_dir: Path | None = None) -> "OfflineEngine":
        return cls(CatalogIndex.open(data_dir, cache_dir), data_dir, cache_dir)

    def answer(self, system: str, turns: list[tuple[str, str]]) -> str:
        """The completion text for a prompt given as system text and (role, text) turns."""
        prompt = parse_prompt(system, turns)
        known = self._handlers.get(prompt.signature_key)
        if known is None:
            names = ", ".join(sorted(label for label, _ in self._handlers.values()))
            raise UnknownSignature(
                f"the offline engine cannot answer a signature with outputs {sorted(prompt.output_names)}; "
                f"it answers {names}")
        return format_answer(prompt, known[1](prompt, self.index))

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
    def load_state(cls, state: dict) -> "OfflineEngine":
        from themepage.constants import BUNDLED_DATA_DIR

        data_dir = Path(state.get("data_dir") or BUNDLED_DATA_DIR)
        cache_dir = Path(state["cache_dir"]) if state.get("cache_dir") else None
        return cls.open(data_dir, cache_dir)
