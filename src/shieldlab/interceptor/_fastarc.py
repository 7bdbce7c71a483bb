"""Compiled fast-arc solver of the straight-boost interceptor (docs/models.md, The interceptor: straight boost
and the fast arc; Launch floor and energy management; Flyout times: numerical methods), one point per loop
iteration so every point stops as soon as it is solved.

Unknowns. An arc is (az, x, tau): launch azimuth, launch parameter x and flight time after burnout.
x is the launch elevation (rad) of an arc at the burnout speed v_b. With energy management (em) the
values x < e_L (the launch floor) denote the floor family: launch elevation e_L and burnout speed
v = v_b (1 - (e_L - x)), so x runs continuously along the boundary of the allowed launches, from the
floor arcs (0 < v < v_b at e_L) to the full-speed arcs (e_L <= elevation, v_b). Newton steps and
Jacobians d(arrival)/d(az, x, tau) hold across both families. With em a point inside the burnout
sphere (|P - S| < v_b t_b / 2) at or above the floor is reached at burnout (tau = 0, FAMILY_BURNOUT).

For a point P: Newton on (az, x, tau) with the ECEF miss as residual (d/dtau is the arrival velocity,
d/daz and d/dx by forward differences), tried from a warm start (when finite), then the low flat-Earth
arc (with em, the flat-Earth floor arc when the low arc would need a launch below e_L). A valid arc
from either ends the search when it is the fast arc (`front_arc`, or P inside the burnout sphere).
Otherwise the high flat-Earth arc, and then the fallback (`_fallback`): Newton in a frame turned to
the point (beta, gamma, tau), where gamma is the elevation in the vertical plane of P (past 90 deg:
over the top) and beta the angle out of it, started from a scan of the in-plane arcs' passes near P
(`approach`); unlike (az, x) it has no singularity at the zenith, where (az, x) Newton steps fail
(the Jacobian's az column vanishes): points nearly above the site are reached by near-vertical arcs.
With em, a point below the floor within NEAR_SPHERE burnout-sphere radii of the site also tries the
floor arc from `boosted_floor_start` (the flat-Earth floor start with the boost leg, which is most of
the way there); a point on the sphere to conv_m, at or above the floor, counts as inside it.
An arc found after a valid one replaces it only when faster by more than `same_arc_s` (the same arc
found twice keeps the first). The Jacobian is only propagated when the miss has not yet converged,
so a point that converges after n steps costs 3 n + 1 arcs; an arc kept after converging at once (a warm
start already on it) costs 3 more for its Jacobian, which every arc is returned with (`_jacobian`; the chord
step of the next warm start).
"""

from __future__ import annotations

import math

import numpy as np

from shieldlab._jit import njit, prange
from shieldlab.earth._kernels import altitude_rate, gravity
from shieldlab.freeflight import MAX_FLIGHT_S, ecef_to_inertial_state, inertial_to_ecef, rk4_step, state_at

G0_M_S2 = 9.80665
AZX, PLANE = 0, 1  # the two parametrisations of a launch direction (module docstring)
# which family an arc comes from (docs/models.md, Launch floor and energy management): none, full speed v_b,
# the floor e_L (energy management, slower than v_b), burnout at the point (energy management, tau = 0)
FAMILY_NONE, FAMILY_FULL, FAMILY_FLOOR, FAMILY_BURNOUT = 0, 1, 2, 3
# the fallback's scan of launch elevations gamma in the point's vertical plane (`_fallback`)
GRID_POINTS = 37  # uniform from the floor to over the top: 5 deg apart
FINE_ABOVE_RAD = math.radians(45.0)  # points higher above the site than this get a finer grid around the vertical
FINE_MARGIN_RAD = math.radians(2.0)
FINE_STEP_RAD = math.radians(0.5)
FINE_POINTS = 41
ILLINOIS_STEPS = 8
ILLINOIS_PATIENCE = 3  # a root's |sigma| falls below ILLINOIS_KEEP of the bracket's smaller end within this many steps
ILLINOIS_KEEP = 0.3
ILLINOIS_DONE = 0.05
GOLDEN_STEPS = 16
MAX_STARTS = 8
# a start with a borrowed Jacobian but no point (a flyout table's, interpolated) converging more than this far in tau
# from where it started has left the arc the Jacobian stands for: not accepted from that start
BORROWED_JUMP_S = 60.0
STALL_ITER = 3  # Newton gives up after this many steps in a row without getting 30 % closer than ever before
NEAR_SPHERE = 2.0  # points below the floor closer than this many burnout-sphere radii also try `boosted_floor_start`


@njit
def launch_speed(vb, em, floor, x):
    """(launch elevation rad, burnout speed m/s) of launch parameter x (module docstring)."""
    if em and x < floor:
        return floor, vb * (1.0 + (x - floor))
    return x, vb


@njit
def _arrive(site, basis, vb, tb, em, floor, params, h, az, x, tau, out):
    """ECEF state at tau after burnout of the arc launched towards (az, x) into out[0:6]; returns
    the arc's clearance (least node altitude), NaN when tau is outside [0, MAX_FLIGHT_S) or the
    burnout speed is not positive."""
    el, v = launch_speed(vb, em, floor, x)
    if not (tau >= 0.0 and tau < MAX_FLIGHT_S and v > 0.0):
        out[:] = math.nan
        return math.nan
    ce = math.cos(el)
    sa = math.sin(az)
    ca = math.cos(az)
    se = math.sin(el)
    r0 = np.empty(3)
    v0 = np.empty(3)
    for j in range(3):
        u = ce * (sa * basis[0, j] + ca * basis[1, j]) + se * basis[2, j]
        r0[j] = site[j] + 0.5 * v * tb * u
        v0[j] = v * u
    return state_at(r0, v0, params, h, tau, out)


@njit
def _arrive_plane(site, frame, vb, tb, params, h, beta, gamma, tau, out):
    """As `_arrive` at speed v_b for the direction (beta, gamma) of `frame` (rows: horizontal towards
    the point, horizontal across, up): u = cos(beta) (cos(gamma) h + sin(gamma) up) + sin(beta) w."""
    if not (tau >= 0.0 and tau < MAX_FLIGHT_S):
        out[:] = math.nan
        return math.nan
    cb = math.cos(beta)
    sb = math.sin(beta)
    cg = math.cos(gamma)
    sg = math.sin(gamma)
    r0 = np.empty(3)
    v0 = np.empty(3)
    for j in range(3):
        u = cb * (cg * frame[0, j] + sg * frame[2, j]) + sb * frame[1, j]
        r0[j] = site[j] + 0.5 * vb * tb * u
        v0[j] = vb * u
    return state_at(r0, v0, params, h, tau, out)


@njit
def _arrive_mode(mode, site, basis, frame, vb, tb, em, floor, params, h, a, b, tau, out):
    if mode == AZX:
        return _arrive(site, basis, vb, tb, em, floor, params, h, a, b, tau, out)
    return _arrive_plane(site, frame, vb, tb, params, h, a, b, tau, out)


