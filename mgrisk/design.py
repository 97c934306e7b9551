"""Design matrices from parsed formulas (`mgrisk.formula`), with rms's names for spline columns.

Each factor is computed by mgrisk (columns, categories, splines, allowed arithmetic); sums of main
effects are assembled with numpy, and interactions are coded by patsy from lookups of those
computed values (patsy never evaluates text). The design records each term's columns, the
nonlinear columns of each spline and the levels of each categorical factor, so the same columns
can be built for new data.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .data import LARGEST, row_name
from .errors import InputError
from .formula import (
    Column,
    Expression,
    Formula,
    Spline,
    evaluate,
    parse_formula,
    term_label,
)
from .splines import rcs_basis, rcs_column_names, rcs_knots

__all__ = ["Design", "design_matrix"]


@dataclass(frozen=True)
class Design:
    """A built design: the matrix, the columns each term owns, and what rebuilds it."""

    matrix: pd.DataFrame
    terms: dict[str, list[int]]  # term label -> its columns
    nonlinear: dict[str, list[int]]  # spline term label -> its nonlinear columns
    formula: Formula  # splines' knots resolved to floats
    levels: dict = field(default_factory=dict)  # categorical factor -> levels (reference first)
    column_order: list[int] | None = None  # columns as reordered by `first`
    info: object = None  # patsy.DesignInfo when the formula has interactions

    @property
    def names(self) -> list[str]:
        return list(self.matrix.columns)

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
        return replace(
            self,
            matrix=self.matrix.iloc[:, order],
            terms=terms,
            nonlinear=moved(self.nonlinear),
            column_order=order,
        )

    def build(self, data: pd.DataFrame) -> pd.DataFrame:
        """The same columns (same knots, same coding) for new data."""
        m = _build(self.formula, data, self.levels, self.info).matrix
        if self.column_order is not None:
            m = m.iloc[:, self.column_order]
        m.columns = self.matrix.columns
        return m


def _row(data: pd.DataFrame, mask: np.ndarray) -> str:
    """The first row where ``mask`` holds, as a person counts it (`mgrisk.data.row_name`)."""
    return row_name(data, int(np.flatnonzero(mask)[0]))


def _numeric_column(data: pd.DataFrame, name: str) -> np.ndarray:
    values = data[name]
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        raise InputError(
            f"column '{name}' is not numeric (e.g. {values.iloc[0]!r}); use C({name}) for "
            "categories or fix its values"
        )
    x = values.to_numpy(dtype=float, na_value=np.nan)
    bad = ~(np.abs(x) <= LARGEST)
    if bad.any():
        raise InputError(
            f"column '{name}': value {x[bad][0]:g} at {_row(data, bad)} cannot enter the model; "
            f"drop or impute missing values, fix values beyond {LARGEST:g}"
        )
    return x


def _is_categorical(values: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


def _levels(values: pd.Series, factor) -> tuple:
    """Sorted levels, the reference first (``C(col, Treatment(ref))``)."""
    levels = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(values.dropna())]
    try:
        levels = sorted(levels)
    except TypeError:
        levels = sorted(levels, key=str)
    ref = getattr(factor, "reference", None)
    if ref is not None:
        match = [v for v in levels if v == ref or str(v) == str(ref)]
        if not match:
            raise InputError(
                f"{factor.label}: reference level {ref!r} is not among the levels {levels}"
            )
        levels.remove(match[0])
        levels.insert(0, match[0])
    return tuple(levels)


def _categories(data, factor, levels) -> np.ndarray:
    """Level index (0 = reference) of each row for a categorical factor."""
    values = data[factor.name]
    if values.isna().any():
        raise InputError(
            f"column '{factor.name}': missing value at {_row(data, values.isna().to_numpy())}; "
            "drop or impute missing values"
        )
    lookup = {v: i for i, v in enumerate(levels)}
    codes = values.map(lookup)
    unknown = codes.isna().to_numpy()
    if unknown.any():
        value = values.to_numpy()[unknown][0]
        raise InputError(
            f"column '{factor.name}': level {value!r} ({_row(data, unknown)}) was not in the "
            f"fitted data (levels {list(levels)})"
        )
    return codes.to_numpy(dtype=np.int64)


def _resolve(formula: Formula, data: pd.DataFrame) -> Formula:
    """Splines' knots placed on the data (rms's rule) where only their number was given."""
    terms = []
    for term in formula.terms:
        new = []
        for f in term:
            if isinstance(f, Spline) and isinstance(f.knots, int):
                f = Spline(
                    f.name, tuple(map(float, rcs_knots(_numeric_column(data, f.name), f.knots)))
                )
            new.append(f)
        terms.append(tuple(new))
    return Formula(tuple(terms))


@dataclass(frozen=True)
class _Built:
    matrix: pd.DataFrame
    terms: dict
    nonlinear: dict
    levels: dict
    info: object


def _factor(factor, data, levels: dict):
    """('numeric', (n,) or (n, k) values, names) or ('categorical', codes, levels)."""
    if isinstance(factor, Spline):
        x = _numeric_column(data, factor.name)
        return (
            "numeric",
            rcs_basis(x, factor.knots),
            rcs_column_names(factor.name, len(factor.knots)),
        )
    if isinstance(factor, Expression):
        cols = {c: _numeric_column(data, c) for c in dict.fromkeys(_expression_columns(factor))}
        x = np.broadcast_to(evaluate(factor.tree, cols), (len(data),)).astype(float)
        bad = ~np.isfinite(x)
        if bad.any():
            raise InputError(
                f"{factor.text}: value {x[bad][0]} at {_row(data, bad)} (e.g. log of zero or a "
                "negative number); transform the column differently or drop those rows"
            )
        return "numeric", x, [factor.text]
    values = data[factor.name]
    if isinstance(factor, Column) and not _is_categorical(values):
        return "numeric", _numeric_column(data, factor.name), [factor.name]
    label = factor.label
    if label not in levels:
        levels[label] = _levels(values, factor)
    return "categorical", _categories(data, factor, levels[label]), levels[label]


def _expression_columns(factor: Expression) -> list[str]:
    return list(Formula(((factor,),)).columns)


def _build(formula: Formula, data: pd.DataFrame, levels: dict | None, info) -> _Built:
    fitting = levels is None
    levels = {} if levels is None else dict(levels)
    values = {}
    for term in formula.terms:
        for f in term:
            if f not in values:
                values[f] = _factor(f, data, levels)
    if fitting:
        _check_variation(formula, values)
    if all(len(t) == 1 for t in formula.terms):
        return _main_effects(formula, values, data.index, levels)
    return _interactions(formula, values, data.index, levels, info)


def _check_variation(formula: Formula, values: dict) -> None:
    """A factor that does not vary cannot be adjusted for: say so instead of fitting it."""
    for f, (kind, v, extra) in values.items():
        if kind == "categorical" and len(extra) < 2:
            raise InputError(
                f"{f.label}: one level only ({extra[0]!r}) in the analysed rows; it cannot be "
                "adjusted for: remove it from the formula"
            )
        if kind == "numeric" and v.ndim == 1 and v.size and np.all(v == v[0]):
            raise InputError(
                f"{f.label}: the same value ({v[0]:g}) in every analysed row; it cannot be "
                "adjusted for: remove it from the formula"
            )


def _main_effects(formula, values, index, levels) -> _Built:
    blocks, names, terms, nonlinear, start = [], [], {}, {}, 0
    for (f,) in formula.terms:
        kind, v, extra = values[f]
        if kind == "numeric":
            block = v if v.ndim == 2 else v[:, None]
            cols = list(extra)
        else:
            block = (v[:, None] == np.arange(1, len(extra))).astype(float)
            cols = [f"{f.label}[T.{level}]" for level in extra[1:]]
        blocks.append(block)
        names += cols
        terms[f.label] = list(range(start, start + len(cols)))
        if isinstance(f, Spline):
            nonlinear[f.label] = terms[f.label][1:]
        start += len(cols)
    matrix = np.hstack(blocks) if len(blocks) > 1 else blocks[0]
    frame = pd.DataFrame(matrix, columns=names, index=index, copy=False)
    return _Built(frame, terms, nonlinear, levels, None)


def _interactions(formula, values, index, levels, info) -> _Built:
    """Interactions coded by patsy (its rules for which columns a term needs), from lookups of
    the factors' computed values."""
    import patsy

    data, factors = {}, {}
    for f, (kind, v, extra) in values.items():
        if kind == "numeric":
            data[f.label] = v
            factors[f] = patsy.LookupFactor(f.label)
        else:
            data[f.label] = np.asarray(extra, dtype=object)[v]
            factors[f] = patsy.LookupFactor(
                f.label,
                force_categorical=True,
                contrast=patsy.Treatment(reference=0),
                levels=tuple(extra),
            )
    if info is None:
        desc = patsy.ModelDesc(
            [], [patsy.INTERCEPT] + [patsy.Term([factors[f] for f in t]) for t in formula.terms]
        )
        m = patsy.dmatrix(desc, data, return_type="dataframe", NA_action="raise")
    else:
        (m,) = patsy.build_design_matrices([info], data, return_type="dataframe")
    info = m.design_info
    m = m.drop(columns="Intercept")
    m.index = index
    names, terms, nonlinear = list(m.columns), {}, {}
    labels = {f.label: f for f in factors}
    for term, sl in info.term_slices.items():
        if not term.factors:
            continue
        cols = list(range(sl.start - 1, sl.stop - 1))
        own = tuple(labels[f.name()] for f in term.factors)
        label = term_label(own)
        terms[label] = cols
        splines = [f for f in own if isinstance(f, Spline)]
        for s in splines:
            rms = rcs_column_names(s.name, len(s.knots))
            for i in cols:
                for j, new in enumerate(rms):
                    names[i] = names[i].replace(f"{s.label}[{j}]", new)
        if len(term.factors) == 1 and splines:
            nonlinear[label] = cols[1:]
    m.columns = names
    return _Built(m, terms, nonlinear, levels, info)


def design_matrix(formula: str | Formula, data: pd.DataFrame) -> Design:
    """Build the design matrix of a right-hand-side formula (no intercept) on data.

    Parameters
    ----------
    formula : str or Formula
        E.g. ``"rcs(mg, 4) + age + C(sex)"`` (see `mgrisk.formula` for the grammar; nothing in
        it is run as code).
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
    parsed = parse_formula(formula) if isinstance(formula, str) else formula
    missing = [c for c in parsed.columns if c not in data.columns]
    if missing:
        available = ", ".join(map(str, list(data.columns)[:30]))
        raise InputError(
            f"formula: column '{missing[0]}' not found; available columns: {available} (quote "
            "names with spaces or symbols as `name`)"
        )
    resolved = _resolve(parsed, data)
    built = _build(resolved, data, None, None)
    return Design(
        built.matrix, built.terms, built.nonlinear, resolved, built.levels, None, built.info
    )
