"""`report_scaling`: time to build the report for 200 vs 2,000 synthetic trials (10x the trials).

The trials are the report tests' synthetic grid (`tests/report/_synthetic.py`): head x padding x
mask_zero (8 settings) x 25 or 250 seeds, with per-epoch histories and test buckets, in an
in-memory Optuna study as well, so `sweep.report.build_report` computes everything ``sweep report``
does, Optuna's PED-ANOVA importances included. The study is built before the clock starts.

The PNG copies are off in the timed builds: writing them launches Chromium (kaleido) for about five
seconds whatever the size, which would dominate at 200 trials and flatten the ratio. Full runs also
build each size once with PNGs on and report those seconds beside the others, plus the seconds spent
in each stage of the build, so a step that grows faster than the trials shows where it is. The ANOVA
(statsmodels, a seed block of one column per seed) runs on OpenBLAS's threads, which slow down badly
when other processes hold the cores: ``OPENBLAS_NUM_THREADS`` is recorded with the settings.
Target (issue 6): 2,000 trials take <= 12x as long as 200 (near-linear, no quadratic step).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import optuna
import pandas as pd

from benchmarks._common import figure, median
from sweep.report import _build, build_report
from tests.report._synthetic import add_to_study, trials_table

#: Seeds per setting: 8 settings x 25 = 200 trials, x 250 = 2,000.
FULL = {"small_seeds": 25, "large_seeds": 250}
QUICK = {"small_seeds": 2, "large_seeds": 20}
FACTORS = ["head", "padding", "mask_zero"]
#: The stages of `build_report`, each timed where `_build` calls it.
STAGES = ("read_design", "paired_gaps", "decompose", "importances", "by_bucket",
          "learning_curves", "capacity", "write_verdict", "_figures", "_sections", "render_html",
          "render_markdown", "_write_trials")


def synthetic_study(n_seeds: int) -> tuple[pd.DataFrame, dict[str, Any], optuna.Study]:
    """The trials table, its design record, and an in-memory study holding the same trials."""
    seeds = list(range(n_seeds))
    frame = trials_table(seeds=seeds)
    design = {"kind": "grid", "factors": FACTORS, "seeds": seeds,
              "objective": {"metric": "test_accuracy", "direction": "maximize"}}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="scaling", direction="maximize")
    study.set_user_attr("design", design)
    add_to_study(study, frame, [*FACTORS, "seed"])
    return frame, design, study


@contextlib.contextmanager
def _stage_timer(into: dict[str, float]) -> Iterator[None]:
    """Add the seconds spent in each of `STAGES` to ``into`` while inside."""

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                into[name] += time.perf_counter() - started
        return wrapper

    with contextlib.ExitStack() as stack:
        for name in STAGES:
            stack.enter_context(mock.patch.object(_build, name, timed(name, getattr(_build, name))))
        yield


def _no_pngs(figures: dict, directory: Path) -> tuple[list[Path], None]:
    return [], None


def _build_once(inputs: tuple[pd.DataFrame, dict[str, Any], optuna.Study], out: Path,
                pngs: bool, stages: dict[str, float] | None = None) -> float:
    frame, design, study = inputs
    with contextlib.ExitStack() as stack:
        if not pngs:
            stack.enter_context(mock.patch("sweep.report._figures.write_pngs", _no_pngs))
        if stages is not None:
            stack.enter_context(_stage_timer(stages))
        started = time.perf_counter()
        summary = build_report(frame, out, "scaling", design=design, study=study)
        seconds = time.perf_counter() - started
    if summary["design"]["trials"]["complete"] != len(frame):
        raise RuntimeError("the report did not count every synthetic trial")
    return seconds


def run(quick: bool) -> list[dict[str, Any]]:
    """Interleave builds of the small and the large report; the ratio of their median times."""
    sizes = QUICK if quick else FULL
    rounds = 1 if quick else 3
    inputs = {"small": synthetic_study(sizes["small_seeds"]),
              "large": synthetic_study(sizes["large_seeds"])}
    seconds: dict[str, list[float]] = {"small": [], "large": []}
    stages: dict[str, list[dict[str, float]]] = {"small": [], "large": []}
    png_seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="sweep-bench-report-") as tmp:
        for name in inputs:  # warm-up: imports, plotly templates, first statsmodels fit
            _build_once(inputs[name], Path(tmp) / f"warm-{name}", pngs=False)
        for number in range(rounds):
            for name in inputs:
                spent: dict[str, float] = defaultdict(float)
                seconds[name].append(_build_once(inputs[name], Path(tmp) / f"{name}-{number}",
                                                 pngs=False, stages=spent))
                stages[name].append(spent)
        if not quick:
            for name in inputs:
                png_seconds[name] = _build_once(inputs[name], Path(tmp) / f"{name}-png", pngs=True)
    values: dict[str, Any] = {}
    for name, (frame, _, _) in inputs.items():
        values[f"{name}_trials"] = len(frame)
        values[f"{name}_seconds"] = median(seconds[name])
        if name in png_seconds:
            values[f"{name}_with_pngs_seconds"] = png_seconds[name]
        values[f"{name}_seconds_by_stage"] = {
            stage: round(median([spent[stage] for spent in stages[name]]), 4) for stage in STAGES}
    settings = {"quick": quick, "rounds": rounds, "pngs": False, "optuna_study": True,
                "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
                "design": "head x padding x mask_zero x seeds", **sizes}
    return [figure("report_scaling", "large_over_small_seconds",
                   values["large_seconds"] / values["small_seconds"], "<= 12", values, settings)]
