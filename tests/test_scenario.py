"""Scenario files: shipped ones load; every bad key, type or range names the key and file."""

import pytest

from mgrisk import load_scenario
from mgrisk.errors import InputError
from mgrisk.scenario import scenario_names

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
