"""The signatures the offline engine answers, recognised by their exact field names.

A prompt is answered only when its output fields are exactly one known signature's
(plus, optionally, the `reasoning` field `dspy.ChainOfThought` adds) and its input
fields are that signature's required inputs plus any of its optional ones. A renamed,
missing or extra field is an error, never a silent default: a renamed `user_context`
would otherwise turn every shopper into a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from themepage.index import CatalogIndex
from themepage.offline.choosing import fill, generate_items, judge_fit
from themepage.offline.namer import name
from themepage.offline.planner import plan
from themepage.offline.prompt import REASONING, Prompt
from themepage.offline.proposing import (
    describe_examples,
    describe_module,
    describe_program,
    propose_instruction,
    summarize,
)

Handler = Callable[[Prompt, CatalogIndex], dict[str, object]]


class UnknownSignature(ValueError):
    """The prompt asks for a signature the offline engine has no answer for."""


class MissingInput(UnknownSignature):
    """The prompt names a known signature but leaves out one of its required inputs."""


@dataclass(frozen=True)
class KnownSignature:
    """One signature the engine answers: its label, exact field names and the function that answers it."""

    label: str
    inputs: frozenset[str]
    outputs: frozenset[str]
    handler: Handler
    optional: frozenset[str] = frozenset()

    def matches(self, prompt: Prompt) -> bool:
        names = set(prompt.input_names)
        return (set(prompt.output_names) - {REASONING} == self.outputs
                and self.inputs <= names <= self.inputs | self.optional)


def _sig(label: str, inputs: str, outputs: str, handler: Handler, optional: str = "") -> KnownSignature:
    return KnownSignature(label, frozenset(inputs.split()), frozenset(outputs.split()), handler,
                          frozenset(optional.split()))


_MIPRO_INSTRUCTION_OPTIONAL = ("dataset_description program_code program_description module module_description "
                               "previous_instructions tip")
"""GenerateSingleModuleInstruction's inputs vary with MIPRO's proposer settings (`generate_instruction_class`)."""

KNOWN: tuple[KnownSignature, ...] = (
    _sig("PlanThemes", "user_context objective_guidance num_themes", "themes", plan),
    _sig("FillTheme", "theme objective_guidance candidates num_products", "product_ids", fill),
    _sig("FilterTheme", "theme products", "kept_ids", judge_fit),
    _sig("GenerateItems", "user_context objective_guidance candidates num_products", "product_ids", generate_items),
    _sig("NamePlacement", "products", "title rationale", name),
    _sig("DatasetDescriptor", "examples", "observations", describe_examples, optional="prior_observations"),
    _sig("ObservationSummarizer", "observations", "summary", summarize),
    _sig("DescribeProgram", "program_code program_example", "program_description", describe_program),
    _sig("DescribeModule", "program_code program_example program_description module", "module_description",
         describe_module),
    _sig("GenerateSingleModuleInstruction", "task_demos basic_instruction", "proposed_instruction",
         propose_instruction, optional=_MIPRO_INSTRUCTION_OPTIONAL),
)


def recognise(prompt: Prompt) -> KnownSignature:
    """The known signature this prompt asks for; UnknownSignature or MissingInput (one line) otherwise."""
    known = next((k for k in KNOWN if k.matches(prompt)), None)
    if known is None:
        labels = ", ".join(sorted(k.label for k in KNOWN))
        raise UnknownSignature(
            f"the offline engine cannot answer a signature with inputs {sorted(prompt.input_names)} and outputs "
            f"{sorted(prompt.output_names)}; it answers {labels}")
    missing = sorted(known.inputs - set(prompt.inputs))
    if missing:
        raise MissingInput(f"the {known.label} prompt has no value for its input(s) {missing}")
    return known
