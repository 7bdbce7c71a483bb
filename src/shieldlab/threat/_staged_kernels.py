"""Compiled kernels of the staged threat model (docs/models.md, The staged model): the powered ascent through the
atmosphere and the payload's free flight with drag to impact, for many threats at once.

Frame: the inertial frame that coincides with ECEF at the launch (flight time tau = 0). Gravity (point mass +
J2) and the atmosphere (a function of the geodetic altitude) are symmetric about the rotation axis, so this gives
the same Earth-fixed path as the scenario's inertial frame aligned at scenario time 0; every state handed out is
converted to ECEF at its own flight time (the Earth turned by omega tau). All times are flight times tau, seconds
since launch.

Integration: classical RK4 with fixed steps. Powered flight: steps of at most `h_pow` between consecutive events
(ignitions, ends of burn, the kick at the end of the vertical rise, the cut-off) and node times, so that every
event is met exactly and never stepped across. Free flight: steps of `step` (one node interval) where the whole
step stays above the atmosphere's top (86 km, no drag), else `ceil(step / h_atm)` equal substeps; impact (geodetic
altitude 0) and apogee (altitude rate 0) are located by Newton/Illinois iterations on partial steps.

Rows of the inputs (n threats):
- r_launch (n, 3), up_launch (n, 3): launch point and its geodetic up, ECEF (m);
- aim (n, 4): launch azimuth alpha0 (rad), kick delta (rad), cut-off time t_c (s; NaN or beyond the last stage's
  end: full burn; before the last stage's ignition: that stage does not burn), ground level (m; the powered flight
  has crashed when its geodetic altitude falls below it);
- veh (n, 4): payload mass (kg), C_D * A (m^2), vertical rise t_v (s, > 0), 1 / (2 beta) (m^2/kg; 0: no drag);
- stages (n, S, 5): propellant mass (kg), dry mass (kg), burn time (s), isp (s), coast before ignition (s); rows
  past nst[i] are ignored.
`params` is Earth.kernel_params (a, e2, GM, omega, J2 a^2). `ug` > 0 replaces the gravity by the uniform field
-ug * up_launch (a test hook for closed-form checks; meant with omega = 0).

Status codes: 0 ok, 1 no impact within the time limit, 2 crashed (back on the ground before burnout).
"""

from __future__ import annotations

import math

import numpy as np

from shieldlab._jit import njit, prange
from shieldlab.atmosphere import TOP_GEOMETRIC_M, density_fast_kg_m3
from shieldlab.earth._kernels import altitude_rate, geodetic_sin_cos_alt, gravity
from shieldlab.freeflight import inertial_to_ecef

OK, NO_IMPACT, CRASHED = 0, 1, 2
G0_M_S2 = 9.80665  # standard gravity, for specific impulse
CRASH_TOL_M = 1e-3  # below the ground level by more than this: crashed


# The air density needs the geodetic altitude h at every RK4 stage below the atmosphere's top. It is taken as the
# *radial* altitude h_r = |r| - R(phi_c): the distance from the ellipsoid along the line to the Earth's centre,
# R(phi_c) = b / sqrt(1 - e2 cos^2 phi_c) the ellipsoid's radius at the point's geocentric latitude phi_c (two
# square roots, no iteration). Bound: the radial line leaves the ellipsoid at an angle d from the normal through
# the point, d <= max |geodetic - geocentric latitude| = e2 / (2 sqrt(1 - e2)) = 3.37e-3 rad on WGS 84; against
# the tangent plane at the normal's foot the radial line is h / cos(d) long, and the ellipsoid's curvature adds
# s^2 / (2 rho) with s = h tan(d) and rho >= b^2 / a: so 0 <= h_r - h <= h (1 / cos(d) - 1) + (h d)^2 / (2 rho)
# <= 5.7e-6 h + 1e-9 h^2/m: under 0.5 m at the top (86 km), i.e. under 1e-4 of the density (scale height >= 5 km).
# tests/test_staged.py checks the bound against the exact altitude.


@njit
def radial_altitude(x, y, z, params):
    """The radial altitude h_r (m; see above) of a point: within 0.5 m (above) of the geodetic altitude below
    86 km."""
    a = params[0]
    e2 = params[1]
    r2 = x * x + y * y + z * z
    r = math.sqrt(r2)
    if r == 0.0:
        return -a
    cos2 = (x * x + y * y) / r2  # cos^2 of the geocentric latitude
    return r - a * math.sqrt((1.0 - e2) / (1.0 - e2 * cos2))


