"""Learning curves and parameter counts per head."""

from __future__ import annotations

import pytest

from sweep.report._capacity import capacity, learning_curves
from sweep.report._design import read_design

from ._synthetic import trials_table


def test_curves_average_each_epoch_per_head_padding_and_mask() -> None:
    curves = learning_curves(read_design(trials_table()))
    assert set(curves["split"]) == {"train", "validation"}
    first = curves[(curves["head"] == "flatten") & (curves["padding"] == "pre")
                   & (curves["mask_zero"] == "False") & (curves["split"] == "train")
                   & (curves["epoch"] == 1)]
    assert first["count"].iloc[0] == 3 and first["mean"].iloc[0] == pytest.approx(0.55)


def test_capacity_per_head() -> None:
    table = capacity(read_design(trials_table()))
    flatten = table[table["head"] == "flatten"].iloc[0]
    assert flatten["n_params"] == 4_963_841 and flatten["trials"] == 12
    assert flatten["overfit"] == pytest.approx(flatten["train_accuracy"]
                                               - flatten["best_val_accuracy"])


def test_no_history_no_curves() -> None:
    design = read_design(trials_table().drop(columns=["history"]))
    assert learning_curves(design) is None
    assert any("learning curves cannot be drawn" in note for note in design.notes)
