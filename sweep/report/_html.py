"""index.html: one self-contained page, verdict first, that works offline.

plotly.js is inlined once in the head (no CDN, nothing written beside the page), so the file can be
mailed or opened from a laptop without a network; every figure is a div drawn by that one copy.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{margin-top:2em;border-bottom:1px solid #ddd}
.verdict{background:#f5f8ff;border-left:4px solid #1f77b4;padding:.6em 1.2em}
.verdict li{margin:.35em 0} .note{color:#555} .figure{margin:1em 0}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left} th{background:#f3f3f3}
caption{text-align:left;font-weight:600;padding:.3em 0}
"""


@dataclass
class Section:
    """One part of the page: a heading, a sentence on how to read it, figures and tables."""

    title: str
    text: str
    figures: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def render_html(title: str, verdict: list[str], sections: list[Section],
                figures: dict[str, go.Figure], notes: list[str]) -> str:
    """The whole page as a string."""
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        '<link rel="icon" href="data:,">',  # no favicon request, no console error
        f"<style>{STYLE}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body>", f"<h1>{html.escape(title)}</h1>",
        "<h2>Verdict</h2>", '<ul class="verdict">',
        *(f"<li>{html.escape(s)}</li>" for s in verdict), "</ul>",
    ]
    for section in sections:
        parts += [f"<h2>{html.escape(section.title)}</h2>",
                  f'<p class="note">{html.escape(section.text)}</p>']
        for name in section.figures:
            if name in figures:
                parts.append('<div class="figure">' + figures[name].to_html(
                    full_html=False, include_plotlyjs=False, div_id=f"figure-{name}",
                    config={"displaylogo": False, "responsive": True}) + "</div>")
        for caption, table in section.tables.items():
            opening, rest = table.to_html(index=False, border=0, na_rep="").split(">", 1)
            parts.append(f"{opening}><caption>{html.escape(caption)}</caption>{rest}")
    if notes:
        parts += ["<h2>What this report cannot compute, and why</h2>", "<ul>",
                  *(f"<li>{html.escape(n)}</li>" for n in notes), "</ul>"]
    parts += ['<p class="note">Data: <a href="trials.csv">trials.csv</a> (one row per trial); '
              'numbers: <a href="summary.json">summary.json</a>.</p>', "</body></html>"]
    return "\n".join(parts)
