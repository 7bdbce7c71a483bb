"""Per-threat speed of shieldlab against a straightforward baseline, measured in one run.

The baseline is written the way an analyst would write it from docs/models.md, The Earth and Aiming modes:
scipy's solve_ivp (DOP853, rtol 1e-10) per trajectory in the inertial frame with point-mass + J2 gravity and
a terminal altitude-0 event, Newton iterations with finite-difference Jacobians to hit the aim point, and a
bounded scalar minimisation over the flight-path angle for the minimum-energy trajectory. Only the
baseline's AIMING is timed; shieldlab is timed for the FULL evaluation of each pair (aim, fly,
every radar's detection and every battery's intercept window).

    python benchmarks/bench_coverage.py                      # quick: 3 baseline threats, 2,000 pairs
    python benchmarks/bench_coverage.py --baseline 10 --pairs 8000 --workers 2 --big   # the README's figures
    python benchmarks/bench_coverage.py --energy-management --min-launch-elevation 10    # floor and EM on
    python benchmarks/bench_coverage.py --baseline 10 --pairs 8000 --workers 2 --repeats 5  # medians of 5

Prints the per-threat time of each and their ratio; timings depend on the machine and its load (both
are measured in the same run for that reason). With --workers N the pairs run on N worker processes,
started and warmed up before the clock starts, in chunks as a coverage run would cut them; --big adds
the 100,000-pair run, timed whole (pool start-up and flyout tables included). --energy-management and
--min-launch-elevation give every interceptor type the launch floor and energy management (EM) of
docs/models.md, Launch floor and energy management.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import resource
import time
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import minimize_scalar

from shieldlab import constants as C
from shieldlab.api import load_scenario
from shieldlab.coverage import run as cov
from shieldlab.coverage.pairs import layout
from shieldlab.earth import frames, geodesic
from shieldlab.earth.model import Earth

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "bench.toml"
WARM_UP_PAIRS = 64  # evaluated before the clock starts, spread over the coverage (`warm_up`)


# ----------------------------------------------------------------------------- baseline
def _rhs(t, y):
    r = y[:3]
    rn = np.linalg.norm(r)
    k = 1.5 * C.J2 * (C.WGS84_A_M / rn) ** 2
    zz = (r[2] / rn) ** 2
    a = -C.GM_M3_S2 * r / rn**3 * np.array([1 + k * (1 - 5 * zz), 1 + k * (1 - 5 * zz), 1 + k * (3 - 5 * zz)])
    return np.concatenate([y[3:], a])


def _baseline_impact(earth, lat0, lon0, az_deg, gamma, speed, d_bo, h_bo):
    """Impact lat/lon of one trajectory: burnout from the geodesic, then solve_ivp to altitude 0."""
    lat_b, lon_b, az_b = geodesic.direct(earth, lat0, lon0, az_deg, d_bo)
    r = frames.geodetic_to_ecef(earth, lat_b, lon_b, h_bo)
    e, n, u = frames.enu_basis(lat_b, lon_b)
    a = math.radians(float(az_b))
    v = speed * (math.cos(gamma) * (math.sin(a) * e + math.cos(a) * n) + math.sin(gamma) * u)
    w = C.OMEGA_RAD_S
    v_i = v + np.cross([0, 0, w], r)

    def alt_event(t, y):
        th = w * t
        c, s = math.cos(th), math.sin(th)
        re = np.array([c * y[0] + s * y[1], -s * y[0] + c * y[1], y[2]])
        return frames.ecef_to_geodetic(earth, re)[2]

    alt_event.terminal, alt_event.direction = True, -1
    sol = solve_ivp(_rhs, (0, 20000), np.concatenate([r, v_i]), method="DOP853", rtol=1e-10, atol=1e-3,
                    events=alt_event)
    te, ye = sol.t_events[0][0], sol.y_events[0][0]
    th = w * te
    c, s = math.cos(th), math.sin(th)
    re = np.array([c * ye[0] + s * ye[1], -s * ye[0] + c * ye[1], ye[2]])
    lat, lon, _ = frames.ecef_to_geodetic(earth, re)
    return float(lat), float(lon)


def _miss(earth, lat0, lon0, lat_a, lon_a, az, gamma, speed, d_bo, h_bo):
    lat, lon = _baseline_impact(earth, lat0, lon0, az, gamma, speed, d_bo, h_bo)
    e, n, _ = frames.enu_basis(lat_a, lon_a)
    d = frames.geodetic_to_ecef(earth, lat, lon, 0) - frames.geodetic_to_ecef(earth, lat_a, lon_a, 0)
    return np.array([d @ e, d @ n])


def baseline_aim(earth, lat0, lon0, lat_a, lon_a, d_bo, h_bo):
    """Minimum-energy aiming: minimise over gamma the speed found by a Newton solve of (az, v)."""
    az0, _ = geodesic.inverse(earth, lat0, lon0, lat_a, lon_a)
    state = {"az": float(az0), "v": 6500.0}

    def speed_for(gamma):
        az, v = state["az"], state["v"]
        for _ in range(20):
            f = _miss(earth, lat0, lon0, lat_a, lon_a, az, gamma, v, d_bo, h_bo)
            if np.hypot(*f) < 1.0:
                break
            ja = (_miss(earth, lat0, lon0, lat_a, lon_a, az + 1e-4, gamma, v, d_bo, h_bo) - f) / 1e-4
            jv = (_miss(earth, lat0, lon0, lat_a, lon_a, az, gamma, v + 0.01, d_bo, h_bo) - f) / 0.01
            d = np.linalg.solve(np.column_stack([ja, jv]), -f)
            az, v = az + d[0], v + d[1]
        state.update(az=az, v=v)
        return v

    res = minimize_scalar(speed_for, bounds=(math.radians(10), math.radians(45)), method="bounded",
                          options={"xatol": 1e-4})
    return state["az"], res.x, state["v"]


# ----------------------------------------------------------------------------- runs
def warm_up(sc, tables):
    """Evaluate pairs spread over the whole coverage, so that every compiled kernel the timed pairs call is loaded
    (a few pairs in one place may call no flyout-table look-up or reach no intercept: their kernels would then
    load, ~20 ms, inside the timed run). Also bench_staged.py's."""
    cov.evaluate_chunk(sc, np.unique(np.linspace(0, cov.count_pairs(sc) - 1, WARM_UP_PAIRS).astype(int)), tables)


