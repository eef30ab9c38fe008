"""What one Optuna trial does: turn the trial into a configuration, train it, record the result.

Grid factors and the seed become Optuna params (the dashboard shows them); a search's replicate
seeds are user attributes of queued copies of the sampled trial.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import keras
import optuna

from sweep.data import load_dataset
from sweep.export import RESULT_ATTRS
from sweep.params import PARAMS
from sweep.storage import retry_storage
from sweep.studyfile import StudySpec
from sweep.training import train


class _TrialCallback(keras.callbacks.Callback):
    """Reports per-epoch validation accuracy to Optuna, prunes, and honours the stop flag."""

    #: The batch hook only reads a flag, so Keras may run it off the training thread and keep
    #: dispatching steps asynchronously (a synchronous batch hook costs ~10-20% per trial).
    async_safe = True

    def __init__(self, trial: optuna.Trial, check_stop: Callable[[], None], prune: bool,
                 log: Callable[[str], None] | None) -> None:
        super().__init__()
        self.trial, self.check_stop, self.prune, self.log = trial, check_stop, prune, log

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.check_stop()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        accuracy = float((logs or {}).get("val_accuracy", float("nan")))
        retry_storage(lambda: self.trial.report(accuracy, epoch + 1), "report an epoch")
        if self.log:
            self.log(f"trial {self.trial.number} epoch {epoch + 1}/{self.params['epochs']}: "
                     f"loss {logs.get('loss', float('nan')):.4f} "
                     f"val_accuracy {accuracy:.4f}")
        if self.prune and retry_storage(self.trial.should_prune, "ask the pruner"):
            raise optuna.TrialPruned(f"pruned at epoch {epoch + 1}: val_accuracy {accuracy:.4f}")


def _suggest_level(trial: optuna.Trial, name: str, levels: list[Any]) -> Any:
    """Suggest a grid factor so that later runs with more levels stay compatible.

    Optuna refuses a categorical param whose choices change within a study, so str and bool
    factors use every value the parameter table allows; numeric ones may change their bounds.
    """
    param = PARAMS[name]
    if param.type in (bool, str):
        return trial.suggest_categorical(name, list(param.choices or (False, True)))
    if param.type is int:
        return trial.suggest_int(name, min(levels), max(levels))
    return trial.suggest_float(name, min(levels), max(levels))


def suggest(trial: optuna.Trial, spec: StudySpec) -> dict[str, Any]:
    """The varied values of this trial: queued (grid cells, retries, replicates) or sampled."""
    if spec.is_grid:
        return {name: _suggest_level(trial, name, levels)
                for name, levels in {**spec.factors, "seed": spec.seeds}.items()}
    values = {}
    for name, dim in spec.space.items():
        if dim["type"] == "categorical":
            values[name] = trial.suggest_categorical(name, dim["choices"])
        elif dim["type"] == "int":
            values[name] = trial.suggest_int(name, dim["low"], dim["high"],
                                             step=dim["step"] or 1, log=dim["log"])
        else:
            values[name] = trial.suggest_float(name, dim["low"], dim["high"],
                                               step=dim["step"], log=dim["log"])
    values["seed"] = trial.user_attrs.get("seed", spec.seeds[0])
    return values


def record_result(trial: optuna.Trial, config: dict[str, Any], result: dict[str, Any]) -> None:
    """Store a training result as the trial's user attributes (one JSON value each)."""
    attrs = {key: result.get(key) for key in RESULT_ATTRS}
    attrs.update({
        "config": config, "seed": config["seed"], "n_params": result["params"],
        "data_fingerprint": result["data"]["fingerprint"],
        "data_cache_key": result["data"]["cache_key"], "data_stats": result["data"]["stats"],
    })
    for key, value in attrs.items():
        value = json.loads(json.dumps(value))  # plain JSON types only, as the storage keeps them
        retry_storage(lambda k=key, v=value: trial.set_user_attr(k, v), "record a result")


def make_objective(spec: StudySpec, data_path: str | None, check_stop: Callable[[], None],
                   log: Callable[[str], None] | None = None) -> Callable[[optuna.Trial], float]:
    """The objective a worker runs: suggest, load (cached) data, train, record, return metric.

    ``check_stop`` is called between batches and raises to end the trial early (signals);
    ``log`` receives one line per epoch.
    """
    prune = spec.pruner["type"] != "none"

    def objective(trial: optuna.Trial) -> float:
        varied = suggest(trial, spec)
        config = spec.config_for(varied)
        retry_storage(lambda: trial.set_user_attr("config", config), "record the config")
        dataset = load_dataset(config, data_path, spec.data_path)
        check_stop()
        callback = _TrialCallback(trial, check_stop, prune, log)
        result = train(config, dataset, callbacks=[callback], verbose=0)
        record_result(trial, config, result)
        value = result[spec.metric]
        if value is None:
            raise ValueError(f"metric {spec.metric} is missing (n_test=0?)")
        return float(value)

    return objective
