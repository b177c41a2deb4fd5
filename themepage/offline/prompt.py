"""Read a prompt the way a model would: which fields are asked for, the instruction, the inputs, the demos.

DSPy's ChatAdapter and JSONAdapter write a system message that lists the input and
output fields and ends with the instruction ("your objective is: ..."), then
optional demo turns (user inputs, assistant outputs), then the user turn with the
inputs as `[[ ## name ## ]]` sections. Nothing here depends on which signature it is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

_SECTION = re.compile(r"\[\[ ## (\w+) ## \]\]\n?")
_FIELD_LINE = re.compile(r"^(?:\d+\. `(\w+)` \(([^)]*)\)|- (\w+):)", re.MULTILINE)
"""A field of the system message's lists: DSPy's `1. `name` (type): ...` or the structured adapter's `- name: ...`."""
_OBJECTIVE = "your objective is:"
JSON_SYSTEM = "Outputs will be a JSON object"
"""DSPy's JSONAdapter asks for a JSON answer in its system message."""
JSON_REQUEST = "\n\nRespond with a JSON object"
"""The structured adapter (themepage/lm/structured.py) asks for it in the closing line of the user turn."""
_NUMBER = re.compile(r"\d+")
MAX_COUNT = 1000
REASONING = "reasoning"
"""The output field dspy.ChainOfThought adds before a signature's own outputs."""


@dataclass
class Prompt:
    """The parts of one LM request that an answer depends on."""

    input_names: list[str]
    output_names: list[str]
    output_types: dict[str, str]
    instruction: str
    inputs: dict[str, str]
    demos: list[tuple[dict[str, str], dict[str, object]]] = field(default_factory=list)
    json_mode: bool = False

    @property
    def signature_key(self) -> frozenset[str]:
        """The signature's own output names (without ChainOfThought's `reasoning`)."""
        return frozenset(self.output_names) - {REASONING}

    def count(self, name: str, default: int, limit: int = MAX_COUNT) -> int:
        """A count input (num_themes, num_products): its first whole number, clamped to [0, limit]; `default`
        when the text holds none, so a garbled number never stops an answer."""
        found = _NUMBER.search(self.inputs.get(name, ""))
        return min(int(found.group()[:6]), limit) if found else default


_FIELDS_END = ("All interactions will be structured", "Inputs come as", "In adhering to this structure",
               "Your objective is:")
"""What follows the output field list: DSPy's adapters, then the compact MemoChatAdapter."""


def _field_list(system: str, heading: str, until: tuple[str, ...]) -> tuple[list[tuple[str, str]], int]:
    """The `N. `name` (type)` lines after `heading` up to the first `until` marker, and where the block ends."""
    start = system.find(heading)
    if start < 0:
        return [], 0
    ends = [e for e in (system.find(u, start + len(heading)) for u in until) if e >= 0]
    end = min(ends) if ends else len(system)
    found = _FIELD_LINE.findall(system[start + len(heading): end])
    return [(numbered or listed, kind) for numbered, kind, listed in found], end


def sections(text: str) -> dict[str, str]:
    """`[[ ## name ## ]]` sections of a message, name -> stripped text (the `completed` marker dropped)."""
    parts = _SECTION.split(text)
    found = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name != "completed":
            found[name] = body.strip()
    return found


def _strip_trailer(text: str) -> str:
    """Drop the adapter's closing request ("Respond with the corresponding output fields ..."), which names fields."""
    cut = text.rfind("\n\nRespond with")
    return text[:cut] if cut >= 0 else text


def parse_outputs(text: str, names: list[str]) -> dict[str, object]:
    """Output fields of an assistant turn, in chat (sections) or JSON form; JSON values are decoded."""
    text = text.strip()
    if text.startswith("{"):
        try:
            found = json.loads(text)
            return found if isinstance(found, dict) else {}
        except (ValueError, RecursionError):
            pass
    values: dict[str, object] = {}
    for name, body in sections(text).items():
        if name in names:
            try:
                values[name] = json.loads(body)
            except (ValueError, RecursionError):
                values[name] = body
    return values


def parse_prompt(system: str, turns: list[tuple[str, str]]) -> Prompt:
    """Parse the system text and the (role, text) turns of a request."""
    inputs, _ = _field_list(system, "Your input fields are:", ("Your output fields are:",))
    outputs, end = _field_list(system, "Your output fields are:", _FIELDS_END)
    output_names = [name for name, _ in outputs]
    cut = system.lower().find(_OBJECTIVE, end)
    instruction = " ".join(system[cut + len(_OBJECTIVE):].split()) if cut >= 0 else ""
    user_turns = [text for role, text in turns if role == "user"]
    if not user_turns:
        raise ValueError("the request has no user message")
    input_names = [n for n, _ in inputs]

    def read_inputs(text: str) -> dict[str, str]:
        return {k: v for k, v in sections(_strip_trailer(text)).items() if k in input_names}

    current = read_inputs(user_turns[-1])
    demos = []
    for (role, text), (next_role, next_text) in zip(turns, turns[1:], strict=False):
        if role == "user" and next_role == "assistant":
            demos.append((read_inputs(text), parse_outputs(next_text, output_names)))
    return Prompt(input_names=input_names, output_names=output_names,
                  output_types=dict(outputs), instruction=instruction, inputs=current, demos=demos,
                  json_mode=JSON_SYSTEM in system or JSON_REQUEST in user_turns[-1])
