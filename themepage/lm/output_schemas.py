"""Per-step output schemas narrowed to what is valid, and the output-token budgets they imply.

A small model under grammar-constrained decoding can only write what the schema allows, so
each schema is narrowed to the call at hand: product ids are an enum of the ids shown in the
prompt's candidate lines, aisle names an enum of the aisles the planner is shown, lists and
strings have maximum lengths. An invalid id is then impossible rather than filtered, and the
longest answer the schema admits bounds the step's `max_tokens` (`output_budget`).

The schemas are read from the prompt's own inputs (candidate lines start with the id), so the
programs need no changes and compiled programs keep working.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pydantic

from themepage.lm.plan_slots import slot_themes
from themepage.objectives import Constraints
from themepage.wording.aisle_titles import aisles_in_lines, title_pattern
from themepage.wording.user_context import parse_user_context

ID_LINE = re.compile(r"^\s*(\d+)\s*\|", re.MULTILINE)
ID_FIELDS = ("candidates", "products")
"""Input fields whose lines are `id | name | ...`: the ids an answer may name."""
LIST_ID_OUTPUTS = ("product_ids", "kept_ids")
RATIONALE_CHARS, QUERY_CHARS = 80, 24
_TITLE_WORD = r"[A-Z][a-z'-]{1,11},?"
TITLE_PATTERN = rf"^{_TITLE_WORD}( ((&|and|of|with|for|the|in|to|on)|{_TITLE_WORD})){{0,5}}$"
"""A readable title under the grammar: one to six words, capitalised (small joining words aside), letters only.
A small model sampling freely writes titles such as "Pretas de tesos  10/24; 1st of April." or
"Fresh Fruits (not all of them)"; the page rules want at most six words."""
TITLE_PATTERN_CHARS = 6 * 14
RATIONALE_PATTERN = r"^[A-Z][A-Za-z0-9 ,.'&%-]{9,79}$"
"""One plain sentence: no brackets, markup or line breaks (seen: "...on this page!},{.")."""
QUERY_PATTERN = r"^[a-z][a-z '&-]{1,23}$"
"""A catalog search in plain lower-case words (seen: "#47021C", "10.68935")."""
QUERIES_PER_THEME, AISLES_PER_THEME = 2, 2
"""Short on purpose: the planner's answer is the longest of a page, and a small local model writes it slowly."""
_FREE_TITLE_WORD = r"[A-Z][a-z'-]{0,13},?"
FREE_TITLE_PATTERN = rf"^{_FREE_TITLE_WORD}( ((&|and|of|with|for|the|in|to|on|a)|{_FREE_TITLE_WORD})){{0,5}}$"
"""A model's own title: one to six capitalised words (small joining words aside), letters only."""
FREE_TITLE_CHARS, FREE_RATIONALE_CHARS, FREE_ITEMS = 48, 160, 3
FREE_RATIONALE_PATTERN = rf"^[A-Z][A-Za-z0-9 ,.'&%!-]{{9,{FREE_RATIONALE_CHARS - 1}}}$"
"""One plain sentence of the model's, as RATIONALE_PATTERN, twice as long: a hosted or 1.5B model writes one."""
PLANNER_SCHEMAS = ("plain", "slots", "free")
MIN_KEPT = Constraints.model_fields["min_products_per_placement"].default
"""The filter keeps at least this many: fewer is a guard fallback anyway (see programs/top_down.py)."""
CHARS_PER_TOKEN = 2.0
"""Pessimistic: grocery words, digits and JSON punctuation run at 2-4 characters per token."""
BUDGET_MARGIN = 1.2
MIN_BUDGET = 32


def shown_ids(inputs: dict[str, Any]) -> list[int]:
    """The ids at the start of the candidate (or product) lines of a prompt, in order, each once."""
    for name in ID_FIELDS:
        text = inputs.get(name)
        if isinstance(text, str):
            ids = [int(m) for m in ID_LINE.findall(text)]
            if ids:
                return list(dict.fromkeys(ids))
    return []


def favourite_aisles(user_context: str) -> list[str]:
    """The aisle names of the context's favourite-aisles line, read by the one user-context reader."""
    return [name for name, _, _ in parse_user_context(user_context).aisles]


def _string(max_chars: int) -> dict:
    return {"type": "string", "maxLength": max_chars}


def _array(items: dict, max_items: int, min_items: int = 0) -> dict:
    return {"type": "array", "items": items, "minItems": min(min_items, max_items), "maxItems": max_items}


