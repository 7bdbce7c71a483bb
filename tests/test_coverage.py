"""Coverage (`shieldlab coverage`, shieldlab.api.coverage): per-pair figures, order, Dataset, files, parallel runs
and the command line.

Two tiny scenarios keep it fast: an IRBM from two launch points in Iran against a 3 x 3 aim grid over Europe
(18 pairs: some feasible for both batteries, some for one, some aim points out of the missile's reach), and one
launch point against a list of 4 places (two at the same latitude, to check the longitude tie-break).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scenarios import FAST, at, battery, header, interceptor, missile, places, radar, table

from shieldlab import __version__
from shieldlab import constants as C
from shieldlab.api import (CoverageResult, Point, Reason, ScenarioError, ThreatSpec, coverage, engage, load_scenario,
                           load_scenario_text)
from shieldlab.coverage.dataset import flat
from shieldlab.coverage.pairs import pair_names
from shieldlab.output import files

# validation tolerances (docs/models.md, Validation vectors)
TIME_TOL_S = 1.0
FIRST_INTERCEPT_TOL_S = 3.0

# the engagement-europe radar and battery sites (tests/scenarios.py), a slower IRBM, a slow interceptor
HEAD = (places("semnan", "tabriz", "deveselu", "redzikowo", "kurecik", "athens", "izmir")
        + missile("irbm", burnout_speed="4.6 km/s") + FAST + interceptor("slow", "40 s", "2.5 km/s", "80 km", "600 km")
        + radar("kurecik", "kurecik", "1800 km", "1 deg", azimuth={"center": "90 deg", "half_width": "60 deg"})
        + battery("romania", "deveselu", "fast") + battery("poland", "redzikowo", "slow", "30 s", cue="launch"))

GRID = header("tiny grid coverage") + HEAD + table(
    "coverage", missile="irbm", trajectory="lofted", from_=["tabriz", "semnan"],
    to={"lat": [36, 52], "lon": [14, 30], "step": "8 deg"})

PLACES = header("tiny places coverage") + HEAD + table(
    "coverage", missile="irbm", from_="tabriz", to=["izmir", at(48.0, 20.0), "athens", at(48.0, 16.0)])


@pytest.fixture(scope="module")
def scen_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("scen")
    (d / "grid.toml").write_text(GRID)
    (d / "places.toml").write_text(PLACES)
    (d / "nocov.toml").write_text(header("no coverage") + HEAD)
    return d


@pytest.fixture(scope="module")
def grid_sc(scen_dir):
    return load_scenario(scen_dir / "grid.toml")


@pytest.fixture(scope="module")
def grid_res(grid_sc):
    return coverage(grid_sc, chunk_size=5)


@pytest.fixture(scope="module")
def grid_ds(grid_res):
    return grid_res.to_dataset()


@pytest.fixture(scope="module")
def places_res(scen_dir):
    return coverage(load_scenario(scen_dir / "places.toml"))


def _arrays(res) -> dict:
    """Every array of a result's parts, by part and field name (for exact comparisons)."""
    out = {}
    for part in ("flights", "detections", "engagements"):
        obj = getattr(res, part)
        for f in dataclasses.fields(obj):
            v = getattr(obj, f.name)
            if isinstance(v, np.ndarray):
                out[f"{part}.{f.name}"] = v
            else:
                out.update({f"{part}.{f.name}.{g.name}": getattr(v, g.name) for g in dataclasses.fields(v)})
    return out


def assert_same_results(a: CoverageResult, b: CoverageResult):
    assert np.array_equal(a.pairs, b.pairs)
    a, b = _arrays(a), _arrays(b)
    assert a.keys() == b.keys() and len(a) == 25 + 3 + 5 + 2 * 8  # flights, detections, engagements
    for k in a:
        x, y = a[k], b[k]
        assert x.shape == y.shape and x.dtype == y.dtype, k
        if x.dtype == object:
            assert list(x) == list(y), k
        else:
            assert np.array_equal(x, y, equal_nan=True), k


