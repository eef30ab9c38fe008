"""train(): the record a trial keeps, best-epoch weights, seeds, and NaN losses."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
import pytest

from sweep.data import Dataset, load_dataset
from sweep.errors import TrialFailed
from sweep.models import build_model
from sweep.params import resolve
from sweep.training import LENGTH_EDGES, train

FAST = {"source": "synthetic", "n_train": 240, "n_val": 120, "n_test": 150, "maxlen": 60,
        "vocab_size": 600, "embedding_dim": 8, "units": 4, "epochs": 3, "batch_size": 32,
        "learning_rate": 0.01, "head": "flatten", "truncating": "post"}


class Recorder(keras.callbacks.Callback):
    """Keeps the initial weights and each epoch's weights; can zero the model at the very end."""

    def __init__(self, zero_at_end: bool = False) -> None:
        super().__init__()
        self.zero_at_end = zero_at_end
        self.initial: list[np.ndarray] = []
        self.per_epoch: list[list[np.ndarray]] = []

    def on_train_begin(self, logs: Any = None) -> None:
        self.initial = self.model.get_weights()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.per_epoch.append(self.model.get_weights())
        if self.zero_at_end and epoch + 1 == self.params["epochs"]:
            self.model.set_weights([np.zeros_like(w) for w in self.model.get_weights()])


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The session's isolated cache, for module-scoped fixtures (they run before autouse ones)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SWEEP_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
        yield


@pytest.fixture(scope="module")
def fitted(module_cache: None) -> dict[str, Any]:
    """One fast fit whose final weights are zeroed after the last epoch, with its record."""
    config = resolve(FAST)
    dataset = load_dataset(config)
    recorder = Recorder(zero_at_end=True)
    result = train(config, dataset, callbacks=[recorder], verbose=0)
    return {"config": config, "dataset": dataset, "recorder": recorder, "result": result}


def test_record_is_json_and_has_every_key_the_issue_lists(fitted: dict[str, Any]) -> None:
    """The record survives a JSON round trip and holds config, params, accuracies, timings."""
    result, config = fitted["result"], fitted["config"]
    assert json.loads(json.dumps(result)) == result
    for key in ("config", "params", "val_accuracy", "best_val_accuracy", "best_epoch",
                "test_accuracy", "seconds", "mask_effective", "data"):
        assert key in result, key
    assert result["config"] == config
    assert result["params"] == build_model(config).count_params()
    assert result["mask_effective"] is False
    assert result["seconds"] > 0 and result["seconds_per_epoch"] > 0
    assert result["seconds"] >= result["seconds_per_epoch"] * config["epochs"]


def test_record_holds_the_data_stats(fitted: dict[str, Any]) -> None:
    """The data's identity and per-split stats travel with the result."""
    data, dataset = fitted["result"]["data"], fitted["dataset"]
    assert data["fingerprint"] == dataset.fingerprint
    assert data["cache_key"] == dataset.cache_key
    assert data["stats"] == dataset.stats
    for split, n in (("train", 240), ("val", 120), ("test", 150)):
        stats = data["stats"][split]
        assert stats["n"] == n
        assert {"mean_length", "truncated_share", "padded_share"} <= set(stats)


def test_best_epoch_is_the_first_with_the_highest_val_accuracy(fitted: dict[str, Any]) -> None:
    """val_accuracy has one value per epoch; best_* point at its first maximum."""
    result = fitted["result"]
    accuracies = result["val_accuracy"]
    assert len(accuracies) == FAST["epochs"]
    assert all(0.0 <= a <= 1.0 for a in accuracies)
    assert result["best_val_accuracy"] == max(accuracies)
    assert result["best_epoch"] == accuracies.index(max(accuracies)) + 1
    assert result["history"]["val_accuracy"] == accuracies
    assert len(result["history"]["loss"]) == FAST["epochs"]


def test_synthetic_task_is_learned(fitted: dict[str, Any]) -> None:
    """The tiny flatten model learns the synthetic cue words well beyond chance."""
    assert fitted["result"]["best_val_accuracy"] > 0.8