def _object(properties: dict[str, dict]) -> dict:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def id_enum(ids: Sequence[int]) -> dict:
    return {"type": "integer", "enum": list(ids)}


def title_schema() -> dict:
    return {"type": "string", "pattern": TITLE_PATTERN, "maxLength": TITLE_PATTERN_CHARS}


def rationale_schema() -> dict:
    return {"type": "string", "pattern": RATIONALE_PATTERN, "maxLength": RATIONALE_CHARS}


def theme_fields() -> dict[str, dict]:
    """A theme's text fields under the grammar: a readable title, one plain sentence, one or two plain queries."""
    query = {"type": "string", "pattern": QUERY_PATTERN, "maxLength": QUERY_CHARS}
    return {"title": title_schema(), "rationale": rationale_schema(), "queries": _array(query, QUERIES_PER_THEME, 1)}


def theme_schema(aisles: Sequence[str]) -> dict:
    """A Theme (themepage.page.Theme) with short strings and one or two aisles from `aisles` (free, short names if
    empty); its optional attributes are left out (retrieval does not read them). At least one aisle: themes without
    one are catch-alls, of which a page keeps one, and a small model imitating a demo's catch-all writes no aisle
    for any theme, leaving one usable theme a page. The slot form (`themes_schema`) goes further. Aisles come
    first, so the title is written for what the row holds."""
    aisle = {"type": "string", "enum": list(aisles)} if aisles else _string(QUERY_CHARS)
    return _object({"aisles": _array(aisle, AISLES_PER_THEME, 1), **theme_fields(),
                    "from_history": {"type": "boolean"}})


def free_theme_schema(aisles: Sequence[str]) -> dict:
    """A theme the model authors (`themepage.lm.planner_form`, form `free`): its own title of at most six words, a
    sentence for this shopper, one to three lower-case catalog searches, one to three of the allowed `aisles`
    (free short names if none). The title comes first: the idea, then where its products live. llama.cpp's
    grammar keeps a string's pattern and drops its maxLength, so the title's words are bounded in the pattern."""
    aisle = {"type": "string", "enum": list(aisles)} if aisles else _string(QUERY_CHARS)
    query = {"type": "string", "pattern": QUERY_PATTERN, "maxLength": QUERY_CHARS}
    return _object({"title": {"type": "string", "pattern": FREE_TITLE_PATTERN, "maxLength": FREE_TITLE_CHARS},
                    "rationale": {"type": "string", "pattern": FREE_RATIONALE_PATTERN,
                                  "maxLength": FREE_RATIONALE_CHARS},
                    "queries": _array(query, FREE_ITEMS, 1), "aisles": _array(aisle, FREE_ITEMS, 1),
                    "from_history": {"type": "boolean"}})


def themes_schema(wanted: int, aisles: Sequence[str], user_context: Any, planner: str = "plain") -> dict:
    """The planner's `themes`: exactly `wanted` themes. `free`: themes the model authors (`free_theme_schema`).
    `slots` with known aisles: one schema per theme (`themepage.lm.plan_slots`: a distinct aisle each, the regulars
    catch-all first for a shopper with a history). Otherwise (`plain`: demos, and slots on a server that takes no
    `prefixItems`) one short theme schema for all. Slot themes write no queries: retrieval takes a one-aisle
    theme's products from its aisle, and a small model's queries ("add to this list", "query") find other products."""
    if planner not in PLANNER_SCHEMAS:
        raise ValueError(f"planner schema must be one of {', '.join(PLANNER_SCHEMAS)}, not {planner!r}")
    if planner == "free":
        return _array(free_theme_schema(aisles), wanted, wanted)
    if not (planner == "slots" and aisles):
        return _array(theme_schema(aisles), wanted, wanted)
    has_history = isinstance(user_context, str) and bool(favourite_aisles(user_context))
    text = {name: field for name, field in theme_fields().items() if name != "queries"}
    return {"type": "array", "prefixItems": slot_themes(aisles, wanted, has_history, text)}