# ------------------------------------------------------------------------------------------------ (a) vs engage
def test_the_scenario_has_every_kind_of_outcome(grid_res):
    err = ~grid_res.flights.valid
    assert err.any() and not err.all()
    feas = grid_res.engagements.feasible[~err]
    assert feas.all(axis=1).any()  # both batteries
    assert (feas.any(axis=1) & ~feas.all(axis=1)).any()  # one of them
    assert (grid_res.engagements.reason_code[~err] != Reason.OK.code).any()


def _sample(res):
    """A pair feasible for both batteries, one feasible for one only, one that cannot be computed."""
    err = np.array([e is not None for e in res.flights.error])
    f = res.engagements.feasible
    return [int(np.flatnonzero(~err & f.all(axis=1))[0]), int(np.flatnonzero(~err & (f.sum(axis=1) == 1))[0]),
            int(np.flatnonzero(err)[0])]


def check_against_engage(sc, res):
    """Every sampled pair of a coverage result against `engage` of that pair alone (a [[threats]] entry)."""
    cov, lay = sc.coverage, res.layout
    fl, det, eng = res.flights, res.detections, res.engagements
    names = pair_names(sc, lay)
    for k in _sample(res):
        li, ai = (int(v) for v in lay.pair(k))
        threat = ThreatSpec(name=names[k], missile=cov.missile, launch=lay.launch[li],
                            aim=Point(float(lay.aim_lat_deg[ai]), float(lay.aim_lon_deg[ai])),
                            trajectory=cov.trajectory, launch_time_s=cov.launch_time_s)
        sc1 = dataclasses.replace(sc, threats=(threat,), coverage=None)
        one = engage(sc1)
        assert (one.flights.error[0] is None) == (fl.error[k] is None), names[k]
        if fl.error[k] is not None:
            assert not eng.feasible[k].any() and (eng.reason_code[k] == -1).all()
            assert [eng.reason(k, j) for j in range(2)] == [None, None]
            continue
        for f in ("burnout_time_s", "apogee_time_s", "impact_time_s"):
            assert abs(getattr(one.flights, f)[0] - getattr(fl, f)[k]) <= TIME_TOL_S, (names[k], f)
        assert abs(one.track_time_s[0] - det.track_time_s[k]) <= TIME_TOL_S, names[k]
        assert np.allclose(one.detections_s[0], det.time_s[k], atol=TIME_TOL_S, equal_nan=True)
        assert abs(one.flights.impact_lat_deg[0] - fl.impact_lat_deg[k]) < 0.01
        assert abs(one.flights.apogee_altitude_m[0] - fl.apogee_altitude_m[k]) < 1000.0
        assert np.array_equal(one.engagements.feasible[0], eng.feasible[k]), names[k]
        assert np.array_equal(one.engagements.reason_code[0], eng.reason_code[k]), names[k]
        ok = eng.feasible[k]
        assert np.all(np.abs(one.engagements.first.time_s[0][ok] - eng.first.time_s[k][ok]) <= FIRST_INTERCEPT_TOL_S)
        assert np.all(np.abs(one.engagements.earliest_launch_s[0] - eng.earliest_launch_s[k]) <= TIME_TOL_S)


def test_per_pair_figures_equal_engage_for_that_pair_alone(grid_sc, grid_res):
    check_against_engage(grid_sc, grid_res)


def test_per_pair_figures_equal_engage_on_the_flyout_table_path(grid_sc, monkeypatch):
    """Big coverages scan with precomputed flyout tables (coverage/run.py): force that path on the tiny one."""
    import shieldlab.coverage.run as run_module

    if not hasattr(run_module, "TABLE_MIN_PAIRS"):
        pytest.skip("this version of coverage.run has no flyout-table path")
    monkeypatch.setattr(run_module, "TABLE_MIN_PAIRS", 0)
    check_against_engage(grid_sc, coverage(grid_sc, chunk_size=7))


