"""Trial tables and Optuna studies with known effects, shaped like `sweep.export.trials_frame`.

The default effect is the question's: the last-state head loses ``effect`` accuracy only with
post-padding and no mask, and then mostly on short reviews; every other setting is a tie.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
import pandas as pd

from sweep.params import DEFAULTS

#: The bucket edges of `sweep.training` (copied: importing it would load TensorFlow).
LENGTH_EDGES = (0, 100, 150, 200, 300, 500, 1000, math.inf)
PADDED_SHARE_EDGES = (0.0, 1e-9, 0.25, 0.5, 0.75, 1.0 + 1e-9)

#: Test reviews per length bucket (the last bucket, >= 1000 tokens, is empty at maxlen 500).
LENGTH_COUNTS = (90, 110, 120, 160, 180, 140, 0)
PADDED_COUNTS = (140, 60, 120, 230, 250)
BASE_ACCURACY = 0.78


def cell_accuracy(head: str, padding: str, mask_zero: bool, effect: float) -> float:
    """The true accuracy of a configuration under the question's mechanism."""
    broken = head == "last" and padding == "post" and not mask_zero
    return BASE_ACCURACY - (effect if broken else 0.0)


def trials_table(effect: float = 0.25, noise: float = 0.02, seeds: Sequence[int] = (0, 1, 2),
                 heads: Sequence[str] = ("flatten", "last"),
                 paddings: Sequence[str] = ("pre", "post"),
                 masks: Sequence[bool] = (False, True), extra: dict[str, Sequence] | None = None,
                 failed: int = 0, rng: int = 0) -> pd.DataFrame:
    """A full factorial of heads x paddings x masks (x extra factors) x seeds."""
    random = np.random.default_rng(rng)
    extra = extra or {}
    rows = []
    levels = itertools.product(heads, paddings, masks, *extra.values(), seeds)
    for number, (head, padding, mask, *rest) in enumerate(levels):
        *extras, seed = rest
        truth = cell_accuracy(head, padding, mask, effect)
        accuracy = float(np.clip(truth + random.normal(0, noise), 0, 1))
        broken = truth < BASE_ACCURACY
        config = {**DEFAULTS, "head": head, "padding": padding, "mask_zero": mask,
                  "seed": seed, **dict(zip(extra, extras, strict=True))}
        rows.append(_row(number, config, accuracy, broken, random))
    for i in range(failed):
        config = {**DEFAULTS, "head": heads[0], "seed": seeds[0]}
        rows.append({"number": len(rows) + i, "state": "FAIL", "value": None, **config,
                     "error": "TrialFailed: training loss became nan at epoch 2"})
    return pd.DataFrame(rows)


def _row(number: int, config: dict[str, Any], accuracy: float, broken: bool,
         random: np.random.Generator) -> dict[str, Any]:
    epochs = config["epochs"]
    train = [min(1.0, 0.55 + 0.07 * e) for e in range(epochs)]
    val = [accuracy - 0.02 * (epochs - 1 - e) / epochs for e in range(epochs)]
    return {
        "number": number, "state": "COMPLETE", "value": accuracy, **config,
        "best_val_accuracy": accuracy + random.normal(0, 0.005), "test_accuracy": accuracy,
        "train_accuracy": train[-1], "test_loss": 0.5, "best_epoch": epochs,
        "n_params": 4_963_841 if config["head"] == "flatten" else 4_899_841,
        "seconds": 60.0, "mask_effective": bool(config["mask_zero"])
        and config["head"] != "flatten", "implementation": "keras.layers.LSTM", "host": "test",
        "data_fingerprint": "abc123", "error": None,
        "history": {"loss": [0.6] * epochs, "accuracy": train,
                    "val_loss": [0.6] * epochs, "val_accuracy": val},
        "test_by_length": _buckets(LENGTH_EDGES, LENGTH_COUNTS, accuracy, broken, short_first=True),
        "test_by_padded_share": _buckets(PADDED_SHARE_EDGES, PADDED_COUNTS, accuracy, broken,
                                         short_first=False),
        "data_stats": {"test": {"n": 800, "mean_length": 230.0}},
    }


def _buckets(edges: Sequence[float], counts: Sequence[int], accuracy: float, broken: bool,
             short_first: bool) -> list[dict]:
    """Buckets whose accuracy falls to chance on short (heavily padded) reviews when broken."""
    rows = []
    for i, (low, high) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        n = counts[i] if i < len(counts) else 0
        position = i / (len(edges) - 2)  # 0 for the first bucket, 1 for the last
        padding_weight = 1 - position if short_first else position
        bucket_accuracy = (0.5 + (BASE_ACCURACY - 0.5) * (1 - padding_weight) if broken
                           else accuracy)
        rows.append({"low": low, "high": None if math.isinf(high) else high, "n": n,
                     "correct": int(round(n * bucket_accuracy))})
    return rows


def add_to_study(study: optuna.Study, frame: pd.DataFrame, factors: Sequence[str]) -> None:
    """Add each row as a finished trial: grid factors as categorical params, the rest as attrs."""
    for row in frame.to_dict("records"):
        state = optuna.trial.TrialState[row["state"]]
        params = {f: _plain(row[f]) for f in factors}
        distributions = {f: optuna.distributions.CategoricalDistribution(
            sorted(frame[f].dropna().unique().tolist(), key=str)) for f in factors}
        attrs = {k: _plain(v) for k, v in row.items()
                 if k not in ("number", "state", "value") and k not in DEFAULTS}
        attrs["config"] = {k: _plain(row[k]) for k in DEFAULTS}
        attrs["seed"] = _plain(row["seed"])
        study.add_trial(optuna.trial.create_trial(
            state=state, value=row["value"] if state == optuna.trial.TrialState.COMPLETE else None,
            params=params, distributions=distributions, user_attrs=attrs))


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value
