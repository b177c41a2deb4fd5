"""Fit the placement-quality models on labeled placements and report their cross-validated agreement.

Not a test: a script (about a minute).

    .venv/bin/python bench/fit_quality.py                      # cross-validated report only
    .venv/bin/python bench/fit_quality.py --write              # ... then refit on all rows, write models.json
    .venv/bin/python bench/fit_quality.py --seed 11            # another grouping of titles into folds
    .venv/bin/python bench/fit_quality.py --show-pairs 20      # ... and the worst out-of-fold pair errors
    .venv/bin/python bench/fit_quality.py --heldout             # ... and the figures on the held-out rows

Near-duplicate pairs are the pairs the labels' `near_duplicate_groups` imply (rule 2 of
themepage/data/DATA.md; the older `near_duplicates` pairs of rule 1 are not read). `--heldout` scores the
rows of `themepage/data/placement_labels/heldout.jsonl` (later pages labeled apart, never fitted on) with
models fitted on every row of the label files (`labels.jsonl` and the project's own `own_pages.jsonl`), and
with the committed models.json.

Cross-validation is grouped: every placement with the same (normalised) title falls in one fold, so no
placement, nor a near-copy of it under the same title, is both trained and tested on. The publishable
model reads product fits and near-duplicate counts predicted out of fold (nested inside each outer fold),
as it will at run time. Reports: product fit AUC (labels 2 vs 0), near-duplicate pair F1 (pooled over
folds, threshold chosen on the training folds) and publishable AUC.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from themepage.constants import HELDOUT_LABELS_FILE, LABELS_FILE, OWN_LABELS_FILE  # noqa: E402
from themepage.index import CatalogIndex  # noqa: E402
from themepage.metrics.agreement import f1, pair_f1, roc_auc  # noqa: E402
from themepage.quality.features import (  # noqa: E402
    PAIR_FEATURES,
    PLACEMENT_FEATURES,
    PRODUCT_FEATURES,
    pair_features,
    placement_features,
    product_features,
)
from themepage.quality.logistic import LogisticModel, fit_logistic  # noqa: E402
from themepage.quality.scorer import MODELS_FILE, PlacementScorer, QualityModels  # noqa: E402

FOLDS, SEED, L2 = 5, 7, 1.0
PUBLISHABLE_L2 = 0.1
"""The publishable head has four features and 200 rows: a lighter penalty lets it say how sure a clean row is
(at 1.0 no row could score much above 0.5; cross-validated AUC is the same within 0.01)."""


class Row:
    """One labeled placement with its features (computed once)."""

    def __init__(self, label: dict, scorer: PlacementScorer):
        self.label = label
        self.title = label["title"]
        self.group = " ".join(self.title.lower().replace("(2)", "").split())
        ids = [int(p["product_id"]) for p in label["products"]]
        self.fit_labels = np.array([p["fit"] for p in label["products"]])
        self.found = scorer.titles(self.title)
        self.evidence = scorer.evidence(ids)
        self.product_rows = product_features(self.title, self.found, self.evidence)
        self.pairs, self.pair_rows = pair_features(self.evidence)
        self.groups = [[int(p) for p in group] for group in label["near_duplicate_groups"]]
        group_of = {p: g for g, group in enumerate(self.groups) for p in group}
        self.pair_labels = np.array([ids[i] in group_of and group_of.get(ids[j]) == group_of[ids[i]]
                                     for i, j in self.pairs], dtype=bool)
        self.publishable = bool(label["publishable"])


def folds_of(rows: list[Row], folds: int, seed: int) -> np.ndarray:
    groups = sorted({r.group for r in rows})
    order = np.random.default_rng(seed).permutation(len(groups))
    fold_of = {groups[g]: i % folds for i, g in enumerate(order)}
    return np.array([fold_of[r.group] for r in rows])


def fit_product_model(rows: list[Row]) -> LogisticModel:
    x = np.vstack([r.product_rows for r in rows])
    y = np.concatenate([r.fit_labels for r in rows])
    keep = y != 1
    return fit_logistic(x[keep], y[keep] == 2, PRODUCT_FEATURES, L2)


def fit_duplicate_model(rows: list[Row]) -> LogisticModel:
    x = np.vstack([r.pair_rows for r in rows if len(r.pairs)])
    y = np.concatenate([r.pair_labels for r in rows if len(r.pairs)])
    model = fit_logistic(x, y, PAIR_FEATURES, L2)
    chance = model.probability(x)
    best = max(np.linspace(0.05, 0.95, 91), key=lambda t: f1(np.flatnonzero(chance >= t), np.flatnonzero(y)))
    return LogisticModel(model.features, model.mean, model.scale, model.coef, model.intercept, float(best))


def placement_row(row: Row, fit: LogisticModel, duplicate: LogisticModel) -> np.ndarray:
    fits = fit.probability(row.product_rows)
    chances = duplicate.probability(row.pair_rows) if len(row.pairs) else np.zeros(0)
    return placement_features(row.title, fits, chances, row.found)


def out_of_fold_placement_rows(rows: list[Row], folds: int, seed: int) -> np.ndarray:
    """Placement features with product fits and duplicate pairs predicted by models that did not see the row."""
    fold = folds_of(rows, folds, seed)
    out = np.zeros((len(rows), len(PLACEMENT_FEATURES)))
    for k in range(folds):
        train = [r for r, f in zip(rows, fold, strict=True) if f != k]
        fit, duplicate = fit_product_model(train), fit_duplicate_model(train)
        for i in np.flatnonzero(fold == k):
            out[i] = placement_row(rows[i], fit, duplicate)
    return out


def pair_errors(rows: list[Row], seed: int) -> tuple[list, list]:
    """Out-of-fold false positive and false negative pairs as (chance, title, name, name), worst first."""
    fold = folds_of(rows, FOLDS, seed)
    false_positives, false_negatives = [], []
    for k in range(FOLDS):
        duplicate = fit_duplicate_model([r for r, f in zip(rows, fold, strict=True) if f != k])
        for i in np.flatnonzero(fold == k):
            row = rows[i]
            chances = duplicate.probability(row.pair_rows) if len(row.pairs) else np.zeros(0)
            for (a, b), chance, truth in zip(row.pairs, chances, row.pair_labels, strict=True):
                if (chance >= duplicate.threshold) != truth:
                    found = false_negatives if truth else false_positives
                    found.append((float(chance), row.title, row.evidence.names[a], row.evidence.names[b]))
    return sorted(false_positives, reverse=True), sorted(false_negatives)


def cross_validate(rows: list[Row], seed: int = SEED) -> dict[str, float]:
    fold = folds_of(rows, FOLDS, seed)
    fit_scores, publish_scores = [np.zeros(0)] * len(rows), np.zeros(len(rows))
    predicted: list[list[tuple[int, int]]] = [[] for _ in rows]
    for k in range(FOLDS):
        train = [r for r, f in zip(rows, fold, strict=True) if f != k]
        fit, duplicate = fit_product_model(train), fit_duplicate_model(train)
        inner = out_of_fold_placement_rows(train, FOLDS - 1, seed + 1 + k)
        publishable = fit_logistic(inner, np.array([r.publishable for r in train]), PLACEMENT_FEATURES,
                                   PUBLISHABLE_L2)
        for i in np.flatnonzero(fold == k):
            row = rows[i]
            fit_scores[i] = fit.probability(row.product_rows)
            predicted[i] = flagged_pairs(row, duplicate)
            publish_scores[i] = publishable.probability(placement_row(row, fit, duplicate))[0]
    return figures(rows, fit_scores, publish_scores, predicted)


def flagged_pairs(row: Row, duplicate: LogisticModel) -> list[tuple[int, int]]:
    """The product-id pairs of the row the duplicate model flags."""
    if not len(row.pairs):
        return []
    ids = row.evidence.product_ids
    flagged = duplicate.probability(row.pair_rows) >= duplicate.threshold
    return [(ids[i], ids[j]) for (i, j), hit in zip(row.pairs, flagged, strict=True) if hit]


def figures(rows: list[Row], fit_scores: list[np.ndarray], publish_scores, predicted) -> dict[str, float]:
    """The agreement figures of scores against the rows' labels (fit AUC, pair F1 from groups, publishable AUC)."""
    scores, truth = np.concatenate(fit_scores), np.concatenate([r.fit_labels for r in rows])
    keep = truth != 1
    return {"product fit AUC (2 vs 0)": roc_auc(scores[keep], truth[keep] == 2),
            "product fit AUC (2 vs 0/1)": roc_auc(scores, truth == 2),
            "near-duplicate pair F1": pair_f1(predicted, [r.groups for r in rows]),
            "publishable AUC": roc_auc(publish_scores, [r.publishable for r in rows]),
            "rows with a flagged pair": float(sum(bool(p) for p in predicted)),
            "rows with a labeled group": float(sum(bool(r.groups) for r in rows))}


