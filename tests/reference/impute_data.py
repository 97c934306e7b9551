"""Write the completed data sets that tests/reference/impute.R pools with mice.

Run from the repository root: python tests/reference/impute_data.py -> data/impute_completed.csv
(m = 5 completed versions of a 600-person age-scale cohort: 30 % of mg and 15 % of egfr filled
by crude random draws; the pooling, not the imputation, is under test).
"""

import numpy as np

from mgrisk import simulate_cohort

cohort = simulate_cohort("rotterdam", n=600, seed=19)[
    ["entry", "exit", "event", "mg", "female", "egfr"]
].round(6)
rng = np.random.default_rng(19)
miss_mg = rng.random(len(cohort)) < 0.3
miss_egfr = rng.random(len(cohort)) < 0.15
frames = []
for i in range(1, 6):
    d = cohort.copy()
    d.loc[miss_mg, "mg"] = rng.choice(cohort.mg[~miss_mg], miss_mg.sum()).round(6)
    d.loc[miss_egfr, "egfr"] = rng.choice(cohort.egfr[~miss_egfr], miss_egfr.sum()).round(6)
    d.insert(0, ".imp", i)
    frames.append(d)
import pandas as pd  # noqa: E402

pd.concat(frames).to_csv("tests/reference/data/impute_completed.csv", index=False)
