"""The only shape a compiled file may have: what compiling writes, nothing else.

DSPy's `Predict.load_state` copies every unknown key of a predictor's state onto the predictor (a `config`
with an `api_base` redirects its calls) and restores a saved `lm`. A compiled file is therefore untrusted
input: `check_shape` accepts instructions, field prefixes and descriptions, demos of the predictor's own
fields, the knn settings this project writes, and our metadata, and refuses anything else with
`UnsafeCompiledFile` naming the file and the key. Sizes are bounded too (the limits below): demos go into
every LM request, so a file of huge demos would make every request huge.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from themepage.optimize.errors import UnsafeCompiledFile
from themepage.optimize.knn import KNN_BOOTSTRAP, KNN_KEY
from themepage.optimize.names import OPTIMIZERS

# ----- every size limit of a compiled file, in one place -------------------------------------------------------
# Compiling writes at most 2 demos per predictor, each a few kB (a planner demo's shopper context and themes);
# these bounds are far above that, and low enough that no file can make every LM request megabytes long.
MAX_FILE_BYTES = 2_000_000
"""A bigger file is refused unread (and no more than this is ever read from the path)."""
MAX_TEXT = 20_000
"""Characters of an instruction, a field prefix or description."""
MAX_DEMOS = 8
"""Demos per predictor."""
MAX_DEMO_FIELD = 20_000
"""Characters of one demo field (text as is; any other value as its JSON)."""
MAX_DEMO = 40_000
"""Characters of one demo, all its fields together."""
MAX_DEPTH = 16
"""Nesting of JSON arrays and objects anywhere in the file (what compiling writes nests 7 deep)."""
MAX_NAME = 200
"""Characters of a program, objective, LM or optimizer name in the metadata."""
MAX_POOL = 10_000
"""References in a knn pool."""

FORMAT = 1
"""The version of the file layout `save_compiled` writes; a file of any other format is refused."""
PREDICTOR_KEYS = ("traces", "train", "demos", "signature", "lm")
META_KEY = "themepage"
THEMEPAGE_META = ("format", "program", "objective", "lm", "optimizer", "fingerprints")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
"""A program or objective name: what the CLI accepts and error messages may quote."""
_MODEL = re.compile(r"[\x21-\x7e]+")
"""An LM's model string: printable ASCII without spaces (so a message quoting it stays one line)."""
_HASH = re.compile(r"[0-9a-f]{64}")


def _refuse(path: Path, key: str, why: str) -> UnsafeCompiledFile:
    return UnsafeCompiledFile(f"{path}: refused key {key!r}: {why}")


def _exact_keys(path: Path, where: str, value: Any, allowed: tuple[str, ...] | set[str], required=True) -> None:
    if not isinstance(value, Mapping):
        raise _refuse(path, where, "expected an object")
    for key in value:
        if key not in allowed:
            raise _refuse(path, f"{where}.{key}" if where else key, "not something compiling writes")
    if required:
        for key in allowed:
            if key not in value:
                raise _refuse(path, f"{where}.{key}" if where else key, "missing")


def _text(path: Path, where: str, value: Any) -> None:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise _refuse(path, where, f"expected text of at most {MAX_TEXT:,} characters")


