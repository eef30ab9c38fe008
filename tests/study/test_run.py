"""`sweep run`, `status`, `ls` and `export` end to end on a real SQLite storage."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import optuna
import pandas as pd
import pytest

from sweep.errors import TrialFailed
from tests.study._helpers import sweep, tiny_study, trials


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A tiny grid study run to completion by `sweep run --workers 2`."""
    directory = tmp_path_factory.mktemp("run")
    url = f"sqlite:///{directory / 'sweep.db'}"
    study = tiny_study(directory, factors={"head": ["flatten", "last"]}, seeds=[0, 1])
    result = sweep("run", str(study), "--storage", url, "--workers", "2", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["states"]["COMPLETE"] == 4 and status["finished"] == 4
    return url, study


def test_rerunning_a_finished_study_does_nothing(finished: tuple[str, Path]) -> None:
    url, study = finished
    result = sweep("run", str(study), "--storage", url)
    assert result.returncode == 0
    assert "is complete: 4 trials finished, nothing to run" in result.stdout
    assert len(trials(url, "tiny")) == 4


def test_status_ls_and_export(finished: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = finished
    status = json.loads(sweep("status", "tiny", "--storage", url, "--json").stdout)
    assert status["coverage"] == {"cells_done": 4, "cells_total": 4}
    assert status["best"]["number"] in range(4) and status["eta_seconds"] == 0.0
    text = sweep("status", "tiny", "--storage", url).stdout
    assert "4/4 finished" in text and "grid coverage: 4/4" in text
    listed = json.loads(sweep("ls", "--storage", url, "--json").stdout)
    assert [(row["study"], row["trials"], row["design"]) for row in listed] == \
        [("tiny", 4, "grid")]

    frame = pd.read_csv(io.StringIO(sweep("export", "tiny", "--storage", url).stdout))
    assert len(frame) == 4 and set(frame["head"]) == {"flatten", "last"}
    assert set(frame["seed"]) == {0, 1} and (frame["maxlen"] == 40).all()
    for column in ("test_accuracy", "best_val_accuracy", "n_params", "seconds",
                   "data_fingerprint", "mask_effective"):
        assert frame[column].notna().all(), column
    history = json.loads(frame.loc[0, "history"])
    assert len(history["val_accuracy"]) == 2
    versions = json.loads(frame.loc[0, "versions"])
    assert {"python", "tensorflow", "keras", "optuna", "sweep"} <= set(versions)

    out = tmp_path / "t.parquet"
    assert sweep("export", "tiny", "--storage", url, "--format", "parquet", "-o",
                 str(out)).returncode == 0
    assert len(pd.read_parquet(out)) == 4
    lines = sweep("export", "tiny", "--storage", url, "--format", "json").stdout.splitlines()
    assert len(lines) == 4 and json.loads(lines[0])["state"] == "COMPLETE"


def test_trials_record_reproducibility_metadata(finished: tuple[str, Path]) -> None:
    url, _ = finished
    for trial in trials(url, "tiny"):
        attrs = trial.user_attrs
        assert attrs["config"]["seed"] == trial.params["seed"] == attrs["seed"]
        assert attrs["data_fingerprint"] == "synthetic-v1"
        assert attrs["worker"] and attrs["host"]
        assert sorted(trial.intermediate_values) == [1, 2]
        assert trial.intermediate_values[2] == attrs["history"]["val_accuracy"][1]
        assert attrs["data_stats"]["train"]["n"] == 200


def test_unknown_study_is_one_line_exit_2(finished: tuple[str, Path]) -> None:
    url, _ = finished
    for command in (["status", "nope"], ["export", "nope"]):
        result = sweep(*command, "--storage", url)
        assert result.returncode == 2
        assert result.stderr.strip() == (f"sweep: error: no study named 'nope' in {url} "
                                         "(studies there: tiny)")


def test_adding_a_level_runs_only_the_new_cells(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    small = tiny_study(tmp_path, factors={"head": ["last"]}, seeds=[0])
    assert sweep("run", str(small), "--storage", url).returncode == 0
    first = trials(url, "tiny")
    grown = tiny_study(tmp_path, factors={"head": ["last", "mean"]}, seeds=[0, 1])
    result = sweep("run", str(grown), "--storage", url, "--json")
    assert result.returncode == 0, result.stderr
    found = trials(url, "tiny")
    assert len(found) == 4 and Counter(t.state.name for t in found)["COMPLETE"] == 4
    assert found[0].datetime_complete == first[0].datetime_complete  # not re-run
    assert json.loads(result.stdout)["coverage"] == {"cells_done": 4, "cells_total": 4}

    changed = tiny_study(tmp_path, factors={"head": ["last"]}, seeds=[0],
                         fixed={"epochs": 3, "embedding_dim": 8, "units": 8})
    refused = sweep("run", str(changed), "--storage", url)
    assert refused.returncode == 2
    assert "held-fixed settings differ: epochs 2 -> 3" in refused.stderr


def test_search_runs_its_budget_with_replicate_seeds_and_pruning(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    study = tiny_study(
        tmp_path, name="search", design="tpe", factors=None, n_trials=4, seeds=[0, 1],
        space={"head": {"type": "categorical", "choices": ["flatten", "last"]},
               "units": {"type": "int", "low": 4, "high": 16, "log": True}},
        pruner={"type": "median", "n_startup_trials": 1},
        fixed={"epochs": 3, "embedding_dim": 8})
    text = study.read_text().replace("factors: null\n", "")
    study.write_text(text)
    result = sweep("run", str(study), "--storage", url, "--workers", "2")
    assert result.returncode == 0, result.stderr
    found = trials(url, "search")
    configs = [t for t in found if "replicate_of" not in t.user_attrs]
    replicates = [t for t in found if "replicate_of" in t.user_attrs]
    assert len(configs) == 4
    complete = [t for t in configs if t.state.name == "COMPLETE"]
    assert sorted(t.user_attrs["replicate_of"] for t in replicates) == \
        sorted(t.number for t in complete)
    for replicate in replicates:
        original = found[replicate.user_attrs["replicate_of"]]
        assert replicate.params == original.params
        assert (original.user_attrs["seed"], replicate.user_attrs["seed"]) == (0, 1)
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in found)


def test_a_nan_loss_fails_that_trial_and_the_study_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A trial whose loss turns NaN ends FAIL with the reason; the other cells complete."""
    import keras
    import numpy as np

    import sweep.objective
    from sweep.runner import work
    from sweep.studyfile import load_study_file

    real_train = sweep.objective.train

    class PoisonWeights(keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            if batch == 1:
                self.model.set_weights([np.full_like(w, np.nan) for w in
                                        self.model.get_weights()])

    def train(config: dict, dataset: object, callbacks: list, verbose: int = 0) -> dict:
        extra = [PoisonWeights()] if config["head"] == "last" else []
        return real_train(config, dataset, callbacks=[*callbacks, *extra], verbose=verbose)

    monkeypatch.setattr(sweep.objective, "train", train)
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    spec = load_study_file(tiny_study(tmp_path, factors={"head": ["flatten", "last"]}, seeds=[0]))
    summary = work(spec, url, quiet=True, log=lambda line: None)
    assert (summary.complete, summary.failed) == (1, 1)
    failed = [t for t in trials(url, "tiny") if t.state == optuna.trial.TrialState.FAIL]
    assert failed[0].params["head"] == "last"
    assert failed[0].user_attrs["error"].startswith("training loss became nan at epoch 1")
    assert TrialFailed.__name__  # the runner maps TrialFailed to FAIL with its message
