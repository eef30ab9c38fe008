"""Plotly figures for the page, the PNG copies and the Optuna dashboard.

Accuracies are shown in percent and gaps in percentage points, each head keeps one colour in every
figure, and every title says what is plotted and over what, so a figure reads without the code.
PNGs go through kaleido, which drives the system Chromium (``BROWSER_PATH``), never a download.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from sweep.params import PARAMS
from sweep.report._anova import Anova
from sweep.report._design import Design, level_label, level_order
from sweep.report._gap import Gaps
from sweep.report._importance import Importances
from sweep.report._mechanism import BUCKETS
from sweep.report._stats import mean_ci

#: PNG size in CSS pixels; ``SCALE`` doubles it for print.
WIDTH, HEIGHT, SCALE = 1000, 480, 2
#: Most factor panels in one row of a faceted figure.
MAX_COLUMNS = 4
TEMPLATE = "plotly_white"
HEAD_COLOURS = dict(zip(PARAMS["head"].choices, qualitative.D3, strict=False))
#: Names of a system Chromium on PATH (Debian, Ubuntu, Chrome), used when BROWSER_PATH is unset.
SYSTEM_BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def gap_by_factor(gaps: Gaps, other: str) -> go.Figure | None:
    """Mean paired gap with its 95% CI at each level of each factor."""
    table = gaps.by_level[gaps.by_level["other"] == other]
    factors = list(dict.fromkeys(table["factor"]))
    if not factors:
        return None
    columns = min(MAX_COLUMNS, len(factors))
    rows = math.ceil(len(factors) / columns)
    fig = make_subplots(rows=rows, cols=columns, shared_yaxes=True, subplot_titles=factors,
                        horizontal_spacing=0.06, vertical_spacing=0.2)
    for i, factor in enumerate(factors):
        part = table[table["factor"] == factor]
        part = part.set_index("level").loc[level_order(factor, part["level"])].reset_index()
        fig.add_trace(go.Scatter(
            x=part["level"], y=part["mean"] * 100, mode="markers", showlegend=False,
            marker={"size": 11, "color": HEAD_COLOURS.get(other, "#444")},
            error_y=_error(part), customdata=part["n"],
            hovertemplate="%{x}: %{y:+.1f} points (n=%{customdata})<extra></extra>",
        ), row=i // columns + 1, col=i % columns + 1)
    fig.add_hline(y=0, line_dash="dot", line_color="#888", row="all", col="all")
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text=f"{gaps.reference} − {other} (points)", col=1)
    return _layout(fig, f"Accuracy gap {gaps.reference} minus {other}, by setting "
                        "(mean and 95% CI over paired runs; above 0: "
                        f"{gaps.reference} is better)", height=HEIGHT * max(1, rows) * 0.8 + 120)


def interaction(design: Design, x: str | None) -> go.Figure:
    """Mean accuracy per head across the levels of ``x``, one panel per mask_zero level."""
    frame = design.complete
    panel = "mask_zero" if "mask_zero" in design.factors and x != "mask_zero" else None
    panels = level_order(panel, frame[panel].map(level_label)) if panel else [None]
    fig = make_subplots(rows=1, cols=len(panels), shared_yaxes=True,
                        subplot_titles=[f"{panel} = {p}" for p in panels] if panel else None)
    for col, level in enumerate(panels, start=1):
        part = frame if panel is None else frame[frame[panel].map(level_label) == level]
        for head in design.heads:
            rows = part[part["head"].astype(str) == head]
            keys = rows[x].map(level_label) if x else pd.Series("all trials", index=rows.index)
            stats = pd.DataFrame([{"x": k, **mean_ci(g[design.response])}
                                  for k, g in rows.groupby(keys, sort=True)])
            if stats.empty:
                continue
            if x:
                stats = stats.set_index("x").loc[level_order(x, stats["x"])].reset_index()
            fig.add_trace(go.Scatter(
                x=stats["x"], y=stats["mean"] * 100, name=head, legendgroup=head,
                showlegend=col == 1, mode="lines+markers", error_y=_error(stats),
                line={"color": HEAD_COLOURS.get(head)}, marker={"size": 9},
            ), row=1, col=col)
    fig.update_xaxes(type="category", title_text=x or "")
    fig.update_yaxes(title_text=f"{design.response} (%)", col=1)
    by = f" and {x}" if x else ""
    return _layout(fig, f"Mean {design.response} by head{by}"
                        + (f" (panels: {panel})" if panel else "")
                        + "; bars are 95% CIs over trials", legend="head")


def variance_shares(anova: Anova) -> go.Figure:
    """Share of the total variance in accuracy taken by each ANOVA term."""
    table = anova.table.sort_values("share")
    colours = {"head": "#1f77b4", "main": "#7f7f7f", "interaction": "#d62728",
               "crossed": "#9467bd", "block": "#bcbd22", "residual": "#c7c7c7"}
    text = [f"{s:.0%}" + (f", p={p:.2g}" if math.isfinite(p) else "")
            for s, p in zip(table["share"], table["p"], strict=True)]
    fig = go.Figure(go.Bar(x=table["share"] * 100, y=table["term"], orientation="h", text=text,
                           textposition="outside", marker_color=[colours[k] for k in table["kind"]],
                           hovertemplate="%{y}: %{x:.1f}%<extra></extra>"))
    fig.update_xaxes(title_text="Share of the total variance in accuracy (%)",
                     range=[0, min(100, table["share"].max() * 100 * 1.3 + 5)])
    return _layout(fig, "What explains accuracy: ANOVA shares (red: head × factor terms, "
                        "which change the gap)",
                   height=max(HEIGHT, 40 * len(table) + 160))


def importance_bars(values: Importances) -> go.Figure:
    """Optuna's importances, largest on top."""
    items = sorted(values.values.items(), key=lambda kv: kv[1])
    fig = go.Figure(go.Bar(x=[v * 100 for _, v in items], y=[k for k, _ in items],
                           orientation="h", marker_color="#2ca02c",
                           text=[f"{v:.0%}" for _, v in items], textposition="outside"))
    fig.update_xaxes(title_text="Importance for the objective (% of total)")
    return _layout(fig, f"Optuna {values.method} importance: how much each parameter sets the "
                        f"best {values.top_quantile:.0%} of trials apart "
                        f"({values.n_trials} completed trials)",
                   height=max(HEIGHT, 40 * len(items) + 160))