@njit
def plane_frame(p, site, basis):
    """(3, 3) rows: the horizontal unit vector from the site towards p (north when p is straight
    above), the horizontal unit vector across (h x up), and the site's up."""
    f = np.empty((3, 3))
    dx = p[0] - site[0]
    dy = p[1] - site[1]
    dz = p[2] - site[2]
    du = dx * basis[2, 0] + dy * basis[2, 1] + dz * basis[2, 2]
    hx = dx - du * basis[2, 0]
    hy = dy - du * basis[2, 1]
    hz = dz - du * basis[2, 2]
    nh = math.sqrt(hx * hx + hy * hy + hz * hz)
    if not (nh > 1e-9 * math.sqrt(dx * dx + dy * dy + dz * dz)):
        hx, hy, hz, nh = basis[1, 0], basis[1, 1], basis[1, 2], 1.0
    f[0, 0], f[0, 1], f[0, 2] = hx / nh, hy / nh, hz / nh
    f[2, :] = basis[2]
    f[1, 0] = f[0, 1] * f[2, 2] - f[0, 2] * f[2, 1]
    f[1, 1] = f[0, 2] * f[2, 0] - f[0, 0] * f[2, 2]
    f[1, 2] = f[0, 0] * f[2, 1] - f[0, 1] * f[2, 0]
    return f


@njit
def plane_to_azel(frame, basis, beta, gamma):
    """(azimuth in [0, 2 pi), elevation) of the direction (beta, gamma) of `frame`."""
    cb = math.cos(beta)
    ue = 0.0
    un = 0.0
    uu = 0.0
    for j in range(3):
        u = cb * (math.cos(gamma) * frame[0, j] + math.sin(gamma) * frame[2, j]) + math.sin(beta) * frame[1, j]
        ue += u * basis[0, j]
        un += u * basis[1, j]
        uu += u * basis[2, j]
    return math.atan2(ue, un) % (2.0 * math.pi), math.asin(min(max(uu, -1.0), 1.0))


@njit
def _approach_g(x, y, z, vx, vy, vz, tau0, dt, p, params, out):
    """(g, dg/dt) of g = (r - p) . v in ECEF at tau0 + dt, from the inertial node (x..vz) at tau0 by one
    RK4 step of dt; out[0:6] the ECEF state there."""
    omega = params[3]
    s = rk4_step(x, y, z, vx, vy, vz, dt, params)
    inertial_to_ecef(tau0 + dt, s[0], s[1], s[2], s[3], s[4], s[5], omega, out)
    mx = out[0] - p[0]
    my = out[1] - p[1]
    mz = out[2] - p[2]
    ax, ay, az = gravity(out[0], out[1], out[2], params)  # axially symmetric: the same form in ECEF
    w2 = omega * omega
    ax += 2.0 * omega * out[4] + w2 * out[0]  # - 2 w x v - w x (w x r)
    ay += -2.0 * omega * out[3] + w2 * out[1]
    g = mx * out[3] + my * out[4] + mz * out[5]
    dg = out[3] * out[3] + out[4] * out[4] + out[5] * out[5] + mx * ax + my * ay + mz * az
    return g, dg


@njit
def _refine_min(x, y, z, vx, vy, vz, tau0, span, p, frame, params, out):
    """The least distance to p within [tau0, tau0 + span] from the inertial node (x..vz) at tau0, where
    g = (r - p) . v turns from negative to positive (safeguarded Newton, g' = |v|^2 + (r - p) . a in
    ECEF): returns (tau, sigma, lateral miss) (see `approach`), out[0:6] the ECEF state there."""
    lo = 0.0
    hi = span
    g_lo = _approach_g(x, y, z, vx, vy, vz, tau0, 0.0, p, params, out)[0]
    g_hi = _approach_g(x, y, z, vx, vy, vz, tau0, span, p, params, out)[0]
    if g_lo >= 0.0:
        dt = 0.0
    elif g_hi <= 0.0:
        dt = span
    else:
        dt = span * g_lo / (g_lo - g_hi)
        for _ in range(12):
            g, dg = _approach_g(x, y, z, vx, vy, vz, tau0, dt, p, params, out)
            if g < 0.0:
                lo = dt
            else:
                hi = dt
            nxt = dt - g / dg if dg > 0.0 else math.nan
            if not (lo < nxt < hi):
                nxt = 0.5 * (lo + hi)
            if abs(nxt - dt) < 1e-6:
                dt = nxt
                break
            dt = nxt
    _approach_g(x, y, z, vx, vy, vz, tau0, dt, p, params, out)
    mx = out[0] - p[0]
    my = out[1] - p[1]
    mz = out[2] - p[2]
    w0, w1, w2 = frame[1, 0], frame[1, 1], frame[1, 2]
    nx = w1 * out[5] - w2 * out[4]
    ny = w2 * out[3] - w0 * out[5]
    nz = w0 * out[4] - w1 * out[3]
    nn = math.sqrt(nx * nx + ny * ny + nz * nz)
    sigma = (mx * nx + my * ny + mz * nz) / nn if nn > 0.0 else math.nan
    return tau0 + dt, sigma, mx * w0 + my * w1 + mz * w2


@njit
def approach(site, frame, vb, tb, params, h, beta, gamma, p, tau_cap, out):
    """The approaches to p of the full-speed arc (beta, gamma) of `frame`: its first approach (the first
    local minimum of the distance after burnout) and its closest one, each as (tau, sigma, lateral
    miss): six values. The arc is scanned at the integrator nodes until it hits the ground, falls back
    below p's radius moving away from p, or reaches tau_cap; each minimum is refined between nodes.
    sigma is the miss along w x v (w: the frame's across unit vector, v the velocity there): negative
    where the arc passes below (or, rising steeply, in front of) p, positive above (behind). As the
    launch steepens through the fast arc, sigma of the first approach turns positive; through the
    slow arc, sigma of the closest approach turns negative again."""
    omega = params[3]
    a_eq = params[0]
    cb = math.cos(beta)
    sb = math.sin(beta)
    cg = math.cos(gamma)
    sg = math.sin(gamma)
    r0 = np.empty(3)
    v0 = np.empty(3)
    for j in range(3):
        u = cb * (cg * frame[0, j] + sg * frame[2, j]) + sb * frame[1, j]
        r0[j] = site[j] + 0.5 * vb * tb * u
        v0[j] = vb * u
    x, y, z, vx, vy, vz = ecef_to_inertial_state(r0, v0, omega)
    rp2 = p[0] * p[0] + p[1] * p[1] + p[2] * p[2]
    tau = 0.0
    inertial_to_ecef(tau, x, y, z, vx, vy, vz, omega, out)
    d2 = (out[0] - p[0]) ** 2 + (out[1] - p[1]) ** 2 + (out[2] - p[2]) ** 2
    g = (out[0] - p[0]) * out[3] + (out[1] - p[1]) * out[4] + (out[2] - p[2]) * out[5]
    best = d2
    # the node before the nearest one (the refinement starts there) and its time
    px, py, pz, pvx, pvy, pvz, ptau = x, y, z, vx, vy, vz, 0.0
    qx, qy, qz, qvx, qvy, qvz = x, y, z, vx, vy, vz
    span = h
    first = False
    fx, fy, fz, fvx, fvy, fvz, ftau = x, y, z, vx, vy, vz, 0.0
    for _ in range(int(tau_cap / h) + 1):
        s = rk4_step(x, y, z, vx, vy, vz, h, params)
        tau += h
        x, y, z, vx, vy, vz = s
        inertial_to_ecef(tau, x, y, z, vx, vy, vz, omega, out)
        d2 = (out[0] - p[0]) ** 2 + (out[1] - p[1]) ** 2 + (out[2] - p[2]) ** 2
        g_prev = g
        g = (out[0] - p[0]) * out[3] + (out[1] - p[1]) * out[4] + (out[2] - p[2]) * out[5]
        if not first and g_prev < 0.0 <= g:
            first = True
            fx, fy, fz, fvx, fvy, fvz, ftau = qx, qy, qz, qvx, qvy, qvz, tau - h
        if d2 < best:
            best = d2
            px, py, pz, pvx, pvy, pvz, ptau = qx, qy, qz, qvx, qvy, qvz, tau - h
            span = 2.0 * h
        qx, qy, qz, qvx, qvy, qvz = x, y, z, vx, vy, vz
        r2 = x * x + y * y + z * z
        if r2 < a_eq * a_eq:
            alt, _ = altitude_rate(x, y, z, vx, vy, vz, params)
            if alt < 0.0:
                break
        if x * vx + y * vy + z * vz < 0.0 and r2 < rp2 and d2 > best:
            break  # falling back below p and moving away from it: it cannot come back
    t2, s2, l2 = _refine_min(px, py, pz, pvx, pvy, pvz, ptau, span, p, frame, params, out)
    if not first:
        return t2, s2, l2, t2, s2, l2
    t1, s1, l1 = _refine_min(fx, fy, fz, fvx, fvy, fvz, ftau, h, p, frame, params, out)
    return t1, s1, l1, t2, s2, l2


