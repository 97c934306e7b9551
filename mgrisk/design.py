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
from .splines import rcs, rcs_basis, rcs_column_names

__all__ = ["Design", "design_matrix"]


@dataclass(frozen=True)
class Design:
    """A built design: the matrix, patsy's design info, and the columns each term owns."""

    matrix: pd.DataFrame
    info: patsy.DesignInfo | None  # None: built by the fast path from ``spec``
    terms: dict[str, list[int]]
    nonlinear: dict[str, list[int]]
    column_order: list[int] | None = None  # columns as reordered by `first`
    spec: tuple = ()  # fast path: ((column, knots or None), ...) in column-block order

    def first(self, term: str) -> Design:
        """The same design with ``term``'s columns moved to the front (rms's order)."""
        cols = self.terms[term]
        order = cols + [c for c in range(self.matrix.shape[1]) if c not in cols]
        if order == list(range(len(order))):
            return self  # already first
        new_pos = {old: new for new, old in enumerate(order)}

        def moved(mapping):
            return {k: [new_pos[c] for c in v] for k, v in mapping.items()}

        terms = {term: moved(self.terms)[term]} | moved(self.terms)
        return Design(
            self.matrix.iloc[:, order], self.info, terms, moved(self.nonlinear), order, self.spec
        )

    def build(self, data: pd.DataFrame) -> pd.DataFrame:
        """The same columns (same knots, same coding) for new data."""
        if self.info is None:
            m = _fast_matrix(self.spec, data)
        else:
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


def _sum_terms(node: ast.expr) -> list[ast.expr]:
    """The terms of a formula parsed as Python: a + b + c -> [a, b, c]."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _sum_terms(node.left) + _sum_terms(node.right)
    return [node]


def _fast_spec(formula: str, data: pd.DataFrame) -> tuple | None:
    """((column, knots or None), ...) when the formula is a sum of distinct numeric columns
    and ``rcs(column, knots=[...])`` terms; None when patsy is needed. Read with Python's
    parser: patsy's would parse every replicate's formula (its knots change) anew."""
    try:
        terms = _sum_terms(ast.parse(formula, mode="eval").body)
    except SyntaxError:
        return None
    spec = []
    for node in terms:
        if isinstance(node, ast.Name) and node.id in data.columns:
            if not pd.api.types.is_numeric_dtype(data[node.id]):
                return None
            spec.append((node.id, None))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "rcs"
            and len(node.args) == 1
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id in data.columns
            and len(node.keywords) == 1
            and node.keywords[0].arg == "knots"
        ):
            try:
                knots = tuple(float(v) for v in ast.literal_eval(node.keywords[0].value))
            except (ValueError, TypeError):
                return None
            spec.append((node.args[0].id, knots))
        else:
            return None
    if len({column for column, _ in spec}) < len(spec):
        return None  # a column twice: patsy's rules decide
    return tuple(spec)


def _fast_matrix(spec: tuple, data: pd.DataFrame) -> pd.DataFrame:
    blocks, names = [], []
    for column, knots in spec:
        x = data[column].to_numpy(dtype=float)
        if np.isnan(x).any():
            raise InputError(f"column '{column}' has missing values; drop or impute them")
        if knots is None:
            blocks.append(x[:, None])
            names.append(column)
        else:
            blocks.append(rcs_basis(x, knots))
            names += rcs_column_names(column, len(knots))
    return pd.DataFrame(np.hstack(blocks), columns=names, index=data.index)


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
    spec = _fast_spec(formula, data)
    if spec:  # numeric columns and splines with given knots: what patsy would build, faster
        m = _fast_matrix(spec, data)
        terms, nonlinear, start = {}, {}, 0
        for column, knots in spec:
            width = 1 if knots is None else len(knots) - 1
            terms[column] = list(range(start, start + width))
            if knots is not None:
                nonlinear[column] = terms[column][1:]
            start += width
        return Design(m, None, terms, nonlinear, None, spec)
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
