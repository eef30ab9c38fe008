"""`publish` puts the report into the study for optuna-dashboard; republishing never duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import optuna_dashboard
import plotly.graph_objects as go
import pytest
from optuna_dashboard._custom_plot_data import get_plotly_graph_objects

from sweep.dashboard import publish
from sweep.errors import StorageError
from sweep.storage import open_storage


@pytest.fixture
def study(storage_url: str) -> optuna.Study:
    """A study on SQLite and on PostgreSQL (tests/conftest.py's ``storage_url``)."""
    return optuna.create_study(study_name="gap", storage=storage_url, direction="maximize")


def figure(title: str) -> go.Figure:
    return go.Figure(go.Bar(x=["pre", "post"], y=[0.02, 0.11]), layout={"title": {"text": title}})


def graphs(study: optuna.Study) -> dict[str, str]:
    """Graph id -> the title the dashboard will draw, read back as the dashboard reads it."""
    stored = get_plotly_graph_objects(study._storage.get_study_system_attrs(study._study_id))
    return {graph_id: json.loads(data)["layout"]["title"]["text"]
            for graph_id, data in stored.items()}


def test_publishing_twice_refreshes_in_place(study: optuna.Study) -> None:
    publish(study, {"flatten_gap": figure("gap v1"), "anova": figure("anova v1")}, "v1")
    publish(study, {"flatten_gap": figure("gap v2"), "anova": figure("anova v2")}, "**v2**")
    assert graphs(study) == {"sweep-flatten_gap": "gap v2", "sweep-anova": "anova v2"}
    assert optuna_dashboard.get_note(study) == "**v2**"


def test_a_shorter_figure_replaces_a_longer_one_whole(study: optuna.Study) -> None:
    long = figure("long")
    long.add_trace(go.Scatter(x=list(range(2000)), y=list(range(2000))))  # several attr chunks
    publish(study, {"gap": long}, "a long verdict " * 400)
    publish(study, {"gap": figure("short")}, "short")
    assert graphs(study) == {"sweep-gap": "short"}
    assert optuna_dashboard.get_note(study) == "short"


def test_a_dropped_figure_is_removed_and_foreign_graphs_are_kept(study: optuna.Study) -> None:
    foreign = optuna_dashboard.save_plotly_graph_object(study, figure("hand-made"))
    publish(study, {"gap": figure("gap"), "seeds": figure("seeds")}, "v1")
    publish(study, {"gap": figure("gap")}, "v2")
    assert graphs(study) == {foreign: "hand-made", "sweep-gap": "gap"}


def test_figure_keys_must_be_graph_ids(study: optuna.Study) -> None:
    with pytest.raises(ValueError, match="'flatten gap'"):
        publish(study, {"flatten gap": figure("x")}, "v1")
    assert graphs(study) == {}


def test_serving_a_missing_sqlite_file_fails_before_starting(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        open_storage(f"sqlite:///{tmp_path / 'typo.db'}", create=False)
    assert not (tmp_path / "typo.db").exists()


def test_the_dashboard_containers_psycopg2_url_gets_a_hint() -> None:
    with pytest.raises(StorageError, match=r"postgresql\+psycopg://"):
        open_storage("postgresql+psycopg2://sweep:sweep@127.0.0.1:5432/sweep", create=False)


def test_a_database_without_optuna_tables_says_to_init(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    with pytest.raises(StorageError, match="sweep init"):
        open_storage(f"sqlite:///{tmp_path / 'empty.db'}", create=False)


@pytest.mark.postgres
def test_an_empty_postgres_database_says_to_init(postgres_url: str) -> None:
    with pytest.raises(StorageError, match="sweep init"):
        open_storage(postgres_url, create=False)


def test_a_malformed_url_is_one_clear_error() -> None:
    with pytest.raises(StorageError, match="is not a database URL"):
        open_storage("sweep.db", create=False)


def test_without_rdb_storage_a_dropped_figure_stays_with_a_warning() -> None:
    study = optuna.create_study()  # in memory: nothing can delete its system attributes
    publish(study, {"gap": figure("gap"), "seeds": figure("seeds")}, "v1")
    with pytest.warns(UserWarning, match="sweep-seeds"):
        publish(study, {"gap": figure("gap v2")}, "v2")
    assert graphs(study) == {"sweep-gap": "gap v2", "sweep-seeds": "seeds"}
