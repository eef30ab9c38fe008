"""The verdict follows the numbers: it names what the data says and admits weak evidence."""

from __future__ import annotations

import math
import re

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
    assert verdict.markdown.startswith("- Evidence: 24 completed trials")
    mechanism = verdict.findings["mechanism"]
    assert mechanism["setting"] == {"padding": "post", "mask_zero": "False"}
    assert mechanism["head"] == "last" and mechanism["maxlen"] == 500
    assert mechanism["setting_chosen_as"] == "the verdict's cell"
    assert mechanism["result"]["judgement"] == "unpadded_better"
    assert mechanism["reference_head"] == "flatten"
    assert mechanism["reference"]["judgement"] == "within_noise"
    unpadded, padded = mechanism["result"]["unpadded"], mechanism["result"]["padded"]
    assert re.search(
        r"Mechanism \(head=last, padding=post, mask_zero=False\): right on 7\d% \(95% CI "
        rf"\d+%–\d+%; n={unpadded['n']}\) of test reviews that fill all 500 timesteps, "
        rf"against 5\d% \(95% CI \d+%–\d+%; n={padded['n']:,}\) of reviews followed by "
        r"padding: the last state fails where padding separates it from the review \(clearly so "
        r"in each of the 3 trials taken alone\)\.", text)
    assert len(mechanism["per_trial_differences"]) == 3 and mechanism["trials_agreeing"] == 3
    assert re.search(r"The flatten head in the same setting does not care: 7\d% .* within "
                     r"noise\.", text)
    assert "reviews of < 100 tokens" not in text  # no length extremes with a handful of reviews


def test_null_effect_says_not_enough_evidence() -> None:
    verdict = verdict_of(trials_table(effect=0.0, noise=0.08, seeds=(0, 1)))
    text = " ".join(verdict.sentences)
    assert "not enough evidence" in text
    assert "What explains the gap" not in text
    assert verdict.findings["gap"]["judgement"] in ("unclear", "unknown")
    mechanism = verdict.findings["mechanism"]
    assert mechanism["setting_chosen_as"] == "largest gap"
    assert set(mechanism["setting"]) == {"padding", "mask_zero"}
    assert re.search(r"Mechanism in the setting with the largest gap \(head=last, padding=\w+, "
                     r"mask_zero=\w+\): right on .* of reviews (followed|preceded) by padding; "
                     r"the difference is within noise \(the intervals overlap\)\.", text)
    assert "The flatten head in the same setting does not care" in text
    largest = verdict.findings["largest_gap"]
    assert largest["where"] == mechanism["setting"] and len(largest["gaps"]) == 2
    assert re.search(r"The gap is largest with padding=\w+ and mask_zero=\w+: [+-]\d+\.\d points "
                     r"\(95% CI .*, n=2\), from [+-]\d+\.\d points to [+-]\d+\.\d points across "
                     r"its paired runs; not enough evidence that it differs from 0 there\.", text)


def test_a_mechanism_seen_in_some_runs_only_says_so() -> None:
    """One seed's last state learns to carry its memory through the padding."""
    table = trials_table()
    fixed = (table["head"] == "last") & (table["padding"] == "post") & ~table["mask_zero"]
    fixed &= table["seed"] == 1
    healthy = table[(table["head"] == "flatten") & (table["padding"] == "post")
                    & ~table["mask_zero"] & (table["seed"] == 1)].iloc[0]
    table["test_by_padded_share"] = [healthy["test_by_padded_share"] if hit else buckets
                                     for hit, buckets in zip(fixed, table["test_by_padded_share"],
                                                             strict=True)]
    verdict = verdict_of(table)
    assert verdict.findings["mechanism"]["trials_agreeing"] == 2
    assert "(clearly so in 2 of the 3 trials taken alone)." in " ".join(verdict.sentences)


def test_reviews_that_are_harder_for_every_head_are_not_blamed_on_padding() -> None:
    verdict = verdict_of(trials_table(short_penalty=0.15))
    text = " ".join(verdict.sentences)
    mechanism = verdict.findings["mechanism"]
    assert mechanism["reference"]["judgement"] == "unpadded_better"
    assert "the last state fails where padding separates it" not in text
    assert "the last head does worse on padded reviews (clearly so in each" in text
    assert re.search(r"The flatten head in the same setting also does better on reviews that "
                     r"fill every timestep, 8\d% .*; so part of the difference lies in the "
                     r"reviews, not the padding \(\+\d\d\.\d points for last against "
                     r"\+1\d\.\d points for flatten\)\.", text)


def test_mechanism_falls_back_on_the_one_setting_run() -> None:
    """One padding, no mask: the sentence still says what padding it is about."""
    verdict = verdict_of(trials_table(paddings=("post",), masks=(False,)))
    assert verdict.findings["mechanism"]["setting"] == {"padding": "post", "mask_zero": "False"}
    assert verdict.findings["mechanism"]["setting_chosen_as"] == "all trials"
    assert "reviews followed by padding: the last state fails" in " ".join(verdict.sentences)


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
