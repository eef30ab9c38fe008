"""The verdict: a few plain sentences computed from the tables, never written in advance.

Every claim is tied to an interval: a gap is called a win only when its 95% CI excludes zero, "no
difference" only when the whole CI lies within ``NEGLIGIBLE``, and anything else is reported as
not enough evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sweep.report._anova import ALPHA, Anova
from sweep.report._design import Design, level_label
from sweep.report._gap import Gaps, split_gap
from sweep.report._mechanism import (
    GROUPS,
    PADDED_BETTER,
    UNPADDED_BETTER,
    WITHIN_NOISE,
    padding_contrast,
    trial_contrasts,
)

#: A gap whose whole 95% CI lies within +-2 accuracy points is called no practical difference.
NEGLIGIBLE = 0.02
#: Head interactions whose share is at least this fraction of the top one's co-explain the gap.
CO_EXPLAIN = 0.25
#: At most this many factors are named as explaining the gap (the table ranks them all).
MAX_EXPLAINING = 2


@dataclass
class Verdict:
    """The sentences, in reading order, and the numbers behind them."""

    sentences: list[str]
    findings: dict[str, Any] = field(default_factory=dict)

    @property
    def markdown(self) -> str:
        """The sentences as a Markdown list, for summary.md and the Optuna dashboard."""
        return "\n".join(f"- {s}" for s in self.sentences) + "\n"


def judge(ci: dict) -> str:
    """``wins``, ``loses``, ``negligible``, ``unclear`` (CI straddles 0) or ``unknown`` (no CI)."""
    low, high = ci.get("low", math.nan), ci.get("high", math.nan)
    if ci.get("n", 0) < 2 or not (math.isfinite(low) and math.isfinite(high)):
        return "unknown"
    if low > 0:
        return "wins"
    if high < 0:
        return "loses"
    if -NEGLIGIBLE <= low and high <= NEGLIGIBLE:
        return "negligible"
    return "unclear"


def points(value: float) -> str:
    """An accuracy difference in percentage points: ``+25.1 points``."""
    if not math.isfinite(value):
        return "n/a"
    return f"{round(value * 100, 1) + 0.0:+.1f} points"  # + 0.0: no "-0.0"


def interval(ci: dict) -> str:
    """``95% CI +23.2 to +26.9 points, n=3`` (or why there is no interval)."""
    if ci.get("n", 0) < 2 or not math.isfinite(ci.get("low", math.nan)):
        return f"n={ci.get('n', 0)}, too few for an interval"
    return f"95% CI {ci['low'] * 100:+.1f} to {ci['high'] * 100:+.1f} points, n={ci['n']}"


def p_text(p: float) -> str:
    """``p < 0.001`` or ``p = 0.03``."""
    if not math.isfinite(p):
        return "p not available"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3g}"


def write_verdict(design: Design, gaps: Gaps | None, anova: Anova | None,
                  mechanism: pd.DataFrame | None, capacity: pd.DataFrame | None) -> Verdict:
    """Turn the analysis into sentences; see the module docstring for the rules."""
    sentences: list[str] = []
    findings: dict[str, Any] = {}
    counts = design.counts
    failed = counts.get("fail", 0)
    kind = {"grid": "a grid study", "tpe": "a TPE search", "random": "a random search"}.get(
        design.kind, "a study with no recorded design")
    sentences.append(
        f"Evidence: {len(design.complete)} completed trials"
        + (f" ({failed} failed and left out)" if failed else "")
        + f" of {kind}, measured by {design.response}"
        + (f", over {len(design.seeds)} seeds." if len(design.seeds) > 1 else ", one seed."))
    setting: dict[str, str] = {}
    if gaps is not None:
        setting = _gap_sentences(design, gaps, anova, sentences, findings)
    elif design.reference is None:
        head = design.heads[0] if design.heads else "unknown"
        sentences.append(f"Only one head ({head}) was run, so the gap between heads cannot be "
                         "measured; the main effects below are all this study can show.")
    elif anova is not None:
        head = anova.table[anova.table["kind"] == "head"]
        if len(head):
            sentences.append("No two heads were run on matching settings, so there is no paired "
                             f"gap; in the ANOVA the head explains {head['share'].iloc[0]:.0%} "
                             f"of the variance in accuracy ({p_text(head['p'].iloc[0])}).")
        _explains_sentence(design, anova, "the head's effect", sentences, findings)
    _main_effect_sentence(anova, sentences, findings)
    if mechanism is not None and gaps is not None:
        _mechanism_sentences(design, gaps, mechanism, setting, sentences, findings)
    if capacity is not None and gaps is not None:
        _capacity_sentence(gaps, capacity, sentences)
    return Verdict(sentences=sentences, findings=findings)


def primary_other(gaps: Gaps) -> str:
    """The head the verdict compares with: ``last`` (the question's) if run, else the first."""
    others = list(gaps.overall["other"])
    return "last" if "last" in others else others[0]


def _gap_sentences(design: Design, gaps: Gaps, anova: Anova | None, sentences: list[str],
                   findings: dict[str, Any]) -> dict[str, str]:
    reference, other = gaps.reference, primary_other(gaps)
    overall = next(r for r in gaps.overall.to_dict("records") if r["other"] == other)
    verdict = judge(overall)
    findings["gap"] = {"reference": reference, "other": other, **overall, "judgement": verdict}
    sentences.append({
        "wins": f"Averaged over all settings, the {reference} head beats the {other} head by "
                f"{points(overall['mean'])} ({interval(overall)}).",
        "loses": f"Averaged over all settings, the {other} head beats the {reference} head by "
                 f"{points(-overall['mean'])} ({interval(overall)}).",
        "negligible": f"Averaged over all settings, the {reference} and {other} heads perform "
                      f"alike: the mean gap is "
                      f"{points(overall['mean'])} ({interval(overall)}), within ±"
                      f"{NEGLIGIBLE * 100:.0f} points.",
    }.get(verdict, "Averaged over all settings, there is not enough evidence of a gap between "
                   f"the {reference} and {other} heads: the mean gap is "
                   f"{points(overall['mean'])} ({interval(overall)}), an interval that "
                   "includes 0."))
    for extra in gaps.overall[gaps.overall["other"] != other].to_dict("records"):
        sentences.append(f"Against the {extra['other']} head the gap is {points(extra['mean'])} "
                         f"({interval(extra)}).")
    explaining = _explains_sentence(design, anova, "the gap", sentences, findings)
    if not explaining:
        _largest_gap_sentence(design, gaps, other, sentences, findings)
        return {}
    cell = _worst_cell(gaps, other, [f for f in design.factors if f in explaining])
    inside, outside = split_gap(gaps, other, cell)
    where = " and ".join(f"{k}={v}" for k, v in cell.items())
    findings["cell"] = {"where": cell, "inside": {**inside, "judgement": judge(inside)},
                        "elsewhere": {**outside, "judgement": judge(outside)}}
    caveat = ("" if judge(inside) in ("wins", "loses", "negligible")
              else " (not enough evidence that the gap there differs from 0)")
    sentences.append(f"With {where} the gap is {points(inside['mean'])} ({interval(inside)})"
                     f"{caveat}; in all other settings it is {points(outside['mean'])} "
                     f"({interval(outside)}).")
    sentences.append(_elsewhere_sentence(reference, other, where, judge(outside), outside))
    return {"head": other, **cell}


def _largest_gap_sentence(design: Design, gaps: Gaps, other: str, sentences: list[str],
                          findings: dict[str, Any]) -> None:
    """No factor is shown to change the gap: still say where it is largest, and how sure."""
    factors = [f for f in design.factors if design.is_categorical(f)]
    pairs = gaps.pairs[gaps.pairs["other"] == other]
    if not factors or pairs.groupby([pairs[f].astype(str) for f in factors]).ngroups < 2:
        return
    cell = _worst_cell(gaps, other, factors)
    inside, _ = split_gap(gaps, other, cell)
    chosen = pairs
    for name, level in cell.items():
        chosen = chosen[chosen[name].map(level_label) == level]
    findings["largest_gap"] = {"where": cell, **inside, "judgement": judge(inside),
                               "gaps": chosen["gap"].tolist()}
    text = f"The gap is largest with {_where(cell)}: {points(inside['mean'])} ({interval(inside)})"
    if len(chosen) > 1:
        text += (f", from {points(chosen['gap'].min())} to {points(chosen['gap'].max())} "
                 "across its paired runs")
    sentences.append(text + ("" if judge(inside) in ("wins", "loses") else
                             "; not enough evidence that it differs from 0 there") + ".")


def _explains_sentence(design: Design, anova: Anova | None, subject: str,
                       sentences: list[str], findings: dict[str, Any]) -> list[str]:
    """Say which factors change ``subject`` (the gap, or the head's effect); return them."""
    explaining = _explaining(design, anova)
    findings["explaining_factors"] = explaining
    if anova is None or not (anova.table["kind"] == "interaction").any():
        sentences.append(f"There are too few trials to test which factors change {subject}, so "
                         "there is not enough evidence to say what explains it.")
        return []
    if not explaining:
        p_min = anova.table.loc[anova.table["kind"] == "interaction", "p_holm"].min()
        sentences.append(f"There is not enough evidence that any factor changes {subject}: no "
                         f"head × factor interaction reaches p < {ALPHA} after Holm's "
                         f"correction for testing several (smallest {p_text(p_min)}).")
        return []
    terms = anova.gap_terms()
    terms = terms[terms["share"] >= CO_EXPLAIN * terms["share"].iloc[0]].head(3)
    shares = "; ".join(f"{row.term}: {row.share:.0%} of the variance, {p_text(row.p_holm)}"
                       for row in terms.itertuples())
    sentences.append(f"What explains {subject}: {_join(explaining)} ({shares}).")
    return explaining


def _explaining(design: Design, anova: Anova | None) -> list[str]:
    """Factors of the significant head interactions, strongest first, at most two."""
    if anova is None:
        return []
    terms = anova.gap_terms()
    if terms.empty:
        return []
    top = terms["share"].iloc[0]
    named: list[str] = []
    for row in terms.itertuples():
        if row.share < CO_EXPLAIN * top:
            break
        named += [f for f in row.factors if f != "head" and f not in named
                  and design.is_categorical(f)]
    return named[:MAX_EXPLAINING]


def _worst_cell(gaps: Gaps, other: str, factors: list[str]) -> dict[str, str]:
    """The combination of the explaining factors' levels where the reference head wins most."""
    pairs = gaps.pairs[gaps.pairs["other"] == other]
    means = pairs.groupby([pairs[f].astype(str) for f in factors])["gap"].mean()
    best = means.idxmax()
    levels = best if isinstance(best, tuple) else (best,)
    return dict(zip(factors, (str(v) for v in levels), strict=True))


def _elsewhere_sentence(reference: str, other: str, where: str, verdict: str, ci: dict) -> str:
    fixed = f"Outside {where}"
    return {
        "wins": f"{fixed}, the {reference} head still wins, by {points(ci['mean'])} "
                f"({interval(ci)}).",
        "loses": f"{fixed}, the {other} head wins instead, by {points(-ci['mean'])} "
                 f"({interval(ci)}).",
        "negligible": f"{fixed}, the {reference} head no longer wins: the gap stays within ±"
                      f"{NEGLIGIBLE * 100:.0f} points ({interval(ci)}).",
    }.get(verdict, f"{fixed}, there is not enough evidence that the {reference} head still wins: "
                   f"the gap is {points(ci['mean'])} ({interval(ci)}), an interval that "
                   "includes 0.")


def _main_effect_sentence(anova: Anova | None, sentences: list[str],
                          findings: dict[str, Any]) -> None:
    if anova is None:
        sentences.append("There are too few trials (or no varied setting) for an ANOVA of "
                         "accuracy, so no main effect can be reported.")
        return
    main = anova.main_terms()
    main = main[main["kind"] == "main"]
    if main.empty:
        return
    top = main.iloc[0]
    findings["top_main_effect"] = {"term": top["term"], "share": top["share"], "p": top["p"]}
    if top["p"] < ALPHA:
        sentences.append(f"Of the settings varied besides the head, {top['term']} moves accuracy "
                         f"most: it explains {top['share']:.0%} of the variance "
                         f"({p_text(top['p'])}).")
    else:
        sentences.append("There is not enough evidence that any setting besides the head moves "
                         f"accuracy on its own (largest share: {top['term']}, "
                         f"{top['share']:.0%}, {p_text(top['p'])}).")


def _mechanism_sentences(design: Design, gaps: Gaps, mechanism: pd.DataFrame,
                         setting: dict[str, str], sentences: list[str],
                         findings: dict[str, Any]) -> None:
    """Reviews that fill every timestep against padded ones, for the other and reference heads.

    The setting is the verdict's cell, completed with the padding and mask_zero levels where the
    gap is largest inside it. Without a cell (no factor shown to change the gap) it is the
    padding x mask_zero setting with the largest mean gap, and the sentence says it was picked
    that way: the contrast inside it is still a fair test, as the reference head is its control,
    whereas pooling every setting would dilute the one where the last state breaks.
    """
    other, reference = primary_other(gaps), gaps.reference
    where = _mechanism_setting(gaps, mechanism, setting)
    named = {k for k in setting if k != "head"}
    picked = bool(where) and not named
    chosen = "largest gap" if picked else ("the verdict's cell" if named else "all trials")
    for name in GROUPS[1:]:  # levels every trial shares say what the contrast means
        level = _fixed(design, {"head": other, **where}, name)
        if name not in where and name in mechanism and level is not None:
            where[name] = level
    found = padding_contrast(mechanism, {"head": other, **where})
    if found is None:
        if (mechanism["kind"] == "test_by_padded_share").any():
            sentences.append(f"Mechanism: in the trials of the {other} head"
                             + (f" with {_where(where)}" if where else "")
                             + " either every test review is padded or none is, so reviews that "
                             "fill all timesteps cannot be contrasted with padded ones.")
        return
    control = padding_contrast(mechanism, {"head": reference, **where})
    runs = trial_contrasts(design, {"head": other, **where})
    agreeing = sum(run["judgement"] == found["judgement"] for run in runs)
    timesteps = _fixed(design, {"head": other, **where}, "maxlen")
    findings["mechanism"] = {"contrast": "test reviews that fill all maxlen timesteps "
                                         "(no padding) against padded ones, pooled over trials",
                             "setting": where, "head": other,
                             "setting_chosen_as": chosen,
                             "maxlen": int(timesteps) if timesteps else None,
                             "result": found, "reference_head": reference, "reference": control,
                             "per_trial_differences": [run["difference"] for run in runs],
                             "trials_agreeing": agreeing}
    padded = {"post": "followed by padding", "pre": "preceded by padding"}.get(
        where.get("padding", ""), "shorter than maxlen (padded)")
    label = ", ".join(f"{k}={v}" for k, v in {"head": other, **where}.items())
    text = (f"Mechanism{' in the setting with the largest gap' if picked else ''} ({label}): "
            f"right on {_share(found['unpadded'])} of test reviews that "
            f"fill all {timesteps or 'maxlen'} timesteps, against {_share(found['padded'])} of "
            f"reviews {padded}")
    both = control is not None and control["judgement"] == UNPADDED_BETTER
    if found["judgement"] == WITHIN_NOISE:
        text += "; the difference is within noise (the intervals overlap)."
    elif found["judgement"] == PADDED_BETTER:
        text += f"; the {other} head does better on the shorter, padded reviews"
    elif (other == "last" and where.get("padding") == "post"
          and where.get("mask_zero") == "False" and not both):
        text += ": the last state fails where padding separates it from the review"
    else:
        text += f": the {other} head does worse on padded reviews"
    if found["judgement"] != WITHIN_NOISE and len(runs) > 1:
        text += (f" (clearly so in each of the {len(runs)} trials taken alone)"
                 if agreeing == len(runs) else
                 f" (clearly so in {agreeing} of the {len(runs)} trials taken alone)")
    sentences.append(text + ("" if text.endswith(".") else "."))
    if control is None:
        return
    pair = f"{_share(control['unpadded'])} against {_share(control['padded'])}"
    if control["judgement"] == WITHIN_NOISE:
        sentences.append(f"The {reference} head in the same setting does not care: {pair}, "
                         "within noise.")
    elif control["judgement"] == PADDED_BETTER:
        sentences.append(f"The {reference} head in the same setting does better on the padded "
                         f"reviews: {pair}.")
    else:
        sentences.append(
            f"The {reference} head in the same setting also does better on reviews that fill "
            f"every timestep, {pair}; so part of the difference lies in the reviews, not the "
            f"padding ({points(found['difference'])} for {other} against "
            f"{points(control['difference'])} for {reference}).")


def _mechanism_setting(gaps: Gaps, mechanism: pd.DataFrame,
                       setting: dict[str, str]) -> dict[str, str]:
    """The verdict's cell, plus the padding/mask_zero levels where the gap is largest inside it."""
    cell = {k: v for k, v in setting.items() if k != "head"}
    pairs = gaps.pairs[gaps.pairs["other"] == primary_other(gaps)]
    for name, level in cell.items():
        pairs = pairs[pairs[name].map(level_label) == level]
    missing = [g for g in GROUPS if g != "head" and g not in cell and g in pairs
               and g in mechanism and pairs[g].nunique() > 1]
    if missing and not pairs.empty:
        means = pairs.groupby([pairs[g].map(level_label) for g in missing])["gap"].mean()
        best = means.idxmax()
        cell.update(zip(missing, best if isinstance(best, tuple) else (best,), strict=True))
    return {k: v for k, v in cell.items() if k in mechanism}


def _fixed(design: Design, setting: dict[str, str], name: str) -> str | None:
    """The one level of ``name`` among ``setting``'s trials, or None when they differ."""
    frame = design.complete
    if name not in frame:
        return None
    for key, level in setting.items():
        frame = frame[frame[key].map(level_label) == level]
    values = frame[name].dropna().map(level_label).unique()
    return str(values[0]) if len(values) == 1 else None


def _share(side: dict) -> str:
    """``62% (95% CI 60–64%; n=1,644)``."""
    return (f"{side['accuracy']:.0%} (95% CI {side['low']:.0%}–{side['high']:.0%}; "
            f"n={side['n']:,})")


def _where(setting: dict[str, str]) -> str:
    return " and ".join(f"{k}={v}" for k, v in setting.items())


def _capacity_sentence(gaps: Gaps, capacity: pd.DataFrame, sentences: list[str]) -> None:
    other = primary_other(gaps)
    if "n_params" not in capacity:
        return
    per_head = capacity.groupby("head")["n_params"].median()
    if gaps.reference not in per_head or other not in per_head:
        return
    text = (f"Capacity: {gaps.reference} has {per_head[gaps.reference]:,.0f} parameters against "
            f"{per_head[other]:,.0f} for {other} (median)")
    if "overfit" in capacity:
        overfit = capacity.groupby("head")["overfit"].median()
        text += (f"; train minus validation accuracy at the best epoch is "
                 f"{points(overfit[gaps.reference])} for {gaps.reference} and "
                 f"{points(overfit[other])} for {other}")
    sentences.append(text + ".")


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

