"""Optuna's PED-ANOVA importances on a study, and plain reasons when there are none."""

from __future__ import annotations

import optuna
import pytest

from sweep.report._importance import importances

from ._synthetic import add_to_study, trials_table


def study_of(frame, factors) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    add_to_study(study, frame, factors)
    return study


def test_importances_of_a_grid_study() -> None:
    study = study_of(trials_table(extra={"maxlen": (300, 500)}),
                     ["head", "padding", "mask_zero", "maxlen", "seed"])
    notes: list[str] = []
    found = importances(study, notes)
    assert not notes and found.method == "PED-ANOVA" and found.n_trials == 48
    assert set(found.values) == {"head", "padding", "mask_zero", "maxlen", "seed"}
    assert sum(found.values.values()) == pytest.approx(1.0)
    assert max(found.values, key=found.values.get) in ("head", "padding", "mask_zero")


def test_no_study_or_too_few_trials_give_a_reason() -> None:
    notes: list[str] = []
    assert importances(None, notes) is None
    few = trials_table(seeds=(0,)).iloc[[0, 1, 4, 5]]
    assert importances(study_of(few, ["head"]), notes) is None
    assert "built from a table" in notes[0] and "this study has only 4" in notes[1]
