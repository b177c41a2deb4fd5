"""A misbehaving provider still gets a valid page: bounded retries, then the retrieval fallback, within a known time."""

import json
import time

import dspy
import pytest
from dspy.clients import execution
from http_server import assert_valid_page, http_lm, lm_server, provider_env, run_cli  # noqa: F401

from themepage.lm.runtime import DEADLINE_GRACE, ProviderUnreachable, attempt, call_time_bound, page_time_bound
from themepage.page import Page
from themepage.programs.registry import make_program
from themepage.server import KINDS

CAUSES = {
    "rate_limit": "LMRateLimitError", "server_error": "LMServerError: [openai/gpt-4o-mini] injected server_error",
    "unavailable": "LMServerError: [openai/gpt-4o-mini] injected unavailable", "garbage": "is not JSON",
    "truncated_json": "is not JSON", "truncated": "AdapterParseError", "garbled": "AdapterParseError",
    "hang": "read timed out",
}
"""What each fault looks like in a page's fallback notes (DSPy's native client, which the CLI picks here)."""
TOP_DOWN_CAUSES = CAUSES | {"truncated": "usable themes of"}
"""Top-down's steps answer one list each: a truncated list still parses, short (the planner's has fewer themes)."""
REQUESTS_PER_FAILED_STEP = {"garbled": 4, "truncated": None}
"""With one retry: a transient failure is retried by DSPy (2 requests), then falls back; a bad 200 body is
retried once by `attempt` (2); an answer no adapter can parse costs chat + JSON, twice (4)."""
TIMEOUT_UNDER_TEST = 0.5
"""The LM timeout where a test is about timing out (the `hang` fault)."""
ROOMY_TIMEOUT = 20.0
"""The LM timeout where it is not: every other fault answers at once, so a busy machine must not turn a slow
first answer into a timeout the test did not ask for."""


def timeout_for(kind: str) -> float:
    return TIMEOUT_UNDER_TEST if kind == "hang" else ROOMY_TIMEOUT



def check_fallbacks(page: Page, cause: str) -> None:
    """Every note names the phase (`fallback in <phase>: ...`); the fault's cause is among them."""
    notes = page.stats.fallbacks
    assert notes and all(note.startswith("fallback in ") for note in notes), notes
    assert any(cause in note for note in notes), notes


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_fault_still_serves_a_page(monkeypatch, capsys, index, lm_server, provider_env, kind):  # noqa: F811
    lm_server.faults.always(kind, seconds=0.1 if kind == "rate_limit" else 30)
    code, out, err = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--format", "json",
                             "--lm-timeout", str(timeout_for(kind)), "--lm-retries", "1", *provider_env)
    assert code == 0, err
    page = Page.model_validate(json.loads(out))
    assert_valid_page(page, index)
    check_fallbacks(page, TOP_DOWN_CAUSES[kind])
    per_step = REQUESTS_PER_FAILED_STEP.get(kind, 2)
    if per_step:  # every failed step costs the same, bounded number of requests
        assert lm_server.requests == per_step * len(page.stats.fallbacks)
        assert page.stats.fallbacks[0].startswith("fallback in plan: ")

    before = lm_server.requests
    bottoms_up = make_program("bottoms-up", index, lm=http_lm(lm_server, timeout=timeout_for(kind), retries=1))
    page = bottoms_up(7, index.histories.get(7))
    assert_valid_page(page, index)
    check_fallbacks(page, CAUSES[kind])
    if per_step:
        assert lm_server.requests - before == per_step * len(page.stats.fallbacks)
        assert page.stats.fallbacks[0].startswith("fallback in generate: ")


