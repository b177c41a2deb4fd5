"""Offline answers to the signatures MIPROv2 asks its prompt model, so MIPRO can run on the offline engine.

MIPROv2 proposes instructions in two rounds of LM calls (`dspy/propose/`): it describes
the training data (DatasetDescriptor, DatasetDescriptorWithPriorObservations,
ObservationSummarizer), the program and each of its modules (DescribeProgram,
DescribeModule), then asks for one new instruction per module and candidate
(GenerateSingleModuleInstruction, with a prompting tip). The engine cannot write
prose, so it answers by rule and only from what the prompt shows:

- descriptions name the fields, steps and example counts they were shown;
- a proposal is the module's basic instruction plus sentences of the objective guidance
  the task demos show (else of the engine's own PHRASES), chosen by the tip, and only
  sentences with cue words (steering.py), so candidates really steer the engine differently
  and MIPRO's search has something to choose between. No randomness: the same prompt, the
  same proposal. It never reads the objectives' files or the metric's advice words.

An offline MIPRO compile checks the plumbing (steering.py): docs/design.md, "What offline figures can and cannot show".
"""

from __future__ import annotations

import re
import zlib

from dspy.propose.grounded_proposer import TIPS

from themepage.index import CatalogIndex
from themepage.offline.prompt import Prompt
from themepage.offline.reading import words
from themepage.offline.sentences import as_sentence, flat, sentences
from themepage.offline.steering import COHESION_CUES, CUES

_CLASS = re.compile(r"^class (\w+)\((?:dspy\.)?(Signature|Module)\):\n(.*?)(?=^class |\Z)", re.MULTILINE | re.DOTALL)
_DOC = re.compile(r'"""(.*?)"""', re.DOTALL)
_FIELD = re.compile(r"^\s+(\w+)\s*(?::[^=\n]+)?=\s*dspy\.(Input|Output)Field", re.MULTILINE)
_MODULE = re.compile(r"(\w+)\(([^)]*)\)\s*->\s*(.+)")
_EXAMPLE = re.compile(r"\bExample\(\{")
_KEY = re.compile(r"'(\w+)': ")
_INPUT_KEYS = re.compile(r"input_keys=\{([^}]*)\}")
_STRIPPABLE = re.compile(r"^[\*\s]*(([\w'\-]+\s+){0,4}[\w'\-]+):")
"""DSPy strips a leading "a few words:" from proposals (`dspy.propose.utils.strip_prefix`)."""


TIP_ORDER = tuple(flat(tip) for tip in TIPS.values())
"""MIPRO's prompting tips in order ("" for none): each tip starts at its own sentence of the pool."""
PERSONA = "You are an experienced retail merchandiser."
STAKES = "This page is the first thing the shopper sees when they open the shop, so every choice counts."
STEERING_WORDS = set().union(*CUES.values(), COHESION_CUES)
PHRASES = (
    "Keep the shopper's regulars first.",
    "Help them discover something new to try.",
    "Feature fresh produce and healthy choices.",
    "Keep every placement focused and distinct.",
    "Stay close to the products they love.",
    "Favour quick, easy meals.",
    "Stock their weekly pantry essentials.",
    "Bring in the season.",
)
"""The engine's own sentences to propose when the prompt shows no objective guidance, one per kind of cue."""
_GUIDANCE = re.compile(r"Objective Guidance:\s*(.*?)(?=\n[^\n:]{1,40}:\s|\n\n|\Z)", re.DOTALL)
"""An `Objective Guidance:` field of the task demos, up to the next field or blank line."""


def _join(names: list[str]) -> str:
    if len(names) < 2:
        return names[0] if names else "nothing"
    return ", ".join(names[:-1]) + " and " + names[-1]


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _first_sentence(text: str) -> str:
    found = sentences(text)
    return found[0] if found else ""


# ----- the dataset -----

def describe_examples(prompt: Prompt, index: CatalogIndex) -> dict[str, object]:
    """DatasetDescriptor(WithPriorObservations): how many examples, which input and label fields."""
    text = prompt.inputs["examples"]
    count = len(_EXAMPLE.findall(text))
    keys = list(dict.fromkeys(_KEY.findall(text)))
    found = _INPUT_KEYS.search(text)
    inputs = sorted(k.strip(" '") for k in found.group(1).split(",")) if found else []
    labels = [k for k in keys if k not in inputs]
    observation = f"Every example has the input fields {_join(inputs)}" if inputs else "The examples share one layout"
    observation += f" and the label fields {_join(labels)}." if labels else "."
    if "Order(" in text:
        observation += " The inputs hold a shopper's past orders as lists of product ids."
    if "prior_observations" in prompt.inputs:
        return {"observations": "COMPLETE" if observation in prompt.inputs["prior_observations"] else observation}
    return {"observations": f"{count} examples were shown. {observation}" if count else observation}


