"""Accuracy by review length, pooled from each trial's stored test buckets."""

from __future__ import annotations

import pytest

from sweep.report._design import read_design
from sweep.report._mechanism import by_bucket, extremes

from ._synthetic import LENGTH_COUNTS, trials_table


def test_last_state_fails_on_short_reviews_with_post_padding_only() -> None:
    table = by_bucket(read_design(trials_table()))
    broken = {"head": "last", "padding": "post", "mask_zero": "False"}
    short, long = extremes(table, broken)
    assert short["bucket"] == "< 100" and long["bucket"] == "500–999"
    assert short["accuracy"] == pytest.approx(0.5, abs=0.02)
    assert short["n"] == 3 * LENGTH_COUNTS[0]  # pooled over three seeds
    assert short["high"] < long["low"]
    healthy_short, healthy_long = extremes(table, {**broken, "padding": "pre"})
    assert healthy_short["low"] < healthy_long["accuracy"] < healthy_short["high"]


def test_empty_buckets_are_dropped_and_labels_read_well() -> None:
    table = by_bucket(read_design(trials_table()))
    lengths = table[table["kind"] == "test_by_length"]
    assert "≥ 1000" not in set(lengths["bucket"])  # no review that long at maxlen 500
    shares = set(table[table["kind"] == "test_by_padded_share"]["bucket"])
    assert shares == {"no padding", "0%–25%", "25%–50%", "50%–75%", "75%–100%"}


def test_trials_without_buckets_say_so() -> None:
    design = read_design(trials_table().drop(columns=["test_by_length", "test_by_padded_share"]))
    assert by_bucket(design) is None
    assert any("accuracy by review length cannot be shown" in note for note in design.notes)