def _positive_int(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def field_schema(name: str, annotation: Any, inputs: dict[str, Any], aisles: Sequence[str],
                 planner: str = "plain") -> dict:
    """The narrowed schema of one output field, or the annotation's own JSON schema for fields not known here."""
    ids = shown_ids(inputs)
    if name in LIST_ID_OUTPUTS and ids:
        wanted = _positive_int(inputs.get("num_products"), len(ids))
        return _array(id_enum(ids), min(wanted, len(ids)), MIN_KEPT if name == "kept_ids" else min(wanted, len(ids)))
    if name == "themes":
        return themes_schema(_positive_int(inputs.get("num_themes"), 6), aisles, inputs.get("user_context"), planner)
    if name == "title":
        shelf = aisles_in_lines(inputs.get("products"))
        return {**title_schema(), "pattern": title_pattern(shelf)} if shelf else title_schema()
    if name == "rationale":
        return rationale_schema()
    return pydantic.TypeAdapter(annotation).json_schema()


def output_schema(output_fields: dict[str, Any], inputs: dict[str, Any], aisles: Sequence[str] = (),
                  planner: str = "plain") -> dict:
    """The whole answer: one JSON object with every output field, in signature order (`planner`: the planner's
    form, see themes_schema)."""
    return _object({name: field_schema(name, info.annotation, inputs, aisles, planner)
                    for name, info in output_fields.items()})


def _tokens(schema: dict) -> float:
    """Most tokens an answer matching `schema` can take (pessimistic; unbounded parts count a little)."""
    kind = schema.get("type")
    if "anyOf" in schema:
        return max(_tokens(option) for option in schema["anyOf"])
    if "const" in schema:
        return len(str(schema["const"])) / CHARS_PER_TOKEN + 1
    if kind == "array" and "prefixItems" in schema:
        return 2 + sum(_tokens(item) + 1 for item in schema["prefixItems"])
    if "enum" in schema:
        return max(len(str(v)) for v in schema["enum"]) / CHARS_PER_TOKEN + 2 if schema["enum"] else 2
    if kind == "string":
        return schema.get("maxLength", 64) / CHARS_PER_TOKEN + 2
    if kind in ("integer", "number", "boolean"):
        return 4
    if kind == "array":
        items = schema.get("items", {})
        return 2 + schema.get("maxItems", 8) * (_tokens(items if isinstance(items, dict) else {}) + 1)
    if kind == "object":
        properties = schema.get("properties", {})
        return 2 + sum(len(key) / CHARS_PER_TOKEN + 3 + _tokens(value) for key, value in properties.items())
    return 16


def output_budget(schema: dict) -> int:
    """max_tokens for a step: the longest answer its schema admits, with a margin."""
    return max(MIN_BUDGET, math.ceil(_tokens(schema) * BUDGET_MARGIN))


GRAMMAR_AISLES = 8
"""A planner may name the context's first this many favourite aisles (and the objective's): the context lists
more (`themepage.wording.user_context.FAVOURITE_AISLES`) for a planner to weigh, but every allowed aisle widens the
slot grammar's alternatives (docs/results.md has the real-model figures at this value)."""


def allowed_aisles(user_context: str, extra: Iterable[str] = (), known: Iterable[str] = ()) -> list[str]:
    """Aisles a planner may name: the shopper's first GRAMMAR_AISLES favourites, then `extra` (the objective's),
    each once.

    With `known` (the catalog's aisle names), names not in the catalog are dropped.
    """
    names = list(dict.fromkeys([*favourite_aisles(user_context)[:GRAMMAR_AISLES], *extra]))
    catalog = set(known)
    return [a for a in names if a in catalog] if catalog else names


def fit_to_schema(value: Any, schema: dict) -> Any:
    """`value` cut to what `schema` admits: lists to maxItems (and enum members), strings to maxLength, objects to
    their properties. For demos: an answer a teacher wrote longer than the model may write shows it a form
    the grammar would never let it finish (and costs prompt tokens in every call that carries it). Keys follow the
    schema's order, the order the grammar makes the model write them."""
    kind = schema.get("type")
    if kind == "object" and isinstance(value, dict):
        properties = schema.get("properties", {})
        return {key: fit_to_schema(value[key], schema) for key, schema in properties.items() if key in value}
    if kind == "array" and isinstance(value, list):
        items = schema.get("items", {})
        allowed = [item for item in value if "enum" not in items or item in items["enum"]]
        return [fit_to_schema(item, items) for item in allowed[:schema.get("maxItems", len(allowed))]]
    if kind == "string" and isinstance(value, str) and len(value) > schema.get("maxLength", len(value)):
        return value[:schema["maxLength"]].rsplit(" ", 1)[0]
    return value