@njit
def flat_earth_start(p, site, basis, vb, tb, high):
    """(az, el, tau) of the low or high flat-Earth ballistic arc through P (a starting value)."""
    dx = p[0] - site[0]
    dy = p[1] - site[1]
    dz = p[2] - site[2]
    de = dx * basis[0, 0] + dy * basis[0, 1] + dz * basis[0, 2]
    dn = dx * basis[1, 0] + dy * basis[1, 1] + dz * basis[1, 2]
    du = dx * basis[2, 0] + dy * basis[2, 1] + dz * basis[2, 2]
    x = math.hypot(de, dn)
    az = math.atan2(de, dn)
    v2 = vb * vb
    g = G0_M_S2
    disc = v2 * v2 - g * (g * x * x + 2.0 * du * v2)
    sq = math.sqrt(max(disc, 0.0))
    if disc < 0.0:
        el = math.radians(45.0)
    elif high:
        el = math.atan2(v2 + sq, g * max(x, 1.0))
    else:
        el = math.atan2(v2 - sq, g * max(x, 1.0))
    if high:
        tau = min(x / (vb * max(math.cos(el), 1e-3)), 2.0 * vb * math.sin(el) / g)
    else:
        tau = math.sqrt(x * x + du * du) / vb
    return az, el, max(tau - 0.5 * tb, 1.0)


@njit
def floor_start(p, site, basis, vb, tb, floor):
    """(az, x, tau) of the flat-Earth arc launched at the floor elevation through P, at the speed it
    needs (at most v_b); x in the floor family's encoding. NaNs when P lies above the floor's line."""
    dx = p[0] - site[0]
    dy = p[1] - site[1]
    dz = p[2] - site[2]
    de = dx * basis[0, 0] + dy * basis[0, 1] + dz * basis[0, 2]
    dn = dx * basis[1, 0] + dy * basis[1, 1] + dz * basis[1, 2]
    du = dx * basis[2, 0] + dy * basis[2, 1] + dz * basis[2, 2]
    x = math.hypot(de, dn)
    ce = math.cos(floor)
    drop = x * math.tan(floor) - du  # how far P lies below the floor's straight line
    if not (drop > 0.0 and x > 0.0):
        return math.nan, math.nan, math.nan
    v = min(math.sqrt(G0_M_S2 * x * x / (2.0 * ce * ce * drop)), 0.999 * vb)
    tau = x / (v * ce) - 0.5 * tb
    return math.atan2(de, dn), floor - (1.0 - v / vb), max(tau, 1.0)


@njit
def boosted_floor_start(p, site, basis, vb, tb, floor):
    """(az, x, tau) of the floor arc through P with its boost leg: launched at the floor elevation at speed
    v <= v_b, burnout v t_b / 2 along the floor's line, then a flat-Earth ballistic arc (`floor_start` omits
    the boost leg, which is most of the way for points near the burnout sphere). v by bisection on the
    height of the arc above P; x in the floor family's encoding. NaNs when P lies above the floor's line
    or no speed up to v_b brings the arc down to it."""
    dx = p[0] - site[0]
    dy = p[1] - site[1]
    dz = p[2] - site[2]
    de = dx * basis[0, 0] + dy * basis[0, 1] + dz * basis[0, 2]
    dn = dx * basis[1, 0] + dy * basis[1, 1] + dz * basis[1, 2]
    du = dx * basis[2, 0] + dy * basis[2, 1] + dz * basis[2, 2]
    x = math.hypot(de, dn)
    ce = math.cos(floor)
    se = math.sin(floor)
    if not (x * se - du * ce > 0.0 and x > 0.0 and ce > 0.0):
        return math.nan, math.nan, math.nan
    lo = 0.0
    hi = min(vb, 2.0 * x / (tb * ce))  # beyond hi the burnout would lie past P
    for _ in range(60):
        v = 0.5 * (lo + hi)
        X = x - 0.5 * v * tb * ce  # horizontal distance left after burnout
        above = 0.5 * v * tb * se + X * se / ce - G0_M_S2 * X * X / (2.0 * v * v * ce * ce) - du
        if above > 0.0:
            hi = v
        else:
            lo = v
    v = 0.5 * (lo + hi)
    if not (v > 0.0 and v < vb):
        return math.nan, math.nan, math.nan
    X = x - 0.5 * v * tb * ce
    return math.atan2(de, dn), floor - (1.0 - v / vb), max(X / (v * ce), 1e-3)


@njit
def _solve3(J, b0, b1, b2):
    """J^-1 b by Cramer's rule; NaNs when J is singular or not finite."""
    a00, a01, a02 = J[0, 0], J[0, 1], J[0, 2]
    a10, a11, a12 = J[1, 0], J[1, 1], J[1, 2]
    a20, a21, a22 = J[2, 0], J[2, 1], J[2, 2]
    c00 = a11 * a22 - a12 * a21
    c01 = a12 * a20 - a10 * a22
    c02 = a10 * a21 - a11 * a20
    det = a00 * c00 + a01 * c01 + a02 * c02
    if not (abs(det) > 0.0 and abs(det) < math.inf):
        return math.nan, math.nan, math.nan
    d0 = (b0 * c00 + b1 * (a02 * a21 - a01 * a22) + b2 * (a01 * a12 - a02 * a11)) / det
    d1 = (b0 * c01 + b1 * (a00 * a22 - a02 * a20) + b2 * (a02 * a10 - a00 * a12)) / det
    d2 = (b0 * c02 + b1 * (a01 * a20 - a00 * a21) + b2 * (a00 * a11 - a01 * a10)) / det
    return d0, d1, d2


