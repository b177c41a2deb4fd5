"""Both DSPy programs with the offline LM: page shape, stats, RAG pruning, concurrency, recall, registry, save/load."""

from __future__ import annotations

import json
import threading
import time

import dspy
import pytest
from step_waves import StepWaves
from step_waves import output_names as step

from themepage.constants import CANDIDATES_PER_THEME, PAGE_SIZE, USER_CANDIDATES
from themepage.dataset.cases import evaluation_cases
from themepage.dataset.history import UserHistory
from themepage.lm.adapter import MemoChatAdapter
from themepage.lm.plug import make_lm
from themepage.metrics.ranking import ndcg_at_k, recall_at_k
from themepage.objectives import load_objective
from themepage.offline.engine import OfflineEngine
from themepage.offline.prompt import parse_prompt
from themepage.offline.reading import read_candidates
from themepage.page import Page, Theme
from themepage.programs.baselines import RepurchaseBaseline
from themepage.programs.bottoms_up import MISFIT_NAME, NAME_ATTEMPTS, UNCLEAR_NAME, BottomsUpProgram
from themepage.programs.registry import UnknownProgram, make_program, program_names
from themepage.programs.retrieval import retrieve_for_theme
from themepage.programs.rules.fallback_rows import aisle_best_sellers
from themepage.programs.top_down import SPARE_THEMES, TopDownProgram
from themepage.signatures.bottoms_up import GenerateItems, NamePlacement
from themepage.signatures.top_down import FillTheme, FilterTheme, PlanThemes

SHAPE = load_objective("relevance").constraints
PROGRAMS = {"top-down": TopDownProgram, "bottoms-up": BottomsUpProgram}
PHASES = {"top-down": {"plan", "fill_filter", "total"}, "bottoms-up": {"generate", "name", "total"}}


AISLE_ROWS = SHAPE.placements - 1
"""Rows of a relevance page (the default objective) but the shopper's regulars row that leads it: the planner's
regulars theme lists their regulars whatever a filler picks, so it makes no fill or filter call."""


def happy_path_calls(program: str, new_shopper: bool = False) -> int:
    """Top-down: one plan, then a fill and a filter per placement but the regulars row (a new shopper has none);
    bottoms-up: one generate, one name per row but the catch-all row that leads a relevance page, which keeps
    its own title."""
    if program == "top-down":
        return 1 + 2 * (SHAPE.placements if new_shopper else AISLE_ROWS)
    return SHAPE.placements


def assert_happy_calls(calls: int, program: str, fallbacks: list[str]) -> None:
    """The happy path's calls, plus for top-down one fill and one filter per spare theme filled after the page
    rules dropped a row (a near-duplicate row, say); for bottoms-up none: a name refused for its fit is not asked
    for again of the offline engine, which answers a retry as it answered the try. Never more spares than were
    planned."""
    happy = happy_path_calls(program)
    if program != "top-down":
        assert calls == happy, (calls, happy, fallbacks)
        return
    spares = (calls - happy) / 2
    assert spares == int(spares) and 0 <= spares <= SPARE_THEMES, (calls, happy)


class RecordingEngine:
    """The offline engine, keeping every request it answered (and optionally sleeping before each). It answers alike
    on every try, as the offline engine does, unless told to pass for a model that samples (`deterministic`)."""

    def __init__(self, delegate: OfflineEngine, sleep_s: float = 0.0, deterministic: bool = True):
        self.delegate, self.sleep_s, self.deterministic = delegate, sleep_s, deterministic
        self.requests, self.usages = [], []
        self._lock = threading.Lock()

    def complete(self, request):
        with self._lock:
            self.requests.append(request)
        if self.sleep_s:
            time.sleep(self.sleep_s)
        response = self.delegate.complete(request)
        with self._lock:
            self.usages.append(response.usage)
        return response

    def stream(self, request):
        from dspy.lm15 import response_to_events

        return response_to_events(self.complete(request))

    def close(self):
        pass

    def prompts(self):
        """Every request parsed the way the offline engine reads it."""
        out = []
        for request in self.requests:
            system = request.system if isinstance(request.system, str) else "".join(
                getattr(p, "text", "") for p in (request.system or ()))
            out.append(parse_prompt(system, [(m.role, m.text or "") for m in request.messages]))
        return out


