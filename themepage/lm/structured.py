"""Constrained decoding through DSPy: an adapter that asks every step for its narrowed output schema.

`StructuredAdapter` is DSPy's JSONAdapter (with a memoized system message) that, per call,
builds the step's schema from the prompt's own inputs (`themepage.lm.output_schemas`), sends it as
`response_format`, sends the step's output budget as `max_tokens`, shows the planner the aisles
it may name, and drops demos (last first) when the prompt would overflow the model's context;
a prompt that still does not fit raises `ContextOverflow`, which the programs turn into their
usual retrieval fallback.

Servers take the schema in one of two forms: llama.cpp's `{"type": "json_object", "schema": ...}`
(its OpenAI-style `json_schema` form returned HTTP 500 here) or OpenAI's `{"type": "json_schema",
...}`. The form is configured (`structured` LM setting) or, with `auto`, detected from the
server's `/models` answer; a provider that takes neither keeps today's ChatAdapter path (`off`).
The planner's form (`themes` LM setting: slots or free) follows the model's capability
(`themepage.lm.planner_form`), and is recorded on the LM beside the server's form.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import dspy
from pydantic_core import to_jsonable_python

from themepage.constants import HEALTHY_AISLES
from themepage.lm.adapter import (
    MAX_SIGNATURES,
    CompactPrompts,
    GuardedParse,
    default_adapter,
    field_description,
    shared_first,
    type_name,
)
from themepage.lm.output_schemas import GRAMMAR_AISLES, allowed_aisles, fit_to_schema, output_budget, output_schema
from themepage.lm.planner_form import PLANNER_FORMS, listed_models, resolve_planner_form
from themepage.lm.response_cache import attempt_number
from themepage.lm.short_ids import ShortIds, restore_outputs, shorten_example, shorten_inputs
from themepage.wording.user_context import first_favourite_aisles

MODES = ("auto", "json_object", "json_schema", "off")
FORM_ATTRIBUTE = "themepage_structured"
"""Attribute of a dspy.LM naming the form its server takes (set by `mark_structured`)."""
THEMES_ATTRIBUTE = "themepage_themes"
"""Attribute of a dspy.LM naming the planner's form for its model (auto, slots, free; set by `mark_structured`)."""
CONTEXT_TOKENS = 8192
"""The context `serve-local-lm` gives the model (llama.cpp's --n_ctx)."""
PROMPT_CHARS_PER_TOKEN = 3.0
"""Prompts here (names, ids, markup) run at 3-4 characters per token; 3 errs toward cutting."""
AISLE_LIST_PREFIX = "Aisles you may name: "
STRUCTURED_TEMPERATURE = 0.2
"""Sampling temperature for an LM that sets none: llama.cpp's server samples hotter unless told, and a small model
sampling hot writes planner titles such as "Pretas de tesos  10/24" and queries such as "#47021C"; cooler, its
titles follow the aisles they are about (bench/real_lm.py). A retry samples at RETRY_TEMPERATURE."""
RETRY_TEMPERATURE = 0.7
"""Sampling temperature of a retry (themepage.lm.runtime.attempt) for an LM that sets none: the try before was
refused (unparsable, or a guard said no: a title some product does not belong under), and at 0.2 a server mostly
repeats that answer; hotter than 0.7 a small model writes noise (as dspy.BestOfN samples its later tries hotter)."""
FREE_THEME_LINE = ("Theme = JSON {title: what the row is about in 1-6 words: a dish, a meal, an occasion or a need "
                   "its products serve together, not an aisle's name; rationale: one sentence telling the shopper "
                   "(\"you\") why it suits them; queries: 1-3 lower-case catalog searches for its products; aisles: "
                   "1-3 of the aisles you may name; from_history: true when the row repeats their own purchases}")
"""The planner's theme as the free form's schema asks for it (the signature's Theme line lists optional fields the
grammar never lets it write, and query counts the schema does not allow). Uncompiled, a 1.5B model still titles
its themes after their aisles with it; a demo of another shopper's themes is what changes that (docs/results.md)."""
LLAMA_CPP_OWNERS = ("me", "llamacpp")
"""`owned_by` in /models answers of llama-cpp-python's server and of llama.cpp's llama-server."""


class ContextOverflow(ValueError):
    """A prompt that does not fit the model's context even without demos."""


