"""One synthetic grid study on SQLite, reported once per session (the PNGs need a browser)."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from sweep.report import report_study

from ._synthetic import add_to_study, trials_table

GRID_DESIGN = {"kind": "grid", "factors": ["head", "padding", "mask_zero"], "seeds": [0, 1, 2],
               "objective": {"metric": "test_accuracy", "direction": "maximize"}}


def make_study(url: str | optuna.storages.BaseStorage, name: str, frame, factors: list[str],
               design: dict | None = GRID_DESIGN) -> optuna.Study:
    """A study in ``url`` holding ``frame``'s rows as finished trials."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=name, storage=url, direction="maximize")
    if design is not None:
        study.set_user_attr("design", design)
    add_to_study(study, frame, factors)
    return study


@pytest.fixture(scope="session")
def grid_storage(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file with study ``gap``: head x padding x mask_zero x 3 seeds, one failure."""
    url = f"sqlite:///{tmp_path_factory.mktemp('storage') / 'sweep.db'}"
    make_study(url, "gap", trials_table(failed=1), ["head", "padding", "mask_zero", "seed"])
    return url


@pytest.fixture(scope="session")
def grid_report(grid_storage: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """`report_study` on the grid study, written once for the file and browser tests."""
    out = tmp_path_factory.mktemp("report") / "gap"
    return report_study(grid_storage, "gap", out)


@pytest.fixture
def no_png(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Skip the browser for tests about the analysis; records which figures would be drawn."""
    drawn: list[str] = []

    def fake(figures: dict, directory: Path) -> tuple[list[Path], None]:
        drawn.extend(figures)
        return [], None

    monkeypatch.setattr("sweep.report._figures.write_pngs", fake)
    return drawn