def learning_curves(curves: pd.DataFrame) -> go.Figure:
    """Train (dashed) and validation (solid) accuracy per epoch, panels for padding x mask_zero."""
    masks = (level_order("mask_zero", curves["mask_zero"])
             if "mask_zero" in curves and curves["mask_zero"].nunique() > 1 else [None])
    fig, panels = _padding_mask_panels(curves, masks)
    for r, c, part in panels:
        for (head, split), rows in part.groupby(["head", "split"], sort=True):
            fig.add_trace(go.Scatter(
                x=rows["epoch"], y=rows["mean"] * 100, name=f"{head}, {split}",
                legendgroup=f"{head}{split}", showlegend=r == 1 and c == 1,
                mode="lines+markers", line={"color": HEAD_COLOURS.get(head),
                                            "dash": "dash" if split == "train" else "solid"},
            ), row=r, col=c)
    fig.update_xaxes(dtick=1)
    fig.update_xaxes(title_text="Epoch", row=len(masks))
    fig.update_yaxes(title_text="Accuracy (%)", col=1)
    return _layout(fig, "Overfitting: train (dashed) vs validation (solid) accuracy per epoch, "
                        "mean over trials", legend="head, split",
                   height=max(HEIGHT, 330 * len(masks) + 150))


def by_bucket(table: pd.DataFrame, kind: str, heads: list[str],
              maxlen: int | None = None) -> go.Figure | None:
    """Test accuracy per bucket, one line per head, panels for padding x mask_zero.

    With one ``maxlen`` that is a bucket edge, the length figure marks it: reviews left of the
    line are padded, those right of it fill every timestep.
    """
    rows = table[table["kind"] == kind]
    if rows.empty:
        return None
    order = rows.drop_duplicates("order").sort_values("order")
    categories = list(order["bucket"])
    masks = level_order("mask_zero", rows["mask_zero"]) if "mask_zero" in rows else [None]
    fig, panels = _padding_mask_panels(rows, masks)
    for r, c, part in panels:
        for head in heads:
            line = part[part["head"] == head].sort_values("order") if "head" in part else part
            if line.empty:
                continue
            fig.add_trace(go.Scatter(
                x=line["bucket"], y=line["accuracy"] * 100, name=head, legendgroup=head,
                showlegend=r == 1 and c == 1, mode="lines+markers",
                error_y=_error(line, "accuracy"), line={"color": HEAD_COLOURS.get(head)},
                customdata=line["n"],
                hovertemplate="%{x}: %{y:.1f}% of %{customdata} reviews<extra></extra>",
            ), row=r, col=c)
    fig.add_hline(y=50, line_dash="dot", line_color="#888", row="all", col="all")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=categories)
    fig.update_xaxes(title_text=BUCKETS[kind], row=len(masks))
    fig.update_yaxes(title_text="Test accuracy (%)", col=1)
    fig.update_yaxes(matches="y")
    what = BUCKETS[kind].replace(" (tokens)", " in tokens")
    title = f"Test accuracy by {what}, pooled over trials (95% CIs; dotted line: chance"
    edges = list(order["start"])
    if kind == "test_by_length" and maxlen is not None and float(maxlen) in edges[1:]:
        fig.add_vline(x=edges.index(float(maxlen)) - 0.5, line_dash="dash", line_color="#555",
                      row="all", col="all")
        title += f"; dashed line: maxlen {maxlen}, reviews left of it are padded"
    return _layout(fig, title + ")", legend="head", height=max(HEIGHT, 330 * len(masks) + 150))


