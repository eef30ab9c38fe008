"""Build the report: analyse a trials table, write the page, the summaries, the figures, the data.

`build_report` works on a table (tests, notebooks, other storages); `report_study` is what
``sweep report NAME`` calls: it loads the study and hands its table to `build_report`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd

from sweep.dashboard import publish
from sweep.errors import StorageError
from sweep.report import _figures as figs
from sweep.report._anova import Anova, decompose
from sweep.report._capacity import capacity, learning_curves
from sweep.report._design import Design, read_design
from sweep.report._gap import Gaps, paired_gaps
from sweep.report._html import Section, render_html
from sweep.report._importance import Importances, importances
from sweep.report._markdown import render_markdown
from sweep.report._mechanism import SOURCE, by_bucket, padding_contrasts
from sweep.report._tables import (
    anova_table,
    bucket_tables,
    capacity_table,
    contrast_table,
    gap_tables,
    importance_table,
)
from sweep.report._verdict import Verdict, primary_other, write_verdict

#: Keys of the returned dict that hold Python objects for other modules (the Optuna dashboard)
#: and are not written to summary.json.
PUBLISH_KEYS = ("figures", "verdict_markdown")
#: Study kinds whose trials are drawn by a sampler rather than laid out on a grid.
SEARCH_KINDS = ("tpe", "random")


def build_report(frame: pd.DataFrame, out_dir: Path, study_name: str,
                 design: dict | None = None, study: optuna.Study | None = None) -> dict:
    """Analyse one study's trials and write the report files into ``out_dir``.

    Args:
        frame: one row per trial, as `sweep.export.trials_frame` returns it.
        out_dir: where index.html, summary.md, summary.json, trials.csv and figures/ go.
        study_name: shown in titles and recorded in the summary.
        design: the study's ``design`` user attr; taken from ``study`` when omitted.
        study: the Optuna study, for Optuna's importances; optional.

    Returns:
        The summary (as in summary.json), plus ``figures`` (name -> plotly Figure) and
        ``verdict_markdown`` for publishing elsewhere; those two are not in summary.json.

    Raises:
        SweepError: the table has no trials, or none completed with an accuracy.
    """
    if design is None and study is not None:
        design = study.user_attrs.get("design")
    found = read_design(frame, design)
    gaps = paired_gaps(found)
    anova = decompose(found)
    importance = importances(study, found.notes)
    mechanism = by_bucket(found)
    curves = learning_curves(found)
    sizes = capacity(found)
    verdict = write_verdict(found, gaps, anova, mechanism, sizes)
    figures = _figures(found, gaps, anova, importance, mechanism, curves, verdict)
    notes = found.notes + (gaps.notes if gaps else []) + (anova.notes if anova else [])
    sections = _sections(found, gaps, anova, importance, mechanism, curves, sizes)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pngs, png_problem = figs.write_pngs(figures, out_dir / "figures")
    if png_problem:
        notes.append(png_problem)
    title = f"Why the flatten head wins or loses: study {study_name}"
    (out_dir / "index.html").write_text(
        render_html(title, verdict.sentences, sections, figures, notes), encoding="utf-8")
    png_links = {p.stem: f"figures/{p.name}" for p in pngs}
    (out_dir / "summary.md").write_text(
        render_markdown(title, verdict.markdown, sections, png_links, notes), encoding="utf-8")
    _write_trials(frame, out_dir / "trials.csv")

    summary = _jsonable({
        "study": study_name,
        "design": {"kind": found.kind, "response": found.response, "factors": found.factors,
                   "heads": found.heads, "reference_head": found.reference,
                   "seeds": found.seeds, "trials": found.counts},
        "verdict": verdict.sentences,
        "findings": verdict.findings,
        "gap": None if gaps is None else {
            "reference": gaps.reference, "overall": _records(gaps.overall),
            "by_level": _records(gaps.by_level), "by_setting": _records(gaps.by_setting),
            "pairs": _records(gaps.pairs)},
        "anova": None if anova is None else {
            "formula": anova.formula, "n": anova.n, "r_squared": anova.r_squared,
            "terms": _records(anova.table)},
        "importances": None if importance is None else {
            "method": importance.method, "values": importance.values,
            "n_trials": importance.n_trials, "top_quantile": importance.top_quantile,
            "notes": importance.notes},
        "mechanism": None if mechanism is None else {
            "source": SOURCE, "buckets": _records(mechanism),
            "padding_contrast": _records(padding_contrasts(mechanism))},
        "learning_curves": None if curves is None else _records(curves),
        "capacity": None if sizes is None else _records(sizes),
        "cannot_compute": notes,
        "files": {"html": "index.html", "markdown": "summary.md", "json": "summary.json",
                  "trials": "trials.csv", "figures": sorted(png_links.values())},
        "out_dir": str(out_dir),
    })
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return {**summary, "figures": figures, "verdict_markdown": verdict.markdown}


def report_study(storage: str | optuna.storages.BaseStorage, study_name: str,
                 out_dir: Path | None = None) -> dict:
    """Load ``study_name`` from ``storage`` and build its report (``sweep report NAME``).

    Args:
        storage: a storage URL or an open Optuna storage.
        study_name: the study to report on.
        out_dir: where to write; ``reports/NAME/`` by default.

    Returns:
        What `build_report` returns.

    Raises:
        StorageError: the storage cannot be opened, the study does not exist or has no trials.

    The report's key figures and verdict are also published into the study, so
    optuna-dashboard shows them (replacing the previous report's).
        SweepError: no trial completed.
    """
    from sweep.export import trials_frame
    from sweep.storage import close_storage, load_existing_study, storage_url

    if isinstance(storage, str):
        study = load_existing_study(storage_url(storage), study_name)
    else:
        study = optuna.load_study(study_name=study_name, storage=storage)
    try:
        if not study.get_trials(deepcopy=False):
            raise StorageError(f"study '{study_name}' has no trials yet; run it first "
                               "(sweep run STUDY.yaml)")
        frame = trials_frame(study)
        target = Path(out_dir) if out_dir is not None else Path("reports") / study_name
        summary = build_report(frame, target, study_name, study=study)
        publish(study, summary["figures"], summary["verdict_markdown"])
        return summary
    finally:
        if isinstance(storage, str):
            close_storage(study._storage)


def _figures(design: Design, gaps: Gaps | None, anova: Anova | None,
             importance: Importances | None, mechanism: pd.DataFrame | None,
             curves: pd.DataFrame | None, verdict: Verdict) -> dict[str, Any]:
    """Every figure the data allows, in page order; absent data means an absent figure."""
    built: dict[str, Any] = {}
    if gaps is not None:
        built["gap_by_factor"] = figs.gap_by_factor(gaps, primary_other(gaps))
    if len(design.heads) > 1:
        explaining = verdict.findings.get("explaining_factors") or []
        categorical = [f for f in design.factors if design.is_categorical(f)]
        x = "padding" if "padding" in categorical else next(iter(explaining + categorical), None)
        built["head_interaction"] = figs.interaction(design, x)
    if anova is not None:
        built["variance_shares"] = figs.variance_shares(anova)
    if importance is not None:
        built["optuna_importances"] = figs.importance_bars(importance)
    if curves is not None:
        built["learning_curves"] = figs.learning_curves(curves)
    if mechanism is not None:
        built["accuracy_by_padded_share"] = figs.by_bucket(
            mechanism, "test_by_padded_share", design.heads)
        maxlens = design.complete["maxlen"].dropna().unique() if "maxlen" in design.complete \
            else []
        built["accuracy_by_length"] = figs.by_bucket(
            mechanism, "test_by_length", design.heads,
            maxlen=int(maxlens[0]) if len(maxlens) == 1 else None)
    if _is_search(design):
        built["parallel_coordinates"] = figs.parallel_coordinates(design)
    return {name: fig for name, fig in built.items() if fig is not None}


def _sections(design: Design, gaps: Gaps | None, anova: Anova | None,
              importance: Importances | None, mechanism: pd.DataFrame | None,
              curves: pd.DataFrame | None, sizes: pd.DataFrame | None) -> list[Section]:
    sections = []
    if gaps is not None:
        sections.append(Section(
            "The gap, paired by seed and setting",
            f"Each gap is accuracy({gaps.reference}) minus accuracy(other head) for two runs that "
            "share every other setting and the seed; the interval is a 95% Student-t CI over "
            "those pairs.", ["gap_by_factor", "head_interaction"], gap_tables(gaps)))
    elif len(design.heads) > 1:
        sections.append(Section("Accuracy by head", "Mean accuracy per head (95% CI).",
                                ["head_interaction"]))
    if anova is not None:
        sections.append(Section(
            "What explains accuracy (ANOVA)",
            f"OLS fit of {design.response} with Type II sums of squares (statsmodels); share = "
            "a term's sum of squares over the total. Head × factor terms are the factors that "
            f"change the gap. Model: {anova.formula} (n={anova.n}, R² = {anova.r_squared:.2f}).",
            ["variance_shares"], {"ANOVA terms": anova_table(anova)}))
    if importance is not None:
        sections.append(Section(
            "Optuna's importances", " ".join(importance.notes), ["optuna_importances"],
            {"Importance for the objective": importance_table(importance)}))
    if mechanism is not None:
        contrasts = padding_contrasts(mechanism)
        tables = {} if contrasts.empty else {
            "Reviews that fill every timestep against padded ones (pooled over trials)":
                contrast_table(contrasts)}
        sections.append(Section(
            "Mechanism: where the heads fail",
            f"Accuracy on test reviews grouped by share of padded timesteps and by length, from "
            f"{SOURCE}. A review shorter than maxlen is padded; with post-padding and no mask, the "
            "last state is read after the padding that follows the review, so a last-state head "
            "should fail on padded reviews and not on those that fill every timestep, while "
            "Flatten, which reads every timestep, should not care. The first table pools each "
            "setting's trials into those two groups (Wilson 95% CIs; \"within noise\" when the "
            "intervals overlap). Reviews at the length extremes are few: read each bucket's n.",
            ["accuracy_by_padded_share", "accuracy_by_length"],
            {**tables, **bucket_tables(mechanism)}))
    if curves is not None or sizes is not None:
        sections.append(Section(
            "Overfitting and capacity",
            "Per-epoch train and validation accuracy, and medians per head at the best epoch. "
            "Flatten's classifier reads maxlen × units numbers, so its parameter count grows "
            "with maxlen.", ["learning_curves"],
            {} if sizes is None else {"Medians per head": capacity_table(sizes)}))
    if _is_search(design):
        sections.append(Section("The search", "Each line is one trial.",
                                ["parallel_coordinates"]))
    return sections


def _is_search(design: Design) -> bool:
    """Sampled trials (or, without a design record, a factor with many values)."""
    continuous = any(not design.is_categorical(f) for f in design.factors)
    return design.kind in SEARCH_KINDS or (design.kind == "unknown" and continuous)


def _write_trials(frame: pd.DataFrame, path: Path) -> None:
    """The input table, nested cells (history, buckets) as JSON text so nothing is lost."""
    flat = frame.copy()
    for column in flat.columns:
        if flat[column].map(lambda v: isinstance(v, (dict, list))).any():
            flat[column] = flat[column].map(
                lambda v: json.dumps(_jsonable(v)) if isinstance(v, (dict, list)) else v)
    flat.to_csv(path, index=False)


def _records(table: pd.DataFrame) -> list[dict]:
    return table.to_dict("records")


def _jsonable(value: Any) -> Any:
    """Plain JSON: numpy scalars to Python, NaN and infinities to null, keys to strings."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    return value
