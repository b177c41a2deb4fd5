"""MIPROv2 on the offline engine: its proposer signatures answered through real adapters, and a small compile.

The proposer signatures are DSPy's own (`dspy/propose/`), called through `dspy.Predict`
with the ChatAdapter and the JSONAdapter, so a renamed field or a parse failure shows here.
DSPy's proposer swallows LM errors and silently drops features, so the tests also check
that nothing was dropped.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import re

import dspy
import pytest
from dspy.propose import GroundedProposer
from dspy.propose.dataset_summary_generator import (
    DatasetDescriptor,
    DatasetDescriptorWithPriorObservations,
    ObservationSummarizer,
    order_input_keys_in_string,
)
from dspy.propose.grounded_proposer import TIPS, DescribeModule, DescribeProgram, generate_instruction_class
from dspy.propose.utils import get_dspy_source_code, strip_prefix

import themepage.optimize.optimizers as compiling
from themepage.lm.adapter import MemoChatAdapter
from themepage.metrics.objective_metric import Objective
from themepage.objectives import ADVICE, load_objective
from themepage.offline.engine import OfflineEngine, UnknownSignature
from themepage.offline.proposing import PHRASES, TIP_ORDER
from themepage.offline.steering import steer
from themepage.optimize.compile_sets import spread
from themepage.optimize.compiled_files import load_compiled, save_compiled
from themepage.optimize.optimizers import compile_program, make_optimizer
from themepage.programs.top_down import TopDownProgram
from themepage.signatures.top_down import FilterTheme, PlanThemes
from themepage.trainsets.loader import load_examples

PLAN_MODULE = "Predict(user_context, objective_guidance, num_themes) -> themes"


def _flat(text: str) -> str:
    return " ".join(text.split())




@pytest.fixture(scope="module")
def program_code(index) -> str:
    with contextlib.redirect_stdout(io.StringIO()):  # DSPy prints the signatures' source
        return get_dspy_source_code(TopDownProgram(index))


@pytest.fixture(scope="module")
def examples_text() -> str:
    return order_input_keys_in_string(repr(load_examples("train", limit=3)))


def _propose(basic: str, tip: str, task_demos: str = "No task demos provided.", code: str = "") -> str:
    """One GenerateSingleModuleInstruction answer, post-processed as DSPy does (strip_prefix, twice)."""
    generate = generate_instruction_class(use_tip=bool(tip), use_instruct_history=False)
    inputs = dict(dataset_description="Shoppers and their orders.", program_code=code, module=PLAN_MODULE,
                  program_description="Plans a page.", module_description="Plans themes.",
                  task_demos=task_demos, basic_instruction=basic)
    if tip:
        inputs["tip"] = tip
    return strip_prefix(strip_prefix(generate(**inputs).proposed_instruction))


# ----- each proposer signature, both adapters -----------------------------------------------------

def test_dataset_observations_count_and_name_fields(adapter, examples_text):
    observations = dspy.Predict(DatasetDescriptor)(examples=examples_text).observations
    assert observations.startswith("3 examples were shown.")
    assert "input fields history and user_id" in observations and "label fields target" in observations


def test_prior_observations_are_complete_or_extended(adapter, examples_text):
    seen = dspy.Predict(DatasetDescriptor)(examples=examples_text).observations
    again = dspy.Predict(DatasetDescriptorWithPriorObservations)
    assert again(examples=examples_text, prior_observations=seen).observations == "COMPLETE"
    fresh = again(examples=examples_text, prior_observations="Nothing yet.").observations
    assert fresh != "COMPLETE" and "history and user_id" in fresh


def test_summary_keeps_three_sentences_of_the_observations(adapter):
    observations = "One. Two is here. Three too. Four is dropped."
    summary = dspy.Predict(ObservationSummarizer)(observations=observations).summary
    assert summary == "One. Two is here. Three too."


def test_program_description_names_its_steps(adapter, program_code):
    text = dspy.Predict(DescribeProgram)(program_code=program_code, program_example="None").program_description
    assert text.startswith("A language-model program in 3 steps")
    assert all(name in text for name in ("PlanThemes", "FillTheme", "FilterTheme", "TopDownProgram"))
    assert "plan the placements of a personalized landing page of the store" in text


def test_module_description_names_its_fields_and_signature(adapter, program_code):
    text = dspy.Predict(DescribeModule)(program_code=program_code, program_example="None",
                                        program_description="A program.",
                                        module="Predict(theme, products) -> kept_ids").module_description
    assert text.startswith("The Predict step FilterTheme reads theme and products and produces kept_ids.")
    assert "check a filled placement" in text


@pytest.mark.parametrize("signature", [PlanThemes, FilterTheme], ids=["plan", "filter"])
def test_proposals_differ_by_tip_keep_the_basic_instruction_and_steer(adapter, signature):
    basic = signature.instructions
    proposals = {key: _propose(basic, tip) for key, tip in TIPS.items()}
    assert len(set(proposals.values())) == len(TIPS), proposals
    for key, proposal in proposals.items():
        assert _flat(basic) in proposal, f"{key}: the basic instruction is lost: {proposal}"
        added = proposal.replace(_flat(basic), " ")
        assert steer(added).tags or steer(added).strictness, f"{key}: nothing added steers the engine: {added}"
    steerings = {(tuple(sorted(steer(p).tags.items())), steer(p).strictness) for p in proposals.values()}
    assert len(steerings) >= 3, "proposals should steer the engine in different directions"
    assert proposals["persona"].startswith("You are")
    assert _propose(basic, TIPS["creative"]) == proposals["creative"], "proposals must be deterministic"


def test_proposals_draw_on_the_objective_shown_in_the_demos(adapter):
    guidance = load_objective("healthy").guidance
    demos = f"User Context: a shopper\nObjective Guidance: {guidance}\nNum Themes: 6\nThemes: []\n\n"
    added = " ".join(_propose(PlanThemes.instructions, tip, demos).replace(_flat(PlanThemes.instructions), "")
                     for tip in TIP_ORDER)
    assert "fruit" in added.lower() or "healthy" in added.lower()
    assert "discover" not in added.lower(), "advice for scores the healthy objective does not weigh"


def test_without_guidance_shown_proposals_come_from_the_engines_phrases_not_the_metrics_advice(adapter):
    proposals = [_propose(PlanThemes.instructions, tip) for tip in TIP_ORDER]
    added = " ".join(p.replace(_flat(PlanThemes.instructions), "") for p in proposals)
    assert any(phrase in added for phrase in PHRASES)
    said = [advice.split(": ", 1)[-1].lower() for advice in ADVICE.values()]
    assert not [a for a in said if a in added.lower()], "a proposal repeats the objectives' advice words"


def test_other_signatures_are_still_refused(index):
    system = ("Your input fields are:\n1. `question` (str): \nYour output fields are:\n1. `answer` (str): \n"
              "All interactions will be structured in the following way\n\nIn adhering to this structure, "
              "your objective is: Answer.")
    with pytest.raises(UnknownSignature, match=r"\['answer'\].*GenerateSingleModuleInstruction"):
        OfflineEngine(index).answer(system, [("user", "[[ ## question ## ]]\nhi")])


# ----- MIPRO's proposer and a small compile ----------------------------------------------------------

def test_grounded_proposer_keeps_every_feature(index, lm):
    dspy.configure(lm=lm, adapter=MemoChatAdapter())
    program = TopDownProgram(index)
    with contextlib.redirect_stdout(io.StringIO()):
        proposer = GroundedProposer(prompt_model=lm, program=program, trainset=spread(load_examples("train"), 12),
                                    view_data_batch_size=5, set_history_randomly=False, use_instruct_history=False,
                                    rng=random.Random(0))
        candidates = proposer.propose_instructions_for_program(trainset=[], program=program, demo_candidates=None,
                                                               trial_logs={}, N=4)
    assert proposer.use_dataset_summary and proposer.program_aware, "a proposer LM call failed and was dropped"
    assert re.match(r"5 examples were shown\. Every example has the input fields", proposer.data_summary)
    for (_, predictor), proposals in zip(program.named_predictors(), candidates.values()):
        assert len(proposals) == 4 and all(_flat(predictor.signature.instructions) in p for p in proposals)


def test_make_optimizer_configures_mipro_offline(index):
    mipro = make_optimizer("mipro", Objective.load("relevance", index), index, [], offline=True)
    assert isinstance(mipro, dspy.MIPROv2) and mipro.auto is None
    assert mipro.prompt_model.model == mipro.task_model.model == "themepage/offline"
    assert (mipro.max_bootstrapped_demos, mipro.max_labeled_demos, mipro.num_threads) == (2, 0, 1)
    assert compiling.mipro_run_settings([None] * 16)["minibatch"] is False


def test_mipro_compiles_saves_and_loads(index, lm, tmp_path, monkeypatch):
    monkeypatch.setattr(compiling, "MIPRO_CANDIDATES", 3)
    monkeypatch.setattr(compiling, "MIPRO_TRIALS", 3)
    proposed = {}
    original = GroundedProposer.propose_instructions_for_program

    def spy(self, *args, **kwargs):
        proposed.update(original(self, *args, **kwargs))
        return proposed

    monkeypatch.setattr(GroundedProposer, "propose_instructions_for_program", spy)
    train, val = spread(load_examples("train"), 6), spread(load_examples("dev"), 3)
    objective = Objective.load("healthy", index)
    with contextlib.redirect_stdout(io.StringIO()):
        module = compile_program("top-down", objective, index, lm, "mipro", train, val, offline=True,
                                 adapter=MemoChatAdapter())
    predictors = module.named_predictors()
    assert len(proposed) == len(predictors)
    for i, (name, predictor) in enumerate(predictors):
        assert len(proposed[i]) == 3 and len(set(proposed[i])) >= 2, f"{name}: nothing new proposed: {proposed[i]}"
        assert predictor.signature.instructions in proposed[i], f"{name}: instruction is not a MIPRO candidate"

    path = tmp_path / "healthy" / "top-down.json"
    path.parent.mkdir()
    save_compiled(module, path, program="top-down", objective="healthy", lm="offline", optimizer="mipro", index=index)
    assert {"planner.plan", "filler.fill", "filter.check"} <= set(json.loads(path.read_text()))
    loaded = load_compiled("top-down", "healthy", index, tmp_path)
    for (_, saved), (_, restored) in zip(predictors, loaded.named_predictors()):
        assert restored.signature.instructions == saved.signature.instructions
        assert len(restored.demos) == len(saved.demos)
    with dspy.context(lm=lm, adapter=MemoChatAdapter()):
        page = loaded(**val[0].inputs()).page
    assert len(page.product_ids()) == 48 and page.objective == "healthy"
