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
from sweep.report._design import Design
from sweep.report._gap import Gaps, split_gap
from sweep.report._mechanism import extremes

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
    return f"{value * 100:+.1f} points" if math.isfinite(value) else "n/a"


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
        _mechanism_sentence(gaps, mechanism, setting, sentences)
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


def _mechanism_sentence(gaps: Gaps, mechanism: pd.DataFrame, setting: dict[str, str],
                        sentences: list[str]) -> None:
    setting = {k: v for k, v in (setting or {"head": primary_other(gaps)}).items()
               if k in mechanism}
    found = extremes(mechanism, setting)
    if found is None:
        return
    short, long = found
    where = ", ".join(f"{k}={v}" for k, v in setting.items())
    text = (f"Mechanism ({where}): right on {short['accuracy']:.0%} of test reviews of "
            f"{short['bucket']} tokens (n={short['n']}) against {long['accuracy']:.0%} of reviews "
            f"of {long['bucket']} tokens (n={long['n']})")
    if short["high"] < long["low"]:
        text += "; it fails most on short reviews, which carry the most padding."
    elif long["high"] < short["low"]:
        text += "; it does worse on long reviews, which are truncated."
    else:
        text += "; the difference between short and long reviews is within noise."
    sentences.append(text)


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

