"""Fit your own cohort from a CSV: serum creatinine and death in R survival's flchain data.

flchain (Olmsted County, 7,874 residents aged 50+; Kyle et al., Mayo Clin Proc 2012) ships with
R's survival package; mgrisk keeps a copy for its tests. Creatinine vs death is J-shaped.
Run: python examples/fit_flchain.py   (writes examples/out/flchain_*.png)
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from mgrisk import fit_dose_response
from mgrisk.plot import plot_hr_curve

HERE = Path(__file__).parent
data = pd.read_csv(HERE.parent / "tests" / "reference" / "data" / "flchain.csv")
data["years"] = data.futime / 365.25  # follow-up in years, so rates are per 1,000 person-years
data = data[data.years > 0]  # 3 deaths on the day of sampling: no follow-up, mgrisk refuses

fit = fit_dose_response(
    data,
    exposure="creatinine",
    time="years",
    event="death",
    adjust="age + sex",
    knots=4,
    unit="mg/dL",
)
print(fit.summary())  # rows with missing creatinine or zero follow-up are dropped and counted
fig, ax = plt.subplots(figsize=(7, 4.6), layout="constrained")
plot_hr_curve(fit, ax, ref="nadir")
ax.set_xlabel("serum creatinine (mg/dL)")
(HERE / "out").mkdir(exist_ok=True)
fig.savefig(HERE / "out" / "flchain_creatinine.png", dpi=200)
print(f"\nwrote {HERE / 'out' / 'flchain_creatinine.png'}")
