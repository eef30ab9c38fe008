"""Train one configuration and return everything a trial records about it.

`train` is the only place a model is fitted: `sweep train` calls it directly and every Optuna trial
calls it through `sweep.objective`, so a result means the same thing wherever it was produced.
"""

from __future__ import annotations

import math
import platform
import socket
import time
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

import keras
import numpy as np

from sweep.data import Dataset
from sweep.errors import TrialFailed
from sweep.models import build_model, implementation_name, mask_effective

#: Review-length buckets (tokens before padding) and padded-share buckets for the test set:
#: where a last-state head fails, these show it.
LENGTH_EDGES = (0, 100, 150, 200, 300, 500, 1000, math.inf)
PADDED_SHARE_EDGES = (0.0, 1e-9, 0.25, 0.5, 0.75, 1.0 + 1e-9)


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """End the fit after an epoch whose loss is NaN or infinite.

    Checked per epoch, not per batch like Keras' TerminateOnNaN: a batch-level hook makes Keras
    wait for every step's logs, which costs more than the rare wasted epoch.
    """

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float] | None = None) -> None:
        if not math.isfinite((logs or {}).get("loss", 0.0)):
            self.model.stop_training = True


class BestWeights(keras.callbacks.Callback):
    """Keep the weights of the epoch with the best validation accuracy (first one on ties)."""

    def __init__(self) -> None:
        super().__init__()
        self.best_accuracy = -math.inf
        self.best_epoch = 0
        self.weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float] | None = None) -> None:
        accuracy = (logs or {}).get("val_accuracy", -math.inf)
        if accuracy > self.best_accuracy:
            self.best_accuracy, self.best_epoch = accuracy, epoch + 1
            self.weights = self.model.get_weights()


def configure_threads(intra_op: int, inter_op: int) -> None:
    """Fix TensorFlow's thread pools; must run before TensorFlow executes its first op."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra_op)
        tf.config.threading.set_inter_op_parallelism_threads(inter_op)
    except RuntimeError:  # already running (e.g. a second command in one process): keep pools
        pass


def versions() -> dict[str, str]:
    """Package versions recorded with every result, for reproducibility."""
    found = {"python": platform.python_version()}
    for package in ("sweep", "tensorflow", "keras", "optuna", "numpy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def _buckets(values: np.ndarray, correct: np.ndarray, edges: Sequence[float]) -> list[dict]:
    rows = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (values >= low) & (values < high)
        rows.append({"low": low, "high": high if math.isfinite(high) else None,
                     "n": int(inside.sum()), "correct": int(correct[inside].sum())})
    return rows


def train(config: Mapping[str, Any], dataset: Dataset,
          callbacks: Sequence[keras.callbacks.Callback] = (), verbose: int | str = 1) -> dict:
    """Fit ``config`` on ``dataset``; evaluate the best epoch's weights on the test split.

    Args:
        config: a resolved parameter dict (see `sweep.params.resolve`).
        dataset: arrays from `sweep.data.load_dataset` for the same config.
        callbacks: extra Keras callbacks (progress, Optuna reporting and pruning).
        verbose: Keras ``fit`` verbosity.

    Returns:
        A JSON-serializable dict: per-epoch history, best epoch, accuracies, test buckets,
        parameter count, timings, data identity and stats, versions.

    Raises:
        TrialFailed: the loss became NaN or infinite.
    """
    keras.utils.set_random_seed(config["seed"])
    model = build_model(config)
    best = BestWeights()
    started = time.perf_counter()
    history = model.fit(
        dataset.x["train"], dataset.y["train"],
        validation_data=(dataset.x["val"], dataset.y["val"]),
        epochs=config["epochs"], batch_size=config["batch_size"], shuffle=True,
        callbacks=[StopOnNonFiniteLoss(), best, *callbacks], verbose=verbose,
    ).history
    fit_seconds = time.perf_counter() - started
    losses = history.get("loss", [])
    if not losses or not all(math.isfinite(v) for v in losses):
        epoch = next((i + 1 for i, v in enumerate(losses) if not math.isfinite(v)), 1)
        raise TrialFailed(f"training loss became {losses[epoch - 1] if losses else 'NaN'} "
                          f"at epoch {epoch}")
    model.set_weights(best.weights)

    result: dict[str, Any] = {
        "config": dict(config),
        "params": int(model.count_params()),
        "mask_effective": mask_effective(config),
        "implementation": implementation_name(config),
        "history": {name: [float(v) for v in values] for name, values in history.items()},
        "val_accuracy": [float(v) for v in history["val_accuracy"]],
        "best_val_accuracy": float(best.best_accuracy),
        "best_epoch": best.best_epoch,
        "train_accuracy": float(history["accuracy"][best.best_epoch - 1]),
        "test_accuracy": None,
        "test_loss": None,
        "seconds": None,
        "seconds_per_epoch": fit_seconds / len(losses),
        "data": {"fingerprint": dataset.fingerprint, "cache_key": dataset.cache_key,
                 "from_cache": dataset.from_cache, "stats": dataset.stats},
        "seed": config["seed"],
        "host": socket.gethostname(),
        "versions": versions(),
    }
    if len(dataset.y["test"]):
        probability = model.predict(dataset.x["test"], batch_size=256, verbose=0)[:, 0]
        correct = (probability > 0.5) == (dataset.y["test"] > 0.5)
        lengths = dataset.lengths["test"]
        padded_share = np.clip(config["maxlen"] - lengths, 0, None) / config["maxlen"]
        result["test_accuracy"] = float(correct.mean())
        loss = keras.losses.BinaryCrossentropy()
        result["test_loss"] = float(loss(dataset.y["test"], probability))
        result["test_by_length"] = _buckets(lengths, correct, LENGTH_EDGES)
        result["test_by_padded_share"] = _buckets(padded_share, correct, PADDED_SHARE_EDGES)
    result["seconds"] = time.perf_counter() - started
    return result
