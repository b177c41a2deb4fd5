"""The only shape a compiled file may have: what compiling writes, nothing else.

DSPy's `Predict.load_state` copies every unknown key of a predictor's state onto the predictor (a `config`
with an `api_base` redirects its calls) and restores a saved `lm`. A compiled file is therefore untrusted
input: `check_shape` accepts instructions, field prefixes and descriptions, demos of the predictor's own
fields, the knn settings this project writes, and our metadata, and refuses anything else with
`UnsafeCompiledFile` naming the file and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from optimize.errors import UnsafeCompiledFile
from optimize.knn import KNN_BOOTSTRAP, KNN_KEY

MAX_FILE_BYTES = 2_000_000
"""Larger than any compiled program (the biggest committed one is about 10 kB); a bigger file is refused unread."""
MAX_TEXT = 20_000
MAX_DEMOS = 16
MAX_POOL = 10_000
PREDICTOR_KEYS = ("traces", "train", "demos", "signature", "lm")
META_KEY = "themepage"
THEMEPAGE_META = ("format", "program", "objective", "lm", "optimizer", "fingerprints")


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
        _exact_keys(path, f"{name}.demos[{i}]", demo, allowed, required=False)
        if "augmented" in demo and not isinstance(demo["augmented"], bool):
            raise _refuse(path, f"{name}.demos[{i}].augmented", "expected true or false")


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
    if not isinstance(versions, Mapping) or not all(isinstance(v, str) for v in versions.values()):
        raise _refuse(path, "metadata.dependency_versions", "expected names and version strings")
    ours = metadata[META_KEY]
    _exact_keys(path, f"metadata.{META_KEY}", ours, THEMEPAGE_META)
    for key in ("program", "objective", "lm", "optimizer"):
        _text(path, f"metadata.{META_KEY}.{key}", ours[key])
    fingerprints = ours["fingerprints"]
    if not isinstance(fingerprints, Mapping) or not all(isinstance(v, str) for v in fingerprints.values()):
        raise _refuse(path, f"metadata.{META_KEY}.fingerprints", "expected predictor names and hashes")


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