def parallel_coordinates(design: Design) -> go.Figure | None:
    """Every trial as one line through its settings, coloured by accuracy (search studies)."""
    names = [n for n in ["head", *design.factors] if n in design.complete]
    if not names:
        return None
    frame = design.complete
    dimensions = []
    for name in names:
        if name == "head" or design.is_categorical(name):
            labels = frame[name].map(level_label)
            levels = level_order(name, labels)
            dimensions.append({"label": name, "values": labels.map(levels.index),
                               "tickvals": list(range(len(levels))), "ticktext": levels})
        else:
            dimensions.append({"label": name, "values": frame[name].astype(float)})
    response = frame[design.response] * 100
    dimensions.append({"label": f"{design.response} (%)", "values": response})
    fig = go.Figure(go.Parcoords(
        line={"color": response, "colorscale": "Viridis", "showscale": True,
              "colorbar": {"title": {"text": "accuracy (%)"}}},
        dimensions=dimensions))
    return _layout(fig, f"Search: each line is one trial, coloured by {design.response}")


def _padding_mask_panels(frame: pd.DataFrame, masks: list
                         ) -> tuple[go.Figure, list[tuple[int, int, pd.DataFrame]]]:
    """A grid of panels, padding levels across and ``masks`` down, with each panel's rows."""
    pads = level_order("padding", frame["padding"]) if "padding" in frame else [None]
    titles = [", ".join(t for t in (f"padding = {p}" if p else "", f"mask_zero = {m}" if m else "")
                        if t) for m in masks for p in pads]
    fig = make_subplots(rows=len(masks), cols=len(pads), shared_xaxes=True, shared_yaxes=True,
                        subplot_titles=titles if any(titles) else None, vertical_spacing=0.12)
    panels = []
    for r, mask in enumerate(masks, start=1):
        for c, pad in enumerate(pads, start=1):
            part = frame
            if pad is not None:
                part = part[part["padding"] == pad]
            if mask is not None:
                part = part[part["mask_zero"] == mask]
            panels.append((r, c, part))
    return fig, panels


def _error(table: pd.DataFrame, centre: str = "mean") -> dict:
    return {"type": "data", "symmetric": False, "thickness": 1.5,
            "array": (table["high"] - table[centre]) * 100,
            "arrayminus": (table[centre] - table["low"]) * 100}


def _layout(fig: go.Figure, title: str, legend: str | None = None,
            height: float = HEIGHT) -> go.Figure:
    fig.update_layout(template=TEMPLATE, title={"text": title, "x": 0.01, "font": {"size": 15}},
                      height=int(height), margin={"t": 90, "l": 70, "r": 30, "b": 60},
                      legend_title_text=legend or "", font={"size": 12})
    return fig


def write_pngs(figures: dict[str, go.Figure], directory: Path) -> tuple[list[Path], str | None]:
    """Write ``directory/NAME.png`` for each figure in one Chromium session.

    Returns:
        The files written, and None or the reason no PNG could be written (no browser found).
    """
    if not figures:
        return [], None
    browser = os.environ.get("BROWSER_PATH") or next(
        (found for name in SYSTEM_BROWSERS if (found := shutil.which(name))), None)
    if browser is None:
        return [], ("No Chromium was found for the PNG copies; install the system package "
                    "'chromium' or set BROWSER_PATH. The HTML page has every figure.")
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{name}.png" for name in figures]
    heights = [int(fig.layout.height or HEIGHT) for fig in figures.values()]
    previous = os.environ.get("BROWSER_PATH")
    os.environ["BROWSER_PATH"] = browser  # kaleido's choreographer launches this browser
    try:
        pio.write_images(list(figures.values()), paths, format="png", width=WIDTH,
                         height=heights, scale=SCALE)
    except (RuntimeError, ValueError, OSError) as err:
        return [], f"The PNG copies could not be written with {browser}: {err}"
    finally:
        if previous is None:
            del os.environ["BROWSER_PATH"]
    return paths, None