@njit
def newton(p, mode, site, basis, frame, vb, tb, em, floor, params, h, az, el, tau, J, chord, tau_cap, fd_rad,
           conv_m, max_iter, max_step_rad, max_step_tau_s):
    """Newton from (az, el, tau) (mode AZX: (az, x, tau); PLANE: (beta, gamma, tau) of `frame`);
    returns (a, b, tau, converged, clearance, arcs propagated).

    J (3, 3) holds on return the last Jacobian d(arrival position)/d(a, b, tau) used. With
    `chord`, J comes in as the Jacobian of a nearby solution and is reused (chord steps, one arc
    each) while the miss keeps falling at least fourfold per step; otherwise, and from then on,
    d/da and d/db are forward differences (two more arcs) and d/dtau the arrival velocity."""
    s0 = np.empty(6)
    s1 = np.empty(6)
    s2 = np.empty(6)
    prev_miss = math.inf
    strikes = 0
    best_miss = math.inf
    stalled = 0
    clear = math.nan
    arcs = 0
    for _ in range(max_iter):
        clear = _arrive_mode(mode, site, basis, frame, vb, tb, em, floor, params, h, az, el, tau, s0)
        arcs += 1
        f0 = s0[0] - p[0]
        f1 = s0[1] - p[1]
        f2 = s0[2] - p[2]
        miss = math.sqrt(f0 * f0 + f1 * f1 + f2 * f2)
        if miss < conv_m:
            return az, el, tau, True, clear, arcs
        if not (miss < math.inf):  # NaN or inf: no arc here
            break
        if chord and not (miss < 0.25 * prev_miss):
            chord = False  # the borrowed Jacobian no longer converges fast: differences from here on
            prev_miss = math.inf
        # give up on points that do not get closer (no arc reaches them)
        strikes = strikes + 1 if miss > 0.7 * prev_miss else 0
        prev_miss = miss
        # or that swing about without getting closer than before (beyond the edge of reach Newton oscillates
        # about the nearest arc, the miss falling and rising in turn)
        stalled = stalled + 1 if miss > 0.7 * best_miss else 0
        best_miss = min(best_miss, miss)
        if strikes >= 2 or stalled >= STALL_ITER or tau >= tau_cap:
            break
        if not chord:
            _arrive_mode(mode, site, basis, frame, vb, tb, em, floor, params, h, az + fd_rad, el, tau, s1)
            _arrive_mode(mode, site, basis, frame, vb, tb, em, floor, params, h, az, el + fd_rad, tau, s2)
            arcs += 2
            for r in range(3):
                J[r, 0] = (s1[r] - s0[r]) / fd_rad
                J[r, 1] = (s2[r] - s0[r]) / fd_rad
                J[r, 2] = s0[3 + r]
        d0, d1, d2 = _solve3(J, -f0, -f1, -f2)
        if not (abs(d0) < math.inf and abs(d1) < math.inf and abs(d2) < math.inf):
            break
        scale = 1.0
        if abs(d0) * scale > max_step_rad:
            scale = max_step_rad / abs(d0)
        if abs(d1) * scale > max_step_rad:
            scale = max_step_rad / abs(d1)
        if abs(d2) * scale > max_step_tau_s:
            scale = max_step_tau_s / abs(d2)
        az += scale * d0
        el += scale * d1
        tau = min(max(tau + scale * d2, 1e-3), tau_cap)
    return az, el, tau, False, clear, arcs


@njit
def _jacobian(site, basis, vb, tb, em, floor, params, h, az, x, tau, fd_rad, J, s):
    """J (3, 3) = d(arrival position)/d(az, x, tau) at the arc (az, x, tau) (as in `newton`: forward
    differences in az and x, the arrival velocity in tau), with s (6,) as scratch; returns the arcs
    propagated (3)."""
    _arrive(site, basis, vb, tb, em, floor, params, h, az, x + fd_rad, tau, s)
    for r in range(3):
        J[r, 1] = s[r]
    _arrive(site, basis, vb, tb, em, floor, params, h, az + fd_rad, x, tau, s)
    for r in range(3):
        J[r, 0] = s[r]
    _arrive(site, basis, vb, tb, em, floor, params, h, az, x, tau, s)
    for r in range(3):
        J[r, 0] = (J[r, 0] - s[r]) / fd_rad
        J[r, 1] = (J[r, 1] - s[r]) / fd_rad
        J[r, 2] = s[3 + r]
    return 3


@njit
def elevation_ok(x, em, floor):
    """Whether launch parameter x (AZX) is an allowed launch: a floor arc with a positive speed, or a
    full-speed arc with e_L <= elevation (over the top: pi - x >= e_L) and elevation > 0."""
    if em and x < floor:
        return x > floor - 1.0
    s = math.sin(x)
    return s > 0.0 and s >= math.sin(floor)


@njit
def _sigma_root(site, frame, vb, tb, params, h, p, tau_cap, which, g0, s0, g1, s1, out):
    """Illinois steps on sigma(gamma) of the first (which 0) or closest (1) `approach` of the arcs
    beta = 0 between g0 and g1, where it changes sign: returns (gamma, tau, arcs) of the last step, NaN
    tau where sigma does not fall towards 0 (|sigma| still above ILLINOIS_KEEP of the smaller end's
    after ILLINOIS_PATIENCE steps, or ILLINOIS_DONE after all): the sign changed by a jump (the
    nearest approach switching from one pass to another, or an arc's side turning with its
    velocity far from p), not through an arc that passes through p."""
    gm = g0
    tau = math.nan
    sm = s0
    side = 0
    n = 0
    s_ref = min(abs(s0), abs(s1))
    for k in range(ILLINOIS_STEPS):
        gm = g0 - s0 * (g1 - g0) / (s1 - s0)
        t1, s1_, _, t2, s2_, _ = approach(site, frame, vb, tb, params, h, 0.0, gm, p, tau_cap, out)
        tau, sm = (t1, s1_) if which == 0 else (t2, s2_)
        n += 1
        if not math.isfinite(sm) or (k + 1 >= ILLINOIS_PATIENCE and abs(sm) > ILLINOIS_KEEP * s_ref):
            return gm, math.nan, n
        if (sm < 0.0) == (s0 < 0.0):
            g0, s0 = gm, sm
            if side == -1:
                s1 *= 0.5
            side = -1
        else:
            g1, s1 = gm, sm
            if side == 1:
                s0 *= 0.5
            side = 1
    if abs(sm) > ILLINOIS_DONE * s_ref:
        tau = math.nan
    return gm, tau, n