@njit
def _density_at(x, y, z, params):
    """Air density at an inertial (or ECEF) point, at its radial altitude (see `radial_altitude`)."""
    h = radial_altitude(x, y, z, params)
    if h > TOP_GEOMETRIC_M:
        return 0.0
    return density_fast_kg_m3(h)


@njit
def _alt_rate(x, y, z, vx, vy, vz, params):
    """Geodetic altitude and its rate (earth._kernels.altitude_rate) with one Bowring step: sub-millimetre at
    the ground, well under a metre below 5,000 km; used in the free flight's substeps in the atmosphere."""
    return altitude_rate(x, y, z, vx, vy, vz, params, 1)


@njit
def _accel(tau, x, y, z, vx, vy, vz, thrust, m0, mdot, t0, cda, kfree, turned, u0, params, ug):
    """Acceleration (inertial, m/s^2) at flight time tau. Ascent (m0 > 0): mass m0 - mdot (tau - t0), thrust
    along the launch point's up (fixed in the Earth) before the kick, along w after it, drag rho C_D A |w| w / (2m).
    Free flight (m0 = 0): drag rho |w| w kfree with kfree = 1 / (2 beta). w = v - omega z x r."""
    om = params[3]
    if ug > 0.0:
        ax = -ug * u0[0]
        ay = -ug * u0[1]
        az = -ug * u0[2]
    else:
        ax, ay, az = gravity(x, y, z, params)
    wx = vx + om * y
    wy = vy - om * x
    wz = vz
    if m0 > 0.0:
        inv_m = 1.0 / (m0 - mdot * (tau - t0))
        q = 0.5 * cda * inv_m
        fa = thrust * inv_m
    else:
        q = kfree
        fa = 0.0
    wn = 0.0
    if q > 0.0 or (fa > 0.0 and turned):
        wn = math.sqrt(wx * wx + wy * wy + wz * wz)
    if q > 0.0 and wn > 0.0:
        rho = _density_at(x, y, z, params)
        if rho > 0.0:
            d = rho * q * wn
            ax -= d * wx
            ay -= d * wy
            az -= d * wz
    if fa > 0.0:
        if turned and wn > 0.0:
            f = fa / wn
            ax += f * wx
            ay += f * wy
            az += f * wz
        else:  # the launch point's up, turned with the Earth
            th = om * tau
            c = math.cos(th)
            s = math.sin(th)
            ax += fa * (c * u0[0] - s * u0[1])
            ay += fa * (s * u0[0] + c * u0[1])
            az += fa * u0[2]
    return ax, ay, az


@njit
def _rk4(tau, x, y, z, vx, vy, vz, h, thrust, m0, mdot, t0, cda, kfree, turned, u0, params, ug):
    """One classical Runge-Kutta step of size h from flight time tau."""
    h2 = 0.5 * h
    a1x, a1y, a1z = _accel(tau, x, y, z, vx, vy, vz, thrust, m0, mdot, t0, cda, kfree, turned, u0, params, ug)
    x2 = x + h2 * vx
    y2 = y + h2 * vy
    z2 = z + h2 * vz
    v2x = vx + h2 * a1x
    v2y = vy + h2 * a1y
    v2z = vz + h2 * a1z
    a2x, a2y, a2z = _accel(tau + h2, x2, y2, z2, v2x, v2y, v2z, thrust, m0, mdot, t0, cda, kfree, turned, u0,
                           params, ug)
    x3 = x + h2 * v2x
    y3 = y + h2 * v2y
    z3 = z + h2 * v2z
    v3x = vx + h2 * a2x
    v3y = vy + h2 * a2y
    v3z = vz + h2 * a2z
    a3x, a3y, a3z = _accel(tau + h2, x3, y3, z3, v3x, v3y, v3z, thrust, m0, mdot, t0, cda, kfree, turned, u0,
                           params, ug)
    x4 = x + h * v3x
    y4 = y + h * v3y
    z4 = z + h * v3z
    v4x = vx + h * a3x
    v4y = vy + h * a3y
    v4z = vz + h * a3z
    a4x, a4y, a4z = _accel(tau + h, x4, y4, z4, v4x, v4y, v4z, thrust, m0, mdot, t0, cda, kfree, turned, u0,
                           params, ug)
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
def _free_step(tau, s, h, kfree, u0, params, ug):
    """One RK4 step of the payload's free flight (gravity and drag) from state s (6-tuple) at flight time tau."""
    return _rk4(tau, s[0], s[1], s[2], s[3], s[4], s[5], h, 0.0, 0.0, 0.0, 0.0, 0.0, kfree, False, u0, params, ug)


