"""The shape of a figure, shared by every measurement: the table and the tests read one format."""

from __future__ import annotations

import operator
import os
import platform
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

_COMPARE = {">=": operator.ge, "<=": operator.le}


def figure(benchmark: str, name: str, ratio: float, target: str | None,
           values: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    """One measured ratio, with the timings it came from and whether it meets its target.

    Args:
        benchmark: the measurement module's name, e.g. ``data``.
        name: what is divided by what, e.g. ``cold_over_cache_hit``.
        ratio: the figure itself.
        target: ``">= 20"`` or ``"<= 3"`` from the issue, or None where the issue sets none.
        values: the absolute timings and rates behind the ratio, with units in their keys.
        settings: what was measured (sizes, repeats), so two runs can be compared.
    """
    met = None
    if target is not None:
        op, bound = target.split()
        met = bool(_COMPARE[op](ratio, float(bound)))
    return {"benchmark": benchmark, "figure": name, "ratio": round(float(ratio), 4),
            "target": target, "met": met, "values": dict(values), "settings": dict(settings),
            "load": load()}


def load() -> dict[str, Any]:
    """The machine and how busy it was: on 2 shared cores, other work skews every timing."""
    return {"cpus": os.cpu_count(), "loadavg_1min": round(os.getloadavg()[0], 2),
            "machine": platform.machine()}


def median(samples: Sequence[float]) -> float:
    """Median of repeated timings: robust to one round disturbed by another process."""
    return float(statistics.median(samples))
