"""The variance decomposition finds the head x factor terms that carry a known gap."""

from __future__ import annotations

import numpy as np
import pytest

from sweep.report._anova import decompose
from sweep.report._design import read_design

from ._synthetic import trials_table


def test_head_interactions_with_padding_and_mask_explain_the_gap() -> None:
    anova = decompose(read_design(trials_table(extra={"maxlen": (300, 500)})))
    named = {f for factors in anova.gap_terms()["factors"] for f in factors} - {"head"}
    assert named == {"padding", "mask_zero"}
    maxlen = anova.table[anova.table["term"] == "head × maxlen"].iloc[0]
    assert maxlen["p_holm"] > 0.05 and maxlen["p_holm"] >= maxlen["p"]
    assert "C(seed)" in anova.formula


def test_shares_add_up_in_a_balanced_grid() -> None:
    anova = decompose(read_design(trials_table()))
    assert anova.table["share"].sum() == pytest.approx(1.0, abs=1e-6)
    assert anova.r_squared == pytest.approx(1 - anova.table.iloc[-1]["share"], abs=1e-6)
    assert anova.table.iloc[-1]["term"] == "residual"


def test_no_three_way_terms_without_spare_degrees_of_freedom() -> None:
    anova = decompose(read_design(trials_table(seeds=(0,))))  # 8 trials, 6 parameters
    assert "head × padding × mask_zero" not in set(anova.table["term"])
    assert "head × padding" in set(anova.table["term"])


def test_too_few_trials_fall_back_to_main_effects_then_to_nothing() -> None:
    table = trials_table(seeds=(0,), extra={"maxlen": (300, 500)})
    few = table.iloc[[0, 3, 5, 9, 10, 14]]  # both heads, 6 trials for 5 main-effect parameters
    anova = decompose(read_design(few))
    assert set(anova.table["kind"]) == {"head", "main", "residual"}
    assert any("only main effects" in note for note in anova.notes)
    design = read_design(table.iloc[[0, 9]])
    assert decompose(design) is None
    assert any("no residual degrees of freedom" in note or "No parameter varied" in note
               for note in design.notes)


def test_a_continuous_factor_enters_as_a_slope() -> None:
    table = trials_table(seeds=(0, 1))
    table["dropout"] = np.random.default_rng(0).uniform(0.0, 0.5, len(table))
    anova = decompose(read_design(table))
    assert "C(head):dropout" in anova.formula and "C(dropout)" not in anova.formula
    assert not anova.notes


def test_confounded_factors_are_flagged() -> None:
    table = trials_table(seeds=(0, 1))
    table["dropout"] = np.linspace(0.0, 0.5, len(table))  # a linear mix of the grid's columns
    anova = decompose(read_design(table))
    assert any("confounded" in note for note in anova.notes)
