"""`attempt` with `refused_attempts`: a guard's refusal earns more tries, an LM failure does not."""

import json
from collections.abc import Callable

from themepage.lm.runtime import ATTEMPTS, attempt

MORE = ATTEMPTS + 2


def _scripted(answers: list) -> tuple[list, Callable[[], str]]:
    """A call answering from `answers` in turn (an exception is raised), and the list of calls made."""
    calls = []

    def call():
        answer = answers[len(calls)]
        calls.append(answer)
        if isinstance(answer, Exception):
            raise answer
        return answer
    return calls, call


def _refuse_unless_good(answer: str) -> str | None:
    return None if answer == "good" else "refused"


def test_refusals_earn_the_extra_tries():
    calls, call = _scripted(["bad"] * (MORE - 1) + ["good"])
    assert attempt(call, _refuse_unless_good, refused_attempts=MORE) == ("good", None)
    assert len(calls) == MORE


def test_refusals_stop_at_the_extra_tries():
    calls, call = _scripted(["bad"] * (MORE + 3))
    assert attempt(call, _refuse_unless_good, refused_attempts=MORE) == (None, "refused")
    assert len(calls) == MORE


def test_without_extra_tries_refusals_stop_at_attempts():
    calls, call = _scripted(["bad"] * (MORE + 3))
    assert attempt(call, _refuse_unless_good) == (None, "refused")
    assert len(calls) == ATTEMPTS


def test_an_lm_failure_caps_the_tries_at_attempts():
    unparsable = json.JSONDecodeError("Expecting value", "???", 0)
    calls, call = _scripted([unparsable] * (MORE + 3))
    result, cause = attempt(call, _refuse_unless_good, refused_attempts=MORE)
    assert result is None and cause and len(calls) == ATTEMPTS
    calls, call = _scripted(["bad", unparsable, "bad", "good"])  # refused, then broken: no third try
    assert attempt(call, _refuse_unless_good, refused_attempts=MORE)[0] is None and len(calls) == ATTEMPTS


class _AlikeEngine:
    """An engine that says it answers a prompt alike on every try (never called here: the calls are scripted)."""

    deterministic = True

    def complete(self, request):
        raise AssertionError("the calls are scripted")


def test_an_lm_that_answers_alike_is_not_asked_again_after_a_refusal():
    import dspy

    calls, call = _scripted(["bad", "bad", "good"])
    with dspy.context(lm=dspy.LM("themepage/offline", engine=_AlikeEngine(), cache=False)):
        assert attempt(call, _refuse_unless_good, refused_attempts=MORE) == (None, "refused")
    assert len(calls) == 1
    calls, call = _scripted(["bad", "good"])
    assert attempt(call, _refuse_unless_good, refused_attempts=MORE) == ("good", None) and len(calls) == 2
