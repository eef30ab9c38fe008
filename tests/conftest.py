"""Shared fixtures: the real IMDB archive, an isolated cache, and storages on SQLite and PostgreSQL.

PostgreSQL tests never skip in CI (``CI=true``): a missing server there is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
IMDB_ARCHIVE = REPO.parent / "shared" / "data" / "aclImdb_v1_labelled.tar.gz"
POSTGRES_ADMIN_URL = os.environ.get("SWEEP_TEST_POSTGRES",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test shares one session cache dir, never the user's, and no stray env settings."""
    monkeypatch.setenv("SWEEP_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    for name in ("SWEEP_DATA", "SWEEP_STORAGE", "SWEEP_IMDB_URL", "SWEEP_IMDB_SHA256"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def imdb_archive() -> Path:
    """The real IMDB archive from shared/data (never committed)."""
    if not IMDB_ARCHIVE.exists():
        pytest.fail(f"the real IMDB archive is missing: {IMDB_ARCHIVE}")
    return IMDB_ARCHIVE


def _postgres_database() -> Iterator[str]:
    import sqlalchemy

    name = f"sweep_test_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    except sqlalchemy.exc.OperationalError as err:
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {err}")
        pytest.skip(f"PostgreSQL unreachable: {err}")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test, dropped afterwards."""
    yield from _postgres_database()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test against an empty SQLite file and an empty PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sweep.db'}"
    else:
        yield from _postgres_database()
