"""Against the fault-injecting server, with DSPy's cache ON: retries reach the model, failures are never
re-served, the api_base is part of the cache key, an unreachable provider fails fast, pages meet their deadline."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor

import dspy
import pytest
from http_server import assert_valid_page, http_lm, lm_server  # noqa: F401  (a fixture)

from themepage.lm.breaker import ProviderUnreachable, breaker_for
from themepage.offline.engine import OfflineEngine
from themepage.programs.registry import make_program
from themepage.server import OfflineLMServer


@pytest.fixture
def dspy_cache(tmp_path):
    """DSPy's memory and disk cache, both on, in a fresh directory."""
    dspy.configure_cache(enable_disk_cache=True, enable_memory_cache=True, disk_cache_dir=str(tmp_path / "cache"))
    yield dspy.cache
    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)


class CallCounter(dspy.utils.BaseCallback):
    """Counts LM calls started (whether or not they reach a server)."""

    def __init__(self):
        self.calls = 0

    def on_lm_start(self, call_id, instance, inputs):
        self.calls += 1


def cached_lm(server, **kwargs) -> dspy.LM:
    return http_lm(server, cache=True, **kwargs)


def test_a_retry_reaches_the_model_instead_of_the_cache(index, lm_server, dspy_cache):  # noqa: F811
    """The planner's first answer is unparseable (chat, then JSON); its retry must be a new request."""
    lm_server.faults.add("garbled", times=2)
    user = 2  # a shopper whose planned themes all hold: no spare theme is filled after the page rules
    page = make_program("top-down", index, lm=cached_lm(lm_server))(user, index.histories.get(user))
    assert_valid_page(page, index)
    assert page.stats.fallbacks == []  # the retry got a real answer
    # the happy path (the regulars row calls no LM) and the two garbled answers
    assert lm_server.requests == page.stats.lm_calls == 1 + 2 * 5 + 2


@pytest.mark.parametrize("fault", ["garbled", "truncated"])
def test_a_failed_answer_is_never_served_again(index, lm_server, dspy_cache, fault):  # noqa: F811
    make = make_program("top-down", index, lm=cached_lm(lm_server))
    lm_server.faults.always(fault)
    broken = make(1, index.histories.get(1))
    assert broken.stats.fallbacks
    lm_server.faults.clear()
    before = lm_server.requests
    healed = make(1, index.histories.get(1))  # the provider recovered: so does the page
    assert healed.stats.fallbacks == [] and lm_server.requests > before
    assert_valid_page(healed, index)


def test_answers_from_one_server_are_not_served_for_another(index, lm_server, dspy_cache):  # noqa: F811
    history = index.histories.get(1)
    make_program("top-down", index, lm=cached_lm(lm_server))(1, history)
    with OfflineLMServer(OfflineEngine(index)) as other:
        page = make_program("top-down", index, lm=cached_lm(other))(1, history)
        assert other.requests == page.stats.lm_calls > 0
    again = make_program("top-down", index, lm=cached_lm(lm_server))(1, history)
    assert again.stats.lm_calls == 0  # the same server's answers are still cached


def test_a_refused_connection_raises_provider_unreachable_at_once(index, lm_server):  # noqa: F811
    lm_server.stop()
    counter = CallCounter()
    dspy.configure(callbacks=[counter])
    lm = http_lm(lm_server, retries=2)
    make = make_program("top-down", index, lm=lm)
    with pytest.raises(ProviderUnreachable, match="Connection refused"):
        make(1, index.histories.get(1))
    assert counter.calls == 1 and breaker_for(lm).is_open
    with pytest.raises(ProviderUnreachable):  # the next page of the batch fails without calling
        make_program("bottoms-up", index, lm=lm)(7, index.histories.get(7))
    assert counter.calls == 1


def test_a_rejected_key_raises_provider_unreachable(index):
    with OfflineLMServer(OfflineEngine(index), api_key="the-right-key") as server:
        lm = dspy.LM("openai/gpt-4o-mini", api_base=server.url, api_key="a-wrong-key", timeout=5, num_retries=2,
                     cache=False)
        with pytest.raises(ProviderUnreachable, match="LMAuthError"):
            make_program("bottoms-up", index, lm=lm)(7, index.histories.get(7))


def test_an_unresolvable_name_raises_provider_unreachable(monkeypatch, index):
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host == "llm.unresolvable.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    lm = dspy.LM("openai/gpt-4o-mini", api_base="http://llm.unresolvable.invalid/v1", api_key="k", timeout=5,
                 num_retries=2, cache=False)
    with pytest.raises(ProviderUnreachable, match="Name or service not known"):
        make_program("top-down", index, lm=lm)(1, index.histories.get(1))


@pytest.mark.parametrize("program", ["top-down", "bottoms-up"])
def test_steps_running_at_the_page_deadline_fall_back(index, lm_server, program):  # noqa: F811
    lm_server.faults.always("hang", seconds=10)
    make = make_program(program, index, lm=http_lm(lm_server, timeout=8, retries=0), page_deadline=1.0)
    page = make(1, index.histories.get(1))
    assert_valid_page(page, index)
    notes = page.stats.fallbacks
    assert notes and all("page deadline reached" in note for note in notes), notes


def test_each_page_of_a_concurrent_batch_gets_its_own_deadline(index, lm_server):  # noqa: F811
    """Eight pages at once share the fan-out pool; every page still ends at its deadline, with fallbacks."""
    lm_server.faults.always("hang", seconds=10)
    make = make_program("top-down", index, lm=http_lm(lm_server, timeout=8, retries=0), page_deadline=1.0)
    users = index.histories.user_ids[:8]
    with ThreadPoolExecutor(8) as pool:
        pages = list(pool.map(lambda user: make(user, index.histories.get(user)), users))
    for page in pages:
        assert_valid_page(page, index)
        assert page.stats.fallbacks and all("page deadline reached" in n for n in page.stats.fallbacks)


def test_a_bad_page_deadline_is_refused(index, lm_server):  # noqa: F811
    with pytest.raises(ValueError, match="page deadline"):
        make_program("top-down", index, lm=http_lm(lm_server), page_deadline=0)
