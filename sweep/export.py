"""Trials as a table: one row per trial with its full configuration, results and metadata.

This frame is what `sweep export` writes and what the report analyses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import optuna
import pandas as pd

from sweep.errors import ConfigError
from sweep.params import PARAMS

#: User attributes each finished trial carries besides ``config`` (written by
#: `sweep.objective.record_result`).
RESULT_ATTRS = ("best_val_accuracy", "test_accuracy", "train_accuracy", "test_loss",
                "best_epoch", "seconds", "seconds_per_epoch", "mask_effective", "implementation",
                "history", "test_by_length", "test_by_padded_share", "host", "versions")
#: Columns holding nested values (dicts, lists); flat formats get them as JSON text.
NESTED = ("history", "test_by_length", "test_by_padded_share", "data_stats", "versions")
FORMATS = ("csv", "parquet", "json")


def trial_row(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    """One trial as a flat dict: params from its recorded config, then results and metadata."""
    config = trial.user_attrs.get("config") or {}
    queued = trial.system_attrs.get("fixed_params", {})
    row: dict[str, Any] = {
        "number": trial.number,
        "state": trial.state.name,
        "value": trial.value,
        "datetime_start": trial.datetime_start,
        "datetime_complete": trial.datetime_complete,
    }
    for name in PARAMS:
        row[name] = config.get(name, trial.params.get(name, queued.get(name)))
    if row["seed"] is None:
        row["seed"] = trial.user_attrs.get("seed")
    for key in (*RESULT_ATTRS, "n_params", "data_fingerprint", "data_stats", "error"):
        row[key] = trial.user_attrs.get(key)
    row["retry_of"] = trial.system_attrs.get("failed_trial")
    row["replicate_of"] = trial.user_attrs.get("replicate_of")
    return row


def trials_frame(study: optuna.Study) -> pd.DataFrame:
    """All trials of ``study`` as a DataFrame, ordered by trial number."""
    rows = [trial_row(t) for t in study.get_trials(deepcopy=False)]
    frame = pd.DataFrame(rows)
    return frame.sort_values("number").reset_index(drop=True) if len(frame) else frame


def write_export(frame: pd.DataFrame, fmt: str, out: Path | None) -> str | None:
    """Write ``frame`` as csv, parquet or json (JSON lines of records) to ``out`` or return text.

    Raises:
        ConfigError: unknown format, or parquet without an output file.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    flat = frame.copy()
    for column in NESTED:
        if column in flat:
            flat[column] = flat[column].map(lambda v: None if v is None else json.dumps(v))
    if fmt == "parquet":
        if out is None:
            raise ConfigError("--format parquet needs -o FILE (it is binary)")
        flat.to_parquet(out, index=False)
        return None
    text = (flat.to_csv(index=False) if fmt == "csv"
            else flat.to_json(orient="records", lines=True, date_format="iso"))
    if out is None:
        return text
    Path(out).write_text(text)
    return None
