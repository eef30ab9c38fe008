"""The flatten gap, paired: same seed and same other settings, different head.

Pairing removes what the two runs share (data subset, initial seed, padding...), so the interval of
the mean gap reflects the head alone. Repeated runs of one configuration are averaged first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from sweep.report._design import Design, level_label
from sweep.report._stats import mean_ci


@dataclass
class Gaps:
    """Paired gaps ``reference - other`` and their summaries."""

    reference: str
    pairs: pd.DataFrame  # one row per (other head, setting, seed): keys, other, gap
    overall: pd.DataFrame  # per other head
    by_level: pd.DataFrame  # per other head, factor, level
    by_setting: pd.DataFrame  # per other head and combination of categorical factors
    notes: list[str] = field(default_factory=list)


def paired_gaps(design: Design) -> Gaps | None:
    """Pair each non-reference trial with the reference-head trial that shares all else.

    Returns:
        The gaps, or None when the study has one head or no pair could be formed (the reason is
        appended to ``design.notes``).
    """
    reference = design.reference
    if reference is None:
        return None
    frame = design.complete
    keys = list(design.factors) + (["seed"] if "seed" in frame else [])
    grouped = (frame.assign(head=frame["head"].astype(str))
               .groupby([*keys, "head"], dropna=False)[design.response].mean())
    wide = grouped.unstack("head") if keys else grouped.to_frame().T
    rows = []
    for other in design.others:
        if other not in wide or reference not in wide:
            continue
        both = wide[[reference, other]].dropna()
        if both.empty:
            continue
        part = both.reset_index()[keys] if keys else pd.DataFrame(index=range(len(both)))
        part = part.assign(other=other, reference_accuracy=both[reference].to_numpy(),
                           other_accuracy=both[other].to_numpy(),
                           gap=(both[reference] - both[other]).to_numpy())
        rows.append(part)
    if not rows:
        design.notes.append(
            f"No trial of another head shares every setting and seed with a {reference} trial "
            "(usual in search studies), so paired gaps cannot be computed; see the ANOVA "
            "for the head's effect instead.")
        return None
    pairs = pd.concat(rows, ignore_index=True)
    categorical = [f for f in design.factors if design.is_categorical(f)]
    notes = [f"'{f}' takes many values, so its effect on the gap is read from the ANOVA slope, "
             "not by level." for f in design.factors if f not in categorical]
    return Gaps(reference=reference, pairs=pairs, overall=_summaries(pairs, []),
                by_level=_by_level(pairs, categorical),
                by_setting=_summaries(pairs, categorical), notes=notes)


def _summaries(pairs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    rows = []
    for index, part in pairs.groupby(["other", *keys], dropna=False, sort=True):
        values = index if isinstance(index, tuple) else (index,)
        labels = dict(zip(["other", *keys], values, strict=True))
        rows.append({**{k: level_label(v) for k, v in labels.items()}, **mean_ci(part["gap"])})
    return pd.DataFrame(rows)


def _by_level(pairs: pd.DataFrame, factors: list[str]) -> pd.DataFrame:
    rows = []
    for factor in factors:
        for (other, level), part in pairs.groupby(["other", factor], dropna=False, sort=True):
            rows.append({"other": other, "factor": factor, "level": level_label(level),
                         **mean_ci(part["gap"])})
    columns = ["other", "factor", "level", "mean", "low", "high", "n"]
    return pd.DataFrame(rows, columns=columns)


def split_gap(gaps: Gaps, other: str, where: Mapping[str, str]) -> tuple[dict, dict]:
    """Gap inside the cell ``where`` (factor -> level label) and in all other settings."""
    pairs = gaps.pairs[gaps.pairs["other"] == other]
    inside = pd.Series(True, index=pairs.index)
    for factor, level in where.items():
        inside &= pairs[factor].map(level_label) == level
    return mean_ci(pairs.loc[inside, "gap"]), mean_ci(pairs.loc[~inside, "gap"])
