"""summary.md: the verdict and every table, for a README, a pull request or a terminal."""

from __future__ import annotations

import pandas as pd

from sweep.report._html import Section


def render_markdown(title: str, verdict_markdown: str, sections: list[Section],
                    figure_files: dict[str, str], notes: list[str]) -> str:
    """The summary as Markdown; figures are linked to their PNG copies when they exist."""
    lines = [f"# {title}", "", "## Verdict", "", verdict_markdown.rstrip(), ""]
    for section in sections:
        lines += [f"## {section.title}", "", section.text, ""]
        for name in section.figures:
            if name in figure_files:
                lines += [f"![{name}]({figure_files[name]})", ""]
        for caption, table in section.tables.items():
            lines += [f"**{caption}**", "", _table(table), ""]
    if notes:
        lines += ["## What this report cannot compute, and why", ""]
        lines += [f"- {note}" for note in notes] + [""]
    return "\n".join(lines)


def _table(frame: pd.DataFrame) -> str:
    def cell(value: object) -> str:
        return "" if value is None or (isinstance(value, float) and pd.isna(value)) \
            else str(value).replace("|", "\\|")

    header = "| " + " | ".join(cell(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])