def test_json_pair_records_are_engage_threat_records(grid_sc, grid_res):
    doc = grid_res.to_document()
    assert set(doc) == {"shieldlab_version", "scenario", "earth", "pairs"}
    assert doc["earth"] == {"model": "wgs84", "rotation": True, "j2": True}
    k = _sample(grid_res)[0]
    p = doc["pairs"][k]
    li, ai = (int(v) for v in grid_res.layout.pair(k))
    sc1 = dataclasses.replace(grid_sc, coverage=None, threats=(ThreatSpec(
        p["name"], "irbm", grid_res.layout.launch[li], Point(p["aim"]["lat_deg"], p["aim"]["lon_deg"]),
        grid_sc.coverage.trajectory),))
    t = engage(sc1).to_document()["threats"][0]
    assert set(p) == set(t) and p["name"] == t["name"]
    assert [e["battery"] for e in p["engagements"]] == ["romania", "poland"]
    assert [e["feasible"] for e in p["engagements"]] == [e["feasible"] for e in t["engagements"]]
    err = doc["pairs"][_sample(grid_res)[2]]
    assert err["error"] and err["burnout"] is None and all(not e["feasible"] for e in err["engagements"])


# ------------------------------------------------------------------------------------------------ (b) order
def test_grid_order_launch_points_in_file_order_then_lat_then_lon(grid_res, grid_sc):
    fl, n = grid_res.flights, grid_res.layout.n_pairs
    assert n == 18 and fl.launch_lat_deg.shape == (n,) and np.array_equal(grid_res.pairs, np.arange(n))
    # "tabriz" comes first in the file, "semnan" second
    assert np.allclose(fl.launch_lat_deg[:9], 38.08) and np.allclose(fl.launch_lat_deg[9:], 35.234)
    for half in (slice(0, 9), slice(9, 18)):
        keys = list(zip(fl.aim_lat_deg[half], fl.aim_lon_deg[half]))
        assert keys == sorted(keys) and len(set(keys)) == 9
    names = pair_names(grid_sc, grid_res.layout)
    assert names[0] == "tabriz -> 36.00,14.00" and names[1] == "tabriz -> 36.00,22.00"
    assert names[9] == "semnan -> 36.00,14.00" and names[-1] == "semnan -> 52.00,30.00"
    assert [p["name"] for p in grid_res.to_document()["pairs"]] == names == grid_res.names


def test_places_order_by_latitude_then_longitude(places_res):
    fl = places_res.flights
    assert list(zip(fl.aim_lat_deg, fl.aim_lon_deg)) == [
        (37.98, 23.73), (38.42, 27.14), (48.0, 16.0), (48.0, 20.0)]
    assert pair_names(places_res.scenario, places_res.layout) == [
        "tabriz -> athens", "tabriz -> izmir", "tabriz -> 48.00,16.00", "tabriz -> 48.00,20.00"]


# ------------------------------------------------------------------------------------------------ (c) dataset
PAIR_VARS = ("flight_time_s", "apogee_altitude_km", "track_time_s", "ground_range_km", "burnout_speed_km_s",
             "error")
BATTERY_VARS = ("feasible", "reason", "first_intercept_time_s", "first_intercept_altitude_km",
                "last_intercept_time_s", "earliest_launch_s", "latest_launch_s", "margin_s",
                "first_intercept_closing_speed_km_s", "first_intercept_crossing_angle_deg",
                "last_intercept_closing_speed_km_s", "last_intercept_crossing_angle_deg")


