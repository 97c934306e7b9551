"""The child process of a first demo compiles the very kernels (and signatures) a fit calls."""

import subprocess
import sys

import pytest

from mgrisk.cox import _kernels


@pytest.mark.parametrize("rows", [500, _kernels.PARALLEL_ROWS])
def test_warmup_compiles_the_signatures_a_fit_uses(rows):
    code = (
        "import numpy as np; from mgrisk.cox import fit_cox, _warmup; "
        f"_warmup._compile({rows}); "
        f"rng = np.random.default_rng(1); n = {rows}; X = rng.normal(size=(n, 3)); "
        "entry = rng.uniform(50, 60, n); exit_ = entry + rng.exponential(5, n); "
        "fit_cox(X, exit_, (rng.random(n) < 0.5).astype(float), entry=entry); "
        f"print([len(k.signatures) for k in _warmup._builds({rows})])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[1, 1, 1, 1, 1]"  # a second signature: the fit compiled anew


def test_no_child_when_the_kernels_are_cached(monkeypatch):
    from mgrisk.cox import _warmup

    _warmup._compile(500)  # in this process: the cache index files exist from here on
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: pytest.fail("started a child"))
    _warmup.start(500)
    assert _warmup._child is None