@njit
def _refine_free(tau, s, h, kfree, u0, params, ug, kind):
    """Partial step dt in (0, h] from state s at tau to an event inside the step: kind 0 = altitude 0 (impact;
    Newton steps, the altitude's derivative being the altitude rate), kind 1 = altitude rate 0 (apogee; Illinois
    steps); both kept inside the shrinking bracket (bisection if a step would leave it)."""
    alt0, rate0 = altitude_rate(s[0], s[1], s[2], s[3], s[4], s[5], params)
    e = _free_step(tau, s, h, kfree, u0, params, ug)
    alt1, rate1 = altitude_rate(e[0], e[1], e[2], e[3], e[4], e[5], params)
    f0 = alt0 if kind == 0 else rate0
    f1 = alt1 if kind == 0 else rate1
    lo, hi, flo, fhi = 0.0, h, f0, f1
    t = h * f0 / (f0 - f1) if f0 != f1 else 0.5 * h
    if not (0.0 < t <= h):
        t = 0.5 * h
    side = 0
    for _ in range(60):
        p = _free_step(tau, s, t, kfree, u0, params, ug)
        alt, rate = altitude_rate(p[0], p[1], p[2], p[3], p[4], p[5], params)
        ft = alt if kind == 0 else rate
        if ft == 0.0:
            return t
        if (ft > 0.0) == (flo > 0.0):
            lo, flo = t, ft
            if side == -1:
                fhi *= 0.5
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
def _turn(x, y, z, vx, vy, vz, az0, kick, params):
    """The kick: the Earth-relative velocity turned, keeping its magnitude, to elevation 90 deg - kick in the
    vertical plane of azimuth az0 at the current point. Returns the new inertial velocity."""
    om = params[3]
    wx = vx + om * y
    wy = vy - om * x
    wz = vz
    wn = math.sqrt(wx * wx + wy * wy + wz * wz)
    sl, cl, _ = geodetic_sin_cos_alt(x, y, z, params)
    lon = math.atan2(y, x)
    so = math.sin(lon)
    co = math.cos(lon)
    ce = math.sin(kick)  # cos(elevation)
    se = math.cos(kick)  # sin(elevation)
    sa = math.sin(az0)
    ca = math.cos(az0)
    # east (-so, co, 0), north (-sl co, -sl so, cl), up (cl co, cl so, sl)
    dx = ce * (sa * -so + ca * -sl * co) + se * cl * co
    dy = ce * (sa * co + ca * -sl * so) + se * cl * so
    dz = ce * ca * cl + se * sl
    return wn * dx - om * y, wn * dy + om * x, wn * dz


@njit
def _store(nodes, k, tau, s, omega):
    if k < nodes.shape[0]:
        nodes[k, 0] = tau
        inertial_to_ecef(tau, s[0], s[1], s[2], s[3], s[4], s[5], omega, nodes[k, 1:])


@njit
def _phases(stages, nst, payload, t_cut):
    """The ascent's phases (start, end, thrust N, mass rate kg/s, mass at start kg) in firing order, each of
    positive length, and the burnout time (the end of the last one)."""
    ph = np.zeros((2 * nst, 5))
    m = payload
    for k in range(nst):
        m += stages[k, 0] + stages[k, 1]
    t = 0.0
    n = 0
    for k in range(nst):
        coast = stages[k, 4]
        if coast > 0.0:
            ph[n, 0] = t
            ph[n, 1] = t + coast
            ph[n, 4] = m
            n += 1
            t += coast
        tb = stages[k, 2]
        end = t + tb
        if k == nst - 1 and t_cut == t_cut:  # a cut-off (not NaN) of the last stage
            end = min(end, max(t_cut, t))
        if end > t:
            ph[n, 0] = t
            ph[n, 1] = end
            ph[n, 2] = stages[k, 3] * G0_M_S2 * stages[k, 0] / tb
            ph[n, 3] = stages[k, 0] / tb
            ph[n, 4] = m
            n += 1
        t = end
        m -= stages[k, 0] + stages[k, 1]
    return ph[:n], t


