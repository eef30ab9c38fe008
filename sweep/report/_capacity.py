"""Overfitting and capacity: per-epoch train vs validation accuracy, parameter counts per head.

Flatten feeds ``maxlen x units`` numbers to the classifier, so its Dense layer (and its room to
memorise) grows with the sequence length; these tables show whether the gap comes with overfitting.
"""

from __future__ import annotations

import pandas as pd

from sweep.report._design import Design, level_label

#: Settings learning curves are drawn for (mask_zero too: a mask fixes the post-padded last state,
#: so pooling masked and unmasked runs would blur the curve the question is about).
CURVE_GROUPS = ("head", "padding", "mask_zero")
#: Factors that change the parameter count, listed beside the head when they vary.
SIZE_FACTORS = ("maxlen", "units", "embedding_dim", "vocab_size", "bidirectional")


def learning_curves(design: Design) -> pd.DataFrame | None:
    """Mean train and validation accuracy per epoch for each head x padding x mask_zero."""
    frame = design.complete
    if "history" not in frame:
        design.notes.append("The trials store no training history, so learning curves cannot be "
                            "drawn.")
        return None
    groups = [g for g in CURVE_GROUPS if g in frame]
    rows = []
    for _, trial in frame.iterrows():
        history = trial["history"]
        if not isinstance(history, dict):
            continue
        for split, key in (("train", "accuracy"), ("validation", "val_accuracy")):
            for epoch, value in enumerate(history.get(key) or [], start=1):
                rows.append({**{g: level_label(trial[g]) for g in groups}, "split": split,
                             "epoch": epoch, "accuracy": float(value)})
    if not rows:
        design.notes.append("No trial recorded a per-epoch history, so learning curves cannot be "
                            "drawn.")
        return None
    return (pd.DataFrame(rows).groupby([*groups, "split", "epoch"], sort=True)["accuracy"]
            .agg(["mean", "count"]).reset_index())


def capacity(design: Design) -> pd.DataFrame | None:
    """Parameter count, train and validation accuracy at the best epoch, per head (and size)."""
    frame = design.complete
    if "head" not in frame:
        return None
    groups = ["head"] + [f for f in SIZE_FACTORS if f in design.factors]
    measures = [c for c in ("n_params", "train_accuracy", "best_val_accuracy", "test_accuracy")
                if c in frame and frame[c].notna().any()]
    if not measures:
        return None
    table = frame.groupby(groups, sort=True)[measures].median().reset_index()
    if {"train_accuracy", "best_val_accuracy"} <= set(measures):
        table["overfit"] = table["train_accuracy"] - table["best_val_accuracy"]
    table.insert(len(groups), "trials", frame.groupby(groups, sort=True).size().to_numpy())
    return table
