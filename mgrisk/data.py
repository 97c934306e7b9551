"""Validate a cohort DataFrame once: named columns, numeric values, counted missing rows.

Every public analysis calls `check_cohort` first, so that bad input fails with a message that
names the column, the first offending row and the fix, and rows dropped for missing values are
counted (never silently lost).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .cox.checks import check_survival
from .errors import InputError
from .formula import parse_formula

__all__ = ["CohortData", "check_cohort", "formula_columns"]


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


def formula_columns(formula: str | None, data: pd.DataFrame) -> list[str]:
    """The data columns a formula reads (every name in it must be a column of ``data``)."""
    names = list(parse_formula(formula).columns)
    missing = [c for c in names if c not in data.columns]
    if missing:
        available = ", ".join(map(str, list(data.columns)[:30]))
        raise InputError(
            f"adjust: column '{missing[0]}' not found; available columns: {available} (quote "
            "names with spaces or symbols as `name`)"
        )
    return names


#: Largest magnitude accepted in a numeric column: squares and sums of larger values overflow
#: (and no exposure, time or weight is measured on such a scale).
LARGEST = 1e100


def _check_roles(roles: dict, adjusted: list[str]) -> None:
    """A column has one role: the exposure, time, entry or event cannot also be adjusted for."""
    given = {c: r for r, c in roles.items() if c is not None}
    for column in adjusted:
        role = given.get(column)
        if role in ("exposure", "time", "entry", "event"):
            why = (
                "it is already in the model as a spline"
                if role == "exposure"
                else "a Cox model cannot adjust for its own time scale or outcome"
            )
            raise InputError(f"adjust: '{column}' is the {role} column; {why}: remove it")
    seen: dict[str, str] = {}
    for role, column in roles.items():
        if column is None or role in ("strata", "cluster", "weights"):
            continue
        if column in seen:
            raise InputError(
                f"column '{column}' is given as both {seen[column]} and {role}; each needs its "
                "own column"
            )
        seen[column] = role


#: The index name of a checked cohort's frame: its labels are the rows of the input data. A frame
#: renumbered from it (``reset_index``) loses the name, and with it the claim.
INPUT_ROW = "input row"


def row_name(frame: pd.DataFrame, position: int) -> str:
    """Row ``position`` of ``frame`` as a person counts it: 1-based in the input data (a
    checked cohort's frame keeps the input rows as its index), with its file line when
    `mgrisk.tables.read_table` read it from a file."""
    if frame.index.name == INPUT_ROW:
        row, lines = int(frame.index[position]), frame.attrs.get("lines")
    else:
        row, lines = position, _lines(frame)
    return f"row {row + 1}" + ("" if lines is None else f" (file line {lines[row]})")


def _lines(data: pd.DataFrame):
    """The file line of each input row, when the data came from a file (else None)."""
    lines = data.attrs.get("lines")
    return lines if lines is not None and len(lines) == len(data) else None


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
            f"column '{column}': {int(bad.sum())} non-numeric value(s), first at "
            f"{row_name(data, first)} ({value!r}): {hint}"
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
    duplicated = data.columns[data.columns.duplicated()]
    if len(duplicated):
        raise InputError(
            f"column name '{duplicated[0]}' appears more than once; give every column its own name"
        )
    for role, column in roles.items():
        if column is not None and column not in data.columns:
            available = ", ".join(map(str, data.columns[:30]))
            raise InputError(f"{role} column '{column}' not found; available columns: {available}")
    if isinstance(cause, bool) or not isinstance(cause, int | np.integer) or cause < 1:
        raise InputError(
            f"cause={cause!r}: give the event code of interest, a whole number >= 1 (0 means "
            "censored)"
        )
    adjusted = formula_columns(adjust, data)
    _check_roles(roles, adjusted)
    numeric_cols = [c for c in (exposure, time, event, entry, weights) if c is not None]
    used = list(dict.fromkeys(numeric_cols + adjusted + [c for c in (strata, cluster) if c]))
    columns = {
        c: _numeric(data, c) if c in numeric_cols else data[c].reset_index(drop=True) for c in used
    }  # plain arrays or position-indexed Series: rows align whatever data.index is
    for column in numeric_cols:
        values = columns[column]
        huge = np.abs(values) > LARGEST
        if huge.any():
            row = row_name(data, huge.nonzero()[0][0])
            raise InputError(
                f"column '{column}': value {values[huge][0]:g} at {row} is too large to analyse "
                f"(beyond {LARGEST:g}); fix or remove it"
            )
    na = {c: np.asarray(pd.isna(v)) for c, v in columns.items()}
    dropped = {c: int(m.sum()) for c, m in na.items() if m.any()}
    if dropped and missing == "raise":
        column = next(iter(dropped))
        row = row_name(data, na[column].nonzero()[0][0])
        raise InputError(
            f"column '{column}': {dropped[column]} missing value(s), first at {row}; "
            "drop or impute them (or use missing='drop')"
        )
    # indexed by input position, so that messages name the row a person counts (position + 1)
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(data), name=INPUT_ROW), copy=False)
    complete = frame[~np.logical_or.reduce(list(na.values()))] if dropped else frame
    complete.attrs = {"lines": _lines(data)}  # for messages naming rows
    if complete.empty:
        raise InputError(f"no complete rows: every row misses a value in {sorted(dropped)}")
    check_survival(
        complete[time],
        complete[event],
        None if entry is None else complete[entry],
        names=(time, event, entry or "entry"),
        rows=complete.index.to_numpy(),
        lines=_lines(data),
    )
    _check_cause(complete, event, cause)
    if weights is not None and (complete[weights] < 0).any():
        row = row_name(complete, np.flatnonzero(complete[weights].to_numpy() < 0)[0])
        raise InputError(f"column '{weights}': negative weight at {row}; weights must be >= 0")
    codes, counts = np.unique(complete[event].to_numpy().astype(int), return_counts=True)
    counts_by_code = {int(k): int(v) for k, v in zip(codes, counts, strict=True)}
    return CohortData(complete, len(data), dropped, counts_by_code)


def _check_cause(frame: pd.DataFrame, event: str, cause: int) -> None:
    codes = frame[event].to_numpy()
    if not (codes == cause).any():
        present = sorted(set(codes.astype(int).tolist()))
        raise InputError(
            f"column '{event}': no events with code {cause} (codes present: {present}); "
            "set cause= to the event of interest"
        )
