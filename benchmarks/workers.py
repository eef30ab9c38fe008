"""`workers`: trials per hour of a small grid, 1 worker x 2 threads against 2 workers x 1 thread.

Each layout runs the same grid (2 heads x N seeds of the question's model on generated reviews,
arrays cached beforehand) with ``sweep run --workers K --threads T`` in a subprocess, on a fresh
SQLite file, as a user would; the layouts alternate over the rounds. The rate is the grid's trials
over the command's wall-clock seconds (process start, TensorFlow import and study set-up included),
and, beside it, over the span from the first trial's start to the last one's end in storage (the
steady state of a long study). ``SWEEP_POLL_SECONDS`` is set to 0.25 s in the children so that
the parent's progress poll (2 s by default) does not round every run up to its next tick.

The default layout is what ``sweep run`` picks without ``--workers`` and ``--threads``: the
``--workers`` default of the command, and cores / workers threads (`sweep.progress.run_study`).
A worker that exits non-zero does not stop the measurement if the grid still completes (another
worker takes over); the count is reported as ``*_failed_workers`` and its log goes to stderr.
Target (issue 6): the default layout is the faster one, i.e. its rate >= 1.0x the other's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import optuna
import yaml

from benchmarks._common import figure, median
from benchmarks.data import cache_dir
from sweep.data import load_dataset
from sweep.params import resolve

ROOT = Path(__file__).resolve().parents[1]
#: The question's model on generated reviews; one short epoch per trial.
FULL = {"data": {"source": "synthetic", "n_train": 320, "n_val": 100, "n_test": 0,
                 "maxlen": 300},
        "fixed": {"embedding_dim": 128, "units": 128, "batch_size": 32, "epochs": 1},
        "seeds": 4}
QUICK = {"data": {"source": "synthetic", "n_train": 32, "n_val": 16, "n_test": 0, "maxlen": 20,
                  "vocab_size": 500},
         "fixed": {"embedding_dim": 8, "units": 8, "batch_size": 16, "epochs": 1},
         "seeds": 1}
HEADS = ["flatten", "last"]


def layouts(cores: int) -> list[tuple[int, int]]:
    """(workers, threads): one worker using every core, one single-threaded worker per core, and
    the default if it is neither; on 2 cores, the issue's 1 x 2 and 2 x 1."""
    found = [(1, cores), (cores, 1)]
    return found + [default_layout(cores)] if default_layout(cores) not in found else found


def default_layout(cores: int | None = None) -> tuple[int, int]:
    """The (workers, threads) ``sweep run`` uses when given neither option, on ``cores``."""
    from sweep.progress import default_layout as sweep_default

    return sweep_default(cores=cores)


def write_study(directory: Path, settings: dict[str, Any]) -> Path:
    """The grid's study file."""
    study = {"name": "workers-bench", "data": settings["data"], "fixed": settings["fixed"],
             "design": "grid", "factors": {"head": HEADS},
             "seeds": list(range(settings["seeds"]))}
    path = directory / "workers-bench.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    return path


def run_layout(study_file: Path, url: str, workers: int, threads: int,
               cache: Path) -> dict[str, Any]:
    """``sweep run`` one layout to the end; its wall-clock and in-storage seconds."""
    command = [sys.executable, "-m", "sweep", "run", str(study_file), "--storage", url,
               "--workers", str(workers), "--threads", str(threads), "--json"]
    env = {**os.environ, "SWEEP_CACHE_DIR": str(cache), "SWEEP_POLL_SECONDS": "0.25",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                          check=False)
    seconds = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        raise RuntimeError(f"sweep run --workers {workers} --threads {threads} failed:\n"
                           f"{done.stderr[-3000:]}")
    status = json.loads(lines[-1])
    failed_workers = sum(code != 0 for code in status["worker_exit_codes"])
    if failed_workers:  # the grid may still be complete (another worker took over): keep the run
        print(f"workers: {failed_workers} of {workers} workers exited non-zero "
              f"(--workers {workers} --threads {threads}):\n{done.stderr[-3000:]}",
              file=sys.stderr)
    storage = optuna.storages.RDBStorage(url)
    try:
        trials = optuna.load_study(study_name="workers-bench", storage=storage).trials
    finally:
        storage.engine.dispose()
    span = (max(t.datetime_complete for t in trials)
            - min(t.datetime_start for t in trials)).total_seconds()
    return {"seconds": seconds, "span_seconds": span, "complete": status["states"]["COMPLETE"],
            "failed_workers": failed_workers,
            "mean_trial_seconds": sum((t.datetime_complete - t.datetime_start).total_seconds()
                                      for t in trials) / len(trials)}


def run(quick: bool) -> list[dict[str, Any]]:
    """Alternate the layouts over the rounds; compare the default's trials per hour to the other."""
    settings = QUICK if quick else FULL
    rounds = 1 if quick else 2
    trials = len(HEADS) * settings["seeds"]
    cores = max(2, os.cpu_count() or 1)
    order = layouts(cores)
    names = {layout: f"{layout[0]}x{layout[1]}" for layout in order}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names.values()}
    with tempfile.TemporaryDirectory(prefix="sweep-bench-workers-") as tmp:
        cache = Path(tmp) / "cache"
        with cache_dir(cache):  # arrays cached before anything is timed
            load_dataset(resolve({**settings["data"], **settings["fixed"]}))
        study_file = write_study(Path(tmp), settings)
        for number in range(rounds):
            for layout in order if number % 2 == 0 else order[::-1]:
                url = f"sqlite:///{Path(tmp) / f'{names[layout]}-{number}.db'}"
                result = run_layout(study_file, url, *layout, cache)
                if result["complete"] != trials:
                    raise RuntimeError(f"{names[layout]} completed {result['complete']} of "
                                       f"{trials} trials")
                runs[names[layout]].append(result)
    values: dict[str, Any] = {"trials": trials}
    for name, results in runs.items():
        values[f"{name}_seconds"] = median([r["seconds"] for r in results])
        values[f"{name}_trials_per_hour"] = 3600 * trials / values[f"{name}_seconds"]
        values[f"{name}_span_seconds"] = median([r["span_seconds"] for r in results])
        values[f"{name}_span_trials_per_hour"] = 3600 * trials / values[f"{name}_span_seconds"]
        values[f"{name}_mean_trial_seconds"] = median([r["mean_trial_seconds"] for r in results])
        values[f"{name}_failed_workers"] = sum(r["failed_workers"] for r in results)
    default = default_layout(cores)
    rate = {name: values[f"{name}_trials_per_hour"] for name in runs}
    other = max((layout for layout in order if layout != default), key=lambda lay: rate[names[lay]])
    values["default_layout"] = names[default]
    values["faster_layout"] = max(rate, key=rate.get)
    values["faster_layout_in_storage_span"] = max(
        runs, key=lambda name: values[f"{name}_span_trials_per_hour"])
    values["default_is_faster"] = values["faster_layout"] == names[default]
    run_settings = {"quick": quick, "rounds": rounds, "storage": "sqlite",
                    "grid": f"head ({len(HEADS)}) x seed ({settings['seeds']})",
                    "cores": cores, **settings["data"], **settings["fixed"]}
    return [figure("workers", "default_layout_over_other_trials_per_hour",
                   rate[names[default]] / rate[names[other]], ">= 1.0", values, run_settings)]
