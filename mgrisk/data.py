"""Validate a cohort DataFrame once: named columns, numeric values, counted missing rows.

Every public analysis calls `check_cohort` first, so that bad input fails with a message that
names the column, the first offending row and the fix, and rows dropped for missing values are
counted (never silently lost).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
import patsy

from .errors import InputError

__all__ = ["CohortData", "check_cohort", "formula_columns", "parse_formula"]


@dataclass(frozen=True)
class CohortData:
    """Complete cases of the columns an analysis uses, with what was dropped and why."""

    frame: pd.DataFrame
    n_input: int
    dropped: dict[str, int] = field(default_factory=dict)  # column -> rows missing there
    event_counts: dict[int, int] = field(default_factory=dict)  # event code -> rows

    @property
    def n_dropped(self) -> int:
        return self.n_input - len(self.frame)


@lru_cache(maxsize=256)
def parse_formula(formula: str) -> patsy.ModelDesc:
    """patsy's parse of a formula (kept: a simulation study parses the same one each replicate)."""
    return patsy.ModelDesc.from_formula(formula)


def formula_columns(formula: str | None, data: pd.DataFrame) -> list[str]:
    """The data columns a patsy formula refers to (names that are not columns are ignored)."""
    if not formula:
        return []
    try:
        desc = parse_formula(formula)
    except patsy.PatsyError as exc:
        raise InputError(f"adjust formula {formula!r} cannot be parsed: {exc}") from None
    names: list[str] = []
    for term in desc.rhs_termlist:
        for factor in term.factors:
            for node in ast.walk(ast.parse(factor.code, mode="eval")):
                if isinstance(node, ast.Name) and node.id in data.columns and node.id not in names:
                    names.append(node.id)
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Q":
                    arg = node.args[0]
                    if isinstance(arg, ast.Constant) and arg.value in data.columns:
                        names.append(arg.value)
    return names


def _numeric(data: pd.DataFrame, column: str) -> np.ndarray:
    """The column as float64 (NaN where missing); text that is not a number is an error."""
    values = data[column]
    if values.dtype == np.float64:
        return values.to_numpy()  # NaN is already NaN: no copy
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float, na_value=np.nan)
    converted = pd.to_numeric(values, errors="coerce")
    bad = converted.isna() & values.notna() & (values.astype(str).str.strip() != "")
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        value = values.iloc[first]
        hint = "use a decimal point" if "," in str(value) else "fix or remove these values"
        raise InputError(
            f"column '{column}': {int(bad.sum())} non-numeric value(s), first at row "
            f"{data.index[first]} ({value!r}): {hint}"
        )
    return converted.to_numpy(dtype=float, na_value=np.nan)


def check_cohort(
    data,
    *,
    exposure: str,
    time: str,
    event: str,
    entry: str | None = None,
    adjust: str | None = None,
    strata: str | None = None,
    weights: str | None = None,
    cluster: str | None = None,
    cause: int = 1,
    missing: str = "drop",
) -> CohortData:
    """Check the columns an analysis uses and keep the complete cases.

    Parameters
    ----------
    data : pandas.DataFrame
    exposure, time, event, entry, strata, weights, cluster : str
        Column names (``entry``: age at entry with age as the time scale).
    adjust : str, optional
        patsy formula of the adjustment covariates; the columns it names are checked too.
    cause : int
        Event code of interest; other positive codes are competing events.
    missing : {"drop", "raise"}
        Drop rows with a missing value in a used column (counted), or raise.

    Returns
    -------
    CohortData
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if missing not in ("drop", "raise"):
        raise InputError(f"missing={missing!r}: use 'drop' or 'raise'")
    roles = {
        "exposure": exposure,
        "time": time,
        "event": event,
        "entry": entry,
        "strata": strata,
        "weights": weights,
        "cluster": cluster,
    }
    for role, column in roles.items():
        if column is not None and column not in data.columns:
            available = ", ".join(map(str, data.columns[:30]))
            raise InputError(f"{role} column '{column}' not found; available columns: {available}")
    numeric_cols = [c for c in (exposure, time, event, entry, weights) if c is not None]
    used = list(
        dict.fromkeys(
            numeric_cols + formula_columns(adjust, data) + [c for c in (strata, cluster) if c]
        )
    )
    columns = {c: _numeric(data, c) if c in numeric_cols else data[c] for c in used}
    for column in numeric_cols:
        values = columns[column]
        if np.isinf(values).any():
            row = data.index[np.isinf(values).nonzero()[0][0]]
            raise InputError(f"column '{column}': infinite value at row {row}; fix or remove it")
    na = {c: np.asarray(pd.isna(v)) for c, v in columns.items()}
    dropped = {c: int(m.sum()) for c, m in na.items() if m.any()}
    if dropped and missing == "raise":
        column = next(iter(dropped))
        row = data.index[na[column].nonzero()[0][0]]
        raise InputError(
            f"column '{column}': {dropped[column]} missing value(s), first at row {row}; "
            "drop or impute them (or use missing='drop')"
        )
    frame = pd.DataFrame(columns, index=data.index, copy=False)  # shares data's memory
    complete = frame[~np.logical_or.reduce(list(na.values()))] if dropped else frame
    if complete.empty:
        raise InputError(f"no complete rows: every row misses a value in {sorted(dropped)}")
    _check_event(complete, event, cause)
    _check_times(complete, time, entry)
    if weights is not None and (complete[weights] < 0).any():
        row = complete.index[(complete[weights] < 0).to_numpy().nonzero()[0][0]]
        raise InputError(f"column '{weights}': negative weight at row {row}; weights must be >= 0")
    codes, counts = np.unique(complete[event].to_numpy().astype(int), return_counts=True)
    counts_by_code = {int(k): int(v) for k, v in zip(codes, counts, strict=True)}
    return CohortData(complete, len(data), dropped, counts_by_code)


def _check_event(frame: pd.DataFrame, event: str, cause: int) -> None:
    codes = frame[event].to_numpy()
    bad = (codes < 0) | (codes != np.round(codes))
    if bad.any():
        row = frame.index[bad.nonzero()[0][0]]
        raise InputError(
            f"column '{event}': value {codes[bad][0]:g} at row {row} is not an event code; use "
            "0 for censored and 1, 2, ... for causes"
        )
    if not (codes == cause).any():
        present = sorted(set(codes.astype(int).tolist()))
        raise InputError(
            f"column '{event}': no events with code {cause} (codes present: {present}); "
            "set cause= to the event of interest"
        )


def _check_times(frame: pd.DataFrame, time: str, entry: str | None) -> None:
    exit_ = frame[time].to_numpy()
    if entry is None:
        bad = exit_ <= 0
        if bad.any():
            row = frame.index[bad.nonzero()[0][0]]
            raise InputError(
                f"column '{time}': {int(bad.sum())} row(s) with zero or negative follow-up, "
                f"first at row {row} ({exit_[bad][0]:g}); follow-up must be > 0"
            )
        return
    start = frame[entry].to_numpy()
    bad = exit_ <= start
    if bad.any():
        row = frame.index[bad.nonzero()[0][0]]
        raise InputError(
            f"columns '{entry}'/'{time}': {int(bad.sum())} row(s) exit at or before entry, first "
            f"at row {row} (entry {start[bad][0]:g}, exit {exit_[bad][0]:g}); every row needs "
            "entry < exit"
        )
