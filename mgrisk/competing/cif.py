"""Cumulative incidence (Aalen-Johansen) overall and by group, with CIs and Gray's test.

`cumulative_incidence` is the descriptive companion of the dose-response model: the proportion
who develop the event of interest by time t when death (or any other cause) can come first,
overall or by a grouping such as serum Mg quintiles.

lifelines' ``AalenJohansenFitter`` was compared and not used: on data without tied times its
estimate equals this one to machine precision and its variance equals ``variance="delta"``
here (tests/test_competing.py), but it breaks tied event times of different causes by random
jitter (so on data recorded in days its estimate changes from run to run and differs from
R's), seeds numpy's global random state, has no Gray's test, and computes the variance row by
row in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ..cox import Test
from ..errors import InputError
from ..quantiles import quantile_categories
from ._aalen_johansen import AJCurve, aalen_johansen
from ._common import check_arrays, time_ranks
from ._gray import gray_test

__all__ = ["CumulativeIncidence", "confidence_limits", "cumulative_incidence"]

CONF_TYPES = ("log-log", "log", "plain")


def confidence_limits(p, se, level: float = 0.95, conf_type: str = "log-log"):
    """Pointwise limits of probabilities p with standard errors se.

    ``"log-log"``: on log(-log p) (Beyersmann, Allignol & Schumacher 2012, eq. 4.16; the
    default of riskRegression and lifelines; R's ``survfit(conf.type = "log-log")``);
    ``"log"``: on log p (R survfit's default); ``"plain"``: p +/- z se, clipped to [0, 1].
    Where p is 0 (or se 0) both limits are p.
    """
    if conf_type not in CONF_TYPES:
        raise InputError(f"conf_type={conf_type!r}: use one of {CONF_TYPES}")
    if not 0 < level < 1:
        raise InputError(f"level={level}: must be between 0 and 1")
    p, se = np.asarray(p, dtype=float), np.asarray(se, dtype=float)
    z = ndtri(0.5 + level / 2)
    inside = (p > 0) & (p < 1) & (se > 0)
    safe = np.where(inside, p, 0.5)
    with np.errstate(over="ignore"):
        if conf_type == "log-log":
            k = np.exp(z * se / (safe * np.abs(np.log(safe))))
            lower, upper = safe**k, safe ** (1 / k)
        elif conf_type == "log":
            lower, upper = (
                safe * np.exp(-z * se / safe),
                np.minimum(safe * np.exp(z * se / safe), 1),
            )
        else:
            lower, upper = np.maximum(safe - z * se, 0), np.minimum(safe + z * se, 1)
    return np.where(inside, lower, p), np.where(inside, upper, p)


@dataclass(frozen=True)
class CumulativeIncidence:
    """Aalen-Johansen curves by group (see `cumulative_incidence`).

    ``table`` has one row per group, cause and event time: group, cause, time, n_risk,
    n_event (of that cause), cif, se, lower, upper; ``gray`` is Gray's test for the cause of
    interest (None where it does not apply, with the reason in ``note``).
    """

    table: pd.DataFrame
    curves: dict
    cause: int
    causes: tuple[int, ...]
    level: float
    conf_type: str
    variance: str
    gray: Test | None = None
    note: str = ""
    groups: list = field(default_factory=list)

    def at(self, times, cause: int | str | None = None) -> pd.DataFrame:
        """The curves at given times (a step function: the value at the last event time
        <= t; 0 before the first event). ``cause``: one code, ``"all"``, or the cause of
        interest (default)."""
        times = np.atleast_1d(np.asarray(times, dtype=float))
        wanted = self.causes if cause == "all" else (self.cause if cause is None else cause,)
        rows = []
        for g, curve in self.curves.items():
            idx = np.searchsorted(curve.time, times, "right") - 1
            for k in wanted:
                if k not in curve.causes:
                    raise InputError(f"cause {k} has no events (causes: {curve.causes})")
                j = curve.causes.index(k)
                cif = np.where(idx >= 0, curve.cif[np.maximum(idx, 0), j], 0.0)
                se = np.where(idx >= 0, curve.se[np.maximum(idx, 0), j], 0.0)
                lower, upper = confidence_limits(cif, se, self.level, self.conf_type)
                rows.append(
                    pd.DataFrame(
                        {
                            "group": g,
                            "cause": k,
                            "time": times,
                            "cif": cif,
                            "se": se,
                            "lower": lower,
                            "upper": upper,
                        }
                    )
                )
        return pd.concat(rows, ignore_index=True)

    def __str__(self) -> str:
        lines = [
            f"Aalen-Johansen cumulative incidence of cause {self.cause} "
            f"(causes {list(self.causes)}); {self.level:.0%} CIs on the {self.conf_type} scale, "
            f"{'infinitesimal jackknife' if self.variance == 'ij' else 'delta-method'} variance"
        ]
        if self.gray is not None:
            lines.append(
                f"Gray's test: chi2 = {self.gray.chi2:.4g} on {self.gray.df} df, "
                f"p = {self.gray.p:.3g}"
            )
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)


def _group_codes(frame: pd.DataFrame, by: str | None, quantiles: int | None):
    if by is None:
        return np.zeros(len(frame), dtype=np.int64), ["all"]
    if by not in frame.columns:
        raise InputError(f"by column '{by}' not found; available: {list(frame.columns)[:30]}")
    values = frame[by]
    if quantiles is not None:
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        codes, breaks = quantile_categories(x, int(quantiles))
        labels = [
            f"Q{k + 1} {'[' if k == 0 else '('}{breaks[k]:.3g}, {breaks[k + 1]:.3g}]"
            for k in range(int(quantiles))
        ]
        return codes.astype(np.int64), labels
    codes, labels = pd.factorize(values, sort=True)
    return codes.astype(np.int64), list(labels)


def cumulative_incidence(
    data: pd.DataFrame,
    time: str,
    event: str,
    *,
    entry: str | None = None,
    by: str | None = None,
    quantiles: int | None = None,
    cause: int = 1,
    level: float = 0.95,
    conf_type: str = "log-log",
    variance: str = "ij",
    rho: float = 0.0,
) -> CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of every cause, overall or by group.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person; rows with a missing value in a used column are dropped.
    time, event : str
        Exit time and event code (0 censored, 1, 2, ... causes).
    entry : str, optional
        Entry time (delayed entry, e.g. age at baseline with age as the time scale).
    by : str, optional
        Grouping column; with ``quantiles`` (e.g. 5), its quantile categories.
    cause : int
        The event of interest (for Gray's test and the default of `CumulativeIncidence.at`).
    level, conf_type : float, str
        Pointwise CIs (see `confidence_limits`).
    variance : {"ij", "delta"}
        Infinitesimal jackknife (R survfit's) or the delta-method (Greenwood-type) variance.
    rho : float
        Gray's test weight power (0: cmprsk's default).

    Returns
    -------
    CumulativeIncidence
        Gray's test is given with two or more groups and no delayed entry.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [1.0, 2, 3, 4, 5, 6], "e": [1, 2, 0, 1, 2, 0]})
    >>> ci = cumulative_incidence(df, "t", "e")
    >>> ci.at([4.5])[["time", "cif"]].round(4).values.tolist()
    [[4.5, 0.3889]]
    """
    if variance not in ("ij", "delta"):
        raise InputError(f"variance={variance!r}: use 'ij' or 'delta'")
    if conf_type not in CONF_TYPES:
        raise InputError(f"conf_type={conf_type!r}: use one of {CONF_TYPES}")
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    cols = [c for c in (time, event, entry, by) if c is not None]
    for c in cols:
        if c not in data.columns:
            raise InputError(f"column '{c}' not found; available: {list(data.columns)[:30]}")
    frame = data[list(dict.fromkeys(cols))].dropna()
    t, e, a = check_arrays(
        frame[time].to_numpy(dtype=float),
        frame[event].to_numpy(dtype=float),
        None if entry is None else frame[entry].to_numpy(dtype=float),
        cause,
    )
    codes, labels = _group_codes(frame, by, quantiles)
    curves: dict = {}
    tables = []
    for g, label in enumerate(labels):
        inside = codes == g
        if not (e[inside] > 0).any():
            continue
        b_rank, a_rank, times = time_ranks(t[inside], None if a is None else a[inside])
        curve: AJCurve = aalen_johansen(b_rank, e[inside], a_rank, times, variance)
        curves[label] = curve
        for j, k in enumerate(curve.causes):
            lower, upper = confidence_limits(curve.cif[:, j], curve.se[:, j], level, conf_type)
            tables.append(
                pd.DataFrame(
                    {
                        "group": label,
                        "cause": k,
                        "time": curve.time,
                        "n_risk": curve.n_risk,
                        "n_event": curve.n_event[:, j],
                        "cif": curve.cif[:, j],
                        "se": curve.se[:, j],
                        "lower": lower,
                        "upper": upper,
                    }
                )
            )
    causes = tuple(sorted({k for c in curves.values() for k in c.causes}))
    gray, note = None, ""
    if len(labels) < 2:
        note = "one group: no Gray's test"
    elif a is not None:
        note = "delayed entry: Gray's test (right-censored data only) is not given"
    else:
        b_rank, _, _ = time_ranks(t)
        stat, df = gray_test(b_rank, e, codes, cause, rho)
        gray = Test.of(stat, df)
    return CumulativeIncidence(
        pd.concat(tables, ignore_index=True),
        curves,
        cause,
        causes,
        level,
        conf_type,
        variance,
        gray,
        note,
        list(curves),
    )
