"""The `teacher` optimizer: demo sets of varied titles from a teacher's best pages, kept only where the valset
improves under the student's LM."""

import dspy
import pytest
from cli_runner import run_cli
from dspy.utils import DummyLM
from schema_server import schema_server  # noqa: F401

from themepage.optimize.teacher_demos import Candidate, TeacherDemos, answer_titles, varied_sets
from themepage.page import Theme


def candidate(score: float, *titles: str, predictor: str = "planner.plan") -> Candidate:
    return Candidate(predictor, dspy.Example(titles=list(titles)), score, frozenset(t.casefold() for t in titles))


def test_demo_sets_take_the_best_scores_first_with_no_title_twice_in_a_set_and_no_candidate_twice():
    a = candidate(0.9, "Taco Night", "Snack Drawer")
    b = candidate(0.8, "Taco night", "Pasta Night")  # shares a title with a (any case)
    c = candidate(0.7, "Brunch")
    d = candidate(0.6, "Pasta Night")
    e = candidate(0.5, "Movie Night")
    assert varied_sets([e, d, c, b, a], sets=2, per_set=2) == [[a, c], [b, e]]
    assert varied_sets([a, b], sets=2, per_set=2) == [], "b cannot join a: no set of two can be made"
    assert varied_sets([a, c, d], sets=3, per_set=1) == [[a], [c], [d]]


def test_answer_titles_reads_planner_themes_and_a_namers_title():
    themes = [Theme(title="Easy Pasta Night", rationale="r", queries=["pasta"]), {"title": " Taco Tuesday "}]
    assert answer_titles({"themes": themes}) == {"easy pasta night", "taco tuesday"}
    assert answer_titles({"title": "Breakfast Table"}) == {"breakfast table"}
    assert answer_titles({"product_ids": [1, 2]}) == frozenset()
    own = Theme(title="Your Weekly Staples", rationale="r", queries=["milk"], from_history=True)
    assert answer_titles({"themes": [own, {"title": "Taco Tuesday", "from_history": False}]}) == {"taco tuesday"}


class Toy(dspy.Module):
    """A predictor that writes a title and one that answers with ids only."""

    def __init__(self):
        super().__init__()
        self.name = dspy.Predict("topic -> title")
        self.pick = dspy.Predict("topic -> product_ids: list[int]")

    def forward(self, topic):
        return dspy.Prediction(title=self.name(topic=topic).title, ids=self.pick(topic=topic).product_ids)


class DemoAware(DummyLM):
    """Answers `good` when the prompt shows a teacher's answer, else `bad`: demos help this student."""

    def __call__(self, prompt=None, messages=None, **kwargs):
        shown = "teacher" in str(messages)
        return [f'[[ ## title ## ]]\n{"good" if shown else "bad"}\n\n[[ ## product_ids ## ]]\n[1]\n\n'
                "[[ ## completed ## ]]"]


def titled(example, prediction, trace=None):
    return {"good": 1.0, "teacher": 0.5}.get(prediction.title, 0.0)


def examples(n: int) -> list[dspy.Example]:
    return [dspy.Example(topic=f"t{i}").with_inputs("topic") for i in range(n)]


def teacher_lm() -> DummyLM:
    return DummyLM([{"title": "teacher", "product_ids": "[1]"}] * 20)


def test_demos_the_valset_rewards_are_kept_on_the_text_predictor_only():
    optimizer = TeacherDemos(titled, {"lm": teacher_lm()}, sets=2, per_set=1)
    with dspy.context(lm=DemoAware([]), adapter=dspy.ChatAdapter()):
        compiled = optimizer.compile(Toy(), trainset=examples(3), valset=examples(2))
    assert len(compiled.name.demos) == 1 and compiled.name.demos[0].title == "teacher"
    assert compiled.pick.demos == [], "ids-only predictors keep no demos"
    assert optimizer.report.bare == 0.0 and optimizer.report.sets[0] == 1.0 and optimizer.report.kept == 0


def test_the_bare_program_is_kept_when_no_demo_set_beats_it():
    optimizer = TeacherDemos(titled, {"lm": teacher_lm()}, sets=2, per_set=1)
    always_bad = DummyLM([{"title": "bad", "product_ids": "[1]"}] * 40)
    student = Toy()
    with dspy.context(lm=always_bad, adapter=dspy.ChatAdapter()):
        compiled = optimizer.compile(student, trainset=examples(3), valset=examples(2))
    assert compiled is student and compiled.name.demos == []
    assert optimizer.report.kept is None and optimizer.report.sets == [0.0, 0.0]


def test_a_teacher_compile_needs_a_valset_and_a_demo():
    with pytest.raises(ValueError, match="valset"):
        TeacherDemos(titled, {"lm": teacher_lm()}).compile(Toy(), trainset=examples(2), valset=[])
    with pytest.raises(ValueError, match="at least one"):
        TeacherDemos(titled, {"lm": teacher_lm()}, per_set=0)


def test_the_bench_reads_the_titles_a_compiled_programs_demos_show():
    from bench.real_lm import demo_titles

    program = Toy()
    program.name.demos = [dspy.Example(topic="t", title="Taco Night"),
                          dspy.Example(topic="t", themes=[{"title": "Your Weekly Staples", "from_history": True}])]
    program.pick.demos = [dspy.Example(topic="t", product_ids=[1])]
    assert demo_titles(program) == {"taco night", "your weekly staples"}, "a from-history title copied counts too"
    assert demo_titles(None) == frozenset()


def test_compile_scores_pages_under_the_adapter_generate_uses(monkeypatch, capsys, tmp_path, schema_server):  # noqa: F811
    code, out, err = run_cli(monkeypatch, capsys, "compile", "--optimizer", "teacher", "--objective", "discovery",
                             "--lm", "openai/smollm2", "--api-base", schema_server.url, "--train-size", "2",
                             "--val-size", "2", "--out", str(tmp_path / "c.json"))
    assert code == 0, err
    assert schema_server.bodies and all("response_format" in body for body in schema_server.bodies), \
        "a llama.cpp server's pages are made with constrained outputs, as `generate` makes them"
    assert "score on 2 validation examples" in out
