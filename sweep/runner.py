"""Create or resume a study, and the worker loop that takes its trials until the design is done.

Grid cells are enqueued once, under a storage-wide lock, as WAITING trials; workers pop them with
Optuna's compare-and-set on the trial state (under a file lock on SQLite, which has no row locks),
so across any number of workers each (levels, seed) cell completes exactly once (Optuna's
GridSampler alone can duplicate cells: optuna#2039, #4627).
A worker that dies stops sending heartbeats; another worker fails its trial and Optuna's
RetryHeartbeatStaleTrialCallback re-queues a copy, so no cell is lost. Idle workers wait while
trials are still running elsewhere, because such a trial may yet come back as a retry.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import TrialState

from sweep.data import locate
from sweep.errors import DataError, StudyFileError, SweepError, TrialFailed
from sweep.storage import close_storage, open_storage, queue_lock, retry_storage, study_lock
from sweep.studyfile import StudySpec

POLL_SECONDS = float(os.environ.get("SWEEP_POLL_SECONDS", "2"))


class Interrupted(Exception):
    """SIGINT/SIGTERM arrived: finish the running batch, close the trial, leave."""


class StopFlag:
    """Set by SIGINT/SIGTERM; checked between batches so a worker stops within a second."""

    def __init__(self) -> None:
        self.signal: int | None = None

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Handle SIGINT/SIGTERM while inside; the previous handlers come back afterwards."""
        previous = {signum: signal.signal(signum, self._set)
                    for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _set(self, signum: int, frame: Any) -> None:
        if self.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C means now
        self.signal = signum

    def check(self) -> None:
        if self.signal is not None:
            raise Interrupted(signal.Signals(self.signal).name)


def _fail_stale_trials(study: optuna.Study) -> None:
    """Optuna's fail_stale_trials, without its experimental-API warning on every poll."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def cell_key(params: dict[str, Any]) -> str:
    """A grid cell's identity: its params as canonical JSON."""
    return json.dumps(params, sort_keys=True)


def _queued_params(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    return trial.system_attrs.get("fixed_params", trial.params)


def make_sampler(spec: StudySpec) -> optuna.samplers.BaseSampler:
    """TPE or random for searches; grids never sample (every trial comes from the queue).

    Each worker process seeds its sampler differently: with one shared seed, parallel workers
    would propose the same configurations. TPE's constant liar keeps parallel workers from
    piling onto the region of a trial that is still running.
    """
    seed = (spec.seeds[0] * 1_000_003 + os.getpid()) % 2**32
    if spec.design == "tpe":
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    return optuna.samplers.RandomSampler(seed=seed)


def make_pruner(spec: StudySpec) -> optuna.pruners.BasePruner:
    """The study file's pruner, on per-epoch validation accuracy."""
    options = {k: v for k, v in spec.pruner.items() if k != "type"}
    if spec.pruner["type"] == "median":
        return optuna.pruners.MedianPruner(**options)
    if spec.pruner["type"] == "hyperband":
        return optuna.pruners.HyperbandPruner(**options)
    return optuna.pruners.NopPruner()


def _check_compatible(spec: StudySpec, stored: dict[str, Any]) -> None:
    """An existing study may grow (levels, seeds), never change what it holds fixed."""
    problems = []
    if stored.get("kind") != spec.design:
        problems.append(f"design is {stored.get('kind')} in storage, {spec.design} in the file")
    if stored.get("base_fingerprint") != spec.base_fingerprint():
        old, new = stored.get("base", {}), spec.base
        changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        problems.append("held-fixed settings differ: " + ", ".join(
            f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in changed))
    if sorted(stored.get("factors", [])) != sorted(spec.factors or spec.space):
        problems.append(f"varied parameters differ: {stored.get('factors')} in storage")
    if spec.space and stored.get("space") != spec.space:
        problems.append("the search space differs")
    if stored.get("objective") != {"metric": spec.metric, "direction": spec.direction}:
        problems.append(f"objective differs: {stored.get('objective')} in storage")
    if problems:
        raise StudyFileError(f"{spec.path}: study '{spec.name}' already exists with another "
                             f"design ({'; '.join(problems)}); use a new name")


def prepare_study(spec: StudySpec, url: str, data_path: str | None = None
                  ) -> tuple[optuna.Study, int]:
    """Create or load the study and enqueue grid cells it does not hold yet.

    Returns:
        The study and the number of cells added by this call.

    Raises:
        DataError: the data cannot be located (checked before storage is touched).
        StudyFileError: the study exists with an incompatible design.
        StorageError: the storage cannot be reached.
    """
    locate(spec.config_for({})["source"], data_path, spec.data_path)
    storage = open_storage(url)
    with study_lock(url, spec.name):
        study = optuna.create_study(study_name=spec.name, storage=storage, load_if_exists=True,
                                    direction=spec.direction, sampler=make_sampler(spec),
                                    pruner=make_pruner(spec))
        stored = study.user_attrs.get("design")
        if stored is not None:
            _check_compatible(spec, stored)
        added = 0
        if spec.is_grid:
            existing = {cell_key(_queued_params(t)) for t in study.get_trials(deepcopy=False)}
            for params in spec.cells():
                if cell_key(params) not in existing:
                    study.enqueue_trial(params)
                    added += 1
        record = spec.design_record()
        if stored is not None and spec.is_grid:  # levels and seeds only ever grow
            record["levels"] = {name: _union(stored["levels"].get(name, []), levels)
                                for name, levels in spec.factors.items()}
            record["seeds"] = _union(stored["seeds"], spec.seeds)
            record["total_trials"] = len(existing) + added
        record["space"] = spec.space
        study.set_user_attr("design", record)
    return study, added


def _union(old: list[Any], new: list[Any]) -> list[Any]:
    return old + [value for value in new if value not in old]


@contextlib.contextmanager
def heartbeat(storage: optuna.storages.BaseStorage, trial_id: int) -> Iterator[None]:
    """Record the trial's heartbeat in the background while it runs."""
    interval = storage.get_heartbeat_interval()
    stop = threading.Event()

    def beat() -> None:
        while True:
            with contextlib.suppress(Exception):  # a database blip: the next beat retries
                storage.record_heartbeat(trial_id)
            if stop.wait(interval):
                return

    thread = threading.Thread(target=beat, daemon=True, name=f"heartbeat-{trial_id}")
    if interval:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        if interval:
            thread.join()


@dataclass
class WorkerSummary:
    """What one worker did."""

    complete: int = 0
    pruned: int = 0
    failed: int = 0
    interrupted: str | None = None


class Worker:
    """Takes trials of one study until its design is done, its budget or timeout is reached."""

    def __init__(self, spec: StudySpec, url: str, data_path: str | None = None,
                 n_trials: int | None = None, log: Callable[[str], None] | None = None,
                 quiet: bool = False, publish: bool = False) -> None:
        self.spec, self.url, self.data_path, self.quiet = spec, url, data_path, quiet
        self.publish = publish
        self.budget = n_trials if n_trials is not None else spec.n_trials
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.stop = StopFlag()
        self.name = f"{os.uname().nodename}:{os.getpid()}"

    def run(self) -> WorkerSummary:
        """Loop until there is nothing left to do; always leaves no trial of ours RUNNING."""
        with self.stop.installed():
            return self._loop()

    def _loop(self) -> WorkerSummary:
        from sweep.objective import make_objective  # imports TensorFlow: only workers need it

        study, _ = prepare_study(self.spec, self.url, self.data_path)
        objective = make_objective(self.spec, self.data_path, self.stop.check,
                                   None if self.quiet else self.log)
        summary = WorkerSummary()
        started = time.monotonic()
        try:
            while self.stop.signal is None:
                if self.spec.timeout and time.monotonic() - started > self.spec.timeout:
                    self.log(f"[{self.name}] timeout of {self.spec.timeout:g} s reached")
                    break
                retry_storage(lambda: _fail_stale_trials(study), "fail stale trials")
                trial = retry_storage(lambda: self._next_trial(study), "take a trial")
                if trial is None:
                    if self._running_elsewhere(study):
                        time.sleep(POLL_SECONDS)
                        continue
                    break
                self._run_trial(study, trial, objective, summary)
            if self.publish and summary.complete and not self._running_elsewhere(study) and \
                    not study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
                self._publish_report()
        except Interrupted as stop:
            summary.interrupted = str(stop)
        finally:
            close_storage(study._storage)
        if self.stop.signal is not None:
            summary.interrupted = summary.interrupted or "signal"
        return summary

    def _publish_report(self) -> None:
        """The study is done: rebuild its report, which also refreshes optuna-dashboard."""
        from sweep.report import report_study

        try:
            summary = report_study(self.url, self.spec.name)
            self.log(f"[{self.name}] study finished; report in {summary['out_dir']}, "
                     "figures and verdict published to the dashboard")
        except SweepError as err:  # the trials are safe; only the summary is missing
            self.log(f"[{self.name}] study finished; report not written: {err}")

    def _next_trial(self, study: optuna.Study) -> optuna.Trial | None:
        storage = study._storage
        with queue_lock(self.url, f"{self.spec.name}:queue"):
            for frozen in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
                try:
                    if storage.set_trial_state_values(frozen._trial_id, state=TrialState.RUNNING):
                        return optuna.Trial(study, frozen._trial_id)
                except optuna.exceptions.UpdateFinishedTrialError:
                    continue
        if self.spec.is_grid:
            return None
        with study_lock(self.url, self.spec.name):
            configs = [t for t in study.get_trials(deepcopy=False)
                       if "replicate_of" not in t.user_attrs
                       and "failed_trial" not in t.system_attrs]
            if self.budget is not None and len(configs) >= self.budget:
                return None
            return study.ask()

    def _running_elsewhere(self, study: optuna.Study) -> bool:
        return bool(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))

    def _run_trial(self, study: optuna.Study, trial: optuna.Trial,
                   objective: Callable[[optuna.Trial], float], summary: WorkerSummary) -> None:
        started = time.monotonic()
        state, value, error = TrialState.FAIL, None, None
        requeue = False
        with heartbeat(study._storage, trial._trial_id):
            try:
                retry_storage(lambda: trial.set_user_attr("worker", self.name), "claim a trial")
                value = objective(trial)
                state = TrialState.COMPLETE
            except optuna.TrialPruned as pruned:
                state, error = TrialState.PRUNED, str(pruned) or None
            except Interrupted as stop:
                error, requeue = f"interrupted by {stop}", True
            except DataError as err:
                error, requeue = str(err), True
            except TrialFailed as err:
                error = str(err)
            except Exception as err:  # one broken trial must not end the study
                error = repr(err)
                self.log(traceback.format_exc())
            try:
                if error:
                    retry_storage(lambda: trial.set_user_attr("error", error), "record the error")
                if state == TrialState.COMPLETE:
                    retry_storage(lambda: study.tell(trial, value), "finish the trial")
                else:
                    retry_storage(lambda: study.tell(trial, state=state), "finish the trial")
            except optuna.exceptions.UpdateFinishedTrialError:
                # Our heartbeats stalled past the grace period and another worker failed this
                # trial; its queued retry runs the cell, so this result is dropped, not doubled.
                self.log(f"[{self.name}] trial {trial.number} was failed as stale by another "
                         "worker; its retry runs the cell")
                summary.failed += 1
                return
        if requeue:
            frozen = study._storage.get_trial(trial._trial_id)
            study._storage.get_heartbeat_stale_trial_callback()(study, frozen)
        if state == TrialState.COMPLETE:
            summary.complete += 1
            if not self.spec.is_grid:
                self._enqueue_replicates(study, study._storage.get_trial(trial._trial_id))
        elif state == TrialState.PRUNED:
            summary.pruned += 1
        else:
            summary.failed += 1
        seed = trial.user_attrs.get("seed", trial.params.get("seed"))
        varied = {**trial.params, "seed": seed}
        described = " ".join(f"{k}={v}" for k, v in varied.items())
        outcome = f"{self.spec.metric}={value:.4f}" if value is not None else (error or "")
        self.log(f"[{self.name}] trial {trial.number} ({described}) {state.name} {outcome} "
                 f"in {time.monotonic() - started:.0f} s")
        if requeue:
            raise Interrupted(error) if "interrupted" in (error or "") else DataError(error)

    def _enqueue_replicates(self, study: optuna.Study, frozen: optuna.trial.FrozenTrial) -> None:
        """A sampled configuration is re-run with each further seed, as queued trials (searches
        only: a grid queues its seeds as cells)."""
        if "replicate_of" in frozen.user_attrs or "failed_trial" in frozen.system_attrs:
            return
        for seed in self.spec.seeds[1:]:
            study.enqueue_trial(frozen.params,
                                user_attrs={"seed": seed, "replicate_of": frozen.number})


def work(spec: StudySpec, url: str, data_path: str | None = None, n_trials: int | None = None,
         log: Callable[[str], None] | None = None, quiet: bool = False,
         publish: bool = False) -> WorkerSummary:
    """Run one worker in this process (what ``sweep worker`` and each ``sweep run`` child do)."""
    return Worker(spec, url, data_path, n_trials, log, quiet, publish).run()