@njit
def _fallback(p, site, basis, vb, tb, em, floor, params, h, tau_cap, max_tau, fd_rad, conv_m, max_iter,
              max_step_rad, max_step_tau_s, floor_again, out_arc, out_J):
    """The fallback (module docstring): full-speed arcs in the point's own frame, started where the
    closest approach of the in-plane arcs (beta = 0) to p changes side (`approach`), over launches
    gamma from the floor to over the top (a uniform grid, finer around the vertical for points high
    above the site); where no arc passes above p, from the arc that comes closest to passing above
    it (golden-section search): the edge of reach. With `floor_again`, also the floor start. Returns
    (T, arcs propagated) of the fastest valid arc (inf: none), its (az, x, tau) in out_arc and its
    Jacobian d(arrival)/d(az, x, tau) in out_J."""
    frame = plane_frame(p, site, basis)
    J = np.empty((3, 3))
    s0 = np.empty(6)
    s1 = np.empty(6)
    s2 = np.empty(6)
    st = np.empty(6)
    best = math.inf
    arcs = 0
    dx = p[0] - site[0]
    dy = p[1] - site[1]
    dz = p[2] - site[2]
    du = dx * frame[2, 0] + dy * frame[2, 1] + dz * frame[2, 2]
    dh = dx * frame[0, 0] + dy * frame[0, 1] + dz * frame[0, 2]
    el_p = math.atan2(du, dh)
    lo = max(floor, 1e-4)
    hi = math.pi - lo
    n_fine = 0
    f_lo = 0.0
    f_hi = 0.0
    if el_p > FINE_ABOVE_RAD:
        f_lo = max(lo, el_p - FINE_MARGIN_RAD)
        f_hi = min(hi, math.pi - el_p + FINE_MARGIN_RAD)
        n_fine = min(FINE_POINTS, int((f_hi - f_lo) / FINE_STEP_RAD) + 2)
    n = GRID_POINTS + n_fine
    grid = np.empty(n)
    for k in range(GRID_POINTS):
        grid[k] = lo + (hi - lo) * k / (GRID_POINTS - 1)
    for k in range(n_fine):
        grid[GRID_POINTS + k] = f_lo + (f_hi - f_lo) * k / (n_fine - 1)
    grid = np.sort(grid)
    sig = np.empty((2, n))
    taus = np.empty((2, n))
    for k in range(n):
        taus[0, k], sig[0, k], _, taus[1, k], sig[1, k], _ = approach(site, frame, vb, tb, params, h, 0.0,
                                                                      grid[k], p, tau_cap, st)
        arcs += 1
    # Newton starts (gamma, tau): where sigma of the first approach, then of the closest, changes
    # sign; where no first approach passes above p, the edge of reach
    starts = np.full((MAX_STARTS, 2), math.nan)
    m = 0
    for which in range(2):
        for k in range(n - 1):
            sa = sig[which, k]
            sb = sig[which, k + 1]
            if m >= MAX_STARTS or not (math.isfinite(sa) and math.isfinite(sb)) or (sa < 0.0) == (sb < 0.0):
                continue
            if grid[k + 1] - grid[k] <= 0.0:
                continue
            g, t, na = _sigma_root(site, frame, vb, tb, params, h, p, tau_cap, which, grid[k], sa, grid[k + 1], sb,
                                   st)
            arcs += na
            if math.isfinite(t):
                starts[m, 0] = g
                starts[m, 1] = t
                m += 1
    any_above = False
    for k in range(n):
        if sig[0, k] >= 0.0:
            any_above = True
    if not any_above and m < MAX_STARTS:
        j = -1
        for k in range(n):
            if math.isfinite(sig[0, k]) and (j < 0 or sig[0, k] > sig[0, j]):
                j = k
        # the largest sigma between the grid's points exceeds theirs by about |sigma''| h^2 / 8: no arc can pass
        # above p where even 8 times that (the parabola through the three points next to the largest) does not
        # reach 0 (a point beyond the edge of reach: nothing to search)
        if j >= 0:
            jl = max(j - 1, 0)
            jr = min(j + 1, n - 1)
            hh = max(grid[jr] - grid[j], grid[j] - grid[jl])
            if 0 < j < n - 1 and math.isfinite(sig[0, jl]) and math.isfinite(sig[0, jr]):
                lift = max(-(sig[0, jl] - 2.0 * sig[0, j] + sig[0, jr]), 0.0) * (hh / min(grid[jr] - grid[j],
                                                                                          grid[j] - grid[jl])) ** 2
            else:
                lift = abs(sig[0, jr] - sig[0, jl]) if math.isfinite(sig[0, jr] - sig[0, jl]) else math.inf
            if sig[0, j] + lift < 0.0:
                j = -1
        if j >= 0:
            a = grid[max(j - 1, 0)]
            b = grid[min(j + 1, n - 1)]
            gb = grid[j]
            tb_ = taus[0, j]
            sb = sig[0, j]
            # golden-section search for the largest sigma; stop once an arc passes above p
            r = 0.5 * (3.0 - math.sqrt(5.0))
            c = a + r * (b - a)
            d = b - r * (b - a)
            tc, sc, _, _, _, _ = approach(site, frame, vb, tb, params, h, 0.0, c, p, tau_cap, st)
            td, sd, _, _, _, _ = approach(site, frame, vb, tb, params, h, 0.0, d, p, tau_cap, st)
            arcs += 2
            for _ in range(GOLDEN_STEPS):
                if sc > sb:
                    gb, tb_, sb = c, tc, sc
                if sd > sb:
                    gb, tb_, sb = d, td, sd
                if sb >= 0.0 or not (math.isfinite(sc) and math.isfinite(sd)):
                    break
                if sc > sd:
                    b = d
                    d, td, sd = c, tc, sc
                    c = a + r * (b - a)
                    tc, sc, _, _, _, _ = approach(site, frame, vb, tb, params, h, 0.0, c, p, tau_cap, st)
                else:
                    a = c
                    c, tc, sc = d, td, sd
                    d = b - r * (b - a)
                    td, sd, _, _, _, _ = approach(site, frame, vb, tb, params, h, 0.0, d, p, tau_cap, st)
                arcs += 1
            if math.isfinite(tb_):
                starts[m, 0] = gb
                starts[m, 1] = tb_
                m += 1
    for start in range(m + 1):
        if start < m:
            a, b, tau, conv, clear, na = newton(p, PLANE, site, basis, frame, vb, tb, em, floor, params, h, 0.0,
                                                starts[start, 0], starts[start, 1], J, False, tau_cap, fd_rad,
                                                conv_m, max_iter, max_step_rad, max_step_tau_s)
            arcs += na
            if not conv:
                continue
            az, x = plane_to_azel(frame, basis, a, b)
            if not (math.sin(x) > 0.0 and x >= floor):  # a full-speed arc below the floor is not a launch
                continue
        else:
            if not floor_again:
                continue
            az0, x0, t0 = floor_start(p, site, basis, vb, tb, floor)
            if not math.isfinite(x0):
                continue
            az, x, tau, conv, clear, na = newton(p, AZX, site, basis, frame, vb, tb, em, floor, params, h, az0, x0,
                                                 t0, J, False, tau_cap, fd_rad, conv_m, max_iter, max_step_rad,
                                                 max_step_tau_s)
            arcs += na
            if not (conv and elevation_ok(x, em, floor)):
                continue
            if math.cos(x) < 0.0:
                x = math.pi - x
                az = az + math.pi
            az = az % (2.0 * math.pi)
        if not (tau > 0.0 and tau <= max_tau and tb + tau < best):
            continue
        # the arc in (az, x): its clearance and miss, and the Jacobian there for warm starts
        clear = _arrive(site, basis, vb, tb, em, floor, params, h, az, x, tau, s0)
        _arrive(site, basis, vb, tb, em, floor, params, h, az + fd_rad, x, tau, s1)
        _arrive(site, basis, vb, tb, em, floor, params, h, az, x + fd_rad, tau, s2)
        arcs += 3
        miss = math.sqrt((s0[0] - p[0]) ** 2 + (s0[1] - p[1]) ** 2 + (s0[2] - p[2]) ** 2)
        if not (clear >= -1.0 and miss < 2.0 * conv_m):
            continue
        best = tb + tau
        out_arc[0] = az
        out_arc[1] = x
        out_arc[2] = tau
        for r in range(3):
            out_J[r, 0] = (s1[r] - s0[r]) / fd_rad
            out_J[r, 1] = (s2[r] - s0[r]) / fd_rad
            out_J[r, 2] = s0[3 + r]
    return best, arcs