def summarize(prompt: Prompt, index: CatalogIndex) -> dict[str, object]:
    """ObservationSummarizer: the first three sentences of the observations."""
    found = sentences(prompt.inputs["observations"])
    return {"summary": " ".join(found[:3]) or "No observations were made."}


# ----- the program and its modules -----

def _steps(code: str) -> list[tuple[str, str, list[str], list[str]]]:
    """(name, first sentence of the docstring, input fields, output fields) of each signature class in the code."""
    steps = []
    for name, kind, body in _CLASS.findall(code):
        if kind == "Signature":
            doc = _DOC.search(body)
            fields = _FIELD.findall(body)
            steps.append((name, _first_sentence(doc.group(1)) if doc else "",
                          [f for f, k in fields if k == "Input"], [f for f, k in fields if k == "Output"]))
    return steps


def describe_program(prompt: Prompt, index: CatalogIndex) -> dict[str, object]:
    """DescribeProgram: the program's signature steps with their purpose, and its module classes."""
    code = prompt.inputs["program_code"]
    steps = _steps(code)
    if not steps:
        return {"program_description": "A language-model program; its code shows no signature classes to describe."}
    parts = [f"{name} ({doc[:1].lower() + doc[1:].rstrip('.')})" if doc else name for name, doc, _, _ in steps]
    text = f"A language-model program in {len(steps)} steps, each a DSPy signature: {'; '.join(parts)}."
    modules = [name for name, kind, _ in _CLASS.findall(code) if kind == "Module"]
    if modules:
        text += f" Its modules are {_join(modules)}."
    return {"program_description": text}


def describe_module(prompt: Prompt, index: CatalogIndex) -> dict[str, object]:
    """DescribeModule: what the module reads and writes, and the purpose of its signature."""
    module = prompt.inputs["module"]
    found = _MODULE.search(module)
    if not found:
        return {"module_description": f"The module {module.strip() or '(unnamed)'} is one step of the program."}
    kind, inputs, outputs = found.group(1), _names(found.group(2)), _names(found.group(3))
    step = next((s for s in _steps(prompt.inputs["program_code"]) if s[3] == outputs), None)
    text = f"The {kind} step{f' {step[0]}' if step else ''} reads {_join(inputs)} and produces {_join(outputs)}."
    if step and step[1]:
        text += f" Its task is to {step[1][:1].lower() + step[1][1:]}"
    return {"module_description": text}


# ----- the instruction -----

def _steers(sentence: str) -> frozenset[str]:
    return frozenset(words(sentence) & STEERING_WORDS)


def shown_guidance(prompt: Prompt) -> list[str]:
    """The sentences of every objective guidance the prompt's inputs show, as written, each once."""
    found = [as_sentence(s) for text in prompt.inputs.values() for g in _GUIDANCE.findall(text)
             for s in sentences(g)]
    return list(dict.fromkeys(found))


def pool(prompt: Prompt) -> list[str]:
    """Sentences a proposal may add: those of the objective guidance the prompt shows (in the task demos), else
    PHRASES; only sentences with cue words, one per set of cue words, none the basic instruction already says."""
    basic = flat(prompt.inputs["basic_instruction"])
    chosen: dict[frozenset[str], str] = {}
    for sentence in shown_guidance(prompt) or PHRASES:
        cues = _steers(sentence)
        if cues and cues not in chosen and sentence not in basic:
            chosen[cues] = sentence
    return list(chosen.values())


def _tip_rank(tip: str) -> int:
    if tip in ("", "None"):
        return 0
    return TIP_ORDER.index(tip) if tip in TIP_ORDER else zlib.crc32(tip.encode())


def propose_instruction(prompt: Prompt, index: CatalogIndex) -> dict[str, object]:
    """GenerateSingleModuleInstruction: the basic instruction plus one pool sentence (two for a descriptive tip).

    The tip picks the sentence (each tip its own), the module and its demos shift where counting starts,
    a persona tip adds a persona and a high-stakes tip the stakes, as a model following the tip would.
    """
    basic = flat(prompt.inputs["basic_instruction"])
    tip = flat(prompt.inputs.get("tip", ""))
    choices = pool(prompt)
    shift = zlib.crc32((prompt.inputs.get("module", "") + prompt.inputs["task_demos"]).encode())
    start = _tip_rank(tip) + shift
    wanted = 2 if tip == flat(TIPS["description"]) else 1
    added = [choices[(start + i) % len(choices)] for i in range(min(wanted, len(choices)))]
    if tip == flat(TIPS["high_stakes"]):
        added.append(STAKES)
    lead = [PERSONA] if tip == flat(TIPS["persona"]) else []
    body = [basic, *added]
    if _STRIPPABLE.match(basic) and not lead:
        body = [*added, basic]  # DSPy would cut a leading "Check a filled placement:" as if it were a label
    return {"proposed_instruction": " ".join([*lead, *body]).strip()}
