"""Uncertainty runs (docs/models.md, Uncertainty): zero-width distributions give the engage result exactly, a
uniform interceptor speed gives the share of its range above the threshold speed, a margin that only one input
can change gives that input a total Sobol index near 1, and the numbers do not depend on the workers."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from shieldlab.api import engage, load_scenario, uncertainty
from shieldlab.scenario.model import UncertaintySpec, VarySpec
from shieldlab.uncertainty import sampling, stats

ROOT = Path(__file__).resolve().parent.parent
KOZELSK = ROOT / "examples" / "kozelsk-washington.toml"

BISECTION_TOL_M_S = 0.5  # the threshold speed is bisected to this; its effect on the share is < 0.001
SIGMAS = 3.0  # a binomial share is within 3 standard deviations of its probability (99.7 %)


@pytest.fixture(scope="module")
def kozelsk():
    return load_scenario(KOZELSK)


def _with(sc, *vary, samples=20, seed=3, sensitivity_samples=0):
    return replace(sc, uncertainty=UncertaintySpec(tuple(vary), samples=samples, seed=seed,
                                                   sensitivity_samples=sensitivity_samples))


def test_zero_width_distributions_reproduce_engage_exactly(kozelsk):
    """Every kind of distribution, of zero width at the scenario's own value, gives every sample exactly the
    engage result (docs/models.md, Uncertainty: 'a distribution of zero width gives exactly the deterministic
    result')."""
    sc = kozelsk
    b = sc.batteries[0]
    it = sc.interceptors[b.interceptor]
    fyl = next(s for s in sc.sensors if s.name == "fylingdales")
    vary = (
        VarySpec("interceptors.x.burnout_speed", ("interceptors", b.interceptor, "burnout_speed_m_s"), "normal",
                 (it.burnout_speed_m_s, 0.0), low=0.0, high=11000.0),
        VarySpec("batteries.x.launch_delay", ("batteries", b.name, "launch_delay_s"), "uniform",
                 (b.launch_delay_s, b.launch_delay_s)),
        VarySpec("sensors.fylingdales.max_range", ("sensors", "fylingdales", "max_range_m"), "triangular",
                 (fyl.max_range_m,) * 3),
        VarySpec("batteries.x.cue", ("batteries", b.name, "cue"), "choice", choices=(b.cue,), weights=(1.0,)),
        VarySpec("missiles.icbm-solid.burnout_speed", ("missiles", "icbm-solid", "burnout_speed_m_s"), "uniform",
                 (sc.missiles["icbm-solid"].burnout_speed_m_s,) * 2),
    )
    res = uncertainty(_with(sc, *vary, samples=12))
    ref = engage(sc).engagements
    out = res.outcome
    for s in range(res.samples):
        np.testing.assert_array_equal(out.feasible[s], ref.feasible)
        np.testing.assert_array_equal(out.reason_code[s], ref.reason_code)
        for got, want in ((out.margin_s, ref.margin_s), (out.latest_launch_s, ref.latest_launch_s),
                          (out.earliest_launch_s, ref.earliest_launch_s), (out.first_intercept_s, ref.first.time_s)):
            np.testing.assert_array_equal(got[s], want)


def _speed_case(sc):
    """One threat (Kozelsk -> Washington), one SM-3 IIB battery in Poland, launch-cued with a 100 s delay and
    energy management (so that a faster interceptor never does worse: feasibility is monotone in speed)."""
    b = replace(sc.batteries[0], launch_delay_s=100.0, cue="launch")
    it = replace(sc.interceptors[b.interceptor], energy_management=True)
    return replace(sc, batteries=(b,), threats=sc.threats[:1], interceptors={**sc.interceptors, b.interceptor: it})


def _feasible_at(sc, speed_m_s: float) -> bool:
    b = sc.batteries[0]
    it = replace(sc.interceptors[b.interceptor], burnout_speed_m_s=speed_m_s)
    return bool(engage(replace(sc, interceptors={**sc.interceptors, b.interceptor: it})).engagements.feasible[0, 0])


def test_uniform_speed_gives_the_share_above_the_threshold_speed(kozelsk):
    """P(intercept) under a uniform burnout speed on [lo, hi] equals (hi - v*) / (hi - lo), v* the least speed
    that intercepts (found by bisection on `engage`), within SIGMAS binomial standard deviations."""
    sc = _speed_case(kozelsk)
    lo, hi = 3500.0, 6000.0
    assert not _feasible_at(sc, lo) and _feasible_at(sc, hi)  # the threshold lies inside the range
    a, b = lo, hi
    while b - a > BISECTION_TOL_M_S:
        mid = 0.5 * (a + b)
        a, b = (a, mid) if _feasible_at(sc, mid) else (mid, b)
    share = (hi - b) / (hi - lo)
    n = 200
    bat = sc.batteries[0]
    vary = VarySpec("interceptors.sm3-iib.burnout_speed", ("interceptors", bat.interceptor, "burnout_speed_m_s"),
                    "uniform", (lo, hi), low=0.0, high=11000.0, unit="km/s")
    res = uncertainty(_with(sc, vary, samples=n, seed=7))
    p = res.probability[0][0, 0]
    assert abs(p - share) <= SIGMAS * stats.binomial_sd(share, n), (p, share, b)
    # and sample by sample: feasible exactly when the drawn speed is above the threshold (bisection bracket)
    v = np.asarray(res.values[0], float)
    decided = (v < a) | (v > b)
    np.testing.assert_array_equal(res.outcome.feasible[decided, 0, 0], v[decided] > b)


def test_only_input_that_can_matter_has_total_index_near_one(kozelsk):
    """The margin of a launch-cued battery is L - (launch time + delay): only its delay can change it. A
    sensor's range (the battery is launch-cued) and an interceptor type no battery of this scenario uses cannot.
    So the delay's total index is ~1 and the others' ~0 (SALib's estimators, Saltelli N = 256)."""
    sc = _speed_case(kozelsk)
    b = sc.batteries[0]
    vary = (
        VarySpec("batteries.x.launch_delay", ("batteries", b.name, "launch_delay_s"), "uniform", (0.0, 300.0),
                 unit="s"),
        VarySpec("sensors.thule.max_range", ("sensors", "thule", "max_range_m"), "uniform", (3000e3, 5555e3),
                 unit="km"),
        VarySpec("interceptors.sm3-iia.burnout_speed", ("interceptors", "sm3-iia", "burnout_speed_m_s"), "normal",
                 (4500.0, 300.0), low=0.0, high=11000.0, unit="km/s"),
    )
    res = uncertainty(_with(sc, *vary, samples=16, sensitivity_samples=256))
    st, s1 = res.sensitivity["ST"][0, 0], res.sensitivity["S1"][0, 0]
    assert st[0] == pytest.approx(1.0, abs=0.05) and s1[0] == pytest.approx(1.0, abs=0.05)
    assert abs(st[1]) < 0.01 and abs(st[2]) < 0.01
    assert res.ranking(0, 0)[0] == 0
    assert res.to_document()["threats"][0]["batteries"][0]["deciding"] == "batteries.x.launch_delay"


def test_same_seed_same_numbers_with_one_and_two_workers(kozelsk):
    """The draws come from the seed alone and the tasks are fixed blocks of samples: one worker and two give
    identical numbers (and another seed gives others)."""
    sc = kozelsk
    b = sc.batteries[0]
    vary = (VarySpec("batteries.x.launch_delay", ("batteries", b.name, "launch_delay_s"), "uniform", (0.0, 200.0)),
            VarySpec("sensors.fylingdales.max_range", ("sensors", "fylingdales", "max_range_m"), "triangular",
                     (3000e3, 4000e3, 4820e3)))
    spec = _with(sc, *vary, samples=300, seed=11, sensitivity_samples=64)  # 300 + 256: three sample blocks
    one = uncertainty(spec, workers=1)
    two = uncertainty(spec, workers=2)
    assert one.to_document() == two.to_document()
    for f in ("feasible", "reason_code", "margin_s", "first_intercept_s"):
        np.testing.assert_array_equal(getattr(one.outcome, f), getattr(two.outcome, f))
    np.testing.assert_array_equal(one.sobol_margin_s, two.sobol_margin_s)
    other = uncertainty(replace(spec, uncertainty=replace(spec.uncertainty, seed=12)))
    assert not np.array_equal(other.values[0], one.values[0])


# ---- sampling and statistics ------------------------------------------------------------------------------------
def test_inverse_cdfs_and_choice_weights():
    u = np.linspace(0.0, 1.0, 10001)[1:-1]
    tri = VarySpec("k", ("x",), "triangular", (1.0, 2.0, 5.0))
    x = sampling.values(tri, u)
    # closed form of the triangular inverse CDF (e.g. Johnson, Kotz & Balakrishnan, Continuous Univariate
    # Distributions 2, ch. 26): below the mode's share c = (m - a)/(b - a), a + sqrt(u (b - a)(m - a))
    c = 0.25
    want = np.where(u < c, 1.0 + np.sqrt(u * 4.0 * 1.0), 5.0 - np.sqrt((1 - u) * 4.0 * 3.0))
    np.testing.assert_allclose(x, want, rtol=1e-12)
    nrm = VarySpec("k", ("x",), "normal", (100.0, 80.0), low=0.0, high=math.inf, truncated=True)
    y = sampling.values(nrm, u)
    assert y.min() >= 0.0 and np.all(np.diff(y) >= 0)
    # truncated at 0: the median moves up from 100 to the truncated normal's median (scipy.stats.truncnorm)
    from scipy.stats import truncnorm
    assert np.median(y) == pytest.approx(truncnorm.median(-1.25, np.inf, loc=100, scale=80), rel=1e-3)
    ch = VarySpec("k", ("x",), "choice", choices=("a", "b", "c"), weights=(0.5, 0.0, 0.5))
    z = sampling.values(ch, sampling.unit_draws(1, 4000, 5)[:, 0])
    assert set(z) == {"a", "c"}
    assert abs(np.mean(z == "a") - 0.5) < SIGMAS * stats.binomial_sd(0.5, 4000)


def test_wilson_interval_known_values():
    """Wilson score intervals at 95 % (Brown, Cai & DasGupta 2001, Table values; Newcombe 1998, Stat. Med. 17,
    857, Table I: 0/10 -> 0 to 0.2775, 5/10 -> 0.2366 to 0.7634)."""
    p, lo, hi = stats.wilson(np.array([0, 5]), np.array([10, 10]))
    np.testing.assert_allclose(lo, [0.0, 0.2366], atol=5e-5)
    np.testing.assert_allclose(hi, [0.2775, 0.7634], atol=5e-5)


def test_sobol_indices_of_refinement_noise_are_null():
    """A margin that varies by no more than the latest launch's refinement noise (stats.MARGIN_RESOLUTION_S) has
    no deciding input; one that varies by seconds with one input has that input's total index near 1."""
    vary = (VarySpec("a", ("x",), "uniform", (0.0, 1.0)), VarySpec("b", ("y",), "uniform", (0.0, 1.0)))
    from shieldlab.uncertainty.sampling import sobol_problem

    u = sampling.saltelli_draws(vary, 64, seed=1)
    noise = 0.02 * (u[:, 1] - 0.5)  # +-0.01 s: the refinement's size
    assert stats.sobol_indices(sobol_problem(vary), 12.0 + noise, seed=1) is None
    r = stats.sobol_indices(sobol_problem(vary), 12.0 + 30.0 * u[:, 0] + noise, seed=1)
    assert r["ST"][0] == pytest.approx(1.0, abs=0.05) and r["ST"][1] < 0.05


def test_saltelli_base_is_a_power_of_two():
    vary = (VarySpec("a", ("x",), "uniform", (0.0, 1.0)), VarySpec("b", ("y",), "uniform", (0.0, 1.0)))
    u = sampling.saltelli_draws(vary, 100, seed=1)  # rounded up to 128
    assert u.shape == (128 * 4, 2)


# ---- the command line ---------------------------------------------------------------------------------------------
SMALL = KOZELSK.read_text(encoding="utf-8") + '''
[uncertainty]
samples = 40
seed = 2
sensitivity_samples = 16
vary = [
  { key = "batteries.poland-iib.launch_delay", uniform = ["0 s", "240 s"] },
  { key = "sensors.fylingdales.max_range", triangular = ["3000 km", "4000 km", "4820 km"] },
  { key = "batteries.poland-iib.cue", choice = ["track", "launch"], weights = [0.5, 0.5] },
]
'''


def test_cli_json_document_and_table(toml_file, shieldlab_cli):
    path = toml_file(SMALL)
    r = shieldlab_cli("uncertainty", path, "--json")
    assert r.returncode == 0, r.stderr
    import json

    doc = json.loads(r.stdout)
    assert doc["samples"] == 40 and doc["seed"] == 2 and doc["sensitivity_samples"] == 16
    assert [v["key"] for v in doc["vary"]] == ["batteries.poland-iib.launch_delay", "sensors.fylingdales.max_range",
                                               "batteries.poland-iib.cue"]
    assert doc["vary"][0]["parameters"] == [0.0, 240.0] and doc["vary"][0]["unit"] == "s"
    b = doc["threats"][0]["batteries"][0]
    lo, hi = b["probability_interval"]
    assert lo <= b["probability"] <= hi and b["intercepts"] == round(b["probability"] * b["samples"])
    assert "NaN" not in r.stdout and "Infinity" not in r.stdout
    # the same as the Python API, sample for sample
    res = uncertainty(load_scenario(path))
    assert res.to_document() == doc
    t = shieldlab_cli("uncertainty", path, columns="200")
    assert t.returncode == 0, t.stderr
    assert "poland-iib" in t.stdout and "P(intercept)" in t.stdout and "deciding" in t.stdout


def test_cli_netcdf_round_trip(toml_file, shieldlab_cli, tmp_path):
    import xarray as xr

    path = toml_file(SMALL)
    out = tmp_path / "u.nc"
    r = shieldlab_cli("uncertainty", path, "--out", out)
    assert r.returncode == 0, r.stderr
    with xr.open_dataset(out) as ds:
        res = uncertainty(load_scenario(path))
        np.testing.assert_array_equal(ds["probability"].transpose("threat", "battery").values, res.probability[0])
        np.testing.assert_array_equal(ds["feasible"].transpose("sample", "threat", "battery").values,
                                      res.outcome.feasible.astype(np.int8))
        assert ds.sizes["sample"] == 40 and list(ds["input"].values) == [v.key for v in res.vary]


@pytest.mark.parametrize("args, text, words", [
    ((), "", ["[uncertainty] table"]),  # a file without [uncertainty]
    (("--out", "map.png"), SMALL, ["probability map needs a run over a [coverage]"]),
    (("--out", "x.csv"), SMALL, ["unknown output format"]),
    (("--workers", "0"), SMALL, ["--workers must be at least 1"]),
    ((), SMALL.replace("samples = 40", "samples = 1000000"), ["--workers", "fewer samples"]),
])
def test_cli_bad_input_exit_2(toml_file, shieldlab_cli, tmp_path, args, text, words):
    path = toml_file(text or KOZELSK.read_text(encoding="utf-8"))
    args = tuple(str(tmp_path / a) if a.endswith((".png", ".csv")) else a for a in args)
    r = shieldlab_cli("uncertainty", path, *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""
    for w in words:
        assert w in r.stderr
    assert not list(tmp_path.glob("*.png")) and not list(tmp_path.glob("*.csv"))


def test_zero_width_coverage_run_reproduces_coverage(kozelsk):
    """A run over a [coverage] (no [[threats]]) with zero-width distributions gives every sample the coverage
    run's records."""
    from shieldlab.api import coverage

    sc = load_scenario(ROOT / "benchmarks" / "bench.toml")
    grid = replace(sc.coverage.aim, lat_min_deg=36.0, lat_max_deg=39.0, lon_min_deg=-80.0, lon_max_deg=-76.0,
                   step_deg=1.0)
    sc = replace(sc, coverage=replace(sc.coverage, launch=sc.coverage.launch[:1], aim=grid), threats=())
    b = sc.batteries[0]
    vary = VarySpec("batteries.x.launch_delay", ("batteries", b.name, "launch_delay_s"), "uniform",
                    (b.launch_delay_s, b.launch_delay_s))
    res = uncertainty(_with(sc, vary, samples=3))
    ref = coverage(sc).engagements
    assert res.pairs is not None and len(res.names) == ref.feasible.shape[0]
    for s in range(3):
        np.testing.assert_array_equal(res.outcome.feasible[s], ref.feasible)
        np.testing.assert_array_equal(res.outcome.margin_s[s], ref.margin_s)
        np.testing.assert_array_equal(res.outcome.first_intercept_s[s], ref.first.time_s)


def test_dask_cluster_gives_the_serial_numbers(kozelsk):
    """On a dask cluster (a LocalCluster of two processes) the run gives the serial run's numbers, and reports its
    progress in evaluations."""
    distributed = pytest.importorskip("distributed")
    b = kozelsk.batteries[0]
    vary = (VarySpec("batteries.x.launch_delay", ("batteries", b.name, "launch_delay_s"), "uniform", (0.0, 200.0)),)
    spec = _with(kozelsk, *vary, samples=260, seed=4, sensitivity_samples=0)  # two sample blocks
    serial = uncertainty(spec)
    seen = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        res = uncertainty(spec, scheduler=cluster.scheduler_address, progress=lambda d, n: seen.append((d, n)))
    assert res.to_document() == serial.to_document()
    np.testing.assert_array_equal(res.outcome.margin_s, serial.outcome.margin_s)
    assert seen[-1] == (260 * 3, 260 * 3) and len(seen) == 2
