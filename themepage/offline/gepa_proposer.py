"""An instruction proposer for GEPA when the LM is the offline engine.

GEPA improves a predictor's instruction by reflecting on the metric's feedback; with a
real LM a reflection LM writes the new text. The offline engine cannot write prose, so
this proposer reflects by rule. Its options for a predictor are, in order: the advice
the metric gave most often in the minibatch's feedback, the objective's guidance
sentences, then the advice for every other score the objective weighs. Each proposal
appends one option the instruction does not hold yet, and proposals from the same
parent walk down the list, so GEPA tries one edit after another instead of the same
edit again. GEPA keeps a proposal only if it scores better, so bad edits die out.
An offline compile checks the plumbing (steering.py says what the engine reacts to): docs/design.md,
"What offline figures can and cannot show".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from themepage.offline.sentences import advice_sentence, sentences

_ADVICE = re.compile(r"[\w@]+ = [\d.]+: ([^.]+?)(?= [\w@]+ = [\d.]+:|$)")


class GuidanceProposer:
    """GEPA `instruction_proposer`: one sentence of feedback advice, guidance or objective advice per proposal."""

    def __init__(self, guidance: str, advice: Sequence[str] = ()):
        self.guidance = sentences(guidance)
        self.objective_advice = [advice_sentence(a) for a in advice]
        self._proposed: Counter[tuple[str, str]] = Counter()

    def feedback_advice(self, records: Sequence[Mapping[str, Any]]) -> list[str]:
        """Advice in the feedback of these records, most frequent first."""
        counts: Counter[str] = Counter()
        for record in records:
            for found in _ADVICE.findall(str(record.get("Feedback", ""))):
                counts[advice_sentence(found)] += 1
        return [text for text, _ in counts.most_common()]

    def options(self, instruction: str, records: Sequence[Mapping[str, Any]]) -> list[str]:
        """Sentences worth adding to this instruction, the feedback's advice first."""
        pool = [*self.feedback_advice(records), *self.guidance, *self.objective_advice]
        return [s for s in dict.fromkeys(pool) if s not in instruction]

    def propose(self, instruction: str, records: Sequence[Mapping[str, Any]], component: str = "") -> str:
        """The instruction plus the next option not yet proposed from this parent (unchanged when none is left)."""
        options = self.options(instruction, records)
        if not options:
            return instruction
        key = (component, instruction)
        pick = options[self._proposed[key] % len(options)]
        self._proposed[key] += 1
        return f"{instruction.strip()} {pick}".strip()

    def __call__(self, candidate: dict[str, str], reflective_dataset: Mapping[str, Sequence[Mapping[str, Any]]],
                 components_to_update: list[str]) -> dict[str, str]:
        return {name: self.propose(candidate[name], reflective_dataset.get(name, ()), name)
                for name in components_to_update}