def _int(path: Path, where: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _refuse(path, where, f"expected a whole number from {low} to {high}")


def _name(path: Path, where: str, value: Any, pattern: re.Pattern, what: str) -> None:
    if not isinstance(value, str) or len(value) > MAX_NAME or not pattern.fullmatch(value):
        raise _refuse(path, where, f"expected {what} of at most {MAX_NAME} characters")


def _size(value: Any) -> int:
    """A demo value's size in characters: text as is, anything else as its JSON."""
    return len(value) if isinstance(value, str) else len(json.dumps(value, ensure_ascii=False))


def check_depth(path: Path, state: Any) -> None:
    """Refuse arrays and objects nested deeper than MAX_DEPTH anywhere (walked without recursion)."""
    stack = [(state, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, Mapping) else node if isinstance(node, list) else ()
        if children and depth > MAX_DEPTH:
            raise _refuse(path, "(file)", f"arrays and objects nested more than {MAX_DEPTH} deep")
        stack.extend((child, depth + 1) for child in children if isinstance(child, (Mapping, list)))


def finite_number(text: str) -> float:
    """json's parse_float: a decimal that is too big for a float (1e999) is refused like NaN and Infinity."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def refuse_constant(name: str) -> Any:
    """json's parse_constant: NaN, Infinity and -Infinity are not JSON numbers."""
    raise ValueError(f"{name} is not a JSON number")


def check_signature(path: Path, name: str, signature: Any, field_names: list[str]) -> None:
    """Instructions and one {prefix, description} per current field, in order."""
    _exact_keys(path, f"{name}.signature", signature, ("instructions", "fields"))
    _text(path, f"{name}.signature.instructions", signature["instructions"])
    fields = signature["fields"]
    if not isinstance(fields, list) or len(fields) != len(field_names):
        raise _refuse(path, f"{name}.signature.fields", f"expected a list of {len(field_names)} fields")
    for i, field in enumerate(fields):
        where = f"{name}.signature.fields[{i}]"
        _exact_keys(path, where, field, ("prefix", "description"))
        _text(path, f"{where}.prefix", field["prefix"])
        _text(path, f"{where}.description", field["description"])


def check_demos(path: Path, name: str, demos: Any, field_names: list[str]) -> None:
    """A list of objects whose keys are the predictor's fields (plus DSPy's `augmented` flag)."""
    if not isinstance(demos, list) or len(demos) > MAX_DEMOS:
        raise _refuse(path, f"{name}.demos", f"expected a list of at most {MAX_DEMOS} demos")
    allowed = {*field_names, "augmented"}
    for i, demo in enumerate(demos):
        where = f"{name}.demos[{i}]"
        _exact_keys(path, where, demo, allowed, required=False)
        if "augmented" in demo and not isinstance(demo["augmented"], bool):
            raise _refuse(path, f"{where}.augmented", "expected true or false")
        total = 0
        for field, value in demo.items():
            size = _size(value)
            if size > MAX_DEMO_FIELD:
                raise _refuse(path, f"{where}.{field}", f"{size:,} characters; a demo field has at most "
                                                        f"{MAX_DEMO_FIELD:,}")
            total += size
        if total > MAX_DEMO:
            raise _refuse(path, where, f"{total:,} characters; a demo has at most {MAX_DEMO:,}")


def check_predictor(path: Path, name: str, state: Any, field_names: list[str]) -> None:
    """traces and train empty, no LM, the signature's text and the demos; no other key."""
    _exact_keys(path, name, state, PREDICTOR_KEYS)
    for key in ("traces", "train"):
        if state[key] != []:
            raise _refuse(path, f"{name}.{key}", "compiling saves it empty")
    if state["lm"] is not None:
        raise _refuse(path, f"{name}.lm", "a compiled file may not choose the LM (it must be null)")
    check_signature(path, name, state["signature"], field_names)
    check_demos(path, name, state["demos"], field_names)


def check_knn(path: Path, knn: Any) -> None:
    """k, exactly our bootstrap settings, and the pool as (user_id, target_order_id) references."""
    _exact_keys(path, KNN_KEY, knn, ("k", "bootstrap", "pool"))
    _int(path, f"{KNN_KEY}.k", knn["k"], 1, 50)
    if knn["bootstrap"] != KNN_BOOTSTRAP:
        raise _refuse(path, f"{KNN_KEY}.bootstrap", f"knn runs with {KNN_BOOTSTRAP} only")
    pool = knn["pool"]
    if not isinstance(pool, list) or not 0 < len(pool) <= MAX_POOL:
        raise _refuse(path, f"{KNN_KEY}.pool", f"expected a list of 1 to {MAX_POOL:,} references")
    for i, ref in enumerate(pool):
        _exact_keys(path, f"{KNN_KEY}.pool[{i}]", ref, ("user_id", "target_order_id"))
        for key in ("user_id", "target_order_id"):
            _int(path, f"{KNN_KEY}.pool[{i}].{key}", ref[key], -(2**63), 2**63 - 1)


def check_metadata(path: Path, metadata: Any) -> None:
    """DSPy's dependency versions and our own record of what the file was compiled for."""
    _exact_keys(path, "metadata", metadata, ("dependency_versions", META_KEY))
    versions = metadata["dependency_versions"]
    if not isinstance(versions, Mapping) or not all(isinstance(v, str) and len(v) <= MAX_NAME >= len(k)
                                                    for k, v in versions.items()):
        raise _refuse(path, "metadata.dependency_versions", "expected names and version strings")
    ours = metadata[META_KEY]
    where = f"metadata.{META_KEY}"
    _exact_keys(path, where, ours, THEMEPAGE_META)
    if isinstance(ours["format"], bool) or not isinstance(ours["format"], int) or ours["format"] != FORMAT:
        raise _refuse(path, f"{where}.format", f"expected {FORMAT} (the only format this version reads)")
    _name(path, f"{where}.program", ours["program"], _NAME, "a program name")
    _name(path, f"{where}.objective", ours["objective"], _NAME, "an objective name")
    _name(path, f"{where}.lm", ours["lm"], _MODEL, "a model name")
    if ours["optimizer"] not in OPTIMIZERS:
        raise _refuse(path, f"{where}.optimizer", f"expected one of {', '.join(OPTIMIZERS)}")
    fingerprints = ours["fingerprints"]
    if not isinstance(fingerprints, Mapping) or not all(
            len(k) <= MAX_NAME and isinstance(v, str) and _HASH.fullmatch(v) for k, v in fingerprints.items()):
        raise _refuse(path, f"{where}.fingerprints", "expected predictor names and sha256 hashes")


def check_shape(path: Path, state: Any, predictors: Mapping[str, list[str]]) -> None:
    """Refuse any part of `state` compiling does not write; `predictors` maps each predictor to its field names."""
    if not isinstance(state, Mapping):
        raise _refuse(path, "(file)", "expected a JSON object")
    _exact_keys(path, "", state, {*predictors, "metadata", KNN_KEY}, required=False)
    if "metadata" not in state:
        raise _refuse(path, "metadata", "missing; the file was not written by `themepage compile`")
    check_metadata(path, state["metadata"])
    for name, fields in predictors.items():
        if name not in state:
            raise _refuse(path, name, "missing predictor state")
        check_predictor(path, name, state[name], fields)
    if KNN_KEY in state:
        check_knn(path, state[KNN_KEY])