class StructuredAdapter(GuardedParse, CompactPrompts, dspy.JSONAdapter):
    """JSONAdapter that sends each call's narrowed schema, output budget and a compact prompt that fits the context.

    The prompt is the chat adapter's compact one (`themepage.lm.adapter.CompactPrompts`: shared inputs first, one line
    per output model, compact values), not JSONAdapter's, which repeats every field's layout and the output's JSON
    schema in the system message (many tokens for the planner): the grammar already enforces that schema.
    With `short_ids`, candidate lines are numbered 1..N for the model and its answer mapped back
    (`themepage.lm.short_ids`). With `themes="slots"` (llama.cpp's form only: OpenAI's strict schemas take no
    `prefixItems`), the planner answers one schema per theme (`themepage.lm.plan_slots`); demos keep the plain form,
    since a demo's slots are another shopper's. With `themes="free"` the planner writes its own themes
    (`themepage.lm.output_schemas.free_theme_schema`), its demos cut to that schema. Answers are parsed as in the
    chat adapter (`GuardedParse`: refused when too long, parse blow-ups made parse errors, secrets redacted).
    """

    def __init__(self, form: str = "json_object", context_tokens: int = CONTEXT_TOKENS,
                 extra_aisles: Iterable[str] = HEALTHY_AISLES, known_aisles: Iterable[str] = (),
                 short_ids: bool = True, themes: str = "slots", themes_shown: str | None = None):
        if form not in ("json_object", "json_schema"):
            raise ValueError(f"structured form must be json_object or json_schema, not {form!r}")
        if themes not in ("slots", "free") or (themes_shown or themes) not in ("slots", "free"):
            raise ValueError(f"the planner's form must be slots or free, not {themes!r} / {themes_shown!r}")
        super().__init__(use_native_function_calling=False)
        self._system_messages: dict[tuple[type, str], str] = {}
        self.form = form
        self.context_tokens = context_tokens
        self.extra_aisles = tuple(extra_aisles)
        self.known_aisles = tuple(known_aisles)
        self.short_ids = short_ids
        self.themes = themes
        self.themes_shown = themes_shown or themes
        self.plan_slots = themes == "slots" and form == "json_object"
        self._shown_twin: StructuredAdapter | None = None

    @property
    def planner_schema(self) -> str:
        """The planner's schema for a call (`output_schemas.themes_schema`): free, slots, or plain (slots on a
        server whose form takes no `prefixItems`)."""
        return "free" if self.themes == "free" else "slots" if self.plan_slots else "plain"

    def format_system_message(self, signature) -> str:
        """The compact parts, memoized per signature class and instruction, as in MemoChatAdapter."""
        key = (signature, signature.instructions)
        if key not in self._system_messages:
            if len(self._system_messages) >= MAX_SIGNATURES:
                self._system_messages.clear()
            parts = (self.format_field_description(signature), self.format_field_structure(signature),
                     self.format_task_description(signature))
            self._system_messages[key] = "\n".join(part for part in parts if part)
        return self._system_messages[key]

    def format_field_structure(self, signature) -> str:
        """The output models' lines; for the planner in free form, FREE_THEME_LINE."""
        if self.themes == "free" and "themes" in signature.output_fields:
            return FREE_THEME_LINE
        return super().format_field_structure(signature)

    def format_field_description(self, signature) -> str:
        """`- name: description` per field, shared inputs first: no numbers or types (the user turn labels each
        input, the closing line gives the output's type and the grammar enforces it). About a third fewer tokens
        than DSPy's `1. `name` (type): description` list, in every call of a page."""
        def listed(fields: dict) -> str:
            return "\n".join(f"- {name}: {field_description(name, info)}" for name, info in fields.items())

        return (f"Your input fields are:\n{listed(shared_first(signature.input_fields))}\n"
                f"Your output fields are:\n{listed(signature.output_fields)}")

    def user_message_output_requirements(self, signature) -> str:
        fields = ", ".join(f"`{name}`" + ("" if info.annotation is str else f" ({type_name(info.annotation)})")
                           for name, info in signature.output_fields.items())
        return f"Respond with a JSON object: {fields}."

    def format_assistant_message_content(self, signature, outputs: dict[str, Any], missing_field_message=None) -> str:
        """A demo's answer as one line of JSON, as the model is to write it (DSPy indents it over many lines)."""
        values = {name: outputs.get(name, missing_field_message) for name in signature.output_fields}
        return json.dumps(to_jsonable_python(values), ensure_ascii=False)

    def response_format(self, schema: dict, name: str) -> dict | None:
        """The `response_format` request setting for `schema` in this server's form."""
        if self.form == "json_object":
            return {"type": "json_object", "schema": schema}
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}

    def with_aisle_list(self, signature, inputs: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """For the planner: the aisles it may name, appended to the shopper's context it reads, whose favourite
        aisles are cut to the GRAMMAR_AISLES it may name (the rest cost prompt tokens it cannot use)."""
        if "themes" not in signature.output_fields or not isinstance(inputs.get("user_context"), str):
            return inputs, []
        aisles = allowed_aisles(inputs["user_context"], self.extra_aisles, self.known_aisles)
        if not aisles:
            return inputs, []
        shown = first_favourite_aisles(inputs["user_context"], GRAMMAR_AISLES)
        context = shown.rstrip() + "\n" + AISLE_LIST_PREFIX + ", ".join(aisles) + "."
        return {**inputs, "user_context": context}, aisles

    def prompt_tokens(self, signature, demos: list, inputs: dict[str, Any]) -> int:
        """Estimated prompt tokens of the messages this adapter would send."""
        messages = self.format(signature, demos, inputs)
        return int(sum(len(str(m.get("content", ""))) for m in messages) / PROMPT_CHARS_PER_TOKEN)

    def fit_demos(self, signature, demos: list, inputs: dict[str, Any], budget: int) -> list:
        """The longest prefix of `demos` whose prompt leaves `budget` tokens for the answer."""
        room = self.context_tokens - budget
        kept = list(demos)
        while True:
            needed = self.prompt_tokens(signature, kept, inputs)
            if needed <= room:
                return kept
            if not kept:
                raise ContextOverflow(f"{signature.__name__}: a prompt of about {needed} tokens and {budget} for "
                                      f"the answer do not fit the model's {self.context_tokens}-token context")
            kept.pop()

    def shape_demo(self, signature, demo) -> dict[str, Any]:
        """A demo as its own call would be sent: its aisle list, its short ids, and its answer cut to what its own
        schema admits (`fit_to_schema`: a teacher's plan may be longer than the grammar lets the model write)."""
        data, aisles = self.with_aisle_list(signature, dict(demo.items()))
        if self.short_ids:
            data = shorten_example(data)
        schema = output_schema(signature.output_fields, data, aisles,
                               "free" if self.themes == "free" else "plain")["properties"]
        return {**data, **{name: fit_to_schema(to_jsonable_python(data[name]), schema[name])
                           for name in signature.output_fields if data.get(name) is not None}}

    def prepare(self, lm_kwargs: dict[str, Any], signature, demos: list, inputs: dict[str, Any]):
        """(lm_kwargs, demos, inputs, numbering) of one call: the planner's aisle list, short ids, the narrowed
        schema and its output budget, and the demos that fit the context."""
        inputs, aisles = self.with_aisle_list(signature, inputs)
        numbering = ShortIds()
        if self.short_ids:
            inputs, numbering = shorten_inputs(inputs)
        demos = [self.shape_demo(signature, demo) for demo in demos]
        schema = output_schema(signature.output_fields, inputs, aisles, self.planner_schema)
        lm_kwargs = dict(lm_kwargs)
        response_format = self.response_format(schema, signature.__name__)
        if response_format is not None:
            lm_kwargs["response_format"] = response_format
        lm_kwargs.setdefault("max_tokens", output_budget(schema))
        return lm_kwargs, self.fit_demos(signature, demos, inputs, lm_kwargs["max_tokens"]), inputs, numbering

    def with_temperature(self, lm, lm_kwargs: dict[str, Any]) -> dict[str, Any]:
        """STRUCTURED_TEMPERATURE (a retry's: RETRY_TEMPERATURE) unless the call or the LM sets a temperature."""
        own = (getattr(lm, "kwargs", None) or {}).get("temperature")
        if lm_kwargs.get("temperature") is not None or own is not None:
            return lm_kwargs
        return {**lm_kwargs, "temperature": RETRY_TEMPERATURE if attempt_number(lm) else STRUCTURED_TEMPERATURE}

    def for_call(self, signature, demos: list) -> StructuredAdapter:
        """This adapter, or for a planner holding demos whose model then answers in another form
        (`themes_shown`), its twin in that form."""
        if not demos or self.themes_shown == self.themes or "themes" not in signature.output_fields:
            return self
        if self._shown_twin is None:
            self._shown_twin = StructuredAdapter(self.form, self.context_tokens, self.extra_aisles, self.known_aisles,
                                                 self.short_ids, themes=self.themes_shown)
        return self._shown_twin

    def __call__(self, lm, lm_kwargs: dict[str, Any], signature, demos: list, inputs: dict[str, Any]):
        if (twin := self.for_call(signature, demos)) is not self:
            return twin(lm, lm_kwargs, signature, demos, inputs)
        lm_kwargs, demos, inputs, numbering = self.prepare(self.with_temperature(lm, lm_kwargs), signature, demos,
                                                           inputs)
        results = super().__call__(lm, lm_kwargs, signature, demos, inputs)
        return [restore_outputs(result, numbering) for result in results]

    async def acall(self, lm, lm_kwargs: dict[str, Any], signature, demos: list, inputs: dict[str, Any]):
        if (twin := self.for_call(signature, demos)) is not self:
            return await twin.acall(lm, lm_kwargs, signature, demos, inputs)
        lm_kwargs, demos, inputs, numbering = self.prepare(self.with_temperature(lm, lm_kwargs), signature, demos,
                                                           inputs)
        results = await super().acall(lm, lm_kwargs, signature, demos, inputs)
        return [restore_outputs(result, numbering) for result in results]

    def _prepare_response_format(self, lm, lm_kwargs, signature):
        """The schema is already in lm_kwargs (set per call above); DSPy's own choice would replace it."""


@lru_cache(maxsize=32)
def detect_form(api_base: str, timeout: float = 3.0) -> str:
    """`json_object` when `api_base` is a llama.cpp server (its /models names the owner), else `off`."""
    owners = {m.get("owned_by") for m in listed_models(api_base, timeout)}
    return "json_object" if owners & set(LLAMA_CPP_OWNERS) else "off"


def mark_structured(lm: dspy.LM, mode: str, themes: str = "auto") -> dspy.LM:
    """Record on `lm` which structured-output form its server takes (auto, json_object, json_schema, off) and
    which form its planner answers in (auto, slots, free: `themepage.lm.planner_form`)."""
    if mode not in MODES:
        raise ValueError(f"structured must be one of {', '.join(MODES)}, not {mode!r}")
    if themes not in PLANNER_FORMS:
        raise ValueError(f"themes must be one of {', '.join(PLANNER_FORMS)}, not {themes!r}")
    setattr(lm, FORM_ATTRIBUTE, mode)
    setattr(lm, THEMES_ATTRIBUTE, themes)
    return lm


def planner_form(lm: dspy.LM | None, shown: bool = False) -> str:
    """`slots` or `free`: as marked on `lm`, `auto` (and unmarked LMs) resolved from its model's name or its
    server's `/models` answer (`themepage.lm.planner_form.resolve_planner_form`); `shown`: for a planner holding
    demos."""
    api_base = (getattr(lm, "kwargs", None) or {}).get("api_base")
    return resolve_planner_form(getattr(lm, THEMES_ATTRIBUTE, "auto"), getattr(lm, "model", None), api_base, shown)


def structured_form(lm: dspy.LM | None) -> str:
    """The form `lm`'s server takes: as marked, `auto` resolved by asking its server; unmarked LMs: off."""
    mode = getattr(lm, FORM_ATTRIBUTE, "off")
    if mode != "auto":
        return mode
    api_base = (getattr(lm, "kwargs", None) or {}).get("api_base")
    return detect_form(api_base) if api_base else "off"


def adapter_for(lm: dspy.LM | None, known_aisles: Sequence[str] = ()) -> dspy.Adapter:
    """StructuredAdapter when `lm`'s server takes schemas (its planner in the form its model calls for), else
    today's adapter (configured or memoized chat)."""
    form = structured_form(lm)
    if form == "off":
        return default_adapter()
    return StructuredAdapter(form, known_aisles=known_aisles, themes=planner_form(lm),
                             themes_shown=planner_form(lm, shown=True))
