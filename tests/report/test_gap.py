"""Paired gaps on tables with a known effect: +0.25 only with post-padding and no mask."""

from __future__ import annotations

import pandas as pd
import pytest

from sweep.report._design import read_design
from sweep.report._gap import paired_gaps, split_gap

from ._synthetic import trials_table


def _row(table, **where):
    rows = table
    for key, value in where.items():
        rows = rows[rows[key] == value]
    assert len(rows) == 1, where
    return rows.iloc[0]


@pytest.mark.parametrize("rng", [0, 1, 2])
def test_gap_is_in_the_post_no_mask_cell_only(rng: int) -> None:
    gaps = paired_gaps(read_design(trials_table(rng=rng)))
    broken = _row(gaps.by_setting, padding="post", mask_zero="False")
    assert broken["low"] > 0 and broken["mean"] == pytest.approx(0.25, abs=0.05)
    for padding, mask in [("pre", "False"), ("pre", "True"), ("post", "True")]:
        cell = _row(gaps.by_setting, padding=padding, mask_zero=mask)
        assert cell["low"] < 0 < cell["high"], (padding, mask)
    pre = _row(gaps.by_level, factor="padding", level="pre")
    assert pre["low"] < 0 < pre["high"] and pre["n"] == 6


def test_pairs_share_seed_and_setting() -> None:
    table = trials_table(seeds=(0, 1))
    gaps = paired_gaps(read_design(table))
    assert len(gaps.pairs) == 8 and set(gaps.pairs["other"]) == {"last"}
    pair = gaps.pairs.iloc[0]
    same = table[(table["padding"] == pair["padding"]) & (table["mask_zero"] == pair["mask_zero"])
                 & (table["seed"] == pair["seed"])].set_index("head")["test_accuracy"]
    assert pair["gap"] == pytest.approx(same["flatten"] - same["last"])


def test_repeated_runs_are_averaged_and_unpaired_runs_dropped() -> None:
    table = trials_table(seeds=(0, 1))
    repeat = table.iloc[[0]].assign(number=99, test_accuracy=table.iloc[0]["test_accuracy"] + 0.1)
    lonely = table[table["head"] == "last"].iloc[[0]].assign(number=100, seed=7)
    gaps = paired_gaps(read_design(pd.concat([table, repeat, lonely], ignore_index=True)))
    assert len(gaps.pairs) == 8  # the seed-7 run has no flatten partner
    first = gaps.pairs[(gaps.pairs["seed"] == table.iloc[0]["seed"])
                       & (gaps.pairs["padding"] == table.iloc[0]["padding"])
                       & (gaps.pairs["mask_zero"] == table.iloc[0]["mask_zero"])]
    assert first["reference_accuracy"].iloc[0] == pytest.approx(
        table.iloc[0]["test_accuracy"] + 0.05)


def test_split_gap_inside_and_outside_a_cell() -> None:
    gaps = paired_gaps(read_design(trials_table()))
    inside, outside = split_gap(gaps, "last", {"padding": "post", "mask_zero": "False"})
    assert inside["n"] == 3 and outside["n"] == 9
    assert inside["low"] > 0.15 and abs(outside["mean"]) < 0.03


def test_one_head_has_no_gap() -> None:
    design = read_design(trials_table(heads=("flatten",)))
    assert paired_gaps(design) is None
    assert any("Only one head (flatten)" in note for note in design.notes)


def test_no_matching_settings_means_no_gap() -> None:
    table = trials_table(seeds=(0,))
    table.loc[table["head"] == "last", "dropout"] = 0.3  # a search never repeats a setting
    design = read_design(table)
    assert paired_gaps(design) is None
    assert any("paired gaps cannot be computed" in note for note in design.notes)
