"""The `teacher` optimizer: whole-answer demos a teacher wrote for train shoppers, kept only where they help.

A model that can write themes but, shown none, titles them after aisles, changes what it writes once a prompt
holds an example page. The teacher (the offline engine, whose planner draws on the theme library) answers every
train shopper; its pages are scored by the objective's metric, and the best-scoring answers of the predictors that
write text (the planner, the namer) become demo candidates. Candidates are grouped into a few demo sets of varied
titles (no title twice across a set, so the model sees several ways to name a row, not one page to copy); each set
and the bare program are scored on the valset with the compiling LM, and the best is kept: the bare program unless
a set scores higher. Predictors that answer with ids only never get demos (`grammar_demos`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import dspy
from dspy.teleprompt import Teleprompter

from themepage.optimize.evaluation import run_evaluate
from themepage.optimize.grammar_demos import ids_only_predictors

LOG = logging.getLogger(__name__)
DEMO_SETS = 2
DEMOS_PER_SET = 2


@dataclass(frozen=True)
class Candidate:
    """One teacher answer of one predictor, with the metric's score of the page it was part of."""

    predictor: str
    demo: dspy.Example
    score: float
    titles: frozenset[str]


@dataclass
class TeacherReport:
    """What a `TeacherDemos` compile saw: the valset score of the bare program and of each demo set."""

    bare: float = 0.0
    sets: list[float] = field(default_factory=list)
    kept: int | None = None  # the index of the kept set, None for the bare program


def answer_titles(outputs: dict, from_history: bool = False) -> frozenset[str]:
    """The casefolded titles in a planner's or namer's answer (its themes' titles, or its own title). A theme
    repeating the shopper's own purchases (`from_history`: "Your Weekly Staples") is left out unless asked for:
    every relevance page has one, so it would keep any two relevance answers from sharing a set, and showing it
    twice teaches nothing new."""
    themes = [t if isinstance(t, dict) else getattr(t, "__dict__", {}) for t in outputs.get("themes") or []]
    titles = [t.get("title") for t in themes if from_history or not t.get("from_history")]
    titles.append(outputs.get("title"))
    return frozenset(str(t).strip().casefold() for t in titles if t)


def varied_sets(candidates: Sequence[Candidate], sets: int, per_set: int) -> list[list[Candidate]]:
    """Up to `sets` demo sets of `per_set` candidates each, best scores first, no title twice within a set and
    no candidate in two sets; a set that cannot be filled is not made."""
    ranked = sorted(candidates, key=lambda c: -c.score)
    used: set[int] = set()
    chosen: list[list[Candidate]] = []
    for _ in range(sets):
        current: list[Candidate] = []
        seen: set[str] = set()
        for i, candidate in enumerate(ranked):
            if i in used or candidate.titles & seen:
                continue
            current.append(candidate)
            seen |= candidate.titles
            used.add(i)
            if len(current) == per_set:
                break
        if len(current) < per_set:
            break
        chosen.append(current)
    return chosen


class TeacherDemos(Teleprompter):
    """Demos from a teacher's answers on train shoppers, chosen by the metric, kept only where the valset (scored
    with the LM in `dspy.settings`) improves."""

    def __init__(self, metric: Callable, teacher_settings: dict, sets: int = DEMO_SETS,
                 per_set: int = DEMOS_PER_SET):
        super().__init__()
        if sets < 1 or per_set < 1:
            raise ValueError("a teacher compile needs at least one demo set of at least one demo")
        self.metric = metric
        self.teacher_settings = teacher_settings
        self.sets = sets
        self.per_set = per_set
        self.report = TeacherReport()

    def text_predictors(self, module: dspy.Module) -> dict[int, str]:
        """id -> name of the module's predictors that write text (those that may hold demos)."""
        ids_only = {id(p) for p in ids_only_predictors(module)}
        return {id(p): name for name, p in module.named_predictors() if id(p) not in ids_only}

    def candidates(self, student: dspy.Module, trainset: Sequence[dspy.Example]) -> list[Candidate]:
        """The teacher's answers of the text predictors, one per train example and predictor, with the page's
        score; a page the teacher could not make gives none."""
        teacher = student.deepcopy()
        names = self.text_predictors(teacher)
        found: list[Candidate] = []
        for example in trainset:
            with dspy.context(trace=[], **self.teacher_settings):
                prediction = teacher(**example.inputs())
                trace = list(dspy.settings.trace)
            score = float(self.metric(example, prediction))
            for predictor, inputs, outputs in trace:
                name = names.get(id(predictor))
                if name is None:
                    continue
                answer = dict(outputs.items())
                demo = dspy.Example(augmented=True, **inputs, **answer)
                found.append(Candidate(name, demo, score, answer_titles(answer)))
        return found

    def with_demos(self, student: dspy.Module, chosen: Sequence[Candidate]) -> dspy.Module:
        """A copy of `student` whose text predictors hold the chosen demos (each predictor its own, in order)."""
        module = student.deepcopy()
        predictors = dict(module.named_predictors())
        for candidate in chosen:
            predictors[candidate.predictor].demos.append(candidate.demo)
        return module

    def valset_score(self, module: dspy.Module, valset: Sequence[dspy.Example]) -> float:
        results = run_evaluate(module, valset, self.metric)
        return sum(score for *_, score in results) / len(results) if results else 0.0

    def compile(self, student: dspy.Module, *, trainset: list[dspy.Example], teacher=None,
                valset: list[dspy.Example] | None = None, **kwargs) -> dspy.Module:
        if not valset:
            raise ValueError("a teacher compile needs a valset: demos are kept only where it improves")
        found = self.candidates(student, trainset)
        by_predictor: dict[str, list[Candidate]] = {}
        for candidate in found:
            by_predictor.setdefault(candidate.predictor, []).append(candidate)
        per_predictor = [varied_sets(group, self.sets, self.per_set) for group in by_predictor.values()]
        demo_sets = [[c for sets in per_predictor if i < len(sets) for c in sets[i]]
                     for i in range(max(map(len, per_predictor), default=0))]
        self.report = TeacherReport(bare=self.valset_score(student, valset))
        LOG.info("teacher: the bare program scores %.3f on %d valset examples", self.report.bare, len(valset))
        best, best_score = student, self.report.bare
        for i, chosen in enumerate(demo_sets):
            module = self.with_demos(student, chosen)
            score = self.valset_score(module, valset)
            self.report.sets.append(score)
            LOG.info("teacher: demo set %d (%s) scores %.3f", i + 1,
                     "; ".join(sorted(t for c in chosen for t in c.titles))[:200], score)
            if score > best_score:
                best, best_score, self.report.kept = module, score, i
        return best
