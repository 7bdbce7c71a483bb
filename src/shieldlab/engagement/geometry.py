"""Intercept geometry (docs/models.md, Intercept geometry): closing speed and crossing angle at a reported
intercept.

At an intercept at point P and scenario time t, v_K is the kill vehicle's inertial velocity on its arc at P
and v_T the threat's. The closing speed is |v_K - v_T|; the crossing angle is the angle between v_K and -v_T
(0 deg head-on, 180 deg a tail chase from directly behind). Both states come from the models' own flights:
the kill vehicle's from its fast arc (Flyout.arrival at the arc of the flyout solution at P), the threat's
from its free flight (one integrator step from the nearest node before t, as the flight itself was
integrated). Earth-fixed velocities are made inertial by docs/models.md, Frames: v_inertial = Rz(w t)(v_ecef +
w z x r_ecef), both at the same t.
"""

from __future__ import annotations

import numpy as np

from shieldlab import freeflight
from shieldlab.interceptor.flyout import Flyout


def inertial_velocity(r_ecef, v_ecef, t_s, omega_rad_s: float) -> np.ndarray:
    """Inertial velocities (k, 3) of ECEF states (r, v) (k, 3) at scenario times t_s (k,) (docs/models.md,
    Frames: the inertial frame coincides with ECEF at t = 0)."""
    r = np.asarray(r_ecef, float)
    v = np.asarray(v_ecef, float)
    w = float(omega_rad_s)
    vx = v[..., 0] - w * r[..., 1]  # v + w z x r
    vy = v[..., 1] + w * r[..., 0]
    th = w * np.asarray(t_s, float)
    c, s = np.cos(th), np.sin(th)
    return np.stack([c * vx - s * vy, s * vx + c * vy, v[..., 2]], axis=-1)


def threat_state_ecef(threats, idx, t_s) -> np.ndarray:
    """Free-flight ECEF states (k, 6) (r, v) of threats idx (k,) at scenario times t_s (k,): one RK4 step
    from the last integrator node at or before t (the step the flight itself takes), NaN outside the free
    flight."""
    idx = np.asarray(idx, np.int64)
    t = np.asarray(t_s, float)
    out = np.full((idx.size, 6), np.nan)
    nodes, count, h = threats.nodes, threats.node_count, threats.step_s
    ok = np.isfinite(t) & (t >= threats.burnout_time_s[idx]) & (t <= threats.impact_time_s[idx])
    if not ok.any():
        return out
    i, tt = idx[ok], t[ok]
    j = np.clip(np.floor((tt - nodes[i, 0, 0]) / h).astype(np.int64), 0, count[i] - 2)
    node = nodes[i, j]
    state, _ = freeflight.state_at_batch(np.ascontiguousarray(node[:, 1:4]), np.ascontiguousarray(node[:, 4:7]),
                                         np.ascontiguousarray(tt - node[:, 0]), threats.earth.kernel_params, h)
    out[ok] = state
    return out


def closing_and_crossing(v_kill, v_threat):
    """Closing speed |v_K - v_T| (k,) in m/s and crossing angle (k,) in degrees between v_K and -v_T, from
    velocities (k, 3) in one frame (atan2 of the cross and dot products: accurate near 0 and 180 deg)."""
    vk = np.asarray(v_kill, float)
    vt = np.asarray(v_threat, float)
    closing = np.linalg.norm(vk - vt, axis=-1)
    cross = np.linalg.norm(np.cross(vk, -vt), axis=-1)
    dot = np.einsum("...i,...i->...", vk, -vt)
    return closing, np.degrees(np.arctan2(cross, dot))


def intercept_geometry(threats, flyout: Flyout, idx, t_s, arc, jacobian=None):
    """Closing speed (m/s) and crossing angle (deg), (k,) each, at intercepts of threats idx (k,) at times
    t_s (k,) by the battery of `flyout`; `arc` (k, 3) and `jacobian` (k, 3, 3) are the exact fast arcs found
    at those points (they restart the solve there, which then checks one arc). NaN where a value is
    missing."""
    k = np.asarray(idx).size
    closing, crossing = np.full(k, np.nan), np.full(k, np.nan)
    t = np.asarray(t_s, float)
    arc = np.asarray(arc, float).reshape(k, 3)
    ok = np.isfinite(t) & np.isfinite(arc).all(1)
    if not ok.any():
        return closing, crossing
    i, tt = np.asarray(idx, np.int64)[ok], t[ok]
    p = threats.position_ecef(i, tt)
    jac = None if jacobian is None else np.asarray(jacobian, float).reshape(k, 3, 3)[ok]
    fs = flyout.rows(i).solve(p, guess=arc[ok], guess_point=p if jac is not None else None, guess_jac=jac)
    # the kill vehicle's ECEF state at P on the arc of that solution, launched at its elevation with its burnout
    # speed (with energy management, docs/models.md, Launch floor and energy management, a floor arc is slower
    # than v_b; an arc that reaches P at burnout has tau = 0 and the speed that puts its burnout point at P)
    kill, _ = flyout.arrival(fs.arc[:, 0], fs.elevation_rad, fs.arc[:, 2], speed_m_s=fs.speed_m_s)
    threat = threat_state_ecef(threats, i, tt)
    w = threats.earth.omega_rad_s
    vk = inertial_velocity(kill[:, :3], kill[:, 3:], tt, w)
    vt = inertial_velocity(threat[:, :3], threat[:, 3:], tt, w)
    c, x = closing_and_crossing(vk, vt)
    closing[ok], crossing[ok] = c, x
    return closing, crossing
