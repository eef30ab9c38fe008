"""trial_overhead, workers, storage and report_scaling run on quick settings and emit well-formed
figures (not timed: the numbers themselves are not checked).

The measurements run in this process (one TensorFlow import for all of them); ``workers`` starts
``sweep run`` subprocesses itself. The PostgreSQL figure never skips in CI (``CI=true``).
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import pytest

from benchmarks import report_scaling, storage, trial_overhead, workers

FIGURE_KEYS = {"benchmark", "figure", "ratio", "target", "met", "values", "settings", "load"}


def _check(figure: dict[str, Any], benchmark: str, name: str, target: str | None) -> None:
    assert set(figure) == FIGURE_KEYS
    assert (figure["benchmark"], figure["figure"], figure["target"]) == (benchmark, name, target)
    assert isinstance(figure["ratio"], float) and math.isfinite(figure["ratio"])
    assert figure["ratio"] > 0
    if target is None:
        assert figure["met"] is None
    else:
        op, bound = target.split()
        assert figure["met"] is (figure["ratio"] >= float(bound) if op == ">="
                                 else figure["ratio"] <= float(bound))
    assert figure["settings"]["quick"] is True
    assert set(figure["load"]) == {"cpus", "loadavg_1min", "machine"}
    for key, value in figure["values"].items():
        if key.endswith(("_seconds", "_per_hour", "_per_trial")):
            assert isinstance(value, float) and math.isfinite(value), key
    json.dumps(figure)  # printed as one JSON line by python -m benchmarks


def test_trial_overhead() -> None:
    figure, cpu = trial_overhead.run(quick=True)
    _check(figure, "trial_overhead", "sweep_trial_over_bare_fit", "<= 1.05")
    _check(cpu, "trial_overhead", "sweep_trial_over_bare_fit_cpu", None)
    values = figure["values"]
    assert 0 < values["sweep_train_seconds"] < values["sweep_trial_seconds"]
    assert values["bare_fit_seconds"] > 0


def test_workers() -> None:
    [figure] = workers.run(quick=True)
    _check(figure, "workers", "default_layout_over_other_trials_per_hour", ">= 1.0")
    values = figure["values"]
    measured = {key.removesuffix("_trials_per_hour") for key in values
                if key.endswith("_trials_per_hour") and "span" not in key}
    cores = figure["settings"]["cores"]
    assert {f"1x{cores}", f"{cores}x1"} <= measured
    assert {values["faster_layout"], values["default_layout"]} <= measured
    assert values["default_is_faster"] is (values["faster_layout"] == values["default_layout"])


def test_storage_sqlite() -> None:
    figure = storage.measure("sqlite", quick=True)
    _check(figure, "storage", "sweep_over_optuna_sqlite", "<= 1.2")
    assert figure["values"]["trials"] == 20


@pytest.mark.postgres
def test_storage_postgresql() -> None:
    try:
        figure = storage.measure("postgresql", quick=True)
    except storage.PostgresUnavailable as err:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {err}")
        pytest.skip(str(err))
    _check(figure, "storage", "sweep_over_optuna_postgresql", "<= 1.2")
    assert figure["values"]["trials"] == 20


def test_report_scaling() -> None:
    [figure] = report_scaling.run(quick=True)
    _check(figure, "report_scaling", "large_over_small_seconds", "<= 12")
    values = figure["values"]
    assert values["large_trials"] == 10 * values["small_trials"]
    assert set(values["large_seconds_by_stage"]) == set(report_scaling.STAGES)
