"""The real-provider path end to end: generate, batch and a bootstrap compile through an OpenAI-compatible server."""

import json

import dspy
import pytest
from http_server import USER_AGENTS, assert_valid_page, http_engine, http_lm, lm_server, provider_env, run_cli  # noqa: F401

from themepage.programs.registry import make_program
from themepage.programs.top_down import TopDownProgram
from themepage.trainsets.loader import load_examples

GPT_4O_MINI_USD_PER_TOKEN = (0.15e-6, 0.60e-6)
"""gpt-4o-mini list price per input and output token, as in litellm's bundled cost map."""




def test_generate_through_http(monkeypatch, capsys, index, lm_server, provider_env):
    code, out, _ = run_cli(monkeypatch, capsys, "generate", "--user", "1", "--format", "json", *provider_env)
    page = dspy.Prediction(**json.loads(out))
    assert code == 0 and page.program == "top-down" and page.stats["fallbacks"] == []
    from themepage.page import Page

    assert_valid_page(Page.model_validate(json.loads(out)), index)
    stats = page.stats
    assert stats["lm_calls"] == lm_server.requests >= 3
    assert all(USER_AGENTS["auto"] in r.user_agent for r in lm_server.log)  # DSPy's native client took it
    price_in, price_out = GPT_4O_MINI_USD_PER_TOKEN
    expected = stats["prompt_tokens"] * price_in + stats["completion_tokens"] * price_out
    assert stats["cost_usd"] == pytest.approx(expected, rel=1e-6) and stats["cost_usd"] > 0


def test_settings_from_environment_reach_the_server(monkeypatch, capsys, lm_server, provider_env):
    monkeypatch.setenv("THEMEPAGE_LM", "openai/gpt-4o-mini")
    monkeypatch.setenv("THEMEPAGE_API_BASE", lm_server.url)
    code, out, _ = run_cli(monkeypatch, capsys, "generate", "--user", "7", "--program", "bottoms-up",
                           "--format", "json")
    assert code == 0 and json.loads(out)["stats"]["lm_calls"] == lm_server.requests > 0


def test_batch_through_http(monkeypatch, capsys, tmp_path, index, lm_server, provider_env):
    out = tmp_path / "pages.jsonl"
    code, _, err = run_cli(monkeypatch, capsys, "batch", "--out", str(out), "--concurrency", "4", *provider_env)
    pages = [json.loads(line) for line in out.read_text().splitlines()]
    assert code == 0 and len(pages) == 33 and "wrote 33 pages" in err
    from themepage.page import Page

    for page in pages:
        assert_valid_page(Page.model_validate(page), index)
        assert page["stats"]["fallbacks"] == [] and page["stats"]["cost_usd"] > 0
    assert sum(p["stats"]["lm_calls"] for p in pages) == lm_server.requests  # usage lands on the right page


@pytest.mark.parametrize("program", ["top-down", "bottoms-up"])
def test_both_clients_and_programs(index, lm_server, http_engine, program):
    make = make_program(program, index, lm=http_lm(lm_server, http_engine))
    page = make(7, index.histories.get(7))
    assert_valid_page(page, index)
    # transport never fails a step; the one fallback a bottoms-up page may take is a name refused for its fit
    assert all("would not belong under the name" in f for f in page.stats.fallbacks), page.stats.fallbacks
    assert page.stats.lm_calls == lm_server.requests > 0
    assert page.stats.prompt_tokens > page.stats.completion_tokens > 0 and page.stats.cost_usd > 0
    assert all(USER_AGENTS[http_engine] in r.user_agent for r in lm_server.log)


def recall_metric(example, pred, trace=None):
    """Share of the example's target basket on the page; as a bootstrap filter, any hit passes."""
    target = set(example.target)
    recall = len(set(pred.page.product_ids()) & target) / len(target) if target else 0.0
    return recall > 0 if trace is not None else recall


def test_bootstrap_compile_through_http_with_json_fallback(index, lm_server, http_engine):
    lm_server.faults.add("garbled")  # the first answer has no fields: the ChatAdapter must hand over to JSON
    trainset = load_examples("train")[:2]
    with dspy.context(lm=http_lm(lm_server, http_engine), adapter=dspy.ChatAdapter()):
        optimizer = dspy.BootstrapFewShot(metric=recall_metric, max_bootstrapped_demos=1, max_rounds=1)
        compiled = optimizer.compile(TopDownProgram(index), trainset=trainset)
    demos = {name: len(predictor.demos) for name, predictor in compiled.named_predictors()}
    assert compiled._compiled and sum(demos.values()) >= 3, demos  # planner, filler and filter each got one
    first, second = lm_server.log[:2]
    assert first.fault == "garbled" and not first.json_mode and second.json_mode and second.fault is None
    assert not any(r.json_mode for r in lm_server.log[2:])  # only the failed answer needed JSON mode


def test_batch_rerun_is_served_from_dspy_cache(monkeypatch, capsys, tmp_path, lm_server, provider_env):
    dspy.configure_cache(enable_disk_cache=True, enable_memory_cache=False, disk_cache_dir=str(tmp_path / "cache"))
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    assert run_cli(monkeypatch, capsys, "batch", "--out", str(first), *provider_env)[0] == 0
    made = lm_server.requests
    assert run_cli(monkeypatch, capsys, "batch", "--out", str(second), *provider_env)[0] == 0
    assert made > 33 and lm_server.requests == made  # the re-run sent nothing
    before = [json.loads(line) for line in first.read_text().splitlines()]
    after = [json.loads(line) for line in second.read_text().splitlines()]
    assert [p["placements"] for p in after] == [p["placements"] for p in before]
    assert all(p["stats"]["lm_calls"] == 0 and p["stats"]["cost_usd"] is None for p in after)
