"""An independent integration of the staged threat model (docs/models.md, The staged model) with scipy's DOP853 at
tight tolerances, for tests/test_staged.py: the equations typed again here from the model's description (gravity
with J2 in the inertial frame aligned with ECEF at launch, thrust, mass, drag with the 1976 atmosphere, the kick
turn), the stage events as the ends of separate solve_ivp spans, the impact as a solve_ivp event.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp

from shieldlab.atmosphere import us1976
from shieldlab.earth import frames

G0 = 9.80665
REF_RTOL = 1e-10
REF_ATOL = 1e-6


def _gravity(r, gm, j2, a):
    x, y, z = r
    rn = math.sqrt(x * x + y * y + z * z)
    k = 1.5 * j2 * (a / rn) ** 2
    c = -gm / rn**3
    zz = z * z / (rn * rn)
    return np.array([c * x * (1 + k * (1 - 5 * zz)), c * y * (1 + k * (1 - 5 * zz)), c * z * (1 + k * (3 - 5 * zz))])


def to_ecef(t, y, omega):
    """Inertial state y (6,) at flight time t to ECEF position and velocity."""
    th = omega * t
    c, s = math.cos(th), math.sin(th)
    rot = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])
    r = rot @ y[:3]
    v = rot @ y[3:] - np.cross([0.0, 0.0, omega], r)
    return r, v


def fly_reference(earth, gm, j2, omega, stages, payload, cda, t_v, beta, lat, lon, az_deg, kick_deg, t_max=20000.0):
    """Launch to impact. stages: [(propellant kg, dry kg, burn s, isp s, coast s), ...]. Returns
    dict(burnout_t, burnout_r, burnout_v, impact_t, impact_r) with ECEF vectors."""
    a = earth.a_m
    z_hat = np.array([0.0, 0.0, 1.0])
    r0 = frames.geodetic_to_ecef(earth, lat, lon, 0.0)
    up0 = frames.enu_basis(lat, lon)[2]

    def drag_rho(r):
        return float(us1976(frames.geodetic_altitude(earth, r))[2])

    def rhs(t, y, thrust, m0, mdot, t0, turned, kfree):
        r, v = y[:3], y[3:]
        w = v - np.cross(omega * z_hat, r)
        wn = np.linalg.norm(w)
        acc = _gravity(r, gm, j2, a)
        if kfree is None:
            m = m0 - mdot * (t - t0)
            acc = acc - drag_rho(r) * cda * wn * w / (2 * m)
            if thrust > 0:
                if turned:
                    d = w / wn
                else:
                    th = omega * t
                    d = np.array([math.cos(th) * up0[0] - math.sin(th) * up0[1],
                                  math.sin(th) * up0[0] + math.cos(th) * up0[1], up0[2]])
                acc = acc + thrust / m * d
        else:
            acc = acc - drag_rho(r) * kfree * wn * w
        return np.concatenate([v, acc])

    # the spans of the ascent, split at the kick
    spans = []
    m = payload + sum(p + d for p, d, *_ in stages)
    t = 0.0
    for p, d, tb, isp, coast in stages:
        if coast > 0:
            spans.append((t, t + coast, 0.0, m, 0.0))
            t += coast
        spans.append((t, t + tb, isp * G0 * p / tb, m, p / tb))
        t += tb
        m -= p + d
    y = np.concatenate([r0, np.cross(omega * z_hat, r0)])
    turned = False
    for t0, t1, thrust, m0, mdot in spans:
        cuts = [t0, t_v, t1] if (not turned and t0 < t_v < t1) else [t0, t1]
        for ta, tb_ in zip(cuts[:-1], cuts[1:]):
            sol = solve_ivp(rhs, (ta, tb_), y, method="DOP853", rtol=REF_RTOL, atol=REF_ATOL,
                            args=(thrust, m0, mdot, t0, turned, None))
            y = sol.y[:, -1]
            if not turned and tb_ == t_v:  # the kick
                r = y[:3]
                w = y[3:] - np.cross(omega * z_hat, r)
                lat_c, lon_c, _ = frames.ecef_to_geodetic(earth, r)  # inertial coordinates: inertial longitude
                d = frames.direction_enu_to_ecef(lat_c, lon_c, math.radians(az_deg), math.radians(90.0 - kick_deg))
                y = np.concatenate([r, np.linalg.norm(w) * d + np.cross(omega * z_hat, r)])
                turned = True
    t_bo = spans[-1][1]
    r_bo, v_bo = to_ecef(t_bo, y, omega)

    def ground(t, y, *args):
        return frames.geodetic_altitude(earth, y[:3])

    ground.terminal = True
    ground.direction = -1
    sol = solve_ivp(rhs, (t_bo, t_bo + t_max), y, method="DOP853", rtol=REF_RTOL, atol=REF_ATOL, events=ground,
                    args=(0.0, 0.0, 0.0, 0.0, False, 0.5 / beta))
    t_imp = sol.t_events[0][0]
    r_imp, _ = to_ecef(t_imp, sol.y_events[0][0], omega)
    return {"burnout_t": t_bo, "burnout_r": r_bo, "burnout_v": v_bo, "impact_t": t_imp, "impact_r": r_imp}