def test_grid_dataset_dims_vars_and_attrs(grid_ds, grid_res, scen_dir):
    ds = grid_ds
    assert dict(ds.sizes) == {"launch": 2, "lat": 3, "lon": 3, "battery": 2, "sensor": 1}
    assert list(ds["launch"].values) == ["tabriz", "semnan"]
    assert list(ds["battery"].values) == ["romania", "poland"]
    assert np.array_equal(ds["lat"].values, [36, 44, 52]) and np.array_equal(ds["lon"].values, [14, 22, 30])
    for v in PAIR_VARS:
        assert ds[v].dims == ("launch", "lat", "lon"), v
    for v in BATTERY_VARS:
        assert ds[v].dims == ("launch", "battery", "lat", "lon"), v
    assert ds["feasible"].dtype == bool and ds["reason"].dtype == np.int8
    r = ds["reason"].attrs
    assert list(r["flag_values"]) == [-1, 0, 1, 2, 3, 4]
    assert r["flag_meanings"].split() == ["error", "ok", "not-detected", "altitude", "out-of-reach", "timeline"]
    # values follow the results, reshaped
    fl, eng = grid_res.flights, grid_res.engagements
    assert np.array_equal(flat(ds, "feasible"), eng.feasible)
    assert np.array_equal(flat(ds, "reason"), eng.reason_code)
    assert np.allclose(flat(ds, "first_intercept_altitude_km"), eng.first.altitude_m * 1e-3, equal_nan=True)
    assert np.array_equal(flat(ds, "latest_launch_s"), eng.latest_launch_s, equal_nan=True)
    assert np.array_equal(flat(ds, "margin_s"), eng.margin_s, equal_nan=True)
    assert np.allclose(flat(ds, "last_intercept_closing_speed_km_s"), eng.last.closing_speed_m_s * 1e-3,
                       equal_nan=True)
    assert np.array_equal(flat(ds, "first_intercept_crossing_angle_deg"), eng.first.crossing_angle_deg, equal_nan=True)
    for v, unit in (("latest_launch_s", "s"), ("margin_s", "s"), ("first_intercept_closing_speed_km_s", "km s-1"),
                    ("last_intercept_crossing_angle_deg", "degree")):
        assert ds[v].attrs["units"] == unit and ds[v].attrs["long_name"], v
    assert np.allclose(flat(ds, "flight_time_s"), fl.impact_time_s - fl.launch_time_s, equal_nan=True)
    assert [str(e) for e in flat(ds, "error")] == ["" if e is None else e for e in fl.error]
    assert ds["error"].sel(launch="semnan").values.ravel().tolist().count("") < 9  # some errors ...
    assert np.isnan(ds["flight_time_s"].values[ds["error"].values != ""]).all()  # ... have no figures
    # ds.sel works as expected: tabriz -> (44, 22) is the pair 0*9 + 1*3 + 1
    assert bool(ds["feasible"].sel(launch="tabriz", battery="romania", lat=44, lon=22)) == eng.feasible[4, 0]
    a = ds.attrs
    assert a["scenario"] == "tiny grid coverage" and a["shieldlab_version"] == __version__
    assert a["missile"] == "irbm" and a["trajectory"] == "lofted" and a["n_pairs"] == 18
    assert (a["earth_model"], a["earth_rotation"], a["earth_j2"]) == ("wgs84", 1, 1)
    assert a["constant_GM_M3_S2"] == C.GM_M3_S2 and a["constant_J2"] == C.J2 and a["constant_WGS84_A_M"] == C.WGS84_A_M
    assert a["scenario_toml"] == GRID and a["scenario_file"] == os.fspath(scen_dir / "grid.toml")


def test_places_dataset_and_api_coverage(scen_dir):
    ds = coverage(load_scenario(scen_dir / "places.toml")).to_dataset()
    assert dict(ds.sizes) == {"launch": 1, "aim": 4, "battery": 2, "sensor": 1}
    assert list(ds["aim"].values) == ["athens", "izmir", "48.00,16.00", "48.00,20.00"]
    assert np.allclose(ds["aim_lat"].values, [37.98, 38.42, 48, 48])
    for v in PAIR_VARS:
        assert ds[v].dims == ("launch", "aim")
    for v in BATTERY_VARS:
        assert ds[v].dims == ("launch", "battery", "aim")
    # a scenario given as text: no file, no text attribute, still a Dataset
    ds2 = coverage(load_scenario_text(PLACES)).to_dataset()
    assert "scenario_toml" not in ds2.attrs and ds2.sizes["aim"] == 4


