"""The compose topology without Docker: the `init` and `worker` commands, as docker-compose.yml
declares them, run as real processes against the local PostgreSQL (init once, then 3 workers).

Only what a container would see differently is rewritten: the storage URL (the compose network's
``postgres`` host becomes the local server), the cache volume (a tmp folder) and the image's
``sweep`` entrypoint (this venv's script). The study file sits where ``./studies`` is mounted.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import optuna
import optuna_dashboard
import pytest
import yaml
from optuna_dashboard._custom_plot_data import list_graph_object_ids

from ._compose import command_args, entrypoint, load_compose

STUDY = {
    "name": "topology",
    "description": "4 cells x 2 seeds on tiny synthetic data: the compose topology test",
    "data": {"source": "synthetic", "n_train": 200, "n_val": 100, "n_test": 100,
             "maxlen": 50, "vocab_size": 2000},
    "fixed": {"epochs": 1, "embedding_dim": 8, "units": 8},
    "design": "grid",
    "factors": {"head": ["flatten", "last"], "padding": ["pre", "post"]},
    "seeds": [0, 1],
}
N_WORKERS = 3
TIMEOUT = 600  # seconds for all workers; typically ~1-2 min on 2 busy cores


def service_process(service: dict[str, Any], storage_url: str, cache: Path
                    ) -> tuple[list[str], dict[str, str]]:
    """argv and environment of one compose service, run from this venv instead of the image."""
    argv = [str(a) for a in service.get("entrypoint") or entrypoint()] + command_args(service)
    assert argv[0] == "sweep", f"unexpected entrypoint {argv[0]!r}"
    argv[0] = str(Path(sys.executable).with_name("sweep"))
    environment = {str(k): str(v) for k, v in service.get("environment", {}).items()}
    assert "SWEEP_STORAGE" in environment, "the storage URL must come from SWEEP_STORAGE"
    assert "--storage" not in argv
    environment["SWEEP_STORAGE"] = storage_url
    environment["SWEEP_CACHE_DIR"] = str(cache)
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SWEEP_")}
    return argv, {**inherited, **environment}


def tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@pytest.mark.postgres
def test_init_then_three_workers_complete_every_cell_exactly_once(
        tmp_path: Path, postgres_url: str) -> None:
    (tmp_path / "studies").mkdir()
    (tmp_path / "studies" / "topology.yaml").write_text(yaml.safe_dump(STUDY, sort_keys=False))
    # WORKER_CPUS=1 is what a user would put in .env for 3 workers on a small machine.
    services = load_compose({"STUDY": "topology", "WORKER_CPUS": "1"})["services"]
    cache = tmp_path / "cache"

    init_argv, init_env = service_process(services["init"], postgres_url, cache)
    init = subprocess.run(init_argv, cwd=tmp_path, env=init_env, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    assert init.returncode == 0, f"{init_argv}\n{init.stdout}\n{init.stderr}"

    worker_argv, worker_env = service_process(services["worker"], postgres_url, cache)
    logs = [tmp_path / f"worker{i}.log" for i in range(N_WORKERS)]
    workers = []
    for log in logs:
        with log.open("w") as out:
            workers.append(subprocess.Popen(worker_argv, cwd=tmp_path, env=worker_env,
                                            stdout=out, stderr=subprocess.STDOUT))
    try:
        codes = [worker.wait(timeout=TIMEOUT) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert codes == [0] * N_WORKERS, "\n\n".join(
        f"worker {i} exited {code}:\n{tail(log)}"
        for i, (code, log) in enumerate(zip(codes, logs, strict=True)))

    trials = optuna.load_study(study_name="topology", storage=postgres_url).get_trials()
    states = Counter(trial.state for trial in trials)
    complete = [trial for trial in trials if trial.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 8, states
    assert states[optuna.trial.TrialState.RUNNING] == 0, states
    assert states[optuna.trial.TrialState.WAITING] == 0, states
    cells = [(t.params["head"], t.params["padding"], t.params["seed"]) for t in complete]
    expected = set(itertools.product(*STUDY["factors"].values(), STUDY["seeds"]))
    assert len(set(cells)) == 8 and set(cells) == expected, sorted(cells)

    # The worker that finished the study (--publish) wrote the report and refreshed the dashboard.
    study = optuna.load_study(study_name="topology", storage=postgres_url)
    assert (tmp_path / "reports" / "topology" / "index.html").is_file()
    assert optuna_dashboard.get_note(study).startswith("- Evidence: 8 completed")
    graphs = list_graph_object_ids(study._storage.get_study_system_attrs(study._study_id))
    assert "sweep-gap_by_factor" in graphs and len(graphs) == len(set(graphs))
