"""Design matrices from patsy formulas, with rms's names for spline columns.

patsy names the columns of a multi-column factor ``rcs(mg, 4)[0]``, ``rcs(mg, 4)[1]``, ...;
`design_matrix` renames them as rms does (``mg``, ``mg'``, ``mg''``) and keeps, for every term,
which columns it owns and which of them are nonlinear.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import numpy as np
import pandas as pd
import patsy

from .errors import InputError
from .splines import rcs, rcs_column_names

__all__ = ["Design", "design_matrix"]


@dataclass(frozen=True)
class Design:
    """A built design: the matrix, patsy's design info, and the columns each term owns."""

    matrix: pd.DataFrame
    info: patsy.DesignInfo
    terms: dict[str, list[int]]
    nonlinear: dict[str, list[int]]
    column_order: list[int] | None = None  # patsy's columns as reordered by `first`

    def first(self, term: str) -> Design:
        """The same design with ``term``'s columns moved to the front (rms's order)."""
        cols = self.terms[term]
        order = cols + [c for c in range(self.matrix.shape[1]) if c not in cols]
        new_pos = {old: new for new, old in enumerate(order)}

        def moved(mapping):
            return {k: [new_pos[c] for c in v] for k, v in mapping.items()}

        terms = {term: moved(self.terms)[term]} | moved(self.terms)
        return Design(self.matrix.iloc[:, order], self.info, terms, moved(self.nonlinear), order)

    def build(self, data: pd.DataFrame) -> pd.DataFrame:
        """The same columns (same knots, same coding) for new data."""
        (m,) = patsy.build_design_matrices([self.info], data, return_type="dataframe")
        m = m.drop(columns="Intercept")
        if self.column_order is not None:
            m = m.iloc[:, self.column_order]
        m.columns = self.matrix.columns
        return m


def _rcs_variable(code: str) -> str | None:
    """'mg' for a factor written 'rcs(mg, 4)', None for any other factor."""
    try:
        call = ast.parse(code, mode="eval").body
    except SyntaxError:
        return None
    if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "rcs" and call.args:
        return ast.unparse(call.args[0])
    return None


def design_matrix(formula: str, data: pd.DataFrame) -> Design:
    """Build the design matrix of a right-hand-side formula (no intercept) on data.

    Parameters
    ----------
    formula : str
        patsy formula such as ``"rcs(mg, 4) + age + C(sex)"``; ``rcs`` needs no import.
    data : pandas.DataFrame

    Returns
    -------
    Design
        ``matrix`` has rms's names for spline columns (``mg``, ``mg'``, ...).

    Examples
    --------
    >>> df = pd.DataFrame({"mg": np.linspace(0.6, 1.1, 50), "age": np.arange(50.0)})
    >>> design_matrix("rcs(mg, 4) + age", df).matrix.columns.tolist()
    ['mg', "mg'", "mg''", 'age']
    """
    try:
        m = patsy.dmatrix(
            formula,
            data,
            return_type="dataframe",
            NA_action="raise",
            eval_env=patsy.EvalEnvironment([{"rcs": rcs, "np": np}]),
        )
    except patsy.PatsyError as exc:
        raise InputError(f"formula {formula!r}: {exc}") from None
    # Keep patsy's reduced-rank coding (built with an intercept) and drop the intercept:
    # a Cox model has none.
    info = m.design_info
    m = m.drop(columns="Intercept")
    names = list(m.columns)
    terms: dict[str, list[int]] = {}
    nonlinear: dict[str, list[int]] = {}
    for term, sl in info.term_slices.items():
        if term.name() == "Intercept":
            continue
        cols = list(range(sl.start - 1, sl.stop - 1))
        label = term.name()
        factors = term.factors
        if len(factors) == 1 and (var := _rcs_variable(factors[0].code)) is not None:
            label = var
            for i, new in zip(cols, rcs_column_names(var, len(cols) + 1), strict=True):
                names[i] = new
            nonlinear[label] = cols[1:]
        terms[label] = cols
    m.columns = names
    return Design(m, info, terms, nonlinear)
