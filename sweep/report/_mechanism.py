"""The mechanism: test accuracy by share of padded timesteps and by review length.

With post-padding and no mask, a review shorter than maxlen is followed by padding steps that the
last state must carry its memory through, while a review that fills every timestep ends on a real
word. So the contrast the verdict reports is *reviews that fill all maxlen timesteps* (the "no
padding" bucket) against *all padded reviews*, pooled over the trials of one setting, each side
with a Wilson 95% interval. The same contrast for the reference (Flatten) head in the same setting
is the control: it sees the same reviews, so a difference there lies in the reviews (shorter ones
are easier or harder), not in the padding.

The length buckets are kept for the figure and the tables, not for the verdict: within one setting
"shorter than maxlen" is exactly "padded", so a short-versus-long split at maxlen *is* the padding
contrast, and any other split either mixes padded and unpadded reviews or, at the extremes,
rests on a handful of reviews (about 1% of IMDB test reviews have 1000 tokens or more).

The pooled intervals treat test predictions as independent; repeated seeds reuse the same test
reviews, so they are a little narrow. The overlap rule ("within noise" when the two intervals
overlap) is conservative enough to make up for it.

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
#: The label of the padded-share bucket of reviews that fill (or overflow) every timestep.
NO_PADDING = "no padding"
#: Readings of a padding contrast, from the two Wilson intervals.
UNPADDED_BETTER, PADDED_BETTER, WITHIN_NOISE = "unpadded_better", "padded_better", "within_noise"
SOURCE = ("per-bucket counts of correct test predictions, stored with each trial when it was "
          "evaluated")


def by_bucket(design: Design) -> pd.DataFrame | None:
    """Pooled accuracy (Wilson 95% CI) per bucket for each head x padding x mask_zero.

    Returns:
        One row per (bucket kind, setting, bucket): ``start`` is the bucket's lower edge, ``low``
        and ``high`` the interval of its accuracy. None (reason in ``design.notes``) when the
        trials hold no buckets.
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
                             "start": float(bucket["low"]), "n": int(bucket["n"]),
                             "correct": int(bucket["correct"])})
    if not rows:
        design.notes.append("The trials store no per-bucket test results (test_by_length, "
                            "test_by_padded_share), so accuracy by review length cannot be shown.")
        return None
    pooled = (pd.DataFrame(rows).groupby(["kind", *groups, "order", "bucket", "start"],
                                         sort=True)
              [["n", "correct"]].sum().reset_index())
    intervals = [proportion_ci(c, n) for c, n in zip(pooled["correct"], pooled["n"], strict=True)]
    pooled["accuracy"] = [ci["mean"] for ci in intervals]
    pooled["low"] = [ci["low"] for ci in intervals]
    pooled["high"] = [ci["high"] for ci in intervals]
    return pooled[pooled["n"] > 0].reset_index(drop=True)


def padding_contrast(table: pd.DataFrame, setting: Mapping[str, str]) -> dict[str, Any] | None:
    """Reviews that fill every timestep against padded ones, pooled over ``setting``'s trials.

    Args:
        table: what `by_bucket` returns.
        setting: levels (as labels) of some of ``GROUPS``; the others are pooled over.

    Returns:
        ``unpadded`` and ``padded`` (correct, n, accuracy, low, high), ``difference`` (unpadded
        minus padded accuracy) and ``judgement`` (``UNPADDED_BETTER``, ``PADDED_BETTER`` or
        ``WITHIN_NOISE``: the two 95% intervals overlap); None when the setting has no
        padded-share buckets or one side holds no review.
    """
    rows = table[table["kind"] == "test_by_padded_share"]
    for name, level in setting.items():
        if name not in rows:
            return None
        rows = rows[rows[name] == level]
    return _contrast(rows)


def trial_contrasts(design: Design, setting: Mapping[str, str]) -> list[dict[str, Any]]:
    """`padding_contrast` inside each trial of ``setting`` on its own, in trial order.

    The pooled contrast treats every test prediction as independent; this shows whether each
    run (seed) has the difference or only some do.
    """
    frame = design.complete
    if "test_by_padded_share" not in frame:
        return []
    for name, level in setting.items():
        if name not in frame:
            return []
        frame = frame[frame[name].map(level_label) == level]
    found = []
    for buckets in frame["test_by_padded_share"]:
        if not isinstance(buckets, list):
            continue
        rows = pd.DataFrame([{"bucket": _bucket_label("test_by_padded_share", b),
                              "n": int(b["n"]), "correct": int(b["correct"])} for b in buckets])
        contrast = _contrast(rows)
        if contrast is not None:
            found.append(contrast)
    return found


def _contrast(rows: pd.DataFrame) -> dict[str, Any] | None:
    """The contrast of `padding_contrast` over ``rows`` (bucket, n, correct)."""
    if rows.empty:
        return None
    unpadded = rows["bucket"] == NO_PADDING
    sides = {side: _pooled(rows[mask]) for side, mask in
             (("unpadded", unpadded), ("padded", ~unpadded))}
    if any(side["n"] == 0 for side in sides.values()):
        return None
    first, second = sides["unpadded"], sides["padded"]
    if first["low"] > second["high"]:
        judgement = UNPADDED_BETTER
    elif second["low"] > first["high"]:
        judgement = PADDED_BETTER
    else:
        judgement = WITHIN_NOISE
    return {**sides, "difference": first["accuracy"] - second["accuracy"],
            "judgement": judgement}


def padding_contrasts(table: pd.DataFrame) -> pd.DataFrame:
    """`padding_contrast` for every head x padding x mask_zero setting, one flat row each."""
    rows = table[table["kind"] == "test_by_padded_share"]
    groups = [g for g in GROUPS if g in rows]
    settings = rows[groups].drop_duplicates().to_dict("records") if groups else [{}]
    records = []
    for setting in settings if not rows.empty else []:
        found = padding_contrast(table, setting)
        if found is None:
            continue
        flat = {f"{side}_{key}": value for side in ("unpadded", "padded")
                for key, value in found[side].items()}
        records.append({**setting, **flat, "difference": found["difference"],
                        "judgement": found["judgement"]})
    return pd.DataFrame(records)


def _pooled(rows: pd.DataFrame) -> dict[str, float | int]:
    correct, n = int(rows["correct"].sum()), int(rows["n"].sum())
    ci = proportion_ci(correct, n)
    return {"correct": correct, "n": n, "accuracy": ci["mean"], "low": ci["low"],
            "high": ci["high"]}


def _bucket_label(column: str, bucket: Mapping[str, Any]) -> str:
    low, high = float(bucket["low"]), bucket["high"]
    high = math.inf if high is None else float(high)
    if column == "test_by_padded_share":
        if high <= 1e-6:
            return NO_PADDING
        return f"{low:.0%}–{min(high, 1.0):.0%}"
    if low <= 0:
        return f"< {high:g}"
    if math.isinf(high):
        return f"≥ {low:g}"
    return f"{low:g}–{high - 1:g}"