@njit
def fly_one(r_launch, up_launch, aim, veh, stages, nst, params, ug, h_pow, node_dt, step, h_atm, tmax, pnodes,
            fnodes):
    """Ascent and free flight of one threat. pnodes (P, 7) / fnodes (F, 7) receive the powered-flight nodes (every
    node_dt from tau = 0, the burnout state last) and the free-flight nodes (every `step` from burnout, the impact
    last), (tau, r_ecef, v_ecef), as many as fit. Returns (status, t_bo, burnout ecef (6), powered node count,
    free node count (both as needed, even beyond the arrays' capacity), tau_impact, impact ecef (6), tau_apogee,
    apogee altitude, apogee ecef (6))."""
    om = params[3]
    az0 = aim[0]
    kick = aim[1]
    t_cut = aim[2]
    ground = aim[3]
    payload = veh[0]
    cda = veh[1]
    t_v = veh[2]
    kfree = veh[3]
    bo = np.full(6, np.nan)
    imp = np.full(6, np.nan)
    apo = np.full(6, np.nan)
    ph, t_bo = _phases(stages, nst, payload, t_cut)
    nph = ph.shape[0]
    u0 = up_launch
    x = r_launch[0]
    y = r_launch[1]
    z = r_launch[2]
    vx = -om * y  # at rest on the Earth
    vy = om * x
    vz = 0.0
    tau = 0.0
    s = (x, y, z, vx, vy, vz)
    _store(pnodes, 0, 0.0, s, om)
    npn = 1
    nxt = 1  # index of the next node time
    turned = False
    p = 0
    a_eq = params[0]
    while p < nph:
        t_next = min(ph[p, 1], nxt * node_dt)
        if not turned and t_v < t_next:
            t_next = t_v
        if t_next > tau:
            nsub = max(1, int(math.ceil((t_next - tau) / h_pow - 1e-9)))
            hh = (t_next - tau) / nsub
            for q in range(nsub):
                tq = tau + q * hh
                s = _rk4(tq, s[0], s[1], s[2], s[3], s[4], s[5], hh, ph[p, 2], ph[p, 4], ph[p, 3], ph[p, 0], cda,
                         0.0, turned, u0, params, ug)
                r = math.sqrt(s[0] * s[0] + s[1] * s[1] + s[2] * s[2])
                if r - a_eq < ground + 1.0:  # altitude >= |r| - a: only then can it be below the ground
                    _, _, alt = geodetic_sin_cos_alt(s[0], s[1], s[2], params)
                    if alt < ground - CRASH_TOL_M:
                        return CRASHED, t_bo, bo, npn, 0, math.nan, imp, math.nan, math.nan, apo
        tau = t_next
        if not turned and tau == t_v:
            nv = _turn(s[0], s[1], s[2], s[3], s[4], s[5], az0, kick, params)
            s = (s[0], s[1], s[2], nv[0], nv[1], nv[2])
            turned = True
        if tau == nxt * node_dt:
            _store(pnodes, npn, tau, s, om)
            npn += 1
            nxt += 1
        if tau == ph[p, 1]:
            p += 1
    if tau != (nxt - 1) * node_dt:  # the burnout state as the last node
        _store(pnodes, npn, tau, s, om)
        npn += 1
    inertial_to_ecef(tau, s[0], s[1], s[2], s[3], s[4], s[5], om, bo)

    # free flight of the payload
    alt, rate = altitude_rate(s[0], s[1], s[2], s[3], s[4], s[5], params)
    alt_apo = alt
    tau_apo = tau
    apo[:] = bo
    _store(fnodes, 0, tau, s, om)
    nfn = 1
    nsteps = int(tmax / step) + 1
    nsub = max(1, int(math.ceil(step / h_atm - 1e-9)))
    hs = step / nsub
    for j in range(nsteps):
        tj = t_bo + j * step
        big = False
        if alt > TOP_GEOMETRIC_M:
            e = _free_step(tj, s, step, kfree, u0, params, ug)
            alt1, rate1 = altitude_rate(e[0], e[1], e[2], e[3], e[4], e[5], params)
            if alt1 > TOP_GEOMETRIC_M and not (rate < 0.0 < rate1):
                big = True
                if rate > 0.0 >= rate1:  # apogee inside this step
                    dt = _refine_free(tj, s, step, kfree, u0, params, ug, 1)
                    a = _free_step(tj, s, dt, kfree, u0, params, ug)
                    aalt, _ = altitude_rate(a[0], a[1], a[2], a[3], a[4], a[5], params)
                    if aalt > alt_apo:
                        alt_apo = aalt
                        tau_apo = tj + dt
                        inertial_to_ecef(tau_apo, a[0], a[1], a[2], a[3], a[4], a[5], om, apo)
                s = e
                alt, rate = alt1, rate1
        if not big:
            for q in range(nsub):
                tq = tj + q * hs
                e = _free_step(tq, s, hs, kfree, u0, params, ug)
                alt1, rate1 = _alt_rate(e[0], e[1], e[2], e[3], e[4], e[5], params)
                if rate > 0.0 >= rate1:
                    dt = _refine_free(tq, s, hs, kfree, u0, params, ug, 1)
                    a = _free_step(tq, s, dt, kfree, u0, params, ug)
                    aalt, _ = altitude_rate(a[0], a[1], a[2], a[3], a[4], a[5], params)
                    if aalt > alt_apo:
                        alt_apo = aalt
                        tau_apo = tq + dt
                        inertial_to_ecef(tau_apo, a[0], a[1], a[2], a[3], a[4], a[5], om, apo)
                if alt1 <= 0.0:  # impact inside this substep
                    dt = _refine_free(tq, s, hs, kfree, u0, params, ug, 0)
                    f = _free_step(tq, s, dt, kfree, u0, params, ug)
                    inertial_to_ecef(tq + dt, f[0], f[1], f[2], f[3], f[4], f[5], om, imp)
                    _store(fnodes, nfn, tq + dt, f, om)
                    nfn += 1
                    return OK, t_bo, bo, npn, nfn, tq + dt, imp, tau_apo, alt_apo, apo
                s = e
                alt, rate = alt1, rate1
        _store(fnodes, nfn, t_bo + (j + 1) * step, s, om)
        nfn += 1
    return NO_IMPACT, t_bo, bo, npn, nfn, math.nan, imp, tau_apo, alt_apo, apo