@pytest.fixture(scope="module")
def offline_engine(index):
    return OfflineEngine(index)


@pytest.fixture
def offline(index):
    lm = make_lm("offline", index, cache=False)
    dspy.configure(lm=lm, adapter=MemoChatAdapter())
    return lm


def _make_page(program: str, index, history: UserHistory) -> Page:
    return PROGRAMS[program](index)(user_id=history.user_id, history=history).page


def _assert_full_page(page: Page, index, program: str) -> None:
    """6 placements and 48 distinct catalog products. Rows about one part of the shop may come up short (never
    below the minimum: a row is not padded from other aisles) while other rows grow (never above the maximum),
    so only the total is fixed."""
    ids = page.product_ids()
    sizes = [len(p.products) for p in page.placements]
    assert page.program == program and page.objective == "relevance"
    assert len(page.placements) == SHAPE.placements
    assert len(set(ids)) == len(ids) == SHAPE.page_size, sizes
    assert all(SHAPE.min_products_per_placement <= n <= SHAPE.max_products_per_placement for n in sizes), sizes
    catalog_ids = set(index.catalog.product_ids.tolist())
    assert set(ids) <= catalog_ids
    assert all(p.title.strip() for p in page.placements)
    for placement in page.placements:
        assert all(p.name == index.catalog.name(p.product_id) for p in placement.products)


def _users(index) -> list[UserHistory]:
    ids = index.histories.user_ids
    return [index.histories.get(ids[i]) for i in (0, 10, 20, -1)]


def _happy_user(index, program: str) -> UserHistory:
    """A shopper whose page takes no detour: every planned top-down theme holds (none gives way to a spare), every
    bottoms-up name is accepted at the first try."""
    return index.histories.get(index.histories.user_ids[1]) if program == "top-down" else _users(index)[0]


# ----- the happy path -----------------------------------------------------------------------------

@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_page_shape_and_stats(index, offline, program):
    for history in _users(index):
        page = _make_page(program, index, history)
        _assert_full_page(page, index, program)
        stats = page.stats
        # the only fallback a happy bottoms-up page may take: a name some product would not belong under
        assert all("would not belong under the name" in f for f in stats.fallbacks), stats.fallbacks
        assert_happy_calls(stats.lm_calls, program, stats.fallbacks)
        assert stats.prompt_tokens > 0 and stats.completion_tokens > 0
        assert stats.prompt_tokens > stats.completion_tokens, "prompts carry history and candidates"
        assert PHASES[program] <= set(stats.timings_ms)
        assert all(v >= 0 for v in stats.timings_ms.values())
        parts = sum(stats.timings_ms[p] for p in PHASES[program] - {"total"})
        assert stats.timings_ms["total"] >= parts * 0.99
        assert stats.total_ms == stats.timings_ms["total"]


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_usage_matches_what_the_engine_answered(index, offline_engine, program):
    """lm_calls and tokens in the stats are the engine's own counts, not estimates made elsewhere."""
    engine = RecordingEngine(offline_engine)
    lm = dspy.LM("themepage/offline", engine=engine, cache=False)
    history = _users(index)[1]
    with dspy.context(lm=lm, adapter=MemoChatAdapter()):
        page = _make_page(program, index, history)
    assert page.stats.lm_calls == len(engine.requests)
    assert_happy_calls(len(engine.requests), program, page.stats.fallbacks)
    assert page.stats.prompt_tokens == sum(u.input_tokens for u in engine.usages)
    assert page.stats.completion_tokens == sum(u.output_tokens for u in engine.usages)


