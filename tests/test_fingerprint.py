"""A compiled file's fingerprint follows what a prompt shows, not where a type's class is defined."""

from __future__ import annotations

import dspy
from pydantic import BaseModel, create_model

from themepage.optimize.fingerprint import predictor_fingerprints


def _signature(theme: type[BaseModel]) -> type[dspy.Signature]:
    return dspy.Signature({"context": (str, dspy.InputField(desc="the shopper")),
                           "themes": (list[theme], dspy.OutputField(desc="themes"))}, "Plan themes.")


def _fingerprint(theme: type[BaseModel]) -> str:
    return predictor_fingerprints(dspy.Predict(_signature(theme)))["self"]


def test_moving_a_field_type_to_another_module_keeps_the_fingerprint():
    here = create_model("Theme", title=(str, ...), __module__="themepage.page")
    moved = create_model("Theme", title=(str, ...), __module__="themepage.page.model")
    assert _fingerprint(here) == _fingerprint(moved)


def test_changing_a_field_type_changes_the_fingerprint():
    before = create_model("Theme", title=(str, ...))
    after = create_model("Theme", title=(str, ...), rationale=(str, ...))
    assert _fingerprint(before) != _fingerprint(after)
