"""Optuna's own view: PED-ANOVA importances of the objective, for grid and search studies alike.

PED-ANOVA is Optuna's default evaluator and needs no scikit-learn (fANOVA does). It asks which
parameters the best trials share, so it complements, not repeats, the ANOVA of the whole table.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import optuna
from optuna.importance import PedAnovaImportanceEvaluator, get_param_importances
from optuna.trial import TrialState

#: PED-ANOVA is stable with at least this many trials in its top quantile (Optuna's advice).
MIN_TOP_TRIALS = 5


@dataclass
class Importances:
    """Normalised importances (summing to 1), largest first, and how they were obtained."""

    values: dict[str, float]
    method: str
    n_trials: int
    top_quantile: float
    notes: list[str] = field(default_factory=list)


def importances(study: optuna.Study | None, notes: list[str]) -> Importances | None:
    """PED-ANOVA importances of the study's objective over the parameters that varied.

    Returns:
        The importances, or None with the reason appended to ``notes``.
    """
    if study is None:
        notes.append("No Optuna study was given (the report was built from a table), so "
                     "Optuna's importances are not computed.")
        return None
    if len(study.directions) != 1:
        notes.append("Optuna importances are computed for single-objective studies only.")
        return None
    trials = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
              if t.value is not None and math.isfinite(t.value)]
    shared = set.intersection(*(set(t.distributions) for t in trials)) if trials else set()
    varied = sorted(name for name in shared if len({repr(t.params[name]) for t in trials}) > 1)
    if len(trials) < 2 * MIN_TOP_TRIALS or not varied:
        why = (f"this study has only {len(trials)}" if varied
               else "no parameter varies among this study's trials")
        notes.append(f"Optuna importances need at least {2 * MIN_TOP_TRIALS} completed trials "
                     f"over varied parameters; {why}.")
        return None
    quantile = min(0.5, max(0.1, MIN_TOP_TRIALS / len(trials)))
    evaluator = PedAnovaImportanceEvaluator(target_quantile=quantile)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            values = get_param_importances(study, evaluator=evaluator, params=varied)
        except (ValueError, RuntimeError) as err:
            notes.append(f"Optuna's PED-ANOVA failed on this study: {err}")
            return None
    method_notes = [f"PED-ANOVA: which parameters the top {quantile:.0%} of trials share "
                    f"({len(trials)} completed trials)."]
    method_notes += [str(w.message) for w in caught if "importance" in str(w.message).lower()]
    return Importances(values={k: float(v) for k, v in values.items()},
                       method="PED-ANOVA", n_trials=len(trials), top_quantile=quantile,
                       notes=method_notes)
