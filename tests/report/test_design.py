"""What varied is read from the trials; unusable tables fail with one clear line."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from sweep.errors import SweepError
from sweep.report._design import level_order, read_design

from ._synthetic import trials_table


def test_factors_are_inferred_from_complete_trials_not_the_design() -> None:
    table = trials_table(failed=2)
    table.loc[table["state"] == "FAIL", "maxlen"] = 300  # failed trials do not count
    design = read_design(table, {"kind": "grid", "factors": ["head", "maxlen"]})
    assert design.factors == ["padding", "mask_zero"]
    assert design.heads == ["flatten", "last"] and design.reference == "flatten"
    assert design.seeds == [0, 1, 2] and design.kind == "grid"
    assert design.counts == {"complete": 24, "fail": 2, "total": 26}
    assert len(design.complete) == 24


def test_objective_metric_is_the_response_with_fallback() -> None:
    table = trials_table()
    objective = {"objective": {"metric": "best_val_accuracy", "direction": "maximize"}}
    assert read_design(table, objective).response == "best_val_accuracy"
    design = read_design(table.drop(columns=["best_val_accuracy"]), objective)
    assert design.response == "test_accuracy"
    assert any("'best_val_accuracy' is missing" in note for note in design.notes)


@pytest.mark.parametrize(("table", "message"), [
    (pd.DataFrame(columns=["number", "state"]), "the study has no trials yet"),
    (trials_table(seeds=(0,)).assign(state="FAIL", error="TrialFailed: loss became nan\nmore"),
     "none of the 8 trials completed (first error: TrialFailed: loss became nan)"),
])
def test_unusable_tables_raise_one_clear_line(table: pd.DataFrame, message: str) -> None:
    with pytest.raises(SweepError, match="^" + re.escape(message)):
        read_design(table)


def test_parameters_that_change_together_are_analysed_once() -> None:
    table = trials_table()
    table["cell"] = table["padding"].map({"pre": "lstm", "post": "gru"})
    design = read_design(table)
    assert "cell" not in design.factors
    assert any("'cell' changes together with 'padding'" in note for note in design.notes)


def test_levels_read_in_the_parameter_tables_order() -> None:
    assert level_order("padding", ["post", "pre"]) == ["pre", "post"]
    assert level_order("maxlen", ["1000", "300", "50"]) == ["50", "300", "1000"]
    assert level_order("mask_zero", ["True", "False"]) == ["False", "True"]
