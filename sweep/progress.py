"""How far a study is, and `run_study`: start K local workers and show their progress.

Progress is read from the storage (trial states and per-epoch intermediate values), so the same
view works for local workers, docker compose replicas and workers on other hosts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import optuna
from optuna.trial import TrialState
from tqdm import tqdm

from sweep.errors import ConfigError
from sweep.runner import POLL_SECONDS, cell_key, prepare_study
from sweep.studyfile import StudySpec

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def _awaiting_retry(trials: list[optuna.trial.FrozenTrial]) -> set[int]:
    """Numbers of FAIL trials that a queued or later copy retries (they are not final)."""
    return {t.system_attrs["failed_trial"] for t in trials if "failed_trial" in t.system_attrs}


def study_status(study: optuna.Study) -> dict[str, Any]:
    """Counts by state, grid coverage, best trial, running epochs and an ETA, as a plain dict."""
    trials = study.get_trials(deepcopy=False)
    design = study.user_attrs.get("design", {})
    states = Counter(t.state.name for t in trials)
    retried = _awaiting_retry(trials)
    final_fail = [t for t in trials if t.state == TrialState.FAIL and t.number not in retried]
    done = [t for t in trials if t.state in FINISHED]
    total = design.get("total_trials") or len(trials)
    status: dict[str, Any] = {
        "study": study.study_name,
        "design": design.get("kind", "unknown"),
        "states": {state.name: states.get(state.name, 0) for state in TrialState},
        "finished": len(done) + len(final_fail),
        "total": total,
    }
    if design.get("kind") == "grid":
        cells = {cell_key(t.params) for t in trials if t.state == TrialState.COMPLETE}
        status["coverage"] = {"cells_done": len(cells), "cells_total": total}
    try:
        best = study.best_trial
        status["best"] = {"number": best.number, "value": best.value, "params": best.params}
    except ValueError:
        status["best"] = None
    running = [t for t in trials if t.state == TrialState.RUNNING]
    status["running"] = [
        {"number": t.number, "epoch": max(t.intermediate_values, default=0),
         "epochs": (t.user_attrs.get("config") or {}).get("epochs")} for t in running]
    seconds = [t.user_attrs["seconds"] for t in done if t.user_attrs.get("seconds")]
    remaining = max(0, total - status["finished"])
    status["eta_seconds"] = (remaining * (sum(seconds) / len(seconds)) / max(1, len(running))
                             if seconds and remaining else (0.0 if not remaining else None))
    return status


def _describe_running(status: dict[str, Any]) -> str:
    return ", ".join(f"#{r['number']} epoch {r['epoch']}/{r['epochs'] or '?'}"
                     for r in status["running"])


def default_layout(workers: int | None = None, threads: int | None = None,
                   cores: int | None = None) -> tuple[int, int]:
    """(workers, threads per worker) for a local run; K workers on C cores get C/K threads.

    By default one single-threaded worker per core: a small LSTM's step is too small to keep
    two cores busy, so two trials side by side finish sooner (benchmarks/workers.py).
    """
    cores = cores or os.cpu_count() or 1
    workers = workers or cores
    return workers, threads or max(1, cores // workers)


def run_study(spec: StudySpec, url: str, workers: int | None = None,
              data_path: str | None = None, threads: int | None = None,
              n_trials: int | None = None, show_progress: bool = True) -> dict[str, Any]:
    """Prepare the study, run local worker processes, and return the final status.

    ``workers`` and ``threads`` default to `default_layout`.
    """
    if spec.is_grid and n_trials is not None:
        raise ConfigError("--n-trials applies to tpe/random designs; a grid runs every cell once")
    study, added = prepare_study(spec, url, data_path)
    before = study_status(study)
    if spec.is_grid and not added and before["finished"] >= before["total"] \
            and not before["running"]:
        before["message"] = (f"study '{spec.name}' is complete: {before['finished']} trials "
                             "finished, nothing to run")
        return before
    workers, per_worker = default_layout(workers, threads)
    command = [sys.executable, "-m", "sweep", "worker", str(spec.path), "--storage", url,
               "--threads", str(per_worker), "--quiet"]
    if data_path:
        command += ["--data", str(data_path)]
    if n_trials is not None:
        command += ["--n-trials", str(n_trials)]
    children = [subprocess.Popen(command) for _ in range(workers)]
    bar = tqdm(total=before["total"], initial=before["finished"], unit="trial",
               desc=spec.name, disable=not show_progress, file=sys.stderr)
    try:
        while any(child.poll() is None for child in children):
            time.sleep(POLL_SECONDS)
            _refresh(bar, study)
    except KeyboardInterrupt:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        raise
    final = _refresh(bar, study)
    bar.close()
    final["worker_exit_codes"] = [child.returncode for child in children]
    final["message"] = (f"study '{spec.name}': {final['finished']}/{final['total']} trials "
                        f"finished ({final['states']['COMPLETE']} complete, "
                        f"{final['states']['PRUNED']} pruned, {final['states']['FAIL']} failed)")
    return final


def _refresh(bar: tqdm, study: optuna.Study) -> dict[str, Any]:
    status = study_status(study)
    bar.total = max(bar.total or 0, status["total"])
    bar.n = status["finished"]
    bar.set_postfix_str(_describe_running(status), refresh=False)
    bar.refresh()
    return status
