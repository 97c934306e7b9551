"""Scenario files: shipped ones load; every bad key, type or range names the key and file."""

import numpy as np
import pytest

from mgrisk import load_scenario
from mgrisk.errors import InputError
from mgrisk.scenario import Effect, scenario_names

SHIPPED = ["aric", "copenhagen", "monotone", "null", "rotterdam"]


def test_shipped_scenarios_load():
    assert set(SHIPPED) <= set(scenario_names())
    for name in SHIPPED:
        s = load_scenario(name)
        assert s.name == name and s.source


BAD = [  # (text in rotterdam.toml, replacement, expected message)
    ("female_share = 0.566", "female_share = 1.5", r"'population.female_share' = 1.5 is outside"),
    ("female_share = 0.566", 'female_share = "half"', r"'population.female_share' must be a num"),
    (
        "female_share = 0.566",
        "female_share = 0.566\nfemale_sahre = 0.5",
        r"'population.female_sahre' is not a known key",
    ),
    ('shape = "quadratic"\nnadir', 'shape = "cubic"\nnadir', r"'effect.shape' = 'cubic'"),
    (
        'kind = "binary"\nprevalence = 0.15',
        'kind = "binary"\nprevalence = 1.15',
        r"'covariates\[1\].prevalence'",
    ),
    ("n = 9569", "n = 0", r"'population.n' must be a whole number"),
    (
        "[hazard]\ndementia_lambda",
        "[hazard]\nxdementia_lambda",
        r"'hazard.dementia_lambda' is missing",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD)
def test_bad_scenarios_name_key_and_file(tmp_path, old, new, message):
    text = (load_scenario.__globals__["_shipped_dir"]() / "rotterdam.toml").read_text()
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(InputError, match=message) as info:
        load_scenario(path)
    assert "bad.toml" in str(info.value)


def test_unknown_name_lists_shipped_and_bad_toml(tmp_path):
    with pytest.raises(InputError, match=r"scenario 'rotterdm' not found; shipped scenarios: \["):
        load_scenario("rotterdm")
    path = tmp_path / "broken.toml"
    path.write_text("name = ")
    with pytest.raises(InputError, match="not valid TOML"):
        load_scenario(path)


@pytest.mark.slow
def test_shipped_files_load_from_an_installed_wheel(tmp_path):
    """Scenarios and models are inside the wheel (mgrisk/_shipped), not only in the repository."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).parents[1]
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(tmp_path / "whl"),
            str(root),
        ],
        capture_output=True,
        text=True,
    )
    if built.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {built.stderr[-200:]}")
    wheel = next((tmp_path / "whl").glob("mgrisk-*.whl"))
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    code = (
        "import mgrisk; from mgrisk.models import load_model; "
        "s = mgrisk.load_scenario('rotterdam'); m = load_model('rotterdam_mg_dementia'); "
        "print(mgrisk.__file__, s.path, m.exposure)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(target), "PATH": ""},
    ).stdout
    assert str(target) in out.split()[0] and "_shipped/synthetic/rotterdam.toml" in out


@pytest.mark.parametrize(
    "effect, closed_form",
    [
        (
            Effect("quadratic", nadir=0.85, curvature_low=30.0, curvature_high=20.0),
            lambda x: np.where(x < 0.85, 30.0, 20.0) * (x - 0.85) ** 2,
        ),
        (  # straight beyond the widths: value and slope continuous there
            Effect(
                "quadratic",
                nadir=0.85,
                curvature_low=30.0,
                curvature_high=20.0,
                width_low=0.1,
                width_high=0.05,
            ),
            lambda x: np.select(
                [x < 0.75, x < 0.85, x <= 0.9],
                [0.3 - 6.0 * (x - 0.75), 30.0 * (x - 0.85) ** 2, 20.0 * (x - 0.85) ** 2],
                0.05 + 2.0 * (x - 0.9),
            ),
        ),
        (
            Effect("hinge", nadir=0.8, slope_low=-3.0, slope_high=2.0),
            lambda x: np.where(x < 0.8, -3.0, 2.0) * (x - 0.8),
        ),
        (Effect("linear", slope=2.0, reference=0.84), lambda x: 2.0 * (x - 0.84)),
        (
            Effect("points", x=(0.6, 0.8, 0.9, 1.1), log_hr=(0.5, 0.0, 0.1, 0.3)),
            lambda x: np.interp(x, [0.6, 0.8, 0.9, 1.1], [0.5, 0.0, 0.1, 0.3]),
        ),
        (Effect("flat"), np.zeros_like),
    ],
)
def test_effect_pieces_give_the_documented_curves(effect, closed_form):
    x = np.concatenate([np.linspace(0.3, 1.4, 2001), [0.6, 0.75, 0.8, 0.85, 0.9, 1.1]])
    np.testing.assert_allclose(effect(x), closed_form(x), rtol=1e-12, atol=1e-14)