def _judged_page(index, offline_engine, monkeypatch, refuse) -> tuple[Page, RecordingEngine, list[tuple]]:
    """A bottoms-up page whose shelf-row names are judged by `refuse(title, ids, times_judged_before)` (True:
    refused) in place of the fit model, the LM passing for one that samples (a refused name is asked again); the
    page, the engine's requests and every (title, ids) judged."""
    from themepage.programs import bottoms_up

    judged = []

    def judge(index):
        def fits(title, ids):
            key = tuple(ids)
            refused = refuse(title, ids, sum(seen == key for _, seen in judged))
            judged.append((title, key))
            return not refused
        return fits

    monkeypatch.setattr(bottoms_up, "title_fits", judge)
    engine = RecordingEngine(offline_engine, deterministic=False)  # a model whose retries may answer otherwise
    with dspy.context(lm=dspy.LM("themepage/offline", engine=engine, cache=False), adapter=MemoChatAdapter()):
        page = _make_page("bottoms-up", index, _users(index)[1])
    return page, engine, judged


def test_a_name_refused_for_its_fit_is_asked_again(index, offline_engine, monkeypatch):
    page, engine, judged = _judged_page(index, offline_engine, monkeypatch, lambda title, ids, before: before == 0)
    rows = {ids for _, ids in judged}
    assert rows and len(judged) == 2 * len(rows)  # each shelf row: refused once, accepted on the retry
    assert not any(MISFIT_NAME in f for f in page.stats.fallbacks), page.stats.fallbacks
    assert len(engine.requests) == happy_path_calls("bottoms-up") + len(rows)


def test_a_name_refused_every_time_keeps_the_shelf_title(index, offline_engine, monkeypatch):
    page, engine, judged = _judged_page(index, offline_engine, monkeypatch, lambda title, ids, before: True)
    rows = {ids for _, ids in judged}
    assert rows and len(judged) == NAME_ATTEMPTS * len(rows)
    assert sum(MISFIT_NAME in f for f in page.stats.fallbacks) == len(rows)
    assert len(engine.requests) == happy_path_calls("bottoms-up") + (NAME_ATTEMPTS - 1) * len(rows)


def test_an_lm_that_answers_alike_is_not_asked_for_a_refused_name_again(index, offline_engine, monkeypatch):
    """The offline engine answers a retry as it answered the try: a refused name keeps the shelf's title at once."""
    from themepage.programs import bottoms_up

    monkeypatch.setattr(bottoms_up, "title_fits", lambda index: lambda title, ids: False)
    engine = RecordingEngine(offline_engine)
    with dspy.context(lm=dspy.LM("themepage/offline", engine=engine, cache=False), adapter=MemoChatAdapter()):
        page = _make_page("bottoms-up", index, _users(index)[1])
    assert sum(MISFIT_NAME in f for f in page.stats.fallbacks) >= 3
    assert len(engine.requests) == happy_path_calls("bottoms-up")


def test_a_name_less_clear_than_the_shelf_keeps_the_shelf_title_without_asking_again(index, offline_engine,
                                                                                     monkeypatch):
    """A name under which every product belongs but fewer than half clearly do leaves the row its settled title
    (as a name refused every time does), and costs no retry: the page makes the happy path's calls."""
    from themepage.programs import bottoms_up

    refused, _, _ = _judged_page(index, offline_engine, monkeypatch, lambda title, ids, before: True)
    monkeypatch.setattr(bottoms_up, "clearly_titled", lambda index, size: lambda title, ids: False)
    page, engine, judged = _judged_page(index, offline_engine, monkeypatch, lambda title, ids, before: False)
    named = {ids for _, ids in judged}
    assert named and sum(UNCLEAR_NAME in f for f in page.stats.fallbacks) == len(named)
    assert len(engine.requests) == happy_path_calls("bottoms-up")
    assert [p.title for p in page.placements] == [p.title for p in refused.placements]


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_new_shopper_gets_a_full_page(index, offline, program):
    """A shopper with no history: every row planned and filled (no regulars row to skip), a theme the rules refuse
    giving way to a spare (one fill and one filter each), and no fallback."""
    page = _make_page(program, index, UserHistory(user_id=0))
    _assert_full_page(page, index, program)
    assert page.stats.fallbacks == []
    spares = (page.stats.lm_calls - happy_path_calls(program, new_shopper=True)) / 2
    assert spares == int(spares) and 0 <= spares <= (SPARE_THEMES if program == "top-down" else 0), page.stats


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_placement_titles_are_distinct(index, offline, program):
    """No two rows of a page share a title. (A regression test for bottoms-up: the offline namer often names
    several clusters alike, and `BottomsUpProgram._placements` once turned the second and every later
    duplicate into the same "More <title>".)"""
    repeated = {}
    for history in _users(index) + [UserHistory(user_id=0)]:
        titles = [p.title.strip().lower() for p in _make_page(program, index, history).placements]
        if len(set(titles)) != len(titles):
            repeated[history.user_id] = titles
    assert not repeated, repeated


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_same_user_same_page(index, offline, program):
    history = _users(index)[2]
    first, second = _make_page(program, index, history), _make_page(program, index, history)
    assert first.placements == second.placements


