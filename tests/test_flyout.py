"""Warm starts of the fast-arc solver (interceptor/flyout.py): a start moved by one chord step from a
nearby exact arc must find the same fast arc as a cold solve, never the slow one, and cheaply."""

import numpy as np
import pytest

from shieldlab.earth import frames, geodesic
from shieldlab.earth.model import Earth
from shieldlab.interceptor.flyout import FD_RAD, Flyout
from shieldlab.scenario.model import EarthSpec, InterceptorType, Point

SAME_ARC_TOL_S = 0.01  # both solves converge to 0.5 m: ~0.1 ms apart; 0.01 s = the window tolerance
# the solver's Jacobian and the same forward differences flown by Flyout.arrival (round-off only; a Jacobian
# taken elsewhere on a 0.5 m converged solve is ~1e-3 off, one of another point ~1e-1 and more)
JACOBIAN_REL_TOL = 1e-6


@pytest.fixture(scope="module")
def solved():
    earth = Earth.from_spec(EarthSpec())
    fly = Flyout(earth, Point(44.05, 24.41), InterceptorType("iia", 50.0, 4500.0, 100e3, 1000e3))
    rng = np.random.default_rng(11)
    n = 600
    lat, lon, _ = geodesic.direct(earth, 44.05, 24.41, rng.uniform(0, 360, n), rng.uniform(50e3, 2500e3, n))
    P = frames.geodetic_to_ecef(earth, lat, lon, rng.uniform(100e3, 1000e3, n))
    fs = fly.solve(P)
    T, sol, jac = fs.time_s, fs.arc, fs.jacobian
    keep = np.isfinite(T)
    return fly, P[keep], sol[keep], jac[keep], rng


@pytest.mark.parametrize("shift_m", [700.0, 5e3, 35e3])
def test_chord_warm_start_finds_the_cold_fast_arc(solved, shift_m):
    fly, P, sol, jac, rng = solved
    assert P.shape[0] > 200
    P2 = P + rng.normal(0.0, shift_m / np.sqrt(3.0), P.shape)
    T_cold = fly.solve(P2).time_s
    plain = fly.solve(P2, guess=sol)
    chord = fly.solve(P2, guess=sol, guess_point=P, guess_jac=jac)
    T_chord, arcs_plain, arcs_chord = chord.time_s, plain.arcs_propagated, chord.arcs_propagated
    assert np.array_equal(np.isfinite(T_chord), np.isfinite(T_cold))
    f = np.isfinite(T_cold)
    err = np.abs(T_chord[f] - T_cold[f])
    assert err.max() < SAME_ARC_TOL_S, f"chord start off the cold fast arc by {err.max():.3f} s"
    assert arcs_chord[f].mean() < 0.7 * arcs_plain[f].mean(), (arcs_chord[f].mean(), arcs_plain[f].mean())


@pytest.mark.kernels
def test_returned_arcs_arrive_at_their_points(solved):
    """Flyout.arrival (numpy, the batch state_at kernel) flies the compiled solver's arcs back to their
    points: the two paths agree to the solver's convergence (0.5 m), and every arc clears the ground."""
    fly, P, sol, _, _ = solved
    st, clearance = fly.arrival(sol[:, 0], sol[:, 1], sol[:, 2])
    miss = np.linalg.norm(st[:, :3] - P, axis=1)
    assert miss.max() < 0.5, miss.max()
    assert np.all(clearance >= -1.0)


@pytest.mark.kernels
def test_a_warm_start_already_on_its_arc_returns_the_jacobian_at_that_arc(solved):
    """A warm start that is already its point's arc converges at once, before Newton has computed any
    Jacobian. The solution's Jacobian (the chord step of the next warm start, docs/models.md, Flyout times:
    numerical methods) must still be d(arrival)/d(az, x, tau) at that arc: the forward differences (10^-6 rad)
    in az and x and the arrival velocity. It used to be whatever the solver's scratch memory held, which
    differed from run to run and moved later chord-started solves, and the latest launch times built on them,
    by up to the 0.5 m convergence (~5e-4 s) between runs of the same computation."""
    fly, P, sol, _, _ = solved
    again = fly.solve(P, guess=sol)
    assert np.array_equal(again.time_s, fly.solve(P).time_s)
    assert np.all(again.arcs_propagated == 4)  # one arc to converge, three for its Jacobian
    az, x, tau = sol.T
    s0 = fly.arrival(az, x, tau)[0]
    expected = np.stack([(fly.arrival(az + FD_RAD, x, tau)[0][:, :3] - s0[:, :3]) / FD_RAD,
                         (fly.arrival(az, x + FD_RAD, tau)[0][:, :3] - s0[:, :3]) / FD_RAD, s0[:, 3:]], axis=2)
    err = np.abs(again.jacobian - expected) / np.linalg.norm(expected, axis=1, keepdims=True)
    assert err.max() < JACOBIAN_REL_TOL, f"Jacobian off by {err.max():.2g} of its column"
