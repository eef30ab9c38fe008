"""End to end: an Optuna study in SQLite to index.html, summary.md/json, PNGs and trials.csv."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

from sweep.errors import StorageError, SweepError
from sweep.report import PUBLISH_KEYS, build_report, report_study

from ._synthetic import trials_table
from .conftest import make_study

FACTORS = ["head", "padding", "mask_zero", "seed"]


def test_report_files(grid_report: dict) -> None:
    out = Path(grid_report["out_dir"])
    summary = json.loads((out / "summary.json").read_text())
    assert not set(PUBLISH_KEYS) & set(summary)
    assert summary == json.loads(json.dumps({k: v for k, v in grid_report.items()
                                             if k not in PUBLISH_KEYS}))
    assert summary["design"]["trials"] == {"complete": 24, "fail": 1, "total": 25}
    pngs = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert pngs == sorted(f"{name}.png" for name in grid_report["figures"])
    for png in pngs:
        assert (out / "figures" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "index.html").read_text()
    assert not re.search(r"<script[^>]*\bsrc=", page)  # plotly.js is inlined, no CDN
    assert re.findall(r"<link[^>]*>", page) == ['<link rel="icon" href="data:,">']
    assert page.index("<h2>Verdict</h2>") < page.index("figure-gap_by_factor")
    assert page.count('class="plotly-graph-div"') == len(grid_report["figures"])
    markdown = (out / "summary.md").read_text()
    assert markdown.count("![") == len(pngs) and grid_report["verdict_markdown"] in markdown
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 25 and json.loads(trials["history"].iloc[0])["val_accuracy"]


def test_report_answers_the_question(grid_report: dict) -> None:
    findings = grid_report["findings"]
    assert findings["explaining_factors"] == ["padding", "mask_zero"]
    assert findings["cell"]["where"] == {"padding": "post", "mask_zero": "False"}
    assert findings["cell"]["inside"]["low"] > 0
    pre = [r for r in grid_report["gap"]["by_level"]
           if r["factor"] == "padding" and r["level"] == "pre"][0]
    assert pre["low"] < 0 < pre["high"]
    assert grid_report["importances"]["method"] == "PED-ANOVA"
    assert grid_report["mechanism"]["source"].startswith("per-bucket counts")
    contrasts = {(r["head"], r["padding"], r["mask_zero"]): r
                 for r in grid_report["mechanism"]["padding_contrast"]}
    assert len(contrasts) == 8
    assert contrasts[("last", "post", "False")]["judgement"] == "unpadded_better"
    assert contrasts[("flatten", "post", "False")]["judgement"] == "within_noise"
    mechanism = findings["mechanism"]
    assert mechanism["result"]["unpadded"]["n"] == contrasts[("last", "post", "False")][
        "unpadded_n"]
    markdown = (Path(grid_report["out_dir"]) / "summary.md").read_text()
    assert "**Reviews that fill every timestep against padded ones (pooled over trials)**" in \
        markdown and "| worse on padded reviews |" in markdown


def test_every_figure_has_a_title_and_labelled_axes(grid_report: dict) -> None:
    for name, figure in grid_report["figures"].items():
        layout = figure.layout
        assert len(layout.title.text) > 30, name
        assert layout.xaxis.title.text or layout.yaxis.title.text, name


def test_default_directory_is_reports_name(grid_storage: str, no_png: list[str],
                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    report_study(grid_storage, "gap")
    assert (tmp_path / "reports" / "gap" / "index.html").is_file()
    assert "gap_by_factor" in no_png


def test_unknown_study(grid_storage: str) -> None:
    with pytest.raises(StorageError, match=r"^no study named 'nope' in sqlite:///.* "
                                           r"\(studies there: gap\)$"):
        report_study(grid_storage, "nope")


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(StorageError, match="does not exist"):
        report_study(f"sqlite:///{path}", "gap")
    assert not path.exists()


def test_empty_and_all_failed_studies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sweep.db'}"
    optuna.create_study(study_name="empty", storage=url)
    with pytest.raises(StorageError, match="^study 'empty' has no trials yet"):
        report_study(url, "empty", tmp_path / "out")
    failed = trials_table(seeds=(0,)).assign(state="FAIL", value=None, error="TrialFailed: nan")
    make_study(url, "failed", failed, FACTORS)
    with pytest.raises(SweepError, match=r"^none of the 8 trials completed \(first error: "):
        report_study(url, "failed", tmp_path / "out")


def test_one_head_without_seeds(tmp_path: Path, no_png: list[str]) -> None:
    frame = trials_table(heads=("flatten",), seeds=(0,))
    result = build_report(frame, tmp_path, "one-head")
    assert result["gap"] is None and result["anova"] is not None
    assert "gap_by_factor" not in no_png and "variance_shares" in no_png
    notes = " ".join(result["cannot_compute"])
    assert "Only one head (flatten)" in notes and "same training seed" in notes
    assert "Optuna's importances are not computed" in notes
    assert "Only one head (flatten) was run" in (tmp_path / "index.html").read_text()


def test_search_study(tmp_path: Path, no_png: list[str]) -> None:
    frame = trials_table(seeds=(0, 1))
    frame["dropout"] = np.random.default_rng(1).uniform(0.0, 0.5, len(frame))
    result = build_report(frame, tmp_path, "search", design={"kind": "tpe"})
    assert "parallel_coordinates" in no_png and result["gap"] is None
    assert any("paired gaps cannot be computed" in n for n in result["cannot_compute"])
    assert "C(head):dropout" in result["anova"]["formula"]


def test_an_open_storage_is_accepted(tmp_path: Path, no_png: list[str]) -> None:
    storage = optuna.storages.InMemoryStorage()
    make_study(storage, "memory", trials_table(seeds=(0, 1)), FACTORS)
    result = report_study(storage, "memory", tmp_path)
    assert result["design"]["trials"]["complete"] == 16 and result["importances"] is not None


def test_length_figure_marks_maxlen_and_keeps_bucket_order(grid_report: dict) -> None:
    figure = grid_report["figures"]["accuracy_by_length"]
    assert "dashed line: maxlen 500, reviews left of it are padded" in figure.layout.title.text
    dashed = [s for s in figure.layout.shapes if s.line.dash == "dash"]
    assert dashed and {s.x0 for s in dashed} == {4.5}  # between 300–499 and 500–999
    assert list(figure.layout.xaxis.categoryarray)[:5] == [
        "< 100", "100–149", "150–199", "200–299", "300–499"]
