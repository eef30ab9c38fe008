"""`storage`: per-trial overhead of sweep's runner with a no-op objective, vs bare Optuna.

Both run the same 500-cell grid (5 heads x 100 seeds) whose objective only suggests the cell's
params and returns 0.0, so all that is timed is the trial machinery and the database:

* sweep: `sweep.runner.Worker.run` with `sweep.objective.make_objective` patched to that no-op. It
  opens the storage as `sweep.storage.open_storage` does (heartbeats, retry callback), queues the
  500 cells under the study lock (`prepare_study`), and per trial: fails stale trials, pops a
  WAITING trial by compare-and-set, runs it under a heartbeat thread, records the worker, tells.
* Optuna: a plain ``RDBStorage(url)``, ``create_study``, the same 500 cells ``enqueue_trial``-ed,
  and ``study.optimize`` with the same no-op objective (RandomSampler, as sweep's grids use).

Each side gets a fresh database with the schema already created (untimed: a one-off cost), on
SQLite (a file in a temp dir) and on PostgreSQL (a database created on the local server like the
tests' fixture does, dropped afterwards). Besides the totals, the seconds per trial over the first
and the last fifth of the trials (from the trials' completion times) show any cost that grows with
the study. Target (issue 6): sweep's seconds per trial <= 1.2x Optuna's on each backend.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import optuna
import sqlalchemy

from benchmarks._common import figure, median
from sweep.params import PARAMS
from sweep.studyfile import StudySpec

HEADS = list(PARAMS["head"].choices)
FULL = {"seeds": 100}  # x 5 heads = 500 trials
QUICK = {"seeds": 4}  # 20 trials
BACKENDS = ("sqlite", "postgresql")
#: The server the tests use (tests/conftest.py); its ``postgres`` database is only used to create
#: and drop the benchmark's own databases.
POSTGRES_ADMIN_URL = os.environ.get("SWEEP_TEST_POSTGRES",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


class PostgresUnavailable(RuntimeError):
    """The local PostgreSQL server cannot be reached."""


def grid_spec(seeds: int, name: str = "storage-bench") -> StudySpec:
    """A grid of len(HEADS) x ``seeds`` cells on generated data (never loaded: no-op objective)."""
    return StudySpec(path=Path(f"{name}.yaml"), name=name, description="storage benchmark",
                     data_path=None, base={"source": "synthetic"}, design="grid",
                     factors={"head": HEADS}, seeds=list(range(seeds)))


def _noop_sweep_objective(spec: StudySpec, *args: Any, **kwargs: Any) -> Any:
    from sweep.objective import suggest

    def objective(trial: optuna.Trial) -> float:
        suggest(trial, spec)
        return 0.0

    return objective


def _noop_optuna_objective(seeds: int) -> Any:
    def objective(trial: optuna.Trial) -> float:
        trial.suggest_categorical("head", HEADS)
        trial.suggest_int("seed", 0, seeds - 1)
        return 0.0

    return objective


@contextlib.contextmanager
def sqlite_database(directory: Path) -> Iterator[str]:
    """A new SQLite file in ``directory``."""
    yield f"sqlite:///{directory / f'bench-{uuid.uuid4().hex[:8]}.db'}"


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database on the local server, dropped on the way out.

    Raises:
        PostgresUnavailable: the server does not answer.
    """
    name = f"sweep_bench_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    except sqlalchemy.exc.OperationalError as err:
        admin.dispose()
        raise PostgresUnavailable(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: "
                                  f"{str(err).splitlines()[0]}") from err
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _create_schema(url: str) -> None:
    storage = optuna.storages.RDBStorage(url)
    storage.engine.dispose()