def test_batch_rides_out_a_burst_of_every_fault(monkeypatch, capsys, tmp_path, index, lm_server, provider_env):  # noqa: F811
    for kind in KINDS:
        lm_server.faults.add(kind, times=3, seconds=0.1 if kind == "rate_limit" else 2)
    out = tmp_path / "pages.jsonl"
    code, _, err = run_cli(monkeypatch, capsys, "batch", "--out", str(out), "--lm-timeout", "0.5",
                           "--lm-retries", "0", "--concurrency", "4", *provider_env)
    pages = [Page.model_validate_json(line) for line in out.read_text().splitlines()]
    assert code == 0 and len(pages) == 33, err
    for page in pages:
        assert_valid_page(page, index)
    notes = [note for page in pages for note in page.stats.fallbacks]
    transient = 3 * len({"rate_limit", "server_error", "unavailable", "hang"})  # with 0 retries: one fallback each
    assert lm_server.faults.pending == 0 and len(notes) >= transient
    assert all(note.startswith("fallback in ") for note in notes)


def test_transient_faults_are_retried_with_backoff_and_leave_no_trace(monkeypatch, index, lm_server):  # noqa: F811
    delays = []

    def recorded_delay(exc, attempt):
        delays.append(delay(exc, attempt))
        return delays[-1]

    delay = execution._delay  # the sleep DSPy takes before each retry
    monkeypatch.setattr(execution, "_delay", recorded_delay)
    lm_server.faults.add("unavailable").add("rate_limit", times=2, seconds=0.3)
    make = make_program("top-down", index, lm=http_lm(lm_server, timeout=5, retries=3))
    page = make(1, index.histories.get(1))
    assert_valid_page(page, index)
    assert page.stats.fallbacks == []  # DSPy's retries absorbed all three
    assert lm_server.requests == page.stats.lm_calls + 3
    # backoff 1 s after the 503; then the server's Retry-After (0.3 s) replaces the 2 s and 4 s steps
    assert delays == pytest.approx([1, 0.3, 0.3])


def test_a_dead_server_fails_fast_instead_of_falling_back_step_after_step(index, lm_server):  # noqa: F811
    """Connection refused is not a partial fault: the page raises ProviderUnreachable (the CLI exits 2)."""
    lm_server.stop()
    with pytest.raises(ProviderUnreachable, match="LMTransportError.*Connection refused"):
        make_program("top-down", index, lm=http_lm(lm_server, retries=0))(1, index.histories.get(1))


@pytest.mark.parametrize("program", ["top-down", "bottoms-up"])
def test_page_time_stays_within_the_worst_case_bound(index, lm_server, program):  # noqa: F811
    lm_server.faults.always("hang", seconds=20)  # never answers in time (20 s > bound: a failure shows, briefly)
    timeout, retries = 0.5, 0
    make = make_program(program, index, lm=http_lm(lm_server, timeout=timeout, retries=retries))
    started = time.monotonic()
    page = make(1, index.histories.get(1))
    elapsed = time.monotonic() - started
    bound = page_time_bound(program, timeout, retries)
    assert bound == {"top-down": 12.0, "bottoms-up": 8.0}[program]
    # each step really waited its timeout; top-down's failed plan leaves only the code's rows: no fill or filter
    critical_path = {"top-down": 1, "bottoms-up": 2}[program] * timeout
    assert critical_path <= elapsed <= bound, (elapsed, bound)
    assert_valid_page(page, index)
    assert all("timed out" in note for note in page.stats.fallbacks)


def test_a_call_outliving_its_worst_case_is_abandoned(lm_server):  # noqa: F811
    """DSPy honours any Retry-After; the deadline in `attempt` caps a server asking for far too long."""
    retry_after = 30
    lm_server.faults.always("rate_limit", seconds=retry_after)
    lm = http_lm(lm_server, timeout=1.0, retries=1)
    deadline = 2 * call_time_bound(1.0, 1) + DEADLINE_GRACE
    assert deadline < retry_after / 2
    started = time.monotonic()
    with dspy.context(lm=lm):
        result, cause = attempt(lambda: lm("hello"))
    elapsed = time.monotonic() - started
    assert result is None and cause.startswith("DeadlineExceeded")
    # not before the deadline, and not after the Retry-After it would otherwise have slept out
    assert deadline <= elapsed < retry_after and lm_server.requests == 1
