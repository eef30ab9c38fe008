"""Helpers for study tests: tiny synthetic study files and real `sweep worker` processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import optuna
import yaml

from sweep.storage import close_storage, open_storage

#: Fast fault detection for tests: heartbeat every second, stale after four.
FAST_ENV = {"SWEEP_HEARTBEAT_SECONDS": "1", "SWEEP_GRACE_SECONDS": "4",
            "SWEEP_POLL_SECONDS": "0.5", "SWEEP_STORAGE_RETRY_SECONDS": "60"}


def tiny_study(directory: Path, name: str = "tiny", **overrides: Any) -> Path:
    """Write a 2 x 2 grid x 2 seeds study on synthetic data that trains in seconds."""
    study = {
        "name": name,
        "data": {"source": "synthetic", "n_train": 200, "n_val": 100, "n_test": 100,
                 "maxlen": 40, "vocab_size": 2000},
        "fixed": {"epochs": 2, "embedding_dim": 8, "units": 8},
        "design": "grid",
        "factors": {"head": ["flatten", "last"], "padding": ["pre", "post"]},
        "seeds": [0, 1],
    }
    study.update(overrides)
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    return path


def sweep_process(*args: str, env: dict[str, str] | None = None,
                  capture: bool = True) -> subprocess.Popen:
    """Start ``sweep ARGS`` as a real process with the fast fault-detection settings."""
    return subprocess.Popen(
        [sys.executable, "-m", "sweep", *args],
        env={**os.environ, **FAST_ENV, **(env or {})},
        stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None,
        text=True,
    )


def sweep(*args: str, timeout: float = 300, env: dict[str, str] | None = None
          ) -> subprocess.CompletedProcess:
    """Run ``sweep ARGS`` to completion and return the finished process."""
    return subprocess.run([sys.executable, "-m", "sweep", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **FAST_ENV, **(env or {})})


def wait_for(condition: Any, timeout: float, what: str) -> Any:
    """Poll ``condition()`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def trials(url: str, name: str) -> list[optuna.trial.FrozenTrial]:
    """The study's trials, read fresh from storage."""
    storage = open_storage(url)
    try:
        return optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)
    except KeyError:  # not created yet
        return []
    finally:
        close_storage(storage)


def finish(process: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    """Wait for a process; return its exit code, stdout and stderr."""
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out or "", err or ""