def _warm_worker(sc, tables):
    cov._worker_init()
    warm_up(sc, tables)
    cov.freeze_worker()  # as a coverage run's worker does after its first task


def _noop(_):
    time.sleep(0.2)  # long enough that every worker takes one


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", type=int, default=3, help="threats aimed by the baseline")
    ap.add_argument("--pairs", type=int, default=2000, help="pairs evaluated by shieldlab")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--big", action="store_true", help="also run the 100,000-pair coverage")
    ap.add_argument("--repeats", type=int, default=1,
                    help="time the baseline and shieldlab this many times each, in turn, and print the medians")
    ap.add_argument("--energy-management", action="store_true",
                    help="give every interceptor type energy_management = true "
                         "(docs/models.md, Launch floor and energy management)")
    ap.add_argument("--min-launch-elevation", type=float, default=0.0, metavar="DEG",
                    help="give every interceptor type this min_launch_elevation "
                         "(docs/models.md, Launch floor and energy management)")
    a = ap.parse_args()
    sc = load_scenario(SCENARIO)
    if a.energy_management or a.min_launch_elevation:
        its = {k: dataclasses.replace(v, energy_management=a.energy_management,
                                      min_launch_elevation_deg=a.min_launch_elevation)
               for k, v in sc.interceptors.items()}
        sc = dataclasses.replace(sc, interceptors=its)
        print(f"interceptors: energy_management = {a.energy_management}, "
              f"min_launch_elevation = {a.min_launch_elevation} deg")
    lay = layout(sc.coverage)
    earth = Earth.from_spec(sc.earth)
    m = sc.missiles[sc.coverage.missile]
    rng = np.random.default_rng(1)
    n_all = lay.n_pairs
    print(f"scenario {SCENARIO.name}: {n_all} pairs available; {len(sc.batteries)} batteries, {len(sc.sensors)} radars")

    # warm up the compiled kernels (compile time is not per-threat work)
    cov.evaluate_chunk(sc, np.arange(4))  # compile
    tables_t = time.perf_counter()
    tables = cov.build_tables(sc)
    tables_t = time.perf_counter() - tables_t
    warm_up(sc, tables)

    base_idx = rng.choice(n_all, a.baseline, replace=False)  # scattered: the baseline has no neighbours

    def time_baseline():
        t = time.perf_counter()
        base = []
        for k in base_idx:
            li, ai = lay.pair(k)
            p = lay.launch[int(li)]
            base.append(baseline_aim(earth, p.lat_deg, p.lon_deg, lay.aim_lat_deg[ai], lay.aim_lon_deg[ai],
                                     m.burnout_range_m, m.burnout_altitude_m))
        return (time.perf_counter() - t) / a.baseline, base

    t_base, base = time_baseline()
    ours = cov.evaluate_chunk(sc, np.sort(base_idx), tables)
    dv = np.abs(np.array([b[2] for b in base])[np.argsort(base_idx)] - ours.flights.burnout_speed_m_s)
    print(f"baseline aiming only: {t_base:.3f} s per threat ({a.baseline} threats); "
          f"agrees with shieldlab's min-energy speed to {dv.max():.2f} m/s")

    n = min(a.pairs, n_all)
    # a contiguous block of pairs, as a coverage run evaluates them (neighbours warm-start each other)
    start = int(rng.integers(0, n_all - n + 1))
    idx = np.arange(start, start + n)
    size = cov.choose_chunk_size(n, a.workers)  # as a coverage run of n pairs cuts them
    chunks = np.array_split(np.sort(idx), max(1, -(-n // size)))
    with contextlib.ExitStack() as stack:
        if a.workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # worker start-up (imports, loading the compiled kernels) is not per-threat work: each worker
            # evaluates a few pairs in its initializer, before the clock starts
            ex = stack.enter_context(ProcessPoolExecutor(a.workers, initializer=_warm_worker, initargs=(sc, tables),
                                                         mp_context=multiprocessing.get_context("spawn")))
            list(ex.map(_noop, range(a.workers)))  # wait until the workers are up

        def time_ours():
            t = time.perf_counter()
            if a.workers > 1:
                list(ex.map(cov.evaluate_chunk, [sc] * len(chunks), chunks, [tables] * len(chunks)))
            else:
                for c in chunks:
                    cov.evaluate_chunk(sc, c, tables)
            return (time.perf_counter() - t) / n

        t_ours = time_ours()
        print(f"shieldlab full evaluation: {t_ours * 1e3:.3f} ms per pair ({n} pairs, {a.workers} worker(s); "
              f"flyout tables built once in {tables_t:.1f} s)")
        print(f"ratio (baseline aiming / shieldlab full evaluation): {t_base / t_ours:,.0f}x")
        if a.repeats > 1:
            # the two timed in turn, so that a slow phase of the machine slows both
            times = [(t_base, t_ours)] + [(time_baseline()[0], time_ours()) for _ in range(a.repeats - 1)]
            b, o = (np.array(x) for x in zip(*times))
            r = b / o
            print(f"{a.repeats} repeats, baseline and shieldlab in turn: baseline {np.median(b):.3f} s per threat "
                  f"({b.min():.3f}-{b.max():.3f}), shieldlab {np.median(o) * 1e3:.3f} ms per pair "
                  f"({o.min() * 1e3:.3f}-{o.max() * 1e3:.3f}), ratio median {np.median(r):,.0f}x "
                  f"({r.min():,.0f}-{r.max():,.0f}x); shieldlab per repeat: "
                  + ", ".join(f"{x * 1e3:.3f}" for x in o) + " ms per pair")

    if a.big:
        big = sc.coverage.__class__(**{**sc.coverage.__dict__, "aim": sc.coverage.aim.__class__(
            lat_min_deg=20.0, lat_max_deg=59.8, lon_min_deg=-130.0, lon_max_deg=-80.2, step_deg=0.2)})  # 2 x 200 x 250
        big_sc = sc.__class__(**{**sc.__dict__, "coverage": big})
        nbig = layout(big).n_pairs
        t = time.perf_counter()
        res = cov.run(big_sc, workers=max(a.workers, 2), chunk_size=1024)
        dt = time.perf_counter() - t
        peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                   resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        print(f"{nbig:,} pairs: {dt:.1f} s wall, peak resident memory {peak:.0f} MB (largest process); "
              f"{int(res.engagements.feasible.any(1).sum()):,} pairs engageable by some battery")


if __name__ == "__main__":
    main()