def test_top_down_keeps_the_planned_order(index, offline):
    history = _users(index)[0]
    prediction = TopDownProgram(index)(user_id=history.user_id, history=history)
    assert [p.title for p in prediction.page.placements] == [t.title for t in prediction.themes]


# ----- the RAG pruning ----------------------------------------------------------------------------

def test_only_retrieved_candidates_enter_fill_prompts(index, offline_engine):
    history = _happy_user(index, "top-down")  # every planned theme holds: no spare theme is filled after the rules
    engine = RecordingEngine(offline_engine)
    with dspy.context(lm=dspy.LM("themepage/offline", engine=engine, cache=False), adapter=MemoChatAdapter()):
        prediction = TopDownProgram(index)(user_id=history.user_id, history=history)
    fills = [p for p in engine.prompts() if "theme" in p.inputs and "candidates" in p.inputs]
    assert len(fills) == AISLE_ROWS
    planned = {t.title for t in prediction.themes}
    for prompt in fills:
        theme = Theme.model_validate_json(prompt.inputs["theme"])
        assert theme.title in planned
        shown = [c.product_id for c in read_candidates(prompt.inputs["candidates"])]
        assert 0 < len(shown) <= CANDIDATES_PER_THEME
        assert len(set(shown)) == len(shown)
        # a catch-all theme keeps a deeper pool to refill from, but shows only the first candidates
        depth = CANDIDATES_PER_THEME if theme.aisles else 3 * CANDIDATES_PER_THEME
        retrieved = retrieve_for_theme(index, theme, history, depth)
        assert set(shown) <= set(retrieved), f"{theme.title}: a prompt candidate retrieval did not return"
    # and what the page shows was among some prompt's candidates or a theme's retrieval pool, or what the page
    # rules replace near-duplicates with: best sellers of a row's aisles, the shopper's candidates, best sellers
    products = set(prediction.page.product_ids())
    pools = set().union(*(retrieve_for_theme(index, t, history, depth) for t in prediction.themes
                          for depth in (CANDIDATES_PER_THEME, 3 * CANDIDATES_PER_THEME)))
    pools |= set(aisle_best_sellers(index)) | set(index.candidates_for_user(history, 4 * SHAPE.page_size))
    pools |= set(index.popular(4 * SHAPE.page_size))
    assert products <= pools


def test_generate_prompt_holds_only_the_users_candidates(index, offline_engine):
    history = _users(index)[1]
    engine = RecordingEngine(offline_engine)
    with dspy.context(lm=dspy.LM("themepage/offline", engine=engine, cache=False), adapter=MemoChatAdapter()):
        page = BottomsUpProgram(index)(user_id=history.user_id, history=history).page
    generate = [p for p in engine.prompts() if "candidates" in p.inputs and "theme" not in p.inputs]
    assert len(generate) == 1
    shown = [c.product_id for c in read_candidates(generate[0].inputs["candidates"])]
    assert len(shown) <= max(USER_CANDIDATES, PAGE_SIZE)
    assert set(shown) <= set(index.candidates_for_user(history, max(USER_CANDIDATES, PAGE_SIZE)))
    # rows the page rules thin (near-duplicates) are topped up from the row's own aisles' best sellers
    assert set(page.product_ids()) <= set(shown) | set(aisle_best_sellers(index))


# ----- concurrency --------------------------------------------------------------------------------

