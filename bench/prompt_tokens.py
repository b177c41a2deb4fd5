"""Prompt and completion tokens per page of each DSPy program on the bundled data, offline.

Not a test: a script.

    cd /work/wt/tokens && LITELLM_LOCAL_MODEL_COST_MAP=True .venv/bin/python bench/prompt_tokens.py

One page for each of the 33 bundled users per program, under the offline LM (`make_lm("offline")`,
no cache) and the memoizing chat adapter. Tokens are the offline engine's estimate (about four
characters a token, `themepage.offline.engine.estimate_tokens`), the figure `page.stats` reports.
Prints per program the mean and max prompt and completion tokens per page, then per signature the
mean calls, system-message tokens, user-turn tokens and completion tokens per page (where a page's tokens go).
"""

from __future__ import annotations

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

from programs.bottoms_up import BottomsUpProgram  # noqa: E402
from programs.top_down import TopDownProgram  # noqa: E402
from themepage.adapter import MemoChatAdapter  # noqa: E402
from themepage.constants import BUNDLED_DATA_DIR  # noqa: E402
from themepage.index import CatalogIndex  # noqa: E402
from themepage.lm import make_lm  # noqa: E402
from themepage.offline.engine import estimate_tokens  # noqa: E402
from themepage.offline.known import recognise  # noqa: E402
from themepage.offline.prompt import parse_prompt  # noqa: E402

PROGRAMS = {"top-down": TopDownProgram, "bottoms-up": BottomsUpProgram}


class CountingEngine:
    """Delegates to another engine and adds each call's system, user-turn and completion tokens to
    `parts[signature]` (under a lock: a page's fill and filter calls run on several threads)."""

    def __init__(self, delegate):
        self.delegate = delegate
        self.parts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        self._lock = threading.Lock()

    def complete(self, request):
        system = request.system if isinstance(request.system, str) else "".join(
            getattr(p, "text", "") for p in (request.system or ()))
        turns = [(m.role, m.text or "") for m in request.messages]
        label = recognise(parse_prompt(system or "", turns)).label
        response = self.delegate.complete(request)
        call = (1, estimate_tokens(system or ""), sum(estimate_tokens(t) for _, t in turns),
                response.usage.output_tokens)
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


def measure(name: str, index: CatalogIndex, histories) -> list[str]:
    base = make_lm("offline", index, cache=False)
    engine = CountingEngine(base.engine)
    lm = dspy.LM("themepage/offline", engine=engine, cache=False)
    program = PROGRAMS[name](index)
    with dspy.context(lm=lm, adapter=MemoChatAdapter()):
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
    index = CatalogIndex.open(BUNDLED_DATA_DIR)
    histories = [index.histories.get(u) for u in index.histories.user_ids]
    print(f"bundled data: {len(histories)} users; offline LM, MemoChatAdapter; tokens = chars / 4\n")
    print(f"{'program':<11} {'pages':>5} {'mean prompt':>12} {'max prompt':>11} {'mean compl.':>12} "
          f"{'max compl.':>11} {'fallbacks':>9}")
    for name in PROGRAMS:
        print("\n".join(measure(name, index, histories)))


if __name__ == "__main__":
    main()
