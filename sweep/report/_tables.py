"""Tables as a reader sees them (percent, points, rounded), shared by index.html and summary.md."""

from __future__ import annotations

import math

import pandas as pd

from sweep.report._anova import Anova
from sweep.report._gap import Gaps
from sweep.report._importance import Importances
from sweep.report._mechanism import BUCKETS, PADDED_BETTER, UNPADDED_BETTER, WITHIN_NOISE

#: How the contrast table words each judgement of `sweep.report._mechanism.padding_contrast`.
READINGS = {UNPADDED_BETTER: "worse on padded reviews", PADDED_BETTER: "better on padded reviews",
            WITHIN_NOISE: "within noise"}


def gap_tables(gaps: Gaps) -> dict[str, pd.DataFrame]:
    """Overall, by factor level and by setting; gaps in accuracy points with 95% CIs."""
    tables = {"Mean gap per compared head": _ci_columns(gaps.overall, ["other"])}
    if not gaps.by_level.empty:
        tables["Gap by factor level"] = _ci_columns(gaps.by_level, ["other", "factor", "level"])
    keys = [c for c in gaps.by_setting.columns if c not in ("mean", "low", "high", "n")]
    if len(keys) > 1:
        tables["Gap in each setting (over seeds)"] = _ci_columns(gaps.by_setting, keys)
    return {title: table.rename(columns={"other": "compared with"})
            for title, table in tables.items()}


def anova_table(anova: Anova) -> pd.DataFrame:
    """One row per term: degrees of freedom, share of variance, F and p."""
    table = anova.table
    return pd.DataFrame({
        "term": table["term"], "df": table["df"].map(lambda v: f"{v:g}"),
        "share of variance": table["share"].map(_percent),
        "F": table["F"].map(lambda v: f"{v:.1f}" if math.isfinite(v) else ""),
        "p": table["p"].map(_p),
        "p (Holm, head × factor terms)": table["p_holm"].map(_p),
    })


def importance_table(values: Importances) -> pd.DataFrame:
    """Parameters by importance."""
    return pd.DataFrame({"parameter": list(values.values),
                         "importance": [_percent(v) for v in values.values.values()]})


def capacity_table(table: pd.DataFrame) -> pd.DataFrame:
    """Medians per head: parameters, accuracies in percent, train minus validation in points."""
    shown = table.copy()
    for column in ("train_accuracy", "best_val_accuracy", "test_accuracy"):
        if column in shown:
            shown[column] = shown[column].map(_percent)
    if "n_params" in shown:
        shown["n_params"] = shown["n_params"].map(lambda v: f"{v:,.0f}")
    if "overfit" in shown:
        shown["overfit"] = shown["overfit"].map(lambda v: f"{v * 100:+.1f}")
        shown = shown.rename(columns={"overfit": "train − val (points)"})
    return shown


def bucket_tables(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Accuracy (percent) with n per setting (rows) and bucket (columns), one table per kind."""
    tables = {}
    for kind, rows in table.groupby("kind", sort=False):
        settings = [c for c in ("head", "padding", "mask_zero") if c in rows]
        cells = rows.assign(cell=[f"{a:.0%} ({n})"
                                  for a, n in zip(rows["accuracy"], rows["n"], strict=True)])
        order = cells.drop_duplicates("bucket").sort_values("order")["bucket"]
        wide = cells.pivot_table(index=settings, columns="bucket", values="cell",
                                 aggfunc="first")
        tables[f"Test accuracy (n reviews) by {BUCKETS[kind]}"] = (
            wide[[b for b in order if b in wide]].reset_index())
    return tables


def contrast_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per setting: accuracy on unpadded and padded reviews (95% CI, n), difference, reading."""
    settings = [c for c in ("head", "padding", "mask_zero") if c in table]
    shown = table[settings].copy()
    for side, title in (("unpadded", "fill every timestep"), ("padded", "padded")):
        shown[title] = [f"{a:.0%} ({lo:.0%}–{hi:.0%}, n={n:,})" for a, lo, hi, n in zip(
            table[f"{side}_accuracy"], table[f"{side}_low"], table[f"{side}_high"],
            table[f"{side}_n"], strict=True)]
    shown["difference (points)"] = table["difference"].map(lambda v: f"{v * 100:+.1f}")
    shown["reading"] = table["judgement"].map(READINGS)
    return shown


def _ci_columns(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    shown = table[keys].copy()
    shown["mean gap (points)"] = table["mean"].map(lambda v: f"{v * 100:+.1f}")
    shown["95% CI (points)"] = [
        f"{lo * 100:+.1f} to {hi * 100:+.1f}" if math.isfinite(lo) else "n/a (n < 2)"
        for lo, hi in zip(table["low"], table["high"], strict=True)]
    shown["n"] = table["n"].astype(int)
    return shown


def _percent(value: float) -> str:
    return f"{value:.1%}" if math.isfinite(value) else ""


def _p(value: float) -> str:
    if not math.isfinite(value):
        return ""
    return "< 0.001" if value < 0.001 else f"{value:.3f}"
