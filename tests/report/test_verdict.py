"""The verdict follows the numbers: it names what the data says and admits weak evidence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sweep.report._anova import decompose
from sweep.report._capacity import capacity
from sweep.report._design import read_design
from sweep.report._gap import paired_gaps
from sweep.report._mechanism import by_bucket
from sweep.report._verdict import judge, write_verdict

from ._synthetic import trials_table


def verdict_of(table):
    design = read_design(table)
    return write_verdict(design, paired_gaps(design), decompose(design), by_bucket(design),
                         capacity(design))


def test_question_effect_names_padding_and_masking() -> None:
    verdict = verdict_of(trials_table())
    text = " ".join(verdict.sentences)
    assert "What explains the gap: padding and mask_zero" in text
    cell = verdict.findings["cell"]
    assert cell["where"] == {"padding": "post", "mask_zero": "False"}
    assert cell["inside"]["judgement"] == "wins" and cell["inside"]["low"] > 0
    assert cell["elsewhere"]["judgement"] in ("negligible", "unclear")
    assert "With padding=post and mask_zero=False the gap is +2" in text
    assert "fails most on short reviews" in text
    assert verdict.markdown.startswith("- Evidence: 24 completed trials")


def test_null_effect_says_not_enough_evidence() -> None:
    verdict = verdict_of(trials_table(effect=0.0, noise=0.08, seeds=(0, 1)))
    text = " ".join(verdict.sentences)
    assert "not enough evidence" in text
    assert "What explains the gap" not in text
    assert verdict.findings["gap"]["judgement"] in ("unclear", "unknown")


def test_verdict_changes_with_the_data() -> None:
    """Here only maxlen matters: the verdict must name it, not padding or masking."""
    table = trials_table(effect=0.0, extra={"maxlen": (100, 500)})
    hurt = (table["head"] == "last") & (table["maxlen"] == 500)
    table.loc[hurt, "test_accuracy"] -= 0.2
    verdict = verdict_of(table)
    assert verdict.findings["explaining_factors"] == ["maxlen"]
    assert verdict.findings["cell"]["where"] == {"maxlen": "500"}
    assert "padding and mask_zero" not in " ".join(verdict.sentences)


def test_last_state_winning_once_fixed_is_reported() -> None:
    table = trials_table()
    fixed = table["head"] == "flatten"
    fixed &= ~((table["padding"] == "post") & (~table["mask_zero"]))
    table.loc[fixed, "test_accuracy"] -= 0.05
    text = " ".join(verdict_of(table).sentences)
    assert "the last head wins instead" in text


def test_search_without_pairs_still_says_what_changes_the_head_effect() -> None:
    table = trials_table()
    table["dropout"] = np.random.default_rng(0).uniform(0.0, 0.5, len(table))
    verdict = verdict_of(table)
    text = " ".join(verdict.sentences)
    assert "No two heads were run on matching settings" in text
    assert "What explains the head's effect: padding and mask_zero" in text or \
        "What explains the head's effect: mask_zero and padding" in text


def test_one_head_reports_main_effects_only() -> None:
    text = " ".join(verdict_of(trials_table(heads=("flatten",))).sentences)
    assert "Only one head (flatten) was run" in text
    assert "moves accuracy" in text or "not enough evidence" in text


@pytest.mark.parametrize(("ci", "expected"), [
    ({"mean": 0.2, "low": 0.1, "high": 0.3, "n": 3}, "wins"),
    ({"mean": -0.2, "low": -0.3, "high": -0.1, "n": 3}, "loses"),
    ({"mean": 0.0, "low": -0.01, "high": 0.015, "n": 30}, "negligible"),
    ({"mean": 0.05, "low": -0.1, "high": 0.2, "n": 3}, "unclear"),
    ({"mean": 0.05, "low": math.nan, "high": math.nan, "n": 1}, "unknown"),
])
def test_judge(ci: dict, expected: str) -> None:
    assert judge(ci) == expected
