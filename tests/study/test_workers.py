"""Real `sweep worker` processes on SQLite and PostgreSQL: every grid cell exactly once, no trial
lost to a SIGKILL, a clean stop on SIGTERM, and concurrent creation on an empty database."""

from __future__ import annotations

import json
import signal
import socket
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy

from tests.study._helpers import finish, sweep, sweep_process, tiny_study, trials, wait_for


def _cells(found: list) -> list[str]:
    return [json.dumps(t.params, sort_keys=True) for t in found if t.state.name == "COMPLETE"]


def _running_on(url: str, name: str, pid: int) -> bool:
    worker = f"{socket.gethostname()}:{pid}"
    return any(t.state.name == "RUNNING" and t.user_attrs.get("worker") == worker
               and t.intermediate_values for t in trials(url, name))


def test_three_workers_one_sigkilled_complete_every_cell_once(storage_url: str,
                                                               tmp_path: Path) -> None:
    study = tiny_study(tmp_path, fixed={"epochs": 3, "embedding_dim": 8, "units": 8})
    workers = [sweep_process("worker", str(study), "--storage", storage_url, "--threads", "1")
               for _ in range(3)]
    victim = workers[0]
    wait_for(lambda: _running_on(storage_url, "tiny", victim.pid), 120, "the victim's trial")
    victim.send_signal(signal.SIGKILL)
    for worker in workers[1:]:
        code, _, err = finish(worker, timeout=300)
        assert code == 0, err
    found = trials(storage_url, "tiny")
    states = Counter(t.state.name for t in found)
    cells = _cells(found)
    assert states["COMPLETE"] == 8 and len(set(cells)) == 8, states
    assert states["RUNNING"] == 0 and states["WAITING"] == 0, states
    killed = [t for t in found if t.state.name == "FAIL"]
    assert len(killed) == 1
    retried = [t for t in found if t.system_attrs.get("failed_trial") == killed[0].number]
    assert [t.state.name for t in retried] == ["COMPLETE"]


def test_concurrent_init_on_empty_database_creates_study_once(storage_url: str,
                                                               tmp_path: Path) -> None:
    study = tiny_study(tmp_path)
    starters = [sweep_process("init", str(study), "--storage", storage_url) for _ in range(4)]
    for starter in starters:
        code, out, err = finish(starter, timeout=120)
        assert code == 0, err
    found = trials(storage_url, "tiny")
    assert len(found) == 8 and {t.state.name for t in found} == {"WAITING"}
    queued = [json.dumps(t.system_attrs["fixed_params"], sort_keys=True) for t in found]
    assert len(set(queued)) == 8


def test_sigterm_closes_the_running_trial_and_requeues_it(storage_url: str,
                                                          tmp_path: Path) -> None:
    study = tiny_study(tmp_path, fixed={"epochs": 6, "embedding_dim": 8, "units": 8})
    worker = sweep_process("worker", str(study), "--storage", storage_url)
    wait_for(lambda: _running_on(storage_url, "tiny", worker.pid), 120, "a running trial")
    worker.send_signal(signal.SIGTERM)
    code, _, err = finish(worker, timeout=15)  # within a few seconds, not after the trial
    assert code == 130, err
    found = trials(storage_url, "tiny")
    assert not [t for t in found if t.state.name == "RUNNING"]
    (stopped,) = [t for t in found if t.state.name == "FAIL"]
    assert stopped.user_attrs["error"] == "interrupted by SIGTERM"
    copies = [t for t in found if t.system_attrs.get("failed_trial") == stopped.number]
    assert [t.state.name for t in copies] == ["WAITING"]


@pytest.mark.parametrize("bad", ["grid_typo", "missing_data"])
def test_bad_input_exits_2_and_leaves_storage_untouched(storage_url: str, tmp_path: Path,
                                                        bad: str) -> None:
    if bad == "grid_typo":
        study = tiny_study(tmp_path, factors={"head": ["flatten", "banana"]})
        expected = "factors.head[1]: The 'head' parameter must be one of"
    else:
        study = tiny_study(tmp_path, data={"source": "aclimdb",
                                           "path": str(tmp_path / "absent.tar.gz")})
        expected = "data.path:"
    for command in ("run", "worker", "init"):
        result = sweep(command, str(study), "--storage", storage_url, timeout=120)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], result.stderr
    if storage_url.startswith("sqlite"):
        assert not Path(storage_url.removeprefix("sqlite:///")).exists()
    else:
        engine = sqlalchemy.create_engine(storage_url)
        try:
            assert sqlalchemy.inspect(engine).get_table_names() == []
        finally:
            engine.dispose()


@pytest.mark.postgres
def test_workers_survive_dropped_database_connections(postgres_url: str, tmp_path: Path) -> None:
    """Every backend of the study's database is terminated twice mid-study."""
    study = tiny_study(tmp_path, fixed={"epochs": 3, "embedding_dim": 8, "units": 8})
    workers = [sweep_process("worker", str(study), "--storage", postgres_url, "--threads", "1")
               for _ in range(2)]
    database = postgres_url.rsplit("/", 1)[1]
    admin = sqlalchemy.create_engine(postgres_url.rsplit("/", 1)[0] + "/postgres",
                                     isolation_level="AUTOCOMMIT")
    try:
        def terminate_workers_connections() -> int:
            with admin.connect() as connection:
                return connection.execute(sqlalchemy.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": database}).scalar()

        for _ in range(2):
            wait_for(lambda: any(t.state.name == "RUNNING" and t.intermediate_values
                                 for t in trials(postgres_url, "tiny")), 120, "a running trial")
            # After the first round the workers reconnect on their next storage call (the
            # heartbeat within a second): terminate once they hold connections again.
            assert wait_for(terminate_workers_connections, 30, "the workers' connections") >= 1
    finally:
        admin.dispose()
    for worker in workers:
        code, _, err = finish(worker, timeout=300)
        assert code == 0, err
    found = trials(postgres_url, "tiny")
    assert len(set(_cells(found))) == 8
    assert Counter(t.state.name for t in found)["COMPLETE"] == 8