def _accuracy(config: dict, weights: list[np.ndarray], dataset: Dataset) -> float:
    model = build_model(config)
    model.set_weights(weights)
    probability = model.predict(dataset.x["test"], verbose=0)[:, 0]
    return float(np.mean((probability > 0.5) == (dataset.y["test"] > 0.5)))


def test_test_accuracy_uses_the_best_epochs_weights(fitted: dict[str, Any]) -> None:
    """The final weights are zeroed, yet test accuracy is that of the best epoch's weights."""
    result, recorder, dataset = fitted["result"], fitted["recorder"], fitted["dataset"]
    best = recorder.per_epoch[result["best_epoch"] - 1]
    expected = _accuracy(fitted["config"], best, dataset)
    assert result["test_accuracy"] == pytest.approx(expected, abs=1e-9)
    zeroed = float(np.mean(dataset.y["test"] == 0))  # all-zero weights predict 0.5: "negative"
    assert abs(result["test_accuracy"] - zeroed) > 0.1


def test_test_buckets_add_up(fitted: dict[str, Any]) -> None:
    """Length and padded-share buckets each cover the test set once, with its correct count."""
    result = fitted["result"]
    n_test = FAST["n_test"]
    correct = round(result["test_accuracy"] * n_test)
    for key in ("test_by_length", "test_by_padded_share"):
        buckets = result[key]
        assert sum(b["n"] for b in buckets) == n_test, key
        assert sum(b["correct"] for b in buckets) == correct, key
        assert all(0 <= b["correct"] <= b["n"] for b in buckets)
    lengths = fitted["dataset"].lengths["test"]
    by_length = result["test_by_length"]
    assert [b["low"] for b in by_length] == list(LENGTH_EDGES[:-1])
    for bucket in by_length:
        high = math.inf if bucket["high"] is None else bucket["high"]
        assert bucket["n"] == int(np.sum((lengths >= bucket["low"]) & (lengths < high)))


def test_no_test_set_means_no_test_accuracy(module_cache: None) -> None:
    """n_test=0 trains and records test_accuracy as null."""
    config = resolve({**FAST, "n_test": 0, "epochs": 1})
    result = train(config, load_dataset(config), verbose=0)
    assert result["test_accuracy"] is None
    assert json.loads(json.dumps(result))["test_accuracy"] is None


def test_same_seed_same_initial_weights_and_subset(module_cache: None) -> None:
    """Same config and seed: identical first weights and arrays; another seed differs."""
    config = resolve({**FAST, "epochs": 1})
    starts = []
    for seed in (0, 0, 1):
        recorder = Recorder()
        dataset = load_dataset({**config, "seed": seed})
        train({**config, "seed": seed}, dataset, callbacks=[recorder], verbose=0)
        starts.append((recorder.initial, dataset))
    (w0, d0), (w1, d1), (w2, d2) = starts
    assert all(np.array_equal(a, b) for a, b in zip(w0, w1, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(w0, w2, strict=True))
    for split in ("train", "val", "test"):  # seed is not a data setting: same subset
        np.testing.assert_array_equal(d0.x[split], d2.x[split])
    assert d0.cache_key == d2.cache_key


class PoisonAt(keras.callbacks.Callback):
    """Sets every weight to NaN at the start of the given epoch (1-based)."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        if epoch + 1 == self.epoch:
            self.model.set_weights([np.full_like(w, np.nan) for w in self.model.get_weights()])


@pytest.mark.parametrize("epoch", [1, 2])
def test_nan_loss_fails_the_trial_naming_the_epoch(epoch: int, module_cache: None) -> None:
    """A NaN loss stops training and raises TrialFailed that says at which epoch."""
    config = resolve({**FAST, "epochs": 3})
    with pytest.raises(TrialFailed, match=f"at epoch {epoch}$") as caught:
        train(config, load_dataset(config), callbacks=[PoisonAt(epoch)], verbose=0)
    assert "nan" in str(caught.value).lower()
