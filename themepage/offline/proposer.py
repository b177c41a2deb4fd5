"""An instruction proposer for GEPA when the LM is the offline engine.

GEPA improves a predictor's instruction by reflecting on the metric's feedback; with a
real LM a reflection LM writes the new text. The offline engine cannot write prose, so
this proposer does the reflection by rule: it reads the feedback of the minibatch,
takes the advice the metric gave most often for the weakest scores, and appends it (and,
when the feedback has nothing new, a sentence of the objective's guidance) to the
instruction. GEPA keeps a proposal only if it scores better, so bad edits die out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

_ADVICE = re.compile(r"[\w@]+ = [\d.]+: ([^.]+?)(?= [\w@]+ = [\d.]+:|$)")
MAX_ADDITIONS = 2


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if s.strip()]


def _as_sentence(advice: str) -> str:
    advice = advice.strip().rstrip(".")
    return advice[0].upper() + advice[1:] + "."


class GuidanceProposer:
    """GEPA `instruction_proposer`: instruction + the most frequent feedback advice, or the objective's guidance."""

    def __init__(self, guidance: str):
        self.guidance = _sentences(guidance)

    def advice(self, records: Sequence[Mapping[str, Any]]) -> list[str]:
        """Advice in the feedback of these records, most frequent first."""
        counts: Counter[str] = Counter()
        for record in records:
            for found in _ADVICE.findall(str(record.get("Feedback", ""))):
                counts[_as_sentence(found.split(": ", 1)[-1])] += 1
        return [text for text, _ in counts.most_common()]

    def propose(self, instruction: str, records: Sequence[Mapping[str, Any]]) -> str:
        fresh = [a for a in self.advice(records) if a not in instruction][:MAX_ADDITIONS]
        if not fresh:
            fresh = [g for g in self.guidance if g not in instruction][:1]
        return " ".join([instruction.strip(), *fresh]).strip()

    def __call__(self, candidate: dict[str, str], reflective_dataset: Mapping[str, Sequence[Mapping[str, Any]]],
                 components_to_update: list[str]) -> dict[str, str]:
        return {name: self.propose(candidate[name], reflective_dataset.get(name, ()))
                for name in components_to_update}
