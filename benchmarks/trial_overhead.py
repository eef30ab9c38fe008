"""`trial_overhead`: one trial through sweep's own trial path vs a bare ``model.fit``, same work.

sweep's side is a `sweep.runner.Worker` on a SQLite file in a temp dir, taking the one queued cell
of a grid study (queued beforehand by `prepare_study`, untimed) and running it to the end: storage
open, stale-trial check, pop by compare-and-set, heartbeat thread, suggest, cached data load,
`sweep.training.train` (model built, fitted with validation, best-epoch weights kept), result
attributes recorded, tell, and the check that nothing is left. The bare side is what a user's
script does with the same arrays (loaded once before any timing): `sweep.models.build_model` of the
same configuration and ``model.fit`` for the same epochs, with the validation split, since a trial
needs its per-epoch validation accuracy. ``n_test`` is 0, so neither side evaluates a test set.

One untimed warm-up of each side first (TensorFlow start-up; not in quick runs), then the two
alternate (sweep, bare, sweep, bare...) and the medians are compared. The trial's own ``seconds``
attribute (the time spent in `train`) is reported too, to split the overhead between the runner
and the training wrapper. CPU seconds of this process (all its threads) are compared as well,
without a target: on a shared machine they move less with other processes' load than wall time.
Target (issue 6): sweep's trial <= 1.05x the bare fit.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import optuna

from benchmarks._common import figure, median
from benchmarks.data import cache_dir, imdb_tarball
from benchmarks.train_throughput import FULL as THROUGHPUT
from benchmarks.train_throughput import OUT
from sweep.data import load_dataset
from sweep.params import resolve
from sweep.studyfile import StudySpec

#: The question's model on the real IMDB arrays that `train_throughput` uses (cached in OUT).
FULL = {**THROUGHPUT, "epochs": 2}
QUICK = {"source": "synthetic", "maxlen": 40, "embedding_dim": 8, "units": 8, "batch_size": 32,
         "n_train": 64, "n_val": 32, "n_test": 0, "epochs": 1, "vocab_size": 2000}
#: The grid's one factor; its single level is the configuration's own value.
FACTOR = "head"


def one_cell_spec(config: dict[str, Any], name: str, data_path: str | None) -> StudySpec:
    """A grid study whose only cell is ``config`` (its head as the factor, its seed as the seed)."""
    base = {k: v for k, v in config.items() if k not in (FACTOR, "seed")}
    return StudySpec(path=Path(f"{name}.yaml"), name=name, description="trial overhead",
                     data_path=data_path, base=base, design="grid",
                     factors={FACTOR: [config[FACTOR]]}, seeds=[config["seed"]])


def sweep_trial(url: str, config: dict[str, Any], name: str,
                data_path: str | None) -> tuple[float, float, float]:
    """Wall and CPU seconds for a worker to take and run the study's one queued trial, and the
    wall seconds inside `train` (the trial's ``seconds`` attribute)."""
    from sweep.runner import Worker, prepare_study

    spec = one_cell_spec(config, name, data_path)
    study, added = prepare_study(spec, url, data_path)
    getattr(study._storage, "_backend", study._storage).engine.dispose()
    if added != 1:
        raise RuntimeError(f"expected one queued cell in {name}, got {added}")
    worker = Worker(spec, url, data_path, log=lambda line: None, quiet=True)
    started, cpu_started = time.perf_counter(), time.process_time()
    summary = worker.run()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    if summary.complete != 1:
        raise RuntimeError(f"the worker did not complete its trial: {summary}")
    storage = optuna.storages.RDBStorage(url)
    try:
        trial = optuna.load_study(study_name=name, storage=storage).trials[0]
        return seconds, cpu_seconds, float(trial.user_attrs["seconds"])
    finally:
        storage.engine.dispose()


def bare_fit(config: dict[str, Any], dataset: Any) -> tuple[float, float]:
    """Wall and CPU seconds to build the same model and ``fit`` it as a user's script would."""
    import keras

    from sweep.models import build_model

    started, cpu_started = time.perf_counter(), time.process_time()
    keras.utils.set_random_seed(config["seed"])
    model = build_model(config)
    model.fit(dataset.x["train"], dataset.y["train"],
              validation_data=(dataset.x["val"], dataset.y["val"]), epochs=config["epochs"],
              batch_size=config["batch_size"], shuffle=True, verbose=0)
    return time.perf_counter() - started, time.process_time() - cpu_started


def run(quick: bool) -> list[dict[str, Any]]:
    """Warm up both sides, then alternate sweep trials and bare fits; compare the medians."""
    config = resolve(QUICK if quick else FULL)
    rounds = 1 if quick else 3
    data_path = None if quick else str(imdb_tarball())
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sweep_seconds, sweep_cpu, train_seconds, bare_seconds, bare_cpu = [], [], [], [], []
    with tempfile.TemporaryDirectory(prefix="sweep-bench-overhead-") as tmp:
        with cache_dir(Path(tmp) / "cache" if quick else OUT / "cache"):
            dataset = load_dataset(config, data_path)  # cached before anything is timed
            url = f"sqlite:///{Path(tmp) / 'overhead.db'}"
            if not quick:  # quick runs check the machinery only: no warm-up
                sweep_trial(url, config, "warm-up", data_path)
                bare_fit(config, dataset)
            for number in range(rounds):
                seconds, cpu, in_train = sweep_trial(url, config, f"trial-{number}", data_path)
                sweep_seconds.append(seconds)
                sweep_cpu.append(cpu)
                train_seconds.append(in_train)
                seconds, cpu = bare_fit(config, dataset)
                bare_seconds.append(seconds)
                bare_cpu.append(cpu)
    values = {"sweep_trial_seconds": median(sweep_seconds),
              "sweep_train_seconds": median(train_seconds),
              "bare_fit_seconds": median(bare_seconds),
              "sweep_trial_cpu_seconds": median(sweep_cpu),
              "bare_fit_cpu_seconds": median(bare_cpu),
              "sweep_trial_samples": [round(s, 3) for s in sweep_seconds],
              "bare_fit_samples": [round(s, 3) for s in bare_seconds]}
    values["runner_seconds"] = values["sweep_trial_seconds"] - values["sweep_train_seconds"]
    values["extra_seconds"] = values["sweep_trial_seconds"] - values["bare_fit_seconds"]
    settings = {"quick": quick, "rounds": rounds, "storage": "sqlite", "data": config["source"],
                **{key: config[key] for key in ("maxlen", "embedding_dim", "units", "batch_size",
                                                "n_train", "n_val", "n_test", "epochs",
                                                "vocab_size", "head", "implementation")}}
    return [
        figure("trial_overhead", "sweep_trial_over_bare_fit",
               values["sweep_trial_seconds"] / values["bare_fit_seconds"], "<= 1.05",
               values, settings),
        figure("trial_overhead", "sweep_trial_over_bare_fit_cpu",
               values["sweep_trial_cpu_seconds"] / values["bare_fit_cpu_seconds"], None,
               values, settings),
    ]
