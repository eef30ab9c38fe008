"""One place that turns a storage URL into an Optuna storage fit for many workers.

* ``--storage`` wins, then ``SWEEP_STORAGE``, then ``sqlite:///sweep.db`` in the working directory.
* PostgreSQL goes through psycopg 3 with a small, pre-pinged pool, so a restarted server is
  reconnected and ``workers x (pool_size + max_overflow)`` stays under ``max_connections``.
* Heartbeats let any worker fail a dead worker's trial and re-queue it
  (Optuna's RetryHeartbeatStaleTrialCallback).
* `study_lock` serializes schema creation, study creation and grid enqueueing across processes
  (optuna#1092: concurrent ``create_all`` on an empty PostgreSQL database fails).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
import warnings
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import optuna
import sqlalchemy
from sqlalchemy.engine import make_url

from sweep.errors import StorageError

DEFAULT_STORAGE = "sqlite:///sweep.db"
HEARTBEAT_SECONDS = int(os.environ.get("SWEEP_HEARTBEAT_SECONDS", "5"))
GRACE_SECONDS = int(os.environ.get("SWEEP_GRACE_SECONDS", "20"))
#: A trial whose worker died is re-queued this many times before it stays FAIL.
MAX_RETRY = 3
#: How long storage operations are retried while the database is unreachable.
RETRY_SECONDS = float(os.environ.get("SWEEP_STORAGE_RETRY_SECONDS", "120"))

T = TypeVar("T")


def storage_url(cli_value: str | None = None) -> str:
    """The storage URL in force, normalised: ``postgresql://`` means psycopg 3 here."""
    url = cli_value or os.environ.get("SWEEP_STORAGE") or DEFAULT_STORAGE
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _engine_kwargs(url: str) -> dict:
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        return {"pool_pre_ping": True, "pool_size": 2, "max_overflow": 2, "pool_recycle": 300}
    if backend == "sqlite":
        return {"connect_args": {"timeout": 60}}
    return {"pool_pre_ping": True}


def _parse(url: str) -> sqlalchemy.URL:
    try:
        return make_url(url)
    except sqlalchemy.exc.ArgumentError as err:
        raise StorageError(
            f"storage URL {url!r} is not a database URL; use sqlite:///FILE.db or "
            "postgresql+psycopg://USER@HOST:5432/DB"
        ) from err


@contextlib.contextmanager
def study_lock(url: str, name: str = "sweep") -> Iterator[None]:
    """Hold an exclusive, cross-process lock named ``name`` on the database behind ``url``.

    PostgreSQL: a session advisory lock. SQLite: ``flock`` on a file beside the database.
    """
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            yield
            return
        lock_path = Path(database).with_name(Path(database).name + ".lock")
        with open(lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    if backend != "postgresql":
        yield
        return
    key = zlib.crc32(f"sweep:{name}".encode())
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    except sqlalchemy.exc.OperationalError as err:
        raise StorageError(f"cannot reach the storage at {_safe(url)}: {_first_line(err)}") from err
    finally:
        engine.dispose()


def queue_lock(url: str, name: str) -> contextlib.AbstractContextManager[None]:
    """Serialize taking a queued trial where the database has no row locks.

    Optuna's compare-and-set on a trial's state relies on ``SELECT ... FOR UPDATE``, which
    SQLite ignores, so two SQLite workers could both take one trial; PostgreSQL needs nothing.
    """
    if _parse(url).get_backend_name() == "sqlite":
        return study_lock(url, name)
    return contextlib.nullcontext()


def _safe(url: str) -> str:
    return _parse(url).render_as_string(hide_password=True)


def _first_line(err: BaseException) -> str:
    text = str(getattr(err, "orig", None) or err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def open_storage(url: str, create: bool = True) -> optuna.storages.RDBStorage:
    """Open an RDB storage with heartbeats and retries.

    Args:
        url: an SQLAlchemy URL (see `storage_url`).
        create: create the schema if missing (runs, workers); readers (status, export,
            report, dashboard) pass False, so a mistyped path never leaves an empty database.

    Raises:
        StorageError: the URL is malformed, its driver is missing, the database cannot be
            reached, or (``create=False``) it holds no study storage.
    """
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not create and not path.is_file():
            raise StorageError(f"no study storage at {url}: the file {path} does not exist "
                               "(run a study first)")
        if not path.parent.resolve().exists():
            raise StorageError(f"storage {url}: directory {path.parent} does not exist")
    lock = study_lock(url, "schema") if create else contextlib.nullcontext()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            with lock:
                return optuna.storages.RDBStorage(
                    url,
                    engine_kwargs=_engine_kwargs(url),
                    skip_table_creation=not create,
                    heartbeat_interval=HEARTBEAT_SECONDS,
                    grace_period=GRACE_SECONDS,
                    heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                        max_retry=MAX_RETRY),
                )
        except (ImportError, sqlalchemy.exc.NoSuchModuleError) as err:
            hint = " (sweep uses psycopg 3: write postgresql+psycopg://)" \
                if backend == "postgresql" else ""
            raise StorageError(f"no database driver for {_safe(url)}{hint}") from err
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.ProgrammingError,
                sqlalchemy.exc.ArgumentError, optuna.exceptions.StorageInternalError) as err:
            hint = "" if create else " (is the URL right? has `sweep init` run against it?)"
            raise StorageError(f"cannot open the storage at {_safe(url)}: "
                               f"{_first_line(err.__cause__ or err)}{hint}") from err


def close_storage(storage: optuna.storages.BaseStorage) -> None:
    """Release the storage's pooled connections (a worker that ends keeps none open)."""
    backend = getattr(storage, "_backend", storage)  # a study's storage is Optuna's cache wrapper
    engine = getattr(backend, "engine", None)
    if engine is not None:
        engine.dispose()


def retry_storage(operation: Callable[[], T], what: str) -> T:
    """Run a storage operation, retrying while the database is down (restart, network blip)."""
    deadline = time.monotonic() + RETRY_SECONDS
    delay = 0.5
    while True:
        try:
            return operation()
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
                optuna.exceptions.StorageInternalError) as err:
            if time.monotonic() > deadline:
                raise StorageError(f"storage unreachable while trying to {what}: "
                                   f"{_first_line(err)}") from err
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


def load_existing_study(url: str, name: str) -> optuna.Study:
    """Load a study by name, with a clear error that lists the studies that do exist.

    Raises:
        StorageError: no study of that name (or the storage is unreachable).
    """
    storage = open_storage(url, create=False)
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        close_storage(storage)
        known = ", ".join(names) if names else "none"
        raise StorageError(f"no study named '{name}' in {_safe(url)} (studies there: {known})"
                           ) from None
