"""The mechanism: test accuracy by review length and by share of padded timesteps.

With post-padding and no mask, a short review is followed by hundreds of padding steps that the
last state must carry its memory through, so a last-state head should fail most on short reviews.
The buckets come from each trial's own test predictions, counted at trial time
(`sweep.training._buckets`); no model is re-evaluated here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from sweep.report._design import Design, level_label
from sweep.report._stats import proportion_ci

#: Trial columns holding the buckets, and what the report calls them.
BUCKETS = {"test_by_length": "review length (tokens)",
           "test_by_padded_share": "share of padded timesteps"}
#: Settings the mechanism is broken down by, when the trials record them.
GROUPS = ("head", "padding", "mask_zero")
SOURCE = ("per-bucket counts of correct test predictions, stored with each trial when it was "
          "evaluated")


def by_bucket(design: Design) -> pd.DataFrame | None:
    """Pooled accuracy (Wilson 95% CI) per bucket for each head x padding x mask_zero.

    Returns:
        One row per (bucket kind, setting, bucket), or None (reason in ``design.notes``) when
        the trials hold no buckets.
    """
    frame = design.complete
    groups = [g for g in GROUPS if g in frame]
    rows = []
    for column in BUCKETS:
        if column not in frame:
            continue
        for _, trial in frame.iterrows():
            buckets = trial[column]
            if not isinstance(buckets, list):
                continue
            for order, bucket in enumerate(buckets):
                rows.append({"kind": column, **{g: level_label(trial[g]) for g in groups},
                             "order": order, "bucket": _bucket_label(column, bucket),
                             "n": int(bucket["n"]), "correct": int(bucket["correct"])})
    if not rows:
        design.notes.append("The trials store no per-bucket test results (test_by_length, "
                            "test_by_padded_share), so accuracy by review length cannot be shown.")
        return None
    pooled = (pd.DataFrame(rows).groupby(["kind", *groups, "order", "bucket"], sort=True)
              [["n", "correct"]].sum().reset_index())
    intervals = [proportion_ci(c, n) for c, n in zip(pooled["correct"], pooled["n"], strict=True)]
    pooled["accuracy"] = [ci["mean"] for ci in intervals]
    pooled["low"] = [ci["low"] for ci in intervals]
    pooled["high"] = [ci["high"] for ci in intervals]
    return pooled[pooled["n"] > 0].reset_index(drop=True)


def extremes(table: pd.DataFrame, setting: Mapping[str, str],
             kind: str = "test_by_length") -> tuple[dict, dict] | None:
    """Accuracy in the first and last non-empty bucket for one setting (shortest vs longest)."""
    rows = table[table["kind"] == kind]
    for name, level in setting.items():
        if name not in rows:
            return None
        rows = rows[rows[name] == level]
    rows = rows.sort_values("order")
    if len(rows) < 2:
        return None
    first, last = rows.iloc[0], rows.iloc[-1]
    return first.to_dict(), last.to_dict()


def _bucket_label(column: str, bucket: Mapping[str, Any]) -> str:
    low, high = float(bucket["low"]), bucket["high"]
    high = math.inf if high is None else float(high)
    if column == "test_by_padded_share":
        if high <= 1e-6:
            return "no padding"
        return f"{low:.0%}–{min(high, 1.0):.0%}"
    if low <= 0:
        return f"< {high:g}"
    if math.isinf(high):
        return f"≥ {low:g}"
    return f"{low:g}–{high - 1:g}"
