"""The "model checks" section of a run: computed once, rendered by the report and the figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..splines import rcs_basis
from .concordance import Concordance
from .functional_form import log_hr_over_time, smooths

if TYPE_CHECKING:
    from ..doseresponse import DoseResponse

__all__ = ["ModelChecks", "model_checks"]


@dataclass(frozen=True)
class ModelChecks:
    """PH tests, concordance and the residual pictures' numbers of one fit."""

    ph: pd.DataFrame  # chi2, df, p by term and GLOBAL (cox.zph's score test)
    transform: str
    alpha: float
    concordance: Concordance
    schoenfeld: pd.DataFrame  # scaled Schoenfeld residuals by term (terms=True)
    schoenfeld_smooth: pd.DataFrame  # term, ttime, fit, lower, upper: their smooths and bands
    log_hr_over_time: pd.DataFrame  # the spline's log-HR at a few exposures over time
    functional_form: pd.DataFrame  # martingale residuals of the model without the exposure
    exposure: str

    @property
    def failing(self) -> list[str]:
        """Terms (and GLOBAL) whose PH test rejects at ``alpha``."""
        return [t for t, p in self.ph.p.items() if p < self.alpha]

    @property
    def sentence(self) -> str:
        """What a reader should know: which terms fail the PH test, or that none does."""
        t = "transformed time" if self.transform != "identity" else "time"
        if not self.failing:
            return (
                f"No term fails the proportional-hazards test at the {self.alpha:g} level "
                f"(score test of cox.zph, {self.transform} {t}; global p = "
                f"{self.ph.p['GLOBAL']:.3g})."
            )
        terms = [x for x in self.failing if x != "GLOBAL"]
        which = ", ".join(f"'{x}' (p = {self.ph.p[x]:.3g})" for x in terms) or "no single term"
        return (
            f"Proportional hazards is doubtful at the {self.alpha:g} level for {which}; "
            f"global p = {self.ph.p['GLOBAL']:.3g} ({self.transform} transform). Look at the "
            "scaled Schoenfeld residuals over time; for the exposure, hr_curve_by_time shows "
            "its curve at several ages or times."
        )

    def to_dict(self) -> dict:
        return {
            "ph_test": [{"term": t, **row} for t, row in self.ph.to_dict("index").items()],
            "transform": self.transform,
            "alpha": self.alpha,
            "failing": self.failing,
            "concordance": self.concordance.to_dict(),
            "sentence": self.sentence,
        }


def model_checks(fit: DoseResponse, alpha: float = 0.05, transform: str = "km") -> ModelChecks:
    """Compute the checks section of a run from a fitted `DoseResponse` (each result once)."""
    residuals = fit.schoenfeld(transform, True)
    columns = fit.schoenfeld(transform, False)
    curve = fit.curve
    values = np.quantile(fit.x, [0.05, 0.25, 0.75, 0.95])
    ref = fit.reference_value()
    D = rcs_basis(values, fit.knots) - rcs_basis([ref], fit.knots)
    names = [fit.cox.names[c] for c in fit.spline_cols]
    labels = [f"{v:.3g}{curve.unit_suffix} vs {ref:.3g}" for v in values]
    t = residuals["ttime"].to_numpy()
    grid = np.linspace(t.min(), t.max(), 80)
    smoothed = smooths(t, {term: residuals[term].to_numpy() for term in fit.design.terms}, grid)
    smoothed = [s.rename(columns={"x": "ttime"}).assign(term=term) for term, s in smoothed.items()]
    return ModelChecks(
        ph=fit.ph_test(transform, True),
        transform=transform,
        alpha=alpha,
        concordance=fit.concordance(),
        schoenfeld=residuals,
        schoenfeld_smooth=pd.concat(smoothed, ignore_index=True),
        log_hr_over_time=log_hr_over_time(columns, names, D, labels),
        functional_form=fit.martingale_check(),
        exposure=fit.settings.exposure,
    )
