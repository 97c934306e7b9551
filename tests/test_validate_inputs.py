"""Simulation studies on bad settings: one clear error, quickly."""

import time

import pytest

from mgrisk import simulation_study
from mgrisk.errors import InputError
from mgrisk.validate import MIN_STUDY_N


def test_too_few_people_names_the_minimum():
    with pytest.raises(
        InputError, match=rf"n=10 people per replicate is too few .* n >= {MIN_STUDY_N}"
    ):
        simulation_study("rotterdam", reps=2, n=10, progress=False)


def test_a_study_whose_every_replicate_fails_says_so(tmp_path):
    from mgrisk.scenario import _shipped_dir

    source = (_shipped_dir() / "rotterdam.toml").read_text()
    path = tmp_path / "rare.toml"
    path.write_text(source.replace("dementia_lambda = 4.26958e-08", "dementia_lambda = 1e-30"))
    with pytest.raises(InputError, match=r"all 2 replicates failed \(first: .*\); with n=600"):
        simulation_study(path, reps=2, n=600, jobs=1, progress=False)


def test_an_unreachable_scheduler_is_one_line_within_ten_seconds():
    pytest.importorskip("distributed")
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"scheduler 'tcp://127.0.0.1:1': no dask scheduler"):
        simulation_study(
            "rotterdam",
            reps=2,
            n=600,
            backend="dask",
            scheduler="tcp://127.0.0.1:1",
            progress=False,
        )
    assert time.perf_counter() - start < 10
