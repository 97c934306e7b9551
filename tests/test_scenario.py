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
    ("sd = 0.065", "sd = 0", r"'exposure.sd' = 0 must be above 0: give a positive value"),
    ("age_sd = 9.8", "age_sd = -1.0", r"'population.age_sd' = -1 must be above 0"),
    ("sd = 17.0", "sd = 0.0", r"'covariates\[0\].sd' = 0 must be above 0"),
    ("n = 9569", "n = -5", r"'population.n' must be a whole number in \[1, "),
    ("n = 9569", "n = 9569.5", r"'population.n' must be a whole number"),
    ("nadir = 0.85\nwidth", "nadir = 5.0\nwidth", r"'effect.nadir' = 5 is outside the exposure"),
    ("nadir = 0.85\ncurvature", "nadir = 0.2\ncurvature", r"'effect_death.nadir' = 0.2 is outside"),
    ("mean = 0.84", "mean = 5.0", r"'exposure.mean' = 5 is outside \[exposure\] min and max"),
    ("mean = 0.84", "mean = inf", r"'exposure.mean' must be a finite number, got inf"),
    ("mean = 0.84", "mean = nan", r"'exposure.mean' must be a finite number, got nan"),
    ("min = 0.5", "min = 2.0", r"'exposure.min' = 2 must be below max = 1.2"),
    ("age_max = 100.0", "age_max = 50.0", r"'population.age_mean' = 64.33.* is outside"),
    ("dementia_lambda = 4.26958e-08", "dementia_lambda = 0", r"'hazard.dementia_lambda' = 0 must"),
    (
        "dementia_lambda = 4.26958e-08",
        "dementia_lambda = 1e300",
        r"dementia_lambda' = 1e\+300 must be at most 1",
    ),
    ("dementia_alpha = 0.16", "dementia_alpha = -1", r"'hazard.dementia_alpha' = -1.0 is outside"),
    ("follow_up_max = 16.113", "follow_up_max = 0.0", r"'censoring.follow_up_max' = 0 must be"),
    ("follow_up_min = 3.0", "follow_up_min = 30.0", r"'censoring.follow_up_min' = 30 exceeds"),
    ("curvature_low = 34.4538", "curvature_low = 1e300", r"log HR of .* keep \|log HR\| <= 20"),
    ('name = "mg"', 'name = "serum mg"', r"'exposure.name' = 'serum mg' is not a valid column"),
    ('name = "mg"', 'name = "exit"', r"'exposure.name' = 'exit' is a column the simulator writes"),
    ('name = "egfr"', 'name = "diuretics"', r"the name 'diuretics' is used twice"),
    ('name = "egfr"', "name = 5", r"'covariates\[0\].name' must be text, got 5"),
    ("width = 0.06", 'width = "wide"', r"'effect.width' must be a number, got 'wide'"),
    (
        'shape = "quadratic"\nnadir = 0.85\nwidth = 0.06',
        'shape = "points"\nx = [0.7, "a"]\nlog_hr = [0, 1]\nnadir = 0.85\nwidth = 0.06',
        r"'effect.x' must be a list of numbers, got 'a' in it",
    ),
    ("[population]", "[population]\nsize = 3", r"'population.size' is not a known key"),
    ("[[covariates]]", "[covariates]", r"not valid TOML .* a truncated or mistyped file"),
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


@pytest.mark.parametrize("cut", [0.25, 0.5, 0.75, 0.9])
def test_truncated_files_are_one_line(tmp_path, cut):
    text = (load_scenario.__globals__["_shipped_dir"]() / "rotterdam.toml").read_text()
    path = tmp_path / "cut.toml"
    path.write_text(text[: int(len(text) * cut)])
    with pytest.raises(InputError, match=r"cut.toml: (not valid TOML|key '.*' is missing)"):
        load_scenario(path)


def test_not_utf8_a_folder_and_code_are_refused(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes(b'name = "K\xf6ln"\n')
    with pytest.raises(InputError, match=r"latin.toml: is not UTF-8 text; save it as UTF-8"):
        load_scenario(path)
    (tmp_path / "dir.toml").mkdir()
    with pytest.raises(InputError, match=r"dir.toml: is a folder; give a .toml file"):
        load_scenario(tmp_path / "dir.toml")
    code = tmp_path / "code.toml"  # data, never run: an expression is a TOML syntax error
    code.write_text('name = __import__("os").system("touch pwned")\n')
    with pytest.raises(InputError, match=r"not valid TOML"):
        load_scenario(code)
    assert not (tmp_path / "pwned").exists()


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
