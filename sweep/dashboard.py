"""optuna-dashboard over a study storage, with the report's figures and verdict published into it.

optuna-dashboard shows a study's own plots next to whatever graphs and note are stored in the
study's system attributes. `publish` puts the report's key figures and verdict there, so the live
dashboard and the report tell the same story. Each figure gets a stable graph id (``sweep-<key>``):
publishing again overwrites in place instead of appending, and a figure the new report no longer
has is removed rather than left behind next to a verdict that no longer mentions it.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping

import optuna
import optuna_dashboard
import plotly.graph_objects as go
import sqlalchemy
from optuna.storages import RDBStorage
from optuna.storages._rdb.models import StudySystemAttributeModel
from optuna_dashboard._custom_plot_data import SYSTEM_ATTR_PLOT_DATA, list_graph_object_ids

from sweep.storage import open_storage

#: Graph ids we own start with this; other custom graphs in the study are left alone.
GRAPH_ID_PREFIX = "sweep-"
_FIGURE_KEY = re.compile(r"[A-Za-z0-9_.-]+")


def serve(storage_url: str, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve optuna-dashboard for a SQLite or PostgreSQL storage until interrupted.

    Loopback by default: the dashboard has no authentication and can edit notes and delete studies.

    Args:
        storage_url: an SQLAlchemy URL, e.g. ``sqlite:///sweep.db`` or
            ``postgresql+psycopg://user:pass@host:5432/db``.
        host: the interface to bind; ``0.0.0.0`` exposes it to the network.
        port: the TCP port.

    Raises:
        StorageError: the storage cannot be opened; it is never created here (`sweep init`
            creates it, race-free).
    """
    optuna_dashboard.run_server(open_storage(storage_url, create=False), host=host, port=port)


def publish(study: optuna.Study, figures: Mapping[str, go.Figure], verdict_markdown: str) -> None:
    """Show the report's figures and verdict in optuna-dashboard, replacing what was there.

    Call it whenever the report is rebuilt; the same keys overwrite the same graphs, so the
    dashboard never shows two copies of a figure.

    Args:
        study: the study the report describes.
        figures: key -> figure; keys (letters, digits, ``_ . -``) name the graphs, so keep them
            stable across rebuilds (e.g. ``"flatten_gap"``).
        verdict_markdown: the verdict, shown as the study's note.

    Raises:
        ValueError: a key is not usable as a graph id.
    """
    for key in figures:
        if not _FIGURE_KEY.fullmatch(key):
            raise ValueError(f"figure key {key!r} must use only letters, digits, '_', '.', '-'")
    wanted = {GRAPH_ID_PREFIX + key for key in figures}
    for key, figure in figures.items():
        optuna_dashboard.save_plotly_graph_object(study, figure,
                                                  graph_object_id=GRAPH_ID_PREFIX + key)
    attrs = study._storage.get_study_system_attrs(study._study_id)
    stale = {graph_id for graph_id in list_graph_object_ids(attrs)
             if graph_id.startswith(GRAPH_ID_PREFIX) and graph_id not in wanted}
    if stale:
        _delete_graphs(study, stale)
    optuna_dashboard.save_note(study, verdict_markdown)


def _delete_graphs(study: optuna.Study, graph_ids: set[str]) -> None:
    """Delete graphs' attribute rows: Optuna's storage API can set study attributes, not drop."""
    storage = getattr(study._storage, "_backend", study._storage)  # unwrap _CachedStorage
    if not isinstance(storage, RDBStorage):
        warnings.warn(f"cannot remove stale dashboard graphs {sorted(graph_ids)} from "
                      f"{type(storage).__name__}", stacklevel=3)
        return
    key = StudySystemAttributeModel.key
    prefixes = [key.startswith(f"{SYSTEM_ATTR_PLOT_DATA}{graph_id}:", autoescape=True)
                for graph_id in graph_ids]
    with storage.engine.begin() as connection:
        connection.execute(sqlalchemy.delete(StudySystemAttributeModel).where(
            StudySystemAttributeModel.study_id == study._study_id, sqlalchemy.or_(*prefixes)))
