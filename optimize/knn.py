"""KNNFewShot programs: KNN picks and bootstraps demos per call, so a compiled file keeps its pool, not demos.

A knn-compiled file carries a top-level `knn` entry: k, the bootstrap settings, and the pool as references
to trainsets/ cases (user_id, target_order_id). Loading compiles the program again over that pool.
"""

from __future__ import annotations

import re
from pathlib import Path

import dspy
import numpy as np

from themepage.index.protocol import Index
from themepage.metrics.objective_metric import Objective
from themepage.optimize.errors import CompileError, StaleCompiledProgram
from themepage.trainsets.loader import SPLITS, read_cases, to_example

KNN_KEY = "knn"
"""Top-level key of a knn-compiled program's JSON (see the module docstring)."""
KNN_K = 3
KNN_BOOTSTRAP = {"max_bootstrapped_demos": 2, "max_labeled_demos": 0}
"""The settings `make_optimizer` gives KNNFewShot; a loaded file may only repeat them (never other kwargs)."""


def profile_embedder(index: Index) -> dspy.Embedder:
    """KNN vectors of examples: the co-purchase profile of the products named in their history."""
    products = re.compile(r"products=\(([\d, ]*)\)")

    def embed(texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            ids = [int(p) for group in products.findall(text) for p in group.split(",") if p.strip()]
            ids = [p for p in ids if p in index.catalog]
            vector = index.vectors[index.rows(ids)].sum(axis=0) if ids else np.zeros(index.vectors.shape[1])
            rows.append(vector / (np.linalg.norm(vector) or 1.0))
        return np.asarray(rows, dtype=np.float32)

    return dspy.Embedder(embed, caching=False)


def make_knn(index: Index, trainset: list[dspy.Example], metric) -> dspy.KNNFewShot:
    """KNNFewShot with this project's k and bootstrap settings over the trainset."""
    # DSPy annotates **few_shot_bootstrap_args as dict values; they are BootstrapFewShot's keyword arguments
    return dspy.KNNFewShot(k=KNN_K, trainset=trainset, vectorizer=profile_embedder(index), metric=metric,
                           **KNN_BOOTSTRAP)  # pyright: ignore[reportArgumentType]


def knn_state(teleprompter: dspy.KNNFewShot) -> dict:
    """What rebuilds this KNNFewShot: its pool as (user_id, target_order_id) references, not the examples."""
    order_ids = {(case.user_id, tuple(o.order_id for o in case.history.orders)): case.target_order_id
                 for split in SPLITS for case in read_cases(split)}
    pool = []
    for example in teleprompter.KNN.trainset:
        key = (example.user_id, tuple(o.order_id for o in example.history.orders))
        if key not in order_ids:
            raise CompileError(f"knn example of user {example.user_id} is not a trainsets/ case; knn saves "
                               f"references to trainsets/ only")
        pool.append({"user_id": example.user_id, "target_order_id": order_ids[key]})
    bootstrap = {name: value for name, value in teleprompter.few_shot_bootstrap_args.items() if name != "metric"}
    return {"k": teleprompter.KNN.k, "bootstrap": bootstrap, "pool": pool}


def rebuild_knn(module: dspy.Module, knn: dict, objective: str, index: Index, path: Path) -> dspy.Module:
    """The loaded module compiled again with KNNFewShot over the saved pool, resolved from trainsets/.

    `knn` has passed the compiled-file schema (optimize.compiled_schema): k and the bootstrap settings are ours.
    """
    cases = {(case.user_id, case.target_order_id): case for split in SPLITS for case in read_cases(split)}
    missing = [(ref["user_id"], ref["target_order_id"]) for ref in knn["pool"]
               if (ref["user_id"], ref["target_order_id"]) not in cases]
    if missing:
        raise StaleCompiledProgram(f"{path}: {len(missing)} knn examples (user, target order) are no longer in "
                                   f"trainsets/, e.g. {missing[0]}; recompile")
    pool = [to_example(cases[ref["user_id"], ref["target_order_id"]]) for ref in knn["pool"]]
    # DSPy annotates **few_shot_bootstrap_args as dict values; they are BootstrapFewShot's keyword arguments
    metric = Objective.load(objective, index).metric
    teleprompter = dspy.KNNFewShot(k=knn["k"], trainset=pool, vectorizer=profile_embedder(index),
                                   metric=metric, **KNN_BOOTSTRAP)  # pyright: ignore[reportArgumentType]
    return with_knn_state(teleprompter.compile(module), knn)


def with_knn_state(module: dspy.Module, state: dict) -> dspy.Module:
    """The module carrying `state` as `knn_state`, which optimize.compiled_files saves under KNN_KEY."""
    module.knn_state = state  # pyright: ignore[reportAttributeAccessIssue]  # dspy.Module takes ad-hoc attributes
    return module