@njit(parallel=True)
def fly_batch(r_launch, up_launch, aim, veh, stages, nst, params, ug, h_pow, node_dt, step, h_atm, tmax, pnodes,
              fnodes):
    """`fly_one` for n threats (rows of every array; pnodes (n, P, 7), fnodes (n, F, 7), P or F may be 0).
    Returns status (n,), t_bo (n,), burnout (n, 6), powered and free node counts (n,), tau_impact (n,),
    impact (n, 6), tau_apogee (n,), apogee altitude (n,), apogee (n, 6); ECEF states, times since launch."""
    n = r_launch.shape[0]
    status = np.empty(n, dtype=np.int64)
    t_bo = np.empty(n)
    bo = np.empty((n, 6))
    npn = np.empty(n, dtype=np.int64)
    nfn = np.empty(n, dtype=np.int64)
    t_imp = np.empty(n)
    imp = np.empty((n, 6))
    t_apo = np.empty(n)
    alt_apo = np.empty(n)
    apo = np.empty((n, 6))
    for i in prange(n):
        st, tb, b, kp, kf, ti, im, ta, aa, ap = fly_one(
            r_launch[i], up_launch[i], aim[i], veh[i], stages[i], nst[i], params, ug, h_pow, node_dt, step, h_atm,
            tmax, pnodes[i], fnodes[i])
        status[i] = st
        t_bo[i] = tb
        bo[i, :] = b
        npn[i] = kp
        nfn[i] = kf
        t_imp[i] = ti
        imp[i, :] = im
        t_apo[i] = ta
        alt_apo[i] = aa
        apo[i, :] = ap
    return status, t_bo, bo, npn, nfn, t_imp, imp, t_apo, alt_apo, apo