class WaveEngine(RecordingEngine):
    """The offline engine, each call held by `StepWaves` until the calls of its step expected together arrived."""

    def __init__(self, delegate: OfflineEngine, waves: StepWaves):
        super().__init__(delegate)
        self.waves = waves

    def complete(self, request):
        with self._lock:
            self.requests.append(request)
        self.waves.hold(request)
        return self.delegate.complete(request)


def test_steps_after_the_first_run_concurrently(index, offline_engine):
    """A page's calls come in waves, each step's calls in flight together: top-down plans, then fills every
    theme at once, then filters every theme at once (3 waves for 11 calls); bottoms-up generates, then names
    every row at once (2 waves for 6 calls). The shopper's planned themes all hold: a theme the rules refuse
    gives way to a spare, filled a step later (`assert_happy_calls` allows for it), and bottoms-up's names are
    all accepted at the first try."""
    waves = {"top-down": {step(PlanThemes): 1, step(FillTheme): AISLE_ROWS, step(FilterTheme): AISLE_ROWS},
             "bottoms-up": {step(GenerateItems): 1, step(NamePlacement): SHAPE.placements - 1}}
    for program, widths in waves.items():
        engine = WaveEngine(offline_engine, StepWaves(widths))
        with dspy.context(lm=dspy.LM("themepage/offline", engine=engine, cache=False), adapter=MemoChatAdapter()):
            page = _make_page(program, index, _happy_user(index, program))
        assert engine.waves.arrived == widths and sum(widths.values()) == happy_path_calls(program), program
        assert not engine.waves.missed, f"{program}: calls of {engine.waves.missed_names()} ran one after another"
        assert page.stats.fallbacks == []


class InProcessEngine(RecordingEngine):
    """The offline engine, recording which thread asked; it says it answers in process, as the offline engine does."""

    answers_in_process = True

    def __init__(self, delegate: OfflineEngine):
        super().__init__(delegate)
        self.threads: set[int] = set()

    def complete(self, request):
        self.threads.add(threading.get_ident())
        return super().complete(request)


def test_an_lm_that_answers_in_process_is_asked_on_the_calling_thread(index, offline_engine):
    """Threads buy nothing for an engine that never waits on I/O (the offline engine): every call of a page,
    fill, filter and name included, runs on the thread that makes the page, and the page is the threaded one."""
    assert OfflineEngine.answers_in_process
    for program in ("top-down", "bottoms-up"):
        history = _happy_user(index, program)
        engine = InProcessEngine(offline_engine)
        with dspy.context(lm=dspy.LM("themepage/offline", engine=engine, cache=False), adapter=MemoChatAdapter()):
            page = _make_page(program, index, history)
        assert engine.threads == {threading.get_ident()}, program
        assert len(engine.requests) == happy_path_calls(program), program
        threaded = RecordingEngine(offline_engine)
        with dspy.context(lm=dspy.LM("themepage/offline", engine=threaded, cache=False), adapter=MemoChatAdapter()):
            assert _make_page(program, index, history).product_ids() == page.product_ids(), program


# ----- recall against the repurchase baseline -----------------------------------------------------

def test_recall_and_ranking_on_dev_users_are_near_the_repurchase_baseline(index, offline):
    cases = evaluation_cases(index.histories, "dev")
    assert cases

    def mean_recall(make, k: int = PAGE_SIZE) -> float:
        return sum(recall_at_k(make(c).product_ids(), c.target, k) for c in cases) / len(cases)

    repurchase = RepurchaseBaseline(index)
    baseline = mean_recall(lambda c: repurchase(c.user_id, c.history))
    bottoms_up = mean_recall(lambda c: _make_page("bottoms-up", index, c.history))
    assert baseline > 0
    # rows by shelf (one name each) hold the likeliest chosen products in the lead row but drop the lighter
    # shelves' ones: 0.27 against repurchase's 0.397 on the dev users (0.68x; mixed rows by kind kept 0.89x,
    # but a third of their rows were estimated publishable; the relevance objective score rose 0.401 -> 0.413)
    assert bottoms_up >= 0.65 * baseline, (bottoms_up, baseline)
    # top-down's catch-all row opens with the shopper's likeliest products and takes the regulars no themed row
    # holds (programs/relevance_rows.py): the page keeps nearly all of repurchase's recall (0.957x on the dev
    # users) and most of its ranking (ndcg@48 0.945x)
    pages = {c.user_id: _make_page("top-down", index, c.history) for c in cases}
    assert mean_recall(lambda c: pages[c.user_id]) >= 0.95 * baseline
    baseline_ndcg = sum(ndcg_at_k(repurchase(c.user_id, c.history).product_ids(), c.target, PAGE_SIZE)
                        for c in cases) / len(cases)
    top_down_ndcg = sum(ndcg_at_k(pages[c.user_id].product_ids(), c.target, PAGE_SIZE) for c in cases) / len(cases)
    assert top_down_ndcg >= 0.9 * baseline_ndcg, (top_down_ndcg, baseline_ndcg)


