"""A ChatAdapter with compact prompts whose shared parts come first, and the system message memoized.

DSPy's ChatAdapter writes, per call, the field list, then the whole field structure again
with a JSON schema for every typed output (about 1,500 characters for a list of Theme), then
the instruction; the user turn ends with a long format reminder. This adapter keeps the field
list, describes output models in one line each, states the format once, in the short reminder
that ends the user turn (the inputs above it show the sections), renders model inputs as
compact JSON without empty or display-only fields, and puts
the inputs every call of a page shares (`user_context`, `objective_guidance`) before the
per-call ones, so a server's prefix cache (llama.cpp) reuses them. Sections keep DSPy's
`[[ ## name ## ]]` markers, so DSPy's parsing, demos, and the JSONAdapter fallback are
unchanged, and the offline engine reads both layouts. The system message depends only on
the signature (a changed instruction makes a new class), so it is memoized by it.

Answers are untrusted (`GuardedParse`, on this adapter, its JSON fallback and the structured
adapter): one longer than any step could need is refused unread, anything parsing raises (a
RecursionError from a deeply nested answer, a MemoryError from the parser) becomes an
AdapterParseError, so the step retries and then falls back, and every parsed string is redacted
before any code rewrites it.
"""

from __future__ import annotations

import textwrap
import threading
import types
import typing
from typing import Any, cast

import dspy
import pydantic
from dspy.adapters.utils import format_field_value, get_annotation_name, get_field_description_string
from dspy.utils.exceptions import AdapterParseError

from themepage.lm.redact import redact, redact_data

MAX_SIGNATURES = 512
SHARED_FIRST = ("user_context", "objective_guidance")
"""Inputs identical across a page's calls: rendered first so the prompt prefix repeats."""
DISPLAY_ONLY = {"rationale"}
"""Model fields written for the shopper, not read by any step that takes the model as an input."""
OBJECTIVE = "Your objective is:"
MAX_ANSWER_CHARS = 100_000
"""Longest answer parsed: far beyond any step's output (a planner's themes, a page's ids), far below what makes a
parser hold the interpreter for seconds (a hostile answer's megabytes)."""
SHOWN_ANSWER_CHARS = 500
"""How much of a refused answer its error carries."""


def _models(annotation) -> list[type[pydantic.BaseModel]]:
    """The pydantic models inside a type annotation (list[Theme] -> [Theme])."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [annotation]
    found = []
    for arg in typing.get_args(annotation):
        found += [m for m in _models(arg) if m not in found]
    return found


def type_name(annotation) -> str:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in typing.get_args(annotation))
    return get_annotation_name(annotation)


def describe_model(model: type[pydantic.BaseModel]) -> str:
    """`Theme = {title (str): desc; ...}`: a model's fields in one line, for an LM to write it as JSON."""
    fields = "; ".join(f"{name} ({type_name(info.annotation)})" + (f": {info.description}" if info.description else "")
                       for name, info in model.model_fields.items())
    return f"{model.__name__} = JSON {{{fields}}}"


def compact_value(field_info, value: Any) -> str:
    """A field value as DSPy renders it, except models: compact JSON without defaults or display-only fields."""
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump_json(exclude_defaults=True, exclude=DISPLAY_ONLY & set(type(value).model_fields))
    return str(format_field_value(field_info=field_info, value=value))


class CompactPrompts:
    """The compact prompt parts, shared by the chat adapter here and `themepage.lm.structured.StructuredAdapter`:
    the field list with shared inputs first, one line per output model, the instruction, and a user turn of
    compact values (shared inputs first). Not an Adapter itself: DSPy binds ChatAdapter's parse onto every
    ChatAdapter subclass, and the structured adapter must keep JSONAdapter's."""

    def format_field_description(self, signature) -> str:
        return (f"Your input fields are:\n{get_field_description_string(shared_first(signature.input_fields))}\n"
                f"Your output fields are:\n{get_field_description_string(signature.output_fields)}")

    def format_field_structure(self, signature) -> str:
        """One line per output model (`Theme = JSON {...}`), none for plain outputs: the sections' format is
        stated once, at the end of the user turn (`user_message_output_requirements`)."""
        models: list[type[pydantic.BaseModel]] = []
        for info in signature.output_fields.values():
            models += [m for m in _models(info.annotation) if m not in models]
        return "\n".join(map(describe_model, models))

    def format_task_description(self, signature) -> str:
        return f"{OBJECTIVE} {textwrap.dedent(signature.instructions).strip()}"

    def user_message_output_requirements(self, signature) -> str:
        raise NotImplementedError

    def format_user_message_content(self, signature, inputs, prefix: str = "", suffix: str = "",
                                    main_request: bool = False) -> str:
        messages = [prefix]
        for name, info in shared_first(signature.input_fields).items():
            if name in inputs:
                messages.append(f"[[ ## {name} ## ]]\n{compact_value(info, inputs[name])}")
        if main_request:
            messages.append(self.user_message_output_requirements(signature))
        messages.append(suffix)
        return "\n\n".join(m for m in messages if m).strip()