def time_sweep(url: str, seeds: int) -> tuple[float, tuple[float, float]]:
    """Seconds for one sweep worker to queue and run the whole no-op grid, and `_fifths`."""
    from sweep.runner import Worker

    spec = grid_spec(seeds)
    worker = Worker(spec, url, log=lambda line: None, quiet=True)
    with mock.patch("sweep.objective.make_objective", _noop_sweep_objective):
        started = time.perf_counter()
        summary = worker.run()
        seconds = time.perf_counter() - started
    if summary.complete != len(spec.cells()) or summary.failed:
        raise RuntimeError(f"sweep's worker did not complete the grid: {summary}")
    storage = optuna.storages.RDBStorage(url)
    try:
        return seconds, _fifths(optuna.load_study(study_name=spec.name, storage=storage))
    finally:
        storage.engine.dispose()


def time_optuna(url: str, seeds: int) -> tuple[float, tuple[float, float]]:
    """Seconds for bare Optuna to queue and optimize the same no-op grid, and `_fifths`."""
    cells = grid_spec(seeds).cells()
    started = time.perf_counter()
    storage = optuna.storages.RDBStorage(url)
    study = optuna.create_study(study_name="storage-bench", storage=storage,
                                direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    for params in cells:
        study.enqueue_trial(params)
    study.optimize(_noop_optuna_objective(seeds), n_trials=len(cells))
    seconds = time.perf_counter() - started
    try:
        if len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))) != len(cells):
            raise RuntimeError("bare Optuna did not complete the grid")
        return seconds, _fifths(study)
    finally:
        storage.engine.dispose()


def _fifths(study: optuna.Study) -> tuple[float, float]:
    """Mean seconds between completions over the first and the last fifth of the trials."""
    done = sorted(t.datetime_complete for t in study.get_trials(deepcopy=False))
    fifth = max(2, len(done) // 5)

    def rate(times: list[Any]) -> float:
        return (times[-1] - times[0]).total_seconds() / (len(times) - 1)

    return rate(done[:fifth]), rate(done[-fifth:])


def measure(backend: str, quick: bool) -> dict[str, Any]:
    """Time sweep and bare Optuna on fresh databases of one backend, interleaved; one figure.

    Raises:
        PostgresUnavailable: ``backend`` is postgresql and the server does not answer.
    """
    seeds = (QUICK if quick else FULL)["seeds"]
    trials = len(HEADS) * seeds
    rounds = 1
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    timings: dict[str, list[float]] = {"sweep": [], "optuna": []}
    fifths: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="sweep-bench-storage-") as tmp:
        for _ in range(rounds):
            for side, timer in (("sweep", time_sweep), ("optuna", time_optuna)):
                database = sqlite_database(Path(tmp)) if backend == "sqlite" \
                    else postgres_database()
                with database as url:
                    _create_schema(url)
                    seconds, fifths[side] = timer(url, seeds)
                timings[side].append(seconds)
    values: dict[str, Any] = {"trials": trials}
    for side in timings:
        values[f"{side}_seconds"] = median(timings[side])
        values[f"{side}_seconds_per_trial"] = values[f"{side}_seconds"] / trials
        values[f"{side}_first_fifth_seconds_per_trial"] = fifths[side][0]
        values[f"{side}_last_fifth_seconds_per_trial"] = fifths[side][1]
    values["extra_seconds_per_trial"] = (values["sweep_seconds_per_trial"]
                                         - values["optuna_seconds_per_trial"])
    settings = {"quick": quick, "rounds": rounds, "backend": backend, "trials": trials,
                "grid": f"head ({len(HEADS)}) x seed ({seeds})", "objective": "no-op",
                "optuna": optuna.__version__, "sqlalchemy": sqlalchemy.__version__}
    return figure("storage", f"sweep_over_optuna_{backend}",
                  values["sweep_seconds_per_trial"] / values["optuna_seconds_per_trial"],
                  "<= 1.2", values, settings)


def run(quick: bool) -> list[dict[str, Any]]:
    """Both backends; without a PostgreSQL server only SQLite is measured, except in CI."""
    figures = [measure("sqlite", quick)]
    try:
        figures.append(measure("postgresql", quick))
    except PostgresUnavailable as err:
        if os.environ.get("CI"):
            raise
        print(f"storage: {err}; the PostgreSQL figure is skipped", file=sys.stderr)
    return figures