# ----- registry -----------------------------------------------------------------------------------

def test_registry_knows_every_program(index):
    assert set(program_names()) >= {"top-down", "bottoms-up", "repurchase", "popular"}
    lm = make_lm("offline", index, cache=False)
    history = _users(index)[0]
    for name in program_names():
        make = make_program(name, index, lm=lm)
        page = make(history.user_id, history)
        assert isinstance(page, Page) and page.program == name
        ids = page.product_ids()
        assert 0 < len(ids) <= PAGE_SIZE and len(set(ids)) == len(ids)
        if name in PROGRAMS:  # the baselines show what the shopper bought, which may be fewer than 48
            assert len(ids) == PAGE_SIZE


@pytest.mark.parametrize("name", ["nope", "", "Top-Down", "top_down"])
def test_registry_rejects_unknown_names(index, name):
    with pytest.raises(UnknownProgram) as caught:
        make_program(name, index)
    assert isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert repr(name) in message
    assert all(known in message for known in program_names())


@pytest.mark.parametrize("name", ["top-down", "bottoms-up"])
def test_registry_llm_programs_need_an_lm(index, name):
    with pytest.raises(ValueError, match="needs an LM"):
        make_program(name, index)


def test_registry_runs_under_its_own_lm(index, offline_engine):
    """The page maker uses the LM it was made with, whatever LM is configured globally."""
    engine = RecordingEngine(offline_engine)
    make = make_program("bottoms-up", index, lm=dspy.LM("themepage/offline", engine=engine, cache=False))
    dspy.configure(lm=None)
    history = _users(index)[0]
    make(history.user_id, history)
    assert len(engine.requests) == happy_path_calls("bottoms-up")


# ----- save / load --------------------------------------------------------------------------------

def _predictor_state(program: dspy.Module) -> dict:
    return {name: (p.signature.instructions, [dict(d) for d in p.demos]) for name, p in program.named_predictors()}


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_save_writes_json_and_loads_back(index, offline, tmp_path, program):
    history = _users(index)[0]
    compiled = PROGRAMS[program](index)
    for name, predictor in compiled.named_predictors():
        predictor.signature = predictor.signature.with_instructions(
            predictor.signature.instructions + f" Keep every placement cohesive ({name}).")
    first_name, first = compiled.named_predictors()[0]
    demo_inputs = {k: f"demo {k}" for k in first.signature.input_fields}
    demo_outputs = {k: [] for k in first.signature.output_fields}
    first.demos = [dspy.Example(**demo_inputs, **demo_outputs).with_inputs(*demo_inputs)]
    path = tmp_path / "p.json"
    compiled.save(str(path))
    raw = path.read_bytes()
    assert not raw.startswith(b"\x80"), "pickled"
    state = json.loads(raw)
    assert {name for name, _ in compiled.named_predictors()} <= set(state)
    fresh = PROGRAMS[program](index)
    assert _predictor_state(fresh) != _predictor_state(compiled)
    fresh.load(str(path))
    assert _predictor_state(fresh) == _predictor_state(compiled)
    # the loaded program still makes a full page, and the engine reads the saved instruction
    page = fresh(user_id=history.user_id, history=history).page
    assert len(page.product_ids()) == PAGE_SIZE
