"""Ballistic free flight under the model gravity (docs/models.md, Gravity), compiled.

Flights start from an Earth-relative (ECEF) state at flight time tau = 0. Inside, they are integrated
in the inertial frame that coincides with ECEF at tau = 0: gravity is symmetric about the rotation
axis, so this gives the same Earth-fixed path as the scenario's inertial frame (aligned at t = 0).
Integration is classical RK4 with a fixed step (the step is an argument; `DEFAULT_STEP_S` meets the
validation tolerances with margin, see tests/test_freeflight.py). Events (impact, apogee, arrival)
are located to round-off by Newton iterations on partial RK4 steps from the last node, so results
are smooth functions of the initial state, which the aiming solvers rely on.

Status codes: 0 ok, 1 no impact within the time limit.
"""

from __future__ import annotations

import math

import numpy as np

from shieldlab._jit import njit, prange
from shieldlab.earth._kernels import altitude_rate, gravity

DEFAULT_STEP_S = 20.0
MAX_FLIGHT_S = 20000.0
OK, NO_IMPACT = 0, 1
# The geodetic normal leans at most 0.193 deg (WGS84) from the radial direction, so the altitude rate
# differs from the radial rate by at most sin(0.193 deg) = 0.0034 of the speed: where the radial rate
# exceeds TILT_BOUND times the speed, the two have the same sign (the apogee screen; 2x margin).
TILT_BOUND = 0.007


@njit
def rk4_step(x, y, z, vx, vy, vz, h, params):
    """One classical Runge-Kutta step of size h (s) of the inertial two-body + J2 problem."""
    h2 = 0.5 * h
    a1x, a1y, a1z = gravity(x, y, z, params)
    x2 = x + h2 * vx
    y2 = y + h2 * vy
    z2 = z + h2 * vz
    v2x = vx + h2 * a1x
    v2y = vy + h2 * a1y
    v2z = vz + h2 * a1z
    a2x, a2y, a2z = gravity(x2, y2, z2, params)
    x3 = x + h2 * v2x
    y3 = y + h2 * v2y
    z3 = z + h2 * v2z
    v3x = vx + h2 * a2x
    v3y = vy + h2 * a2y
    v3z = vz + h2 * a2z
    a3x, a3y, a3z = gravity(x3, y3, z3, params)
    x4 = x + h * v3x
    y4 = y + h * v3y
    z4 = z + h * v3z
    v4x = vx + h * a3x
    v4y = vy + h * a3y
    v4z = vz + h * a3z
    a4x, a4y, a4z = gravity(x4, y4, z4, params)
    h6 = h / 6.0
    return (
        x + h6 * (vx + 2.0 * v2x + 2.0 * v3x + v4x),
        y + h6 * (vy + 2.0 * v2y + 2.0 * v3y + v4y),
        z + h6 * (vz + 2.0 * v2z + 2.0 * v3z + v4z),
        vx + h6 * (a1x + 2.0 * a2x + 2.0 * a3x + a4x),
        vy + h6 * (a1y + 2.0 * a2y + 2.0 * a3y + a4y),
        vz + h6 * (a1z + 2.0 * a2z + 2.0 * a3z + a4z),
    )


@njit
def ecef_to_inertial_state(r, v, omega):
    """ECEF state at tau = 0 to the inertial frame aligned with ECEF at tau = 0."""
    return r[0], r[1], r[2], v[0] - omega * r[1], v[1] + omega * r[0], v[2]


@njit
def inertial_to_ecef(tau, x, y, z, vx, vy, vz, omega, out):
    """Inertial state at flight time tau to ECEF: out[0:3] position, out[3:6] velocity."""
    th = omega * tau
    c = math.cos(th)
    s = math.sin(th)
    xe = c * x + s * y
    ye = -s * x + c * y
    vxe = c * vx + s * vy
    vye = -s * vx + c * vy
    out[0] = xe
    out[1] = ye
    out[2] = z
    out[3] = vxe + omega * ye
    out[4] = vye - omega * xe
    out[5] = vz