@njit
def front_arc(J, x, em, floor):
    """Whether an arc (az, x, tau) with Jacobian J = d(arrival)/d(az, x, tau) reaches its point on the
    expanding front of the interceptor's reach (the first arrival there: the fast arc), rather than on
    its back as it falls past the point (a slow arc). The arcs launched at time 0 form at time tau a
    closed surface around the falling burnout sphere; d/daz x d/dx of a full-speed arc points into
    it when cos(x) > 0, so the surface moves outwards through the point when det(J) cos(x) < 0.
    Floor arcs are the one arc of their family through a point: always the fast arc."""
    if em and x < floor:
        return True
    det = (J[0, 0] * (J[1, 1] * J[2, 2] - J[1, 2] * J[2, 1]) - J[0, 1] * (J[1, 0] * J[2, 2] - J[1, 2] * J[2, 0])
           + J[0, 2] * (J[1, 0] * J[2, 1] - J[1, 1] * J[2, 0]))
    return not (det * math.cos(x) > 0.0)


# the reach screen (`reach_screen`): the RK4 arcs' distance from the exact flow from the same state (the solver's
# own miss, under 1 m, included), and the largest J2 deviation the screen works with
NUMERIC_MARGIN_M = 1000.0
J2_DEVIATION_MAX_M = 1.0e5


@njit
def _time_above(a, r, mu):
    """The longest stretch of time a Kepler orbit of semi-major axis a spends at radius >= r (s): inf
    when a >= r (such orbits may circle the Earth), 0 when 2 a <= r (the apoapsis is below r)."""
    if r >= 2.0 * a:
        return 0.0
    if a >= r:
        return math.inf
    e0 = math.acos(1.0 - r / a)
    return math.sqrt(a * a * a / mu) * (2.0 * (math.pi - e0) + 2.0 * math.sin(e0))


@njit
def reach_screen(site, vb, tb, params, h, tau_lim):
    """The per-battery constants of `beyond_reach`: (r1, energy, theta_max, d, reach0) with r1 the
    largest burnout radius, `energy` = V^2/2 + 2 mu J / R_g^3 (the left side of step 7 below),
    theta_max the Earth's largest turn during a valid arc, d the bound on the distance of the
    comparison orbit from the arc and reach0 = v_b t_b / 2; d = NaN where the screen proves nothing
    (it then excludes no point).

    A SOUND test that no valid arc (Flyout, module docstring: node altitudes >= -1 m, 0 < tau <= tau_lim,
    burnout speed 0 < v <= v_b, any direction) reaches a point P; points it does not exclude go to the
    solver, so it only saves work. The launch floor is ignored (fewer launches reach less). Notation:
    mu = GM, omega the rotation rate, J = J2 a_e^2 (params[4]), b = a_e sqrt(1 - e^2) the polar radius,
    S the site, rho the distance from the rotation axis. Steps (each an inequality on every valid arc):

    1. Burnout. B = S + (v t_b / 2) u, so |B - S| <= R_s = v_b t_b / 2 and |B| <= r1 = |S| + R_s. The
       inertial velocity there is v u + omega z x B, of norm <= V = v_b + |omega| (rho_S + R_s).
    2. Exact flow. The solver's arc is the RK4 arc; it stays within NUMERIC_MARGIN_M (1 km) of the exact
       flow from the same burnout state (RK4 at the 20 s step is within 10 m of DOP853 at every node,
       docs/models.md, How the models are validated), and it misses P by < 1 m. All below is on the exact flow.
    3. Ground. A point at geodetic altitude >= -1 m has radius >= b - 1 m (the nearest surface point is
       at >= b from the centre), so the exact nodes have radius >= R_n = b - 1 m - 1 km. Between nodes
       (<= h apart) the radius r(t) has r'' = (v^2 - r'^2)/r + g_r >= g_r >= -g_max, where the radial
       gravity is g_r = -mu/r^2 (1 + 1.5 J/r^2 (1 - 3 z^2/r^2)) >= -mu/r^2 (1 + 3 J/r^2), so
       r >= R_n - g_max h^2 / 8 = R_g all along the arc (g_max taken at R_n - 1 km; the dip, ~0.5 km at
       h = 20 s, is smaller, so this holds by continuity; a step with a larger dip turns the screen off).
    4. Energy. The inertial energy E = |w|^2/2 + U is conserved (gravity is axially symmetric and steady
       in the inertial frame), with U = -mu/r + U_J2 and |U_J2| <= mu J / r^3 (|P2| <= 1). -mu/r + mu J/r^3
       increases with r, so E <= V^2/2 - mu/r1 + mu J/r1^3.
    5. Comparison orbit. Let K be the Kepler (point-mass) orbit osculating the exact arc at its midpoint
       tau/2. Its energy is E - U_J2(midpoint) <= E_K = V^2/2 - mu/r_B + 2 mu J/R_g^3 (r_B >= R_g). The
       J2 acceleration is at most 3 mu J / r^4 = a_J (|(1 - 5s)^2 (1 - s) + (3 - 5s)^2 s| <= 4), and the
       point-mass gravity's gradient at most 2 mu / r^3 = k^2, both taken at R_lo = R_g - J2_DEVIATION_MAX_M;
       the difference delta of the two paths has delta(tau/2) = delta'(tau/2) = 0 and
       |delta''| <= k^2 |delta| + a_J, so (Gronwall) |delta(t)| <= D(|t - tau/2|) =
       a_J / k^2 (cosh(k |t - tau/2|) - 1) while that stays below J2_DEVIATION_MAX_M (which keeps both
       paths above R_lo). Without J2, D = 0.
    6. Flight time. K stays above R_g - D(tau/2) for all of [0, tau]. With E_K < 0 its semi-major axis is
       a <= a_max = mu / (2 |E_K|) (r_B <= r1), and a Kepler orbit of semi-major axis a < R spends at most
       sqrt(a^3/mu) (2 (pi - E0) + 2 sin E0), cos E0 = 1 - R/a, in one stretch above radius R (the
       radial orbit, e = 1: the time above R grows with e and with a) (`_time_above`). Every first part
       [0, t] of a valid arc is again such an arc, so with t_c the t where D(t/2) = J2_DEVIATION_MAX_M:
       when T_above(a_max, R_g - J2_DEVIATION_MAX_M) = t_1 < t_c, no arc lasts t_c (its first t_c would
       last at most t_1), so tau <= t_1. From tau_max = min(tau_lim, that) (the solver accepts no arc
       longer than tau_lim), tau_max <- T_above(a_max, R_g - D(tau_max / 2)) is iterated (each value a
       bound given the previous one). Then theta_max = omega tau_max (signed).
    7. Lambert. K passes within d = D(tau_max/2) + 1 km of B (at 0) and of the inertial image of P at tau,
       Rz(omega tau) P (the ECEF point P turns with the Earth; the inertial frame is ECEF at burnout).
       Any conic through two points at radii r_1, r_2 and chord c has 2 a >= s = (r_1 + r_2 + c)/2
       (the ellipse's two focal distances sum to 2 a at both points, and the triangle inequality
       through the empty focus; a parabola or hyperbola has E >= 0), so E >= -mu/s, i.e.
       V^2/2 + 2 mu J / R_g^3 >= mu / r_B - 2 mu / (r_B + Kp) with Kp = |P| + c_lb - 2 d and
       c_lb = max(min_{0 <= theta <= theta_max} |Rz(theta) P - S| - R_s - 2 d, 0). The right side decreases
       in r_B when Kp > (sqrt(2) - 1) r_B, so with Kp >= r1 / 2 it is at least its value at r_B = r1.
    `beyond_reach` excludes P when Kp >= r1 / 2 and mu/r1 - 2 mu/(r1 + Kp) exceeds the left side by more
    than 1e-9 mu/r1 (round-off)."""
    mu = params[2]
    omega = params[3]
    jj = abs(params[4])
    reach0 = 0.5 * vb * tb
    r1 = math.sqrt(site[0] * site[0] + site[1] * site[1] + site[2] * site[2]) + reach0
    vmax = vb + abs(omega) * (math.hypot(site[0], site[1]) + reach0)
    rn = params[0] * math.sqrt(1.0 - params[1]) - 1.0 - NUMERIC_MARGIN_M
    rd = rn - 1000.0
    g_max = mu / (rd * rd) * (1.0 + 3.0 * jj / (rd * rd))
    rg = rn - g_max * h * h / 8.0
    lhs = 0.5 * vmax * vmax + 2.0 * mu * jj / (rg * rg * rg)
    r_lo = rg - J2_DEVIATION_MAX_M
    k = math.sqrt(2.0 * mu / (r_lo * r_lo * r_lo))
    a_j = 3.0 * mu * jj / (r_lo * r_lo * r_lo * r_lo)
    tau = tau_lim
    e_k = lhs - mu / r1
    if e_k < 0.0:
        a_max = -mu / (2.0 * e_k)
        # the longest arc whose D(tau/2) stays within J2_DEVIATION_MAX_M
        t_c = 2.0 * math.acosh(1.0 + J2_DEVIATION_MAX_M * k * k / a_j) / k if a_j > 0.0 else math.inf
        t_1 = _time_above(a_max, rg - J2_DEVIATION_MAX_M, mu)
        if t_1 < t_c:
            tau = min(tau, t_1)
        if tau <= t_c:
            for _ in range(6):
                dev = a_j / (k * k) * (math.cosh(k * 0.5 * tau) - 1.0)
                tau = min(tau, _time_above(a_max, rg - dev, mu))
    dev = a_j / (k * k) * (math.cosh(k * 0.5 * tau) - 1.0)
    if not (dev <= J2_DEVIATION_MAX_M and tau < math.inf and rn - rg <= 1000.0):
        return r1, lhs, 0.0, math.nan, reach0
    return r1, lhs, omega * tau, dev + NUMERIC_MARGIN_M, reach0


