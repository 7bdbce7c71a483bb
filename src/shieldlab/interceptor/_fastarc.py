"""Compiled fast-arc solver of the straight-boost interceptor (MODELS.md section 4), one point per
loop iteration so every point stops as soon as it is solved.

For a point P: Newton on (az, el, tau) with the ECEF miss as residual (d/dtau is the arrival
velocity, d/daz and d/del by forward differences), tried from up to three starts in order: a warm
start (when finite), the low flat-Earth arc, the high flat-Earth arc. A valid arc from any start but
the last ends the search; otherwise the least valid time wins. The Jacobian is only propagated when
the miss has not yet converged, so a point that converges after n steps costs 3 n + 1 arcs.
"""

from __future__ import annotations

import math

import numpy as np

from shieldlab._jit import njit, prange
from shieldlab.freeflight import MAX_FLIGHT_S, state_at

G0_M_S2 = 9.80665


@njit
def _arrive(site, basis, vb, tb, params, h, az, el, tau, out):
    """ECEF state at tau after burnout of the arc launched towards (az, el) into out[0:6]; returns
    the arc's clearance (least node altitude), NaN when tau is outside [0, MAX_FLIGHT_S)."""
    if not (tau >= 0.0 and tau < MAX_FLIGHT_S):
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
        r0[j] = site[j] + 0.5 * vb * tb * u
        v0[j] = vb * u
    return state_at(r0, v0, params, h, tau, out)


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
def newton(p, site, basis, vb, tb, params, h, az, el, tau, J, chord, tau_cap, fd_rad, conv_m, max_iter,
           max_step_rad, max_step_tau_s):
    """Newton from (az, el, tau); returns (az, el, tau, converged, clearance, arcs propagated).

    J (3, 3) holds on return the last Jacobian d(arrival position)/d(az, el, tau) used. With
    `chord`, J comes in as the Jacobian of a nearby solution and is reused (chord steps, one arc
    each) while the miss keeps falling at least fourfold per step; otherwise, and from then on,
    d/daz and d/del are forward differences (two more arcs) and d/dtau the arrival velocity."""
    s0 = np.empty(6)
    s1 = np.empty(6)
    s2 = np.empty(6)
    prev_miss = math.inf
    strikes = 0
    clear = math.nan
    arcs = 0
    for _ in range(max_iter):
        clear = _arrive(site, basis, vb, tb, params, h, az, el, tau, s0)
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
        if strikes >= 2 or tau >= tau_cap:
            break
        if not chord:
            _arrive(site, basis, vb, tb, params, h, az + fd_rad, el, tau, s1)
            _arrive(site, basis, vb, tb, params, h, az, el + fd_rad, tau, s2)
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


@njit(parallel=True)
def solve_batch(p, guess, guess_p, guess_J, site, basis, vb, tb, params, h, tau_cap, max_tau, fd_rad, conv_m,
                max_iter, max_step_rad, max_step_tau_s):
    """Fast arcs of points p (k, 3): T (k,) (inf: unreachable), (az, el, tau) (k, 3) normalised to
    el in (0, pi/2], az in [0, 2 pi), the arcs propagated per point (k,) and the Jacobian (k, 3, 3)
    at the fast arc (in the normalised angles; NaN where none).

    A finite warm start guess[i] is tried first. When it is the exact solution for the point
    guess_p[i] with Jacobian guess_J[i] (both finite), it is first moved by one chord step,
    guess + J^-1 (p - guess_p), and Newton starts with J borrowed (see `newton`)."""
    k = p.shape[0]
    T = np.full(k, math.inf)
    sol = np.full((k, 3), math.nan)
    jac = np.full((k, 3, 3), math.nan)
    arcs = np.zeros(k, dtype=np.int64)
    for i in prange(k):
        pi_ = p[i]
        J = np.empty((3, 3))
        for si in range(3):
            chord = False
            jump_s = math.inf
            if si == 0:
                az0, el0, tau0 = guess[i, 0], guess[i, 1], guess[i, 2]
                if not (math.isfinite(az0) and math.isfinite(el0) and math.isfinite(tau0)):
                    continue
                chord = math.isfinite(guess_p[i, 0]) and np.isfinite(guess_J[i]).all()
                if chord:
                    J[:, :] = guess_J[i]
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
                az0, el0, tau0 = flat_earth_start(pi_, site, basis, vb, tb, si == 2)
            az, el, tau, conv, clear, n = newton(pi_, site, basis, vb, tb, params, h, az0, el0, tau0, J, chord,
                                                 tau_cap, fd_rad, conv_m, max_iter, max_step_rad, max_step_tau_s)
            arcs[i] += n
            valid = conv and tau > 0.0 and math.sin(el) > 0.0 and clear >= -1.0 and tau <= max_tau
            if abs(tau - tau0) > jump_s:
                valid = False
            if valid and tb + tau < T[i]:
                T[i] = tb + tau
                jac[i] = J
                if math.cos(el) < 0.0:
                    el = math.pi - el
                    az = az + math.pi
                    for r in range(3):  # d/d(pi - el) = -d/del
                        jac[i, r, 1] = -J[r, 1]
                sol[i, 0] = az % (2.0 * math.pi)
                sol[i, 1] = el
                sol[i, 2] = tau
            # a valid arc from the warm start or the low start is the fast arc: the high start
            # only for the rest
            if valid and si < 2:
                break
    return T, sol, arcs, jac
