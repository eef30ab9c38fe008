"""Trial tables and Optuna studies with known effects, shaped like `sweep.export.trials_frame`.

The default effect is the question's: the last-state head loses ``effect`` accuracy only with
post-padding and no mask, and it loses it all on reviews followed by padding (those shorter than
maxlen); on reviews that fill every timestep it stays as good as the other heads. Every other
setting is a tie. Both kinds of test buckets are counted from one fixed synthetic test set, with
each trial's own maxlen, so they agree with each other and (up to rounding) with the trial's
accuracy.
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

#: Token counts of the synthetic test reviews: IMDB-like (median about 190, 9% of at least 500
#: tokens, a handful of at least 1000), the same for every trial, as a fixed data_seed gives.
TEST_LENGTHS = np.maximum(
    10, np.random.default_rng(7).lognormal(math.log(200), 0.8, 800)).astype(int)
BASE_ACCURACY = 0.78


def cell_accuracy(head: str, padding: str, mask_zero: bool, effect: float) -> float:
    """The true accuracy of a configuration under the question's mechanism."""
    broken = head == "last" and padding == "post" and not mask_zero
    return BASE_ACCURACY - (effect if broken else 0.0)


def trials_table(effect: float = 0.25, noise: float = 0.02, seeds: Sequence[int] = (0, 1, 2),
                 heads: Sequence[str] = ("flatten", "last"),
                 paddings: Sequence[str] = ("pre", "post"),
                 masks: Sequence[bool] = (False, True), extra: dict[str, Sequence] | None = None,
                 failed: int = 0, rng: int = 0, short_penalty: float = 0.0) -> pd.DataFrame:
    """A full factorial of heads x paddings x masks (x extra factors) x seeds.

    ``short_penalty``: padded (shorter) reviews are this much less often right than the ones
    that fill every timestep, for every head: a difference in the reviews, not in the padding.
    """
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
        rows.append(_row(number, config, accuracy, broken, short_penalty, random))
    for i in range(failed):
        config = {**DEFAULTS, "head": heads[0], "seed": seeds[0]}
        rows.append({"number": len(rows) + i, "state": "FAIL", "value": None, **config,
                     "error": "TrialFailed: training loss became nan at epoch 2"})
    return pd.DataFrame(rows)


def _row(number: int, config: dict[str, Any], accuracy: float, broken: bool,
         short_penalty: float, random: np.random.Generator) -> dict[str, Any]:
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
        **_test_buckets(config["maxlen"], accuracy, broken, short_penalty),
        "data_stats": {"test": {"n": len(TEST_LENGTHS),
                                "mean_length": float(TEST_LENGTHS.mean())}},
    }


def _test_buckets(maxlen: int, accuracy: float, broken: bool,
                  short_penalty: float) -> dict[str, list[dict]]:
    """Both bucket kinds from one chance of being right per test review (expected counts).

    Each review's chance is the trial's accuracy shifted by a zero-mean amount: up for reviews
    that fill every timestep, down for padded ones. When ``broken`` the unpadded reviews keep the
    healthy accuracy and the padded ones take the whole loss.
    """
    unpadded = TEST_LENGTHS >= maxlen
    share = unpadded.mean()
    lift = short_penalty + ((BASE_ACCURACY - accuracy) / (1 - share) if broken else 0.0)
    chance = np.where(unpadded, accuracy + lift * (1 - share), accuracy - lift * share)
    chance = np.clip(chance, 0.0, 1.0)
    padded_share = np.clip(maxlen - TEST_LENGTHS, 0, None) / maxlen
    return {"test_by_length": _buckets(TEST_LENGTHS, chance, LENGTH_EDGES),
            "test_by_padded_share": _buckets(padded_share, chance, PADDED_SHARE_EDGES)}


def _buckets(values: np.ndarray, chance: np.ndarray, edges: Sequence[float]) -> list[dict]:
    """Like `sweep.training._buckets`, with the expected number of correct predictions."""
    rows = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (values >= low) & (values < high)
        rows.append({"low": low, "high": None if math.isinf(high) else high,
                     "n": int(inside.sum()), "correct": int(round(chance[inside].sum()))})
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