@njit
def beyond_reach(p, site, params, r1, lhs, theta_max, d, reach0):
    """Whether the reach screen (`reach_screen`, with its constants) proves that no valid arc reaches p."""
    if not (d >= 0.0):
        return False
    mu = params[2]
    kc = p[0] * site[0] + p[1] * site[1]
    ks = p[0] * site[1] - p[1] * site[0]
    th = abs(theta_max)
    if theta_max < 0.0:
        ks = -ks
    # the largest Rz(theta) p . s over 0 <= theta <= th: kc cos(theta) + ks sin(theta)
    kk = math.hypot(kc, ks)
    ts = math.atan2(ks, kc)
    if th >= math.pi or (ts >= 0.0 and ts <= th):
        dot = kk
    else:
        dot = max(kc, kc * math.cos(th) + ks * math.sin(th))
    dot += p[2] * site[2]
    pp = p[0] * p[0] + p[1] * p[1] + p[2] * p[2]
    ss = site[0] * site[0] + site[1] * site[1] + site[2] * site[2]
    dist = math.sqrt(max(pp + ss - 2.0 * dot, 0.0))
    c_lb = max(dist - reach0 - 2.0 * d, 0.0)
    kp = math.sqrt(pp) + c_lb - 2.0 * d
    if not (kp >= 0.5 * r1):
        return False
    return mu / r1 - 2.0 * mu / (r1 + kp) > lhs + 1e-9 * mu / r1