class GuardedParse:
    """An adapter's `parse` for untrusted answers: refuse one over MAX_ANSWER_CHARS unread, turn whatever parsing
    raises into an AdapterParseError (a parse failure: retry, then the retrieval fallback), redact every parsed
    string. Put before the DSPy adapter class in the bases."""

    def parse(self, signature, completion: str) -> dict[str, Any]:
        name = type(self).__name__
        if len(completion) > MAX_ANSWER_CHARS:
            raise AdapterParseError(adapter_name=name, signature=signature,
                                    lm_response=redact(completion[:SHOWN_ANSWER_CHARS]) + "...",
                                    message=f"an answer of {len(completion)} characters is longer than any step's "
                                            f"output ({MAX_ANSWER_CHARS} at most); not parsed")
        try:
            return redact_data(cast(Any, super()).parse(signature, completion))
        except AdapterParseError:
            raise
        except Exception as exc:  # the answer broke the parser (or redaction): the LM's fault, not ours
            raise AdapterParseError(adapter_name=name, signature=signature,
                                    lm_response=redact(completion[:SHOWN_ANSWER_CHARS]),
                                    message=f"parsing the answer raised {type(exc).__name__}") from exc


class GuardedJSONAdapter(GuardedParse, dspy.JSONAdapter):
    """DSPy's JSONAdapter with the guarded parse: the chat adapter's fallback for an answer it cannot parse."""


class MemoChatAdapter(GuardedParse, CompactPrompts, dspy.ChatAdapter):
    """dspy.ChatAdapter with compact, prefix-friendly prompts, the system message memoized per signature, and the
    guarded parse (also in its JSON fallback)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._system_messages: dict[tuple[type, str], str] = {}
        self._lock = threading.Lock()

    def format_system_message(self, signature) -> str:
        key = (signature, signature.instructions)
        cached = self._system_messages.get(key)
        if cached is None:
            parts = (self.format_field_description(signature), self.format_field_structure(signature),
                     self.format_task_description(signature))
            cached = "\n".join(part for part in parts if part)
            with self._lock:
                if len(self._system_messages) >= MAX_SIGNATURES:
                    self._system_messages.clear()
                self._system_messages[key] = cached
        return cached

    def _make_json_adapter_fallback(self) -> dspy.JSONAdapter:
        return GuardedJSONAdapter(use_native_function_calling=self.use_native_function_calling,
                                  parallel_tool_calls=self.parallel_tool_calls)

    def user_message_output_requirements(self, signature) -> str:
        def typed(name, info) -> str:
            return f"`[[ ## {name} ## ]]`" + ("" if info.annotation is str else f" ({type_name(info.annotation)})")

        fields = ", then ".join(typed(name, info) for name, info in signature.output_fields.items())
        return f"Respond with {fields}, then `[[ ## completed ## ]]`."


def field_description(name: str, info) -> str:
    """A field's `desc` ("" when DSPy filled in its `${name}` placeholder)."""
    desc = (info.json_schema_extra or {}).get("desc", "")
    return "" if desc == f"${{{name}}}" else desc


def shared_first(fields: dict) -> dict:
    shared = {name: fields[name] for name in SHARED_FIRST if name in fields}
    return shared | {name: info for name, info in fields.items() if name not in shared}


def default_adapter() -> dspy.Adapter:
    """The configured adapter if the user set one, else the memoizing ChatAdapter."""
    return dspy.settings.adapter or MemoChatAdapter()
