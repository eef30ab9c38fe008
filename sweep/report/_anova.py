"""What explains accuracy: an OLS decomposition with head, each factor and head x factor terms.

The head x factor interactions are the factors that change the gap. Seeds enter as a block, so
seed-to-seed noise is not mistaken for an effect. When the design has residual degrees of freedom
to spare, head x factor x factor terms are added too: the question's failure (post-padding *and*
no mask) is such a three-way cell. statsmodels does the arithmetic (Type II sums of squares).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm
from statsmodels.stats.multitest import multipletests
from statsmodels.tools.sm_exceptions import SingularMatrixWarning

from sweep.report._design import Design

#: Significance level used to call a term an effect.
ALPHA = 0.05
#: Three-way head x factor x factor terms are added only if this many residual df remain.
MIN_RESIDUAL_DF_FOR_THREE_WAY = 8


@dataclass
class Term:
    """One model term: what the formula says and what a reader sees."""

    formula: str
    factors: tuple[str, ...]
    kind: str  # head, main, interaction (involves head), crossed (factors only), block

    @property
    def label(self) -> str:
        """``head × padding``, ``seed (block)``."""
        return " × ".join(self.factors) + (" (block)" if self.kind == "block" else "")


@dataclass
class Anova:
    """The decomposition: one row per term with its share of the total variance and p-value."""

    formula: str
    table: pd.DataFrame  # term, kind, factors, df, sum_sq, share, F, p
    n: int
    r_squared: float
    notes: list[str] = field(default_factory=list)

    def gap_terms(self, alpha: float = ALPHA) -> pd.DataFrame:
        """Head interactions with Holm-adjusted p < ``alpha``, largest share first.

        Many head x factor terms are tested at once, so the p-values are adjusted for multiple
        testing before a term is said to explain the gap.
        """
        rows = self.table[(self.table["kind"] == "interaction") & (self.table["p_holm"] < alpha)]
        return rows.sort_values("share", ascending=False)

    def main_terms(self) -> pd.DataFrame:
        """Main effects (head included), largest share first."""
        return self.table[self.table["kind"].isin(["head", "main"])].sort_values(
            "share", ascending=False)


def decompose(design: Design) -> Anova | None:
    """Fit ``response ~ head * factors (+ seed block)`` and decompose its variance.

    Returns:
        The table, or None (with the reason in ``design.notes``) when nothing varies or the
        trials are too few to leave a residual degree of freedom.
    """
    data = _data(design)
    has_head = len(design.heads) > 1
    if not design.factors and not has_head:
        design.notes.append("No parameter varied across the completed trials, so there is no "
                            "effect to decompose.")
        return None
    main = ([Term("C(head)", ("head",), "head")] if has_head else []) + [
        Term(_encode(design, f), (f,), "main") for f in design.factors]
    interactions = [Term(f"C(head):{_encode(design, f)}", ("head", f), "interaction")
                    for f in design.factors] if has_head else []
    block = [Term("C(seed)", ("seed",), "block")] if "seed" in data and len(design.seeds) > 1 \
        else []
    notes: list[str] = []
    terms = main + interactions + block
    if _residual_df(design.response, terms, data) < 1 and interactions:
        terms = main + block
        notes.append("Too few trials for head × factor interactions (no residual degrees of "
                     "freedom left); only main effects are estimated.")
    if _residual_df(design.response, terms, data) < 1:
        design.notes.append(f"Too few completed trials ({len(data)}) for an ANOVA of "
                            f"{len(main)} factors: no residual degrees of freedom remain.")
        return None
    if any(t.kind == "interaction" for t in terms):
        terms = _with_three_way(design, terms, data)
    formula = f"{design.response} ~ " + " + ".join(t.formula for t in terms)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # p is NaN when residuals vanish
        warnings.simplefilter("ignore", SingularMatrixWarning)  # reported as a note below
        fit = smf.ols(formula, data).fit()
        raw = anova_lm(fit, typ=2)
    if np.linalg.matrix_rank(fit.model.exog) < fit.model.exog.shape[1]:
        notes.append("Some factors are confounded in this design (they change together), so "
                     "their separate shares are not identifiable; read them jointly.")
    total = float(((data[design.response] - data[design.response].mean()) ** 2).sum())
    by_formula = {t.formula: t for t in terms}
    rows = []
    for name, row in raw.iterrows():
        term = by_formula.get(str(name))
        rows.append({
            "term": term.label if term else "residual",
            "kind": term.kind if term else "residual",
            "factors": list(term.factors) if term else [],
            "df": float(row["df"]),
            "sum_sq": float(row["sum_sq"]),
            "share": float(row["sum_sq"]) / total if total > 0 else np.nan,
            "F": float(row["F"]) if pd.notna(row["F"]) else np.nan,
            "p": float(row["PR(>F)"]) if pd.notna(row["PR(>F)"]) else np.nan,
        })
    table = pd.DataFrame(rows)
    table["p_holm"] = np.nan
    tested = (table["kind"] == "interaction") & table["p"].notna()
    if tested.any():
        table.loc[tested, "p_holm"] = multipletests(table.loc[tested, "p"], method="holm")[1]
    return Anova(formula=formula, table=table, n=len(data),
                 r_squared=float(fit.rsquared), notes=notes)


def _data(design: Design) -> pd.DataFrame:
    frame = design.complete
    columns = [c for c in ["head", "seed", *design.factors] if c in frame]
    data = frame[[design.response, *columns]].copy()
    for name in columns:
        if name in ("head", "seed") or design.is_categorical(name):
            data[name] = data[name].astype(str)
        else:
            data[name] = data[name].astype(float)
    return data.dropna().reset_index(drop=True)


def _encode(design: Design, name: str) -> str:
    return f"C({name})" if design.is_categorical(name) else name


def _residual_df(response: str, terms: list[Term], data: pd.DataFrame) -> int:
    formula = f"{response} ~ " + " + ".join(t.formula for t in terms)
    exog = smf.ols(formula, data).exog
    return len(data) - int(np.linalg.matrix_rank(exog))


def _with_three_way(design: Design, terms: list[Term], data: pd.DataFrame) -> list[Term]:
    """Add head x a x b (and a x b) for categorical pairs while enough residual df remain."""
    categorical = [f for f in design.factors if design.is_categorical(f)]
    for a, b in itertools.combinations(categorical, 2):
        extra = [Term(f"C({a}):C({b})", (a, b), "crossed"),
                 Term(f"C(head):C({a}):C({b})", ("head", a, b), "interaction")]
        candidate = terms + extra
        if _residual_df(design.response, candidate, data) >= MIN_RESIDUAL_DF_FOR_THREE_WAY:
            terms = candidate
    return terms