@njit(parallel=True)
def solve_batch(p, guess, guess_p, guess_J, site, basis, vb, tb, em, floor, params, h, tau_cap, max_tau, fd_rad,
                conv_m, max_iter, max_step_rad, max_step_tau_s, same_arc_s, screen, vbs):
    """Fast arcs of points p (k, 3): T (k,) (inf: unreachable), (az, x, tau) (k, 3) normalised to
    x <= pi/2, az in [0, 2 pi), the arcs propagated per point (k,), the Jacobian (k, 3, 3) at the
    fast arc (in the normalised angles; NaN where none), the burnout speed (k,) and the family (k,)
    of the arc (FAMILY_*; NaN speed and FAMILY_NONE where none).

    With energy management a point inside the burnout sphere (closer than v_b t_b / 2) and at or above
    the floor is reached at burnout: T = t_b, the arc (az, elevation, 0) at speed 2 |P - S| / t_b
    (FAMILY_BURNOUT). Otherwise: a finite warm start guess[i] is tried first. When it is the exact
    solution for the point guess_p[i] with Jacobian guess_J[i] (both finite), it is first moved by one
    chord step, guess + J^-1 (p - guess_p), and Newton starts with J borrowed (see `newton`); with
    guess_J[i] finite and guess_p[i] NaN, Newton starts at the guess itself with J borrowed, and an arc
    found more than BORROWED_JUMP_S from the guess's tau is not taken from that start. A valid
    arc from the warm or the low start ends the search when it is on the front of the reach
    (`front_arc`) or the point lies inside the burnout sphere (where every arc reaches it on the back);
    otherwise the search goes on, and a later arc replaces it only when faster by `same_arc_s`.

    With `screen`, points that `beyond_reach` proves unreachable (after the burnout test) are left at
    T = inf, no arc, FAMILY_NONE and 0 arcs propagated, without any start: the result of the search
    there, found without it.

    `vbs`: per-point burnout speeds (k,) in place of v_b (each point's own reach screen), or empty: v_b for
    every point (an uncertainty run's sampled speeds solved in one batch, interceptor/flyout.py)."""
    k = p.shape[0]
    per_point = vbs.shape[0] > 0
    T = np.full(k, math.inf)
    sol = np.full((k, 3), math.nan)
    jac = np.full((k, 3, 3), math.nan)
    arcs = np.zeros(k, dtype=np.int64)
    speed = np.full(k, math.nan)
    family = np.zeros(k, dtype=np.int8)
    no_frame = np.empty((3, 3))
    reach0 = 0.5 * vb * tb  # the burnout sphere's radius
    sc_r1, sc_lhs, sc_theta, sc_d, _ = reach_screen(site, vb, tb, params, h, min(tau_cap, max_tau))
    if not screen:
        sc_d = math.nan
    for i in prange(k):
        vbi, reach0_i, r1_i, lhs_i, theta_i, d_i = vb, reach0, sc_r1, sc_lhs, sc_theta, sc_d
        if per_point:  # this point's own burnout speed, and the reach screen's constants for it
            vbi = vbs[i]
            reach0_i = 0.5 * vbi * tb
            r1_i, lhs_i, theta_i, d_i, _ = reach_screen(site, vbi, tb, params, h, min(tau_cap, max_tau))
            if not screen:
                d_i = math.nan
        pi_ = p[i]
        dx = pi_[0] - site[0]
        dy = pi_[1] - site[1]
        dz = pi_[2] - site[2]
        dist = math.sqrt(dx * dx + dy * dy + dz * dz)
        inside = dist < reach0_i
        el_p = math.asin(min(max((dx * basis[2, 0] + dy * basis[2, 1] + dz * basis[2, 2]) / dist, -1.0), 1.0)) \
            if dist > 0.0 else math.pi / 2
        # on the sphere to the solver's convergence (conv_m) counts as inside: reached at burnout at v_b
        if em and dist < reach0_i + conv_m and dist > 0.0:
            if el_p >= floor:
                T[i] = tb
                sol[i, 0] = math.atan2(dx * basis[0, 0] + dy * basis[0, 1] + dz * basis[0, 2],
                                       dx * basis[1, 0] + dy * basis[1, 1] + dz * basis[1, 2]) % (2.0 * math.pi)
                sol[i, 1] = el_p
                sol[i, 2] = 0.0
                speed[i] = min(dist / reach0_i, 1.0) * vbi
                family[i] = FAMILY_BURNOUT
                continue
        if beyond_reach(pi_, site, params, r1_i, lhs_i, theta_i, d_i, reach0_i):
            continue
        J = np.empty((3, 3))
        s_t = np.empty(6)
        low_forbidden = False
        found = False
        used_floor = False
        cont = False  # went on past a slow (back) arc from the warm or the low start
        for si in range(3):
            chord = False
            jump_s = math.inf
            if si == 0:
                az0, el0, tau0 = guess[i, 0], guess[i, 1], guess[i, 2]
                if not (math.isfinite(az0) and math.isfinite(el0) and tau0 > 0.0 and tau0 < math.inf):
                    continue
                chord = np.isfinite(guess_J[i]).all()
                if chord:
                    J[:, :] = guess_J[i]
                    # a Jacobian without its point (a flyout table's, near the fast arc): the arc found from it
                    # lies near the start; one far from it is not taken on that Jacobian's word (`front_arc`)
                    jump_s = BORROWED_JUMP_S
                if chord and math.isfinite(guess_p[i, 0]):
                    d0, d1, d2 = _solve3(J, pi_[0] - guess_p[i, 0], pi_[1] - guess_p[i, 1], pi_[2] - guess_p[i, 2])
                    if math.isfinite(d0) and math.isfinite(d1) and math.isfinite(d2):
                        az0 += d0
                        el0 += d1
                        tau0 = max(tau0 + d2, 1e-3)
                        # from a predicted start Newton moves tau by a second-order amount; a large
                        # move means it crossed the fold to the other (slow) arc
                        jump_s = 1.0 + 0.2 * abs(d2)
                    else:
                        chord = False
            else:
                az0, el0, tau0 = flat_earth_start(pi_, site, basis, vbi, tb, si == 2)
                if em and si == 1 and el0 < floor:
                    fa, fx, ft = floor_start(pi_, site, basis, vbi, tb, floor)
                    if math.isfinite(fx):
                        az0, el0, tau0 = fa, fx, ft
                        used_floor = True
            chord_in = chord
            az, el, tau, conv, clear, n = newton(pi_, AZX, site, basis, no_frame, vbi, tb, em, floor, params, h, az0,
                                                 el0, tau0, J, chord, tau_cap, fd_rad, conv_m, max_iter, max_step_rad,
                                                 max_step_tau_s)
            arcs[i] += n
            arc_ok = conv and tau > 0.0 and clear >= -1.0 and tau <= max_tau
            valid = arc_ok and elevation_ok(el, em, floor)
            if si == 1 and arc_ok and not valid:
                low_forbidden = True  # the low arc exists but needs a launch below the floor
            if abs(tau - tau0) > jump_s:
                valid = False
            az_raw = az
            x_raw = el
            better = valid and (tb + tau < T[i] - same_arc_s if cont else tb + tau < T[i])
            if valid and not (chord_in or n > 1) and (better or (si < 2 and not inside)):
                # converged at once without a borrowed Jacobian: Newton computed none at this arc (J holds
                # an earlier start's, or nothing at all), so the Jacobian there, to keep and for the test
                arcs[i] += _jacobian(site, basis, vbi, tb, em, floor, params, h, az_raw, x_raw, tau, fd_rad, J, s_t)
            if better:
                T[i] = tb + tau
                jac[i] = J
                family[i] = FAMILY_FLOOR if em and el < floor else FAMILY_FULL
                if math.cos(el) < 0.0:
                    el = math.pi - el
                    az = az + math.pi
                    for r in range(3):  # d/d(pi - el) = -d/del
                        jac[i, r, 1] = -J[r, 1]
                sol[i, 0] = az % (2.0 * math.pi)
                sol[i, 1] = el
                sol[i, 2] = tau
            # a valid arc from the warm start or the low start is the fast arc when it reaches the point
            # on the front of the reach: the high start only for the rest
            if valid and si < 2:
                if inside:
                    found = True
                    break
                if front_arc(J, x_raw, em, floor):
                    found = True
                    break
                cont = True
        if not found and not inside and (not low_forbidden or not math.isfinite(T[i])):
            fb_arc = np.empty(3)
            fb_J = np.empty((3, 3))
            Tf, n = _fallback(pi_, site, basis, vbi, tb, em, floor, params, h, tau_cap, max_tau, fd_rad, conv_m,
                              max_iter, max_step_rad, max_step_tau_s, em and not used_floor, fb_arc, fb_J)
            arcs[i] += n
            if Tf < T[i] - same_arc_s:
                T[i] = Tf
                sol[i, 0] = fb_arc[0]
                sol[i, 1] = fb_arc[1]
                sol[i, 2] = fb_arc[2]
                jac[i] = fb_J
                family[i] = FAMILY_FLOOR if em and fb_arc[1] < floor else FAMILY_FULL
        if em and el_p < floor and dist < NEAR_SPHERE * reach0_i:
            # below the floor near the burnout sphere: the floor arc whose boost leg takes it most of the way
            az0, x0, t0 = boosted_floor_start(pi_, site, basis, vbi, tb, floor)
            if math.isfinite(x0):
                az, x, tau, conv, clear, n = newton(pi_, AZX, site, basis, no_frame, vbi, tb, em, floor, params, h,
                                                    az0, x0, t0, J, False, tau_cap, fd_rad, conv_m, max_iter,
                                                    max_step_rad, max_step_tau_s)
                arcs[i] += n
                if (conv and tau > 0.0 and clear >= -1.0 and tau <= max_tau and x < floor
                        and elevation_ok(x, em, floor) and tb + tau < T[i] - same_arc_s):
                    if n == 1:  # converged at once: no Jacobian computed at this arc
                        arcs[i] += _jacobian(site, basis, vbi, tb, em, floor, params, h, az, x, tau, fd_rad, J, s_t)
                    T[i] = tb + tau
                    jac[i] = J
                    family[i] = FAMILY_FLOOR
                    sol[i, 0] = az % (2.0 * math.pi)
                    sol[i, 1] = x
                    sol[i, 2] = tau
        if math.isfinite(T[i]):
            speed[i] = launch_speed(vbi, em, floor, sol[i, 1])[1]
    return T, sol, arcs, jac, speed, family