def test_api_exports():
    import shieldlab.api as api

    for name in ("coverage", "count_pairs", "choose_chunk_size", "write_output", "write_outputs", "CoverageResult",
                 "Reason"):
        assert name in api.__all__ and getattr(api, name)
    assert api.count_pairs(load_scenario_text(PLACES)) == 4


def test_api_coverage_without_a_coverage_table(scen_dir):
    with pytest.raises(ScenarioError, match=r"\[coverage\] table"):
        coverage(load_scenario(scen_dir / "nocov.toml"))


# ------------------------------------------------------------------------------------------------ (d) files
def test_netcdf_round_trip(grid_ds, tmp_path):
    p = tmp_path / "cov.nc"
    files.write(grid_ds, p)
    with xr.open_dataset(p) as back:
        back.load()
    assert dict(back.sizes) == dict(grid_ds.sizes)
    for v in grid_ds.data_vars:
        if grid_ds[v].dtype == object:
            assert back[v].values.tolist() == grid_ds[v].values.tolist(), v
        else:
            assert np.array_equal(back[v].values, grid_ds[v].values, equal_nan=True), v
            assert back[v].dtype == grid_ds[v].dtype, v
    assert list(back["battery"].values) == ["romania", "poland"]
    assert back["reason"].attrs["flag_meanings"] == grid_ds["reason"].attrs["flag_meanings"]
    assert back.attrs["scenario_toml"] == GRID and back.attrs["earth_rotation"] == 1
    assert sorted(os.listdir(tmp_path)) == ["cov.nc"]


