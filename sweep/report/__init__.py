"""The report: which factors explain the flatten gap, with the evidence a reviewer would accept.

`report_study` is what ``sweep report NAME`` runs; `build_report` does the work on a trials table.
Each concept is a private module: `_design` (what varied), `_gap` (paired gaps and CIs), `_anova`
(variance decomposition), `_importance` (Optuna's PED-ANOVA), `_mechanism` (accuracy on padded
reviews against reviews that fill every timestep, and by length), `_capacity` (overfitting,
parameter counts), `_verdict` (the sentences), `_figures`, `_html`, `_markdown` and `_build`
(files).
"""

from sweep.report._build import PUBLISH_KEYS, build_report, report_study

__all__ = ["PUBLISH_KEYS", "build_report", "report_study"]
