"""Confidence intervals for every table, from statsmodels rather than hand-written formulas."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

#: Two-sided confidence level of every interval in the report.
LEVEL = 0.95


def mean_ci(values: Iterable[float]) -> dict[str, float | int]:
    """Mean and Student-t 95% interval; the interval is NaN with fewer than two values."""
    data = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if data.size == 0:
        return {"mean": math.nan, "low": math.nan, "high": math.nan, "n": 0}
    if data.size < 2:
        return {"mean": float(data[0]), "low": math.nan, "high": math.nan, "n": 1}
    stats = DescrStatsW(data)
    if stats.std == 0:  # identical values: the interval collapses to the point
        low = high = float(stats.mean)
    else:
        low, high = (float(x) for x in stats.tconfint_mean(alpha=1 - LEVEL))
    return {"mean": float(stats.mean), "low": low, "high": high, "n": int(data.size)}


def proportion_ci(correct: int, n: int) -> dict[str, float | int]:
    """Accuracy of ``correct`` out of ``n`` with a Wilson 95% interval (honest for small n)."""
    if n <= 0:
        return {"mean": math.nan, "low": math.nan, "high": math.nan, "n": 0}
    low, high = proportion_confint(correct, n, alpha=1 - LEVEL, method="wilson")
    return {"mean": correct / n, "low": float(low), "high": float(high), "n": int(n)}