def score_rows(rows: list[Row], models: QualityModels) -> dict[str, float]:
    """The figures of fitted models on rows they were not fitted on."""
    fit_scores = [models.fit.probability(r.product_rows) for r in rows]
    publish = [models.publishable.probability(placement_row(r, models.fit, models.duplicate))[0] for r in rows]
    return figures(rows, fit_scores, publish, [flagged_pairs(r, models.duplicate) for r in rows])


def fit_all(rows: list[Row]) -> QualityModels:
    fit, duplicate = fit_product_model(rows), fit_duplicate_model(rows)
    stacked = out_of_fold_placement_rows(rows, FOLDS, SEED)
    publishable = fit_logistic(stacked, np.array([r.publishable for r in rows]), PLACEMENT_FEATURES, PUBLISHABLE_L2)
    provenance = {"fitted_by": "bench/fit_quality.py --write",
                  "labels": "data/placement_labels/labels.jsonl and own_pages.jsonl",
                  "placements": len(rows), "l2": L2, "publishable_l2": PUBLISHABLE_L2,
                  "fit_target": "product fit 2 (1) vs 0 (0); fit 1 left out",
                  "duplicate_target": "pairs implied by near_duplicate_groups (rule 2)",
                  "duplicate_threshold": "maximises pair F1 on the training rows",
                  "publishable_inputs": f"out-of-fold fits and duplicate counts, {FOLDS} folds grouped by title"}
    return QualityModels(fit, duplicate, publishable, provenance)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, nargs="+", default=[LABELS_FILE, OWN_LABELS_FILE],
                        help="label files fitted on (default: the shared labels and this project's own)")
    parser.add_argument("--write", action="store_true", help=f"refit on every row and write {MODELS_FILE.name}")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the grouping of titles into folds")
    parser.add_argument("--heldout", nargs="?", type=Path, const=HELDOUT_LABELS_FILE, default=None, metavar="FILE",
                        help=f"also score these rows, labeled apart (default {HELDOUT_LABELS_FILE.name})")
    parser.add_argument("--show-pairs", type=int, default=0, metavar="N",
                        help="print the N worst out-of-fold pair errors of each kind")
    args = parser.parse_args()
    index = CatalogIndex.open()
    scorer = PlacementScorer(index, models=QualityModels.load() if MODELS_FILE.exists() else _blank_models())
    labels = [json.loads(line) for path in args.labels for line in path.read_text().splitlines() if line.strip()]
    rows = [Row(label, scorer) for label in labels]
    groups = len({r.group for r in rows})
    print(f"{len(rows)} placements, {groups} title groups, {FOLDS}-fold grouped CV, seed {args.seed}")
    for name, value in cross_validate(rows, args.seed).items():
        print(f"  {name:28s} {value:.3f}")
    if args.heldout:
        held = [Row(json.loads(line), scorer) for line in args.heldout.read_text().splitlines() if line.strip()]
        fitted = {"models fitted on every labeled row": fit_all(rows)}
        if MODELS_FILE.exists():
            fitted["committed models.json"] = QualityModels.load()
        for name, models in fitted.items():
            print(f"{len(held)} held-out placements ({args.heldout.name}), {name}:")
            for figure, value in score_rows(held, models).items():
                print(f"  {figure:28s} {value:.3f}")
    if args.show_pairs:
        false_positives, false_negatives = pair_errors(rows, args.seed)
        for kind, errors in (("false positives", false_positives), ("false negatives", false_negatives)):
            print(f"{len(errors)} {kind}, worst first:")
            for chance, title, a, b in errors[:args.show_pairs]:
                print(f"  {chance:.2f}  {title!r}: {a} | {b}")
    if args.write:
        models = fit_all(rows)
        state = {"fit": models.fit.to_json(), "duplicate": models.duplicate.to_json(),
                 "publishable": models.publishable.to_json(), "provenance": models.provenance}
        MODELS_FILE.write_text(json.dumps(state, indent=1) + "\n")
        print(f"wrote {MODELS_FILE}")


def _blank_models() -> QualityModels:
    blank = [LogisticModel(f, (0.0,) * len(f), (1.0,) * len(f), (0.0,) * len(f), 0.0)
             for f in (PRODUCT_FEATURES, PAIR_FEATURES, PLACEMENT_FEATURES)]
    return QualityModels(*blank)


if __name__ == "__main__":
    main()