@njit
def _refine_event(x, y, z, vx, vy, vz, h, params, kind):
    """Partial step dt in (0, h] from a node to an event inside the step: kind 0 = altitude 0
    (impact), kind 1 = altitude rate 0 (apogee). Newton steps on RK4 partial steps for the impact
    (the altitude's derivative is the altitude rate, known with it), Illinois steps for the apogee,
    both kept inside the shrinking bracket (bisection if a step would leave it)."""
    if kind == 0:
        f0, _ = altitude_rate(x, y, z, vx, vy, vz, params)
    else:
        _, f0 = altitude_rate(x, y, z, vx, vy, vz, params)
    s = rk4_step(x, y, z, vx, vy, vz, h, params)
    if kind == 0:
        f1, _ = altitude_rate(s[0], s[1], s[2], s[3], s[4], s[5], params)
    else:
        _, f1 = altitude_rate(s[0], s[1], s[2], s[3], s[4], s[5], params)
    lo, hi, flo, fhi = 0.0, h, f0, f1
    t = h * f0 / (f0 - f1)
    side = 0
    for _ in range(40):
        s = rk4_step(x, y, z, vx, vy, vz, t, params)
        alt, rate = altitude_rate(s[0], s[1], s[2], s[3], s[4], s[5], params)
        ft = alt if kind == 0 else rate
        if ft == 0.0:
            return t
        if (ft > 0.0) == (flo > 0.0):
            lo, flo = t, ft
            if side == -1:
                fhi *= 0.5  # Illinois: the end kept twice counts half
            side = -1
        else:
            hi, fhi = t, ft
            if side == 1:
                flo *= 0.5
            side = 1
        if hi - lo < 1e-9:
            break
        if kind == 0 and rate != 0.0:
            tn = t - ft / rate
        else:
            tn = lo + (hi - lo) * flo / (flo - fhi)
        if not (lo < tn < hi):
            tn = 0.5 * (lo + hi)
        if abs(tn - t) < 1e-10:
            t = tn
            break
        t = tn
    return t


@njit
def fly(r0, v0, params, h, tmax, nodes, want_nodes, want_apogee=True):
    """Free flight from an ECEF state until geodetic altitude 0 (after first being above 0).

    nodes: (m, 7) array for (tau, r_ecef, v_ecef) at every step and at impact (when want_nodes).
    Returns (status, n_nodes, tau_impact, tau_apogee, alt_apogee, impact_ecef(6), apogee_ecef(6)).
    """
    omega = params[3]
    x, y, z, vx, vy, vz = ecef_to_inertial_state(r0, v0, omega)
    imp = np.empty(6)
    apo = np.empty(6)
    tau = 0.0
    alt, rate = altitude_rate(x, y, z, vx, vy, vz, params)
    been_up = alt > 0.0
    n = 0
    if want_nodes:
        nodes[0, 0] = 0.0
        inertial_to_ecef(0.0, x, y, z, vx, vy, vz, omega, nodes[0, 1:])
        n = 1
    tau_apo = 0.0
    alt_apo = alt
    inertial_to_ecef(0.0, x, y, z, vx, vy, vz, omega, apo)
    nsteps = int(tmax / h) + 1
    a_eq = params[0]
    for _ in range(nsteps):
        s = rk4_step(x, y, z, vx, vy, vz, h, params)
        r1 = math.sqrt(s[0] * s[0] + s[1] * s[1] + s[2] * s[2])
        vr1 = (s[0] * s[3] + s[1] * s[4] + s[2] * s[5]) / r1
        # Geodetic altitude >= |r| - a, and its rate differs from the radial rate by at most the
        # speed times the normal's tilt (< 0.2 deg): only evaluate it where it can matter (near the
        # ground; near the apogee when it is wanted).
        speed2 = s[3] * s[3] + s[4] * s[4] + s[5] * s[5]
        if r1 <= a_eq or (want_apogee and (vr1 * vr1 < TILT_BOUND * TILT_BOUND * speed2 or rate > 0.0 >= vr1)):
            alt1, rate1 = altitude_rate(s[0], s[1], s[2], s[3], s[4], s[5], params)
        else:
            alt1, rate1 = r1 - a_eq, vr1
        if want_apogee and rate > 0.0 and rate1 <= 0.0:  # apogee inside this step
            dt = _refine_event(x, y, z, vx, vy, vz, h, params, 1)
            a = rk4_step(x, y, z, vx, vy, vz, dt, params)
            aalt, _ = altitude_rate(a[0], a[1], a[2], a[3], a[4], a[5], params)
            if aalt > alt_apo:
                alt_apo = aalt
                tau_apo = tau + dt
                inertial_to_ecef(tau_apo, a[0], a[1], a[2], a[3], a[4], a[5], omega, apo)
        if been_up and alt1 <= 0.0:  # impact inside this step
            dt = _refine_event(x, y, z, vx, vy, vz, h, params, 0)
            f = rk4_step(x, y, z, vx, vy, vz, dt, params)
            inertial_to_ecef(tau + dt, f[0], f[1], f[2], f[3], f[4], f[5], omega, imp)
            if want_nodes and n < nodes.shape[0]:
                nodes[n, 0] = tau + dt
                nodes[n, 1:] = imp
                n += 1
            return OK, n, tau + dt, tau_apo, alt_apo, imp, apo
        x, y, z, vx, vy, vz = s
        tau += h
        alt, rate = alt1, rate1
        if alt > 0.0:
            been_up = True
        if want_nodes and n < nodes.shape[0]:
            nodes[n, 0] = tau
            inertial_to_ecef(tau, x, y, z, vx, vy, vz, omega, nodes[n, 1:])
            n += 1
    return NO_IMPACT, n, math.nan, tau_apo, alt_apo, imp, apo


