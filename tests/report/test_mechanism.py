"""The mechanism: reviews that fill every timestep against padded ones, from stored buckets."""

from __future__ import annotations

import pytest

from sweep.report._design import read_design
from sweep.report._mechanism import (
    PADDED_BETTER,
    UNPADDED_BETTER,
    WITHIN_NOISE,
    by_bucket,
    padding_contrast,
    padding_contrasts,
)

from ._synthetic import TEST_LENGTHS, trials_table

BROKEN = {"head": "last", "padding": "post", "mask_zero": "False"}


def test_last_state_fails_on_padded_reviews_with_post_padding_only() -> None:
    table = by_bucket(read_design(trials_table()))
    found = padding_contrast(table, BROKEN)
    filled = int((TEST_LENGTHS >= 500).sum())  # maxlen 500
    assert found["unpadded"]["n"] == 3 * filled  # pooled over three seeds
    assert found["padded"]["n"] == 3 * (len(TEST_LENGTHS) - filled)
    assert found["unpadded"]["accuracy"] == pytest.approx(0.78, abs=0.02)
    assert found["padded"]["accuracy"] == pytest.approx(0.5, abs=0.02)
    assert found["judgement"] == UNPADDED_BETTER and found["difference"] > 0.2
    assert found["unpadded"]["low"] > found["padded"]["high"]
    for healthy in ({**BROKEN, "padding": "pre"}, {**BROKEN, "mask_zero": "True"},
                    {**BROKEN, "head": "flatten"}):
        assert padding_contrast(table, healthy)["judgement"] == WITHIN_NOISE, healthy


def test_pooling_over_a_setting_and_the_table_of_every_setting() -> None:
    table = by_bucket(read_design(trials_table()))
    pooled = padding_contrast(table, {"head": "last"})
    assert pooled["padded"]["n"] == 4 * padding_contrast(table, BROKEN)["padded"]["n"]
    every = padding_contrasts(table)
    assert len(every) == 8
    assert set(every.loc[every["judgement"] == UNPADDED_BETTER, ["head", "padding", "mask_zero"]]
               .itertuples(index=False, name=None)) == {("last", "post", "False")}
    row = every.iloc[0]
    assert row["unpadded_correct"] <= row["unpadded_n"] and row["padded_low"] < row["padded_high"]


def test_padded_reviews_better_and_an_unknown_setting() -> None:
    table = by_bucket(read_design(trials_table(effect=0.0, short_penalty=-0.15)))
    assert padding_contrast(table, BROKEN)["judgement"] == PADDED_BETTER
    assert padding_contrast(table, {"head": "mean"}) is None


def test_no_contrast_when_every_review_is_padded() -> None:
    table = by_bucket(read_design(trials_table(extra={"maxlen": (5000,)})))
    assert padding_contrast(table, BROKEN) is None


def test_empty_buckets_are_dropped_and_labels_read_well() -> None:
    table = by_bucket(read_design(trials_table()))
    lengths = table[table["kind"] == "test_by_length"]
    assert "< 100" in set(lengths["bucket"]) and "≥ 1000" in set(lengths["bucket"])
    shares = set(table[table["kind"] == "test_by_padded_share"]["bucket"])
    assert shares == {"no padding", "0%–25%", "25%–50%", "50%–75%", "75%–100%"}
    at_5000 = by_bucket(read_design(trials_table(extra={"maxlen": (5000,)})))
    assert "no padding" not in set(at_5000["bucket"])


def test_trials_without_buckets_say_so() -> None:
    design = read_design(trials_table().drop(columns=["test_by_length", "test_by_padded_share"]))
    assert by_bucket(design) is None
    assert any("accuracy by review length cannot be shown" in note for note in design.notes)
