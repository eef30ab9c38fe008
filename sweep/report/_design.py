"""What a study varied, read from its trials: the report never trusts the design record alone.

A grid file may list a factor that ended up with one value, and a search records no grid at all, so
the varied factors are the parameters with more than one distinct value among COMPLETE trials.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sweep.errors import SweepError
from sweep.params import PARAMS

#: The head the question is about; gaps are ``accuracy(flatten) - accuracy(other head)``.
REFERENCE_HEAD = "flatten"
#: Metrics the objective may name, in the order the report falls back on them.
METRICS = ("test_accuracy", "best_val_accuracy")
#: Parameters with at most this many distinct values are analysed as categories.
MAX_LEVELS = 8


@dataclass
class Design:
    """The factors, heads, seeds and response of one study, as its COMPLETE trials show them."""

    complete: pd.DataFrame
    kind: str
    response: str
    factors: list[str]
    heads: list[str]
    seeds: list[Any]
    counts: dict[str, int]
    notes: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str | None:
        """The head every other head is compared with, or None when only one head ran."""
        if len(self.heads) < 2:
            return None
        return REFERENCE_HEAD if REFERENCE_HEAD in self.heads else self.heads[0]

    @property
    def others(self) -> list[str]:
        """The heads compared with the reference head."""
        return [h for h in self.heads if h != self.reference] if self.reference else []

    def is_categorical(self, name: str) -> bool:
        """Whether ``name`` is analysed by level or as a slope.

        Text and bools are levels; numbers are levels only when few and each one repeats (a
        grid), otherwise (a search draws a new dropout per trial) they are a slope.
        """
        column = self.complete[name]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            return True
        levels = column.nunique()
        return levels <= MAX_LEVELS and 2 * levels <= len(column)


def read_design(frame: pd.DataFrame, design: dict | None = None) -> Design:
    """Find the COMPLETE trials, the varied factors and the response in a trials table.

    Args:
        frame: one row per trial (see `sweep.export.trials_frame`).
        design: the study's ``design`` user attr, if any; only its kind and objective are used.

    Raises:
        SweepError: no trial has completed, so there is nothing to report.
    """
    design = design or {}
    states = frame["state"].astype(str) if "state" in frame else pd.Series(dtype=str)
    counts = {state.lower(): int(n) for state, n in states.value_counts().items()}
    counts["total"] = len(frame)
    if frame.empty:
        raise SweepError("the study has no trials yet; run it before asking for a report")
    complete = frame[states == "COMPLETE"].reset_index(drop=True)
    if complete.empty:
        first = _first_error(frame)
        raise SweepError(f"none of the {len(frame)} trials completed"
                         + (f" (first error: {first})" if first else ""))

    notes: list[str] = []
    response = _response(complete, design, notes)
    complete = complete[complete[response].notna()].reset_index(drop=True)
    varied = [name for name in PARAMS if name in complete
              and complete[name].astype(str).nunique() > 1]
    heads = _ordered(complete["head"]) if "head" in complete else []
    seeds = _ordered(complete["seed"]) if "seed" in complete else []
    if "head" not in varied:
        notes.append(f"Only one head ({heads[0] if heads else 'unknown'}) was run, so there is no "
                     "gap between heads to measure: the gap, interaction and mechanism-by-head "
                     "sections are left out and only main effects are reported.")
    if "seed" not in varied:
        notes.append("Every trial used the same training seed, so seed-to-seed noise is not "
                     "measured: confidence intervals rest on the spread across other settings "
                     "only and the ANOVA has no seed block.")
    kind = str(design.get("kind") or "unknown")
    if kind == "unknown":
        notes.append("The study records no design (user attr 'design'); factors were inferred "
                      "from the trials.")
    factors = _drop_aliases([name for name in varied if name not in ("head", "seed")],
                            complete, notes)
    return Design(complete=complete, kind=kind, response=response, factors=factors,
                  heads=[str(h) for h in heads], seeds=seeds, counts=counts, notes=notes)


def _drop_aliases(factors: list[str], complete: pd.DataFrame, notes: list[str]) -> list[str]:
    """Keep one of several parameters that change together (``implementation`` with ``cell``)."""
    kept: list[str] = []
    for name in factors:
        codes = complete[name].astype(str)
        alias = next((k for k in kept if (codes.groupby(complete[k].astype(str)).nunique() == 1)
                      .all() and (complete[k].astype(str).groupby(codes).nunique() == 1).all()),
                     None)
        if alias is None:
            kept.append(name)
        else:
            notes.append(f"'{name}' changes together with '{alias}' in every trial, so the two "
                         f"cannot be told apart; both are analysed as '{alias}'.")
    return kept


def _response(complete: pd.DataFrame, design: dict, notes: list[str]) -> str:
    wanted = (design.get("objective") or {}).get("metric")
    for name in ([wanted] if wanted else []) + list(METRICS) + ["value"]:
        if name in complete and complete[name].notna().any():
            if wanted and name != wanted:
                notes.append(f"The objective metric '{wanted}' is missing; '{name}' is analysed "
                             "instead.")
            return name
    raise SweepError("the completed trials record no accuracy (test_accuracy, "
                     "best_val_accuracy or an objective value)")


def _ordered(column: pd.Series) -> list[Any]:
    """Distinct values, heads in the parameter table's order, others sorted."""
    values = list(column.dropna().unique())
    choices = PARAMS["head"].choices if column.name == "head" else None
    if choices:
        return sorted(values, key=lambda v: choices.index(v) if v in choices else len(choices))
    return sorted(values, key=lambda v: (str(type(v)), v))


def _first_error(frame: pd.DataFrame) -> str | None:
    if "error" not in frame:
        return None
    errors = frame["error"].dropna().astype(str)
    errors = errors[errors.str.strip() != ""]
    return errors.iloc[0].splitlines()[0] if len(errors) else None


def level_label(value: Any) -> str:
    """A level as tables show it: ``post``, ``False``, ``300``, ``0.2``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def level_order(name: str, labels: Iterable[str]) -> list[str]:
    """Level labels in reading order: the parameter table's choices, numbers ascending, else A-Z."""
    distinct = list(dict.fromkeys(labels))
    choices = [level_label(c) for c in (PARAMS[name].choices or ())] if name in PARAMS else []
    if choices:
        return sorted(distinct, key=lambda v: (choices.index(v) if v in choices else len(choices),
                                               v))
    try:
        return sorted(distinct, key=float)
    except ValueError:
        return sorted(distinct, key=lambda v: (v not in ("False", "True"), v))