@njit(parallel=True)
def impact_batch(r0, v0, params, h, tmax):
    """Impact of many flights at once: returns (status (n,), tau_impact (n,), r_ecef_impact (n, 3))."""
    n = r0.shape[0]
    status = np.empty(n, dtype=np.int64)
    tau = np.empty(n)
    rimp = np.empty((n, 3))
    dummy = np.empty((0, 7))
    for i in prange(n):
        st, _, ti, _, _, imp, _ = fly(r0[i], v0[i], params, h, tmax, dummy, False, False)
        status[i] = st
        tau[i] = ti
        rimp[i, 0] = imp[0]
        rimp[i, 1] = imp[1]
        rimp[i, 2] = imp[2]
        if st != OK:
            rimp[i, :] = math.nan
    return status, tau, rimp


@njit(parallel=True)
def trajectory_batch(r0, v0, params, h, tmax, nodes):
    """Full flights: nodes (n, m, 7) filled, NaN after each flight's last node (so `nodes` may come in
    uninitialised); returns status, n_nodes, tau_impact, tau_apogee, alt_apogee and the apogee ECEF state
    (n, 6)."""
    n = r0.shape[0]
    status = np.empty(n, dtype=np.int64)
    count = np.empty(n, dtype=np.int64)
    tau_i = np.empty(n)
    tau_a = np.empty(n)
    alt_a = np.empty(n)
    apo = np.empty((n, 6))
    for i in prange(n):
        st, k, ti, ta, aa, _, ap = fly(r0[i], v0[i], params, h, tmax, nodes[i], True)
        nodes[i, k:, :] = math.nan
        status[i] = st
        count[i] = k
        tau_i[i] = ti
        tau_a[i] = ta
        alt_a[i] = aa
        apo[i, :] = ap
    return status, count, tau_i, tau_a, alt_a, apo


@njit
def state_at(r0, v0, params, h, tau, out):
    """ECEF state at flight time tau >= 0 (out[0:6]); returns the least geodetic altitude at the
    integrator nodes from start to tau (the arc's clearance above the ground)."""
    omega = params[3]
    x, y, z, vx, vy, vz = ecef_to_inertial_state(r0, v0, omega)
    alt, _ = altitude_rate(x, y, z, vx, vy, vz, params)
    min_alt = alt
    nfull = int(tau / h)
    a_eq = params[0]
    for _ in range(nfull):
        x, y, z, vx, vy, vz = rk4_step(x, y, z, vx, vy, vz, h, params)
        r2 = x * x + y * y + z * z
        if r2 < a_eq * a_eq:  # altitude >= |r| - a: only below radius a can the arc touch the ground
            alt, _ = altitude_rate(x, y, z, vx, vy, vz, params)
            if alt < min_alt:
                min_alt = alt
    rest = tau - nfull * h
    if rest > 0.0:
        x, y, z, vx, vy, vz = rk4_step(x, y, z, vx, vy, vz, rest, params)
    alt, _ = altitude_rate(x, y, z, vx, vy, vz, params)
    if alt < min_alt:
        min_alt = alt
    inertial_to_ecef(tau, x, y, z, vx, vy, vz, omega, out)
    return min_alt


@njit(parallel=True)
def state_at_batch(r0, v0, tau, params, h):
    """ECEF states (n, 6) at flight times tau (n,) and each arc's least node altitude (n,)."""
    n = r0.shape[0]
    out = np.empty((n, 6))
    min_alt = np.empty(n)
    for i in prange(n):
        if tau[i] >= 0.0 and tau[i] < MAX_FLIGHT_S:
            min_alt[i] = state_at(r0[i], v0[i], params, h, tau[i], out[i])
        else:
            out[i, :] = math.nan
            min_alt[i] = math.nan
    return out, min_alt