def test_csv_one_row_per_pair(grid_ds, grid_res, tmp_path):
    p = tmp_path / "cov.csv"
    files.write(grid_ds, p)
    with open(p, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 18
    fl, eng = grid_res.flights, grid_res.engagements
    names = pair_names(grid_res.scenario, grid_res.layout)
    for k, row in enumerate(rows):
        assert f"{row['launch']} -> {row['aim']}" == names[k]
        assert float(row["aim lat deg"]) == fl.aim_lat_deg[k]
        for j, b in enumerate(("romania", "poland")):
            assert row[f"{b} feasible"] == ("true" if eng.feasible[k, j] else "false")
            reason = eng.reason(k, j)
            assert row[f"{b} reason"] == ("" if reason is None else reason.value)
            t = eng.first.time_s[k, j]
            assert (row[f"{b} first intercept s"] == "") == (not math.isfinite(t))
            if math.isfinite(t):
                assert abs(float(row[f"{b} first intercept s"]) - t) < 1e-3
            # the latest launch and margin (3 decimals), the geometry (km/s to 4, degrees to 3)
            for col, value, tol in (("latest launch s", eng.latest_launch_s[k, j], 1e-3),
                                    ("margin s", eng.margin_s[k, j], 1e-3),
                                    ("first intercept closing km/s", eng.first.closing_speed_m_s[k, j] * 1e-3, 1e-4),
                                    ("last intercept crossing deg", eng.last.crossing_angle_deg[k, j], 1e-3)):
                cell = row[f"{b} {col}"]
                assert (cell == "") == (not math.isfinite(value)), (col, cell, value)
                if cell:
                    assert abs(float(cell) - value) <= tol, (col, cell, value)
        assert row["engageable by"] == ";".join(b for j, b in enumerate(("romania", "poland")) if eng.feasible[k, j])
        assert (row["error"] != "") == (fl.error[k] is not None)
        if fl.error[k] is None:
            assert abs(float(row["flight time s"]) - (fl.impact_time_s[k] - fl.launch_time_s[k])) < 1e-3


def test_geojson_feature_collection(grid_ds, grid_res, tmp_path):
    p = tmp_path / "cov.geojson"
    files.write(grid_ds, p)
    doc = json.loads(p.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"
    kinds = [f["properties"]["kind"] for f in doc["features"]]
    assert kinds.count("aim") == 18 and kinds.count("launch") == 2
    assert kinds.count("battery") == 2 and kinds.count("sensor") == 1
    aims = [f for f in doc["features"] if f["properties"]["kind"] == "aim"]
    fl, eng = grid_res.flights, grid_res.engagements
    for k, f in enumerate(aims):
        assert f["type"] == "Feature" and f["geometry"]["type"] == "Point"
        lon, lat = f["geometry"]["coordinates"]
        assert (lat, lon) == (fl.aim_lat_deg[k], fl.aim_lon_deg[k])
        pr = f["properties"]
        assert pr["launch"] == ("tabriz" if k < 9 else "semnan")
        assert pr["romania:feasible"] == bool(eng.feasible[k, 0])
        assert pr["poland:feasible"] == bool(eng.feasible[k, 1])
        assert "romania:reason" in pr and "poland:first_intercept_time_s" in pr
        for j, b in enumerate(("romania", "poland")):
            m = eng.margin_s[k, j]
            assert (pr[f"{b}:margin_s"] is None) == (not math.isfinite(m))
            if math.isfinite(m):
                assert abs(pr[f"{b}:margin_s"] - m) <= 1e-3 and abs(pr[f"{b}:latest_launch_s"]
                                                                    - eng.latest_launch_s[k, j]) <= 1e-3
            c = eng.first.closing_speed_m_s[k, j]
            assert (pr[f"{b}:first_intercept_closing_speed_km_s"] is None) == (not math.isfinite(c))
    bat = [f for f in doc["features"] if f["properties"]["kind"] == "battery"]
    assert bat[0]["properties"]["name"] == "romania" and bat[0]["geometry"]["coordinates"] == [24.41, 44.05]


def test_png_map(grid_ds, tmp_path):
    p = tmp_path / "cov.png"
    files.write(grid_ds, p)
    data = p.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30_000
    assert sorted(os.listdir(tmp_path)) == ["cov.png"]


def test_all_formats_for_a_list_of_places(places_res, tmp_path):
    outs = [tmp_path / f"p{e}" for e in (".nc", ".csv", ".geojson", ".png")]
    files.write_all(places_res, outs)
    with xr.open_dataset(outs[0]) as back:
        assert list(back["aim"].values) == ["athens", "izmir", "48.00,16.00", "48.00,20.00"]
    assert len(list(csv.reader(outs[1].open()))) == 1 + 4
    assert len(json.loads(outs[2].read_text())["features"]) == 4 + 1 + 2 + 1
    assert outs[3].read_bytes()[:4] == b"\x89PNG" and outs[3].stat().st_size > 30_000


def test_unknown_extension_is_refused(grid_ds, tmp_path):
    with pytest.raises(files.OutputError, match="unknown output format '.txt'"):
        files.write(grid_ds, tmp_path / "x.txt")
    with pytest.raises(files.OutputError, match="does not exist"):
        files.write(grid_ds, tmp_path / "nope" / "x.nc")
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------------------------------------ (e) atomic
@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_atomic_write_leaves_nothing_when_the_writer_fails_midway(grid_ds, tmp_path, monkeypatch, exc):
    real_rows = files._csv_rows

    def broken_rows(ds):
        for i, row in enumerate(real_rows(ds)):
            if i == 5:
                raise exc("interrupted")
            yield row

    monkeypatch.setattr(files, "_csv_rows", broken_rows)
    target = tmp_path / "cov.csv"
    with pytest.raises(exc):
        files.write(grid_ds, target)
    assert os.listdir(tmp_path) == []
    # an existing file is left exactly as it was
    target.write_text("previous content\n")
    with pytest.raises(exc):
        files.write(grid_ds, target)
    assert os.listdir(tmp_path) == ["cov.csv"] and target.read_text() == "previous content\n"


def test_atomic_write_of_a_map_interrupted_after_bytes_were_written(grid_ds, tmp_path, monkeypatch):
    import shieldlab.output.mapplot as mapplot

    def half_save(fig, path, **kw):
        Path(path).write_bytes(b"\x89PNG\r\n\x1a\npartial")
        raise KeyboardInterrupt

    monkeypatch.setattr(mapplot, "save_figure", half_save)
    monkeypatch.setattr("shieldlab.output.covermap.coverage_figure", lambda ds: object())
    with pytest.raises(KeyboardInterrupt):
        files.write(grid_ds, tmp_path / "map.png")
    assert os.listdir(tmp_path) == []


def test_atomic_write_success_replaces_and_sets_normal_permissions(tmp_path):
    target = tmp_path / "a.csv"
    target.write_text("old")
    files.atomic_write(target, lambda tmp: Path(tmp).write_text("new"))
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["a.csv"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


# ------------------------------------------------------------------------------------------------ (f, g) parallel
def test_local_workers_give_identical_results(grid_sc, grid_res):
    par = coverage(grid_sc, workers=2, chunk_size=4)
    assert_same_results(grid_res, par)


def test_local_workers_freeze_what_their_first_task_left():
    """coverage/run.py `freeze_worker`: a worker's first task runs with nothing frozen, every later one with
    the objects that existed after the first out of the collector's sight (gc.get_freeze_count > 0). The task
    here is builtins.eval of an expression (a module-level function, as run_tasks needs)."""
    from shieldlab.coverage.run import run_tasks

    got = {}
    run_tasks(eval, (), ["__import__('gc').get_freeze_count()"] * 8, got.__setitem__, processes=2)
    counts = [got[i] for i in range(8)]
    assert sum(c == 0 for c in counts) <= 2, counts  # one first task per worker
    assert sum(c > 1000 for c in counts) >= 6, counts  # the imports alone are thousands of objects


def test_dask_cluster_gives_identical_results(grid_sc, grid_res):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        seen = []
        res = coverage(grid_sc, scheduler=cluster.scheduler_address, chunk_size=4,
                       progress=lambda d, n: seen.append((d, n)))
    assert_same_results(grid_res, res)
    assert seen[-1] == (18, 18) and len(seen) == 5


# ------------------------------------------------------------------------------------------------ (h) CLI
def test_cli_json_stdout_is_pure_json(shieldlab_cli, scen_dir):
    r = shieldlab_cli("coverage", scen_dir / "grid.toml", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # the whole of stdout
    assert doc["scenario"] == "tiny grid coverage" and doc["shieldlab_version"] == __version__
    assert len(doc["pairs"]) == 18 and doc["pairs"][0]["name"] == "tabriz -> 36.00,14.00"


@pytest.fixture()
def cli():
    from typer.testing import CliRunner

    from shieldlab.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


def test_cli_summary_and_outputs(cli, scen_dir, tmp_path):
    r = cli("coverage", scen_dir / "places.toml")
    assert r.exit_code == 0, r.output
    assert "tiny places coverage" in r.stdout and "romania" in r.stdout and "any battery" in r.stdout
    out_nc, out_csv = tmp_path / "a.nc", tmp_path / "a.csv"
    r = cli("coverage", scen_dir / "places.toml", "--out", out_nc, "-o", out_csv, "--chunk-size", "2")
    assert r.exit_code == 0, r.output
    assert r.stdout == "" and "wrote" in r.stderr
    assert out_nc.exists() and out_csv.exists()


def test_cli_exit_codes(cli, scen_dir, tmp_path):
    r = cli("coverage", scen_dir / "nocov.toml")
    assert r.exit_code == 2 and "[coverage]" in r.stderr and r.stdout == ""
    r = cli("coverage", scen_dir / "missing.toml")
    assert r.exit_code == 2 and "missing.toml" in r.stderr
    r = cli("coverage", scen_dir / "places.toml", "--out", tmp_path / "x.xlsx")
    assert r.exit_code == 2 and "unknown output format" in r.stderr and r.stdout == ""
    r = cli("coverage", scen_dir / "places.toml", "--workers", "0")
    assert r.exit_code == 2
    r = cli("coverage", scen_dir / "places.toml", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1")
    assert r.exit_code == 2 and "exclude" in r.stderr
    r = cli("coverage", scen_dir / "places.toml", "--scheduler", "nonsense")
    assert r.exit_code == 2 and "tcp://host:8786" in r.stderr
    assert os.listdir(tmp_path) == []
