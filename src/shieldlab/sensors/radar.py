"""Radar visibility and first-detection times (MODELS.md section 3), vectorised.

A radar at S sees P when the slant range is at most max_range, P's elevation seen from S is at least
min_elevation, P's azimuth lies in the sector, and the line of sight clears the ellipsoid (always
true when the elevation is >= 0; checked explicitly for negative masks).
"""

from __future__ import annotations

import math

import numpy as np

from shieldlab._jit import njit, prange
from shieldlab.earth import frames
from shieldlab.earth.model import Earth
from shieldlab.threat._kernels import hermite_position
from shieldlab.scenario.model import Radar

POWERED_SAMPLE_S = 2.0
FREE_SAMPLE_S = 5.0
BISECTIONS = 11  # 5 s / 2**11 = 2.4 ms, far below the 1 s asked
FINE_SAMPLE_S = 0.25  # re-scan step of intervals near visibility
MAX_SPEED_M_S = 9000.0  # bound of a threat's speed in the free flight (for the near-visibility margin)


class RadarGeometry:
    """A radar's site vectors, precomputed once."""

    def __init__(self, earth: Earth, radar: Radar):
        self.earth, self.radar = earth, radar
        self.site_ecef = frames.geodetic_to_ecef(earth, radar.at.lat_deg, radar.at.lon_deg, radar.at.alt_m)
        self.east, self.north, self.up = frames.enu_basis(radar.at.lat_deg, radar.at.lon_deg)
        self.sin_min_el = np.sin(np.radians(radar.min_elevation_deg))
        sec = radar.sector
        sectored = sec is not None and sec.half_width_deg < 180.0
        self.kernel_params = np.concatenate([
            self.site_ecef, self.east, self.north, self.up,
            [radar.max_range_m, self.sin_min_el, 1.0 if sectored else 0.0, sec.center_deg if sectored else 0.0,
             sec.half_width_deg if sectored else 180.0, 1.0 if radar.min_elevation_deg < 0.0 else 0.0,
             earth.a_m, earth.b_m]])

    def sees(self, p_ecef: np.ndarray) -> np.ndarray:
        """Boolean mask (...) of the points (..., 3) this radar sees (False for NaN points); the same
        compiled rule as the free-flight scan."""
        p = np.asarray(p_ecef, dtype=float)
        flat = np.ascontiguousarray(p.reshape(-1, 3))
        return _sees_batch(flat, self.kernel_params).reshape(p.shape[:-1])


def line_of_sight_clear(earth: Earth, a_ecef, b_ecef) -> np.ndarray:
    """True where the segment a-b does not pass inside the ellipsoid (..., 3 arrays broadcast)."""
    s = np.array([1.0 / earth.a_m, 1.0 / earth.a_m, 1.0 / earth.b_m])
    a = np.asarray(a_ecef) * s
    d = np.asarray(b_ecef) * s - a
    qa = (d * d).sum(-1)
    qb = 2 * (a * d).sum(-1)
    qc = (a * a).sum(-1) - 1.0
    disc = qb * qb - 4 * qa * qc
    with np.errstate(invalid="ignore", divide="ignore"):
        sq = np.sqrt(np.maximum(disc, 0.0))
        t1 = (-qb - sq) / (2 * qa)
        t2 = (-qb + sq) / (2 * qa)
    hit = (disc > 0) & (t2 > 1e-9) & (t1 < 1 - 1e-9)
    return ~hit


def detection_times(threats, radars: list[RadarGeometry], idx=None) -> np.ndarray:
    """First time (s) each radar sees each threat, from launch to impact; NaN if never.

    Scans the powered flight every POWERED_SAMPLE_S (positions by the burnout model's geodesic rule)
    and, where the radar has not seen the threat by burnout, the free flight every FREE_SAMPLE_S in a
    compiled kernel; the first visible sample's interval is bisected (BISECTIONS halvings).
    Returns (n_threats, n_radars).
    """
    idx = np.flatnonzero(threats.valid) if idx is None else np.asarray(idx)
    n_all = threats.n
    out = np.full((n_all, len(radars)), np.nan)
    if idx.size == 0 or not radars:
        return out
    maybe = _may_see_powered(threats, idx, radars)  # (k, n_radars)
    scan = np.flatnonzero(maybe.any(1))
    times = _powered_times(threats, idx[scan])  # (ks, m), launch .. burnout
    ks, m = times.shape
    rows = np.repeat(idx[scan], m)
    flat_t = times.ravel()
    good = np.isfinite(flat_t)
    pos = np.full((ks * m, 3), np.nan)
    pos[good] = threats.position_ecef(rows[good], flat_t[good])
    pos = pos.reshape(ks, m, 3)
    times_all = np.full((idx.size, m), np.nan)
    times_all[scan] = times
    for j, rg in enumerate(radars):
        # only threats that this radar may see while powered are scanned; the rest start at burnout
        vis = np.zeros((idx.size, m), bool)
        mine = maybe[scan, j]
        vis[scan[mine]] = rg.sees(pos[mine]) & np.isfinite(times[mine])
        anyv = vis.any(1)
        hit = np.flatnonzero(anyv)
        if hit.size:
            fi = np.argmax(vis[hit], axis=1)
            t_hi = times_all[hit, fi]
            at_start = fi == 0
            t_lo = np.where(at_start, t_hi, times_all[hit, np.maximum(fi - 1, 0)])
            tr = idx[hit]
            for _ in range(BISECTIONS):
                mid = 0.5 * (t_lo + t_hi)
                seen = rg.sees(threats.position_ecef(tr, mid))
                t_hi = np.where(seen, mid, t_hi)
                t_lo = np.where(seen, t_lo, mid)
            out[tr, j] = np.where(at_start, times_all[hit, 0], t_hi)
        rest = idx[~anyv]
        if rest.size:
            out[rest, j] = _first_visible_free(
                threats.nodes, threats.node_count, threats.step_s, rest.astype(np.int64),
                threats.burnout_time_s[rest], threats.impact_time_s[rest], rg.kernel_params, FREE_SAMPLE_S,
                BISECTIONS)
    return out


def _may_see_powered(threats, idx, radars) -> np.ndarray:
    """(k, n_radars): False where radar j cannot see threat idx[k] at any time of its powered flight.

    The powered positions P(s), s in [0, 1], run from the launch point L to the burnout point B along
    the geodesic with a linear altitude; they stay within eps of the segment LB, with eps bounding the
    geodesic's sagitta d^2 / (8 rho), the turn of the normal over it and the altitude's share of it
    (rho = b^2 / a, the least radius of curvature; d = burnout range). Over that tube the range is at
    least dist(S, LB) - eps, and (P - S).up - sin(e_min) |P - S| at most max over L, B of (P - S).up
    + eps - sin(e_min) (dist(S, LB) - eps) (or + |sin e_min| (max(|L - S|, |B - S|) + eps) for a
    negative mask): below zero, the radar never sees the boost."""
    E = threats.earth
    L = frames.geodetic_to_ecef(E, threats.launch_lat_deg[idx], threats.launch_lon_deg[idx], threats.launch_alt_m[idx])
    B = threats.nodes[idx, 0, 1:4]  # the free flight's first node: the burnout position (ECEF)
    rho = E.b_m**2 / E.a_m
    d = threats.burnout_range_m[idx]
    h_lo = np.minimum(threats.launch_alt_m[idx], threats.burnout_altitude_m[idx])
    h_hi = np.maximum(threats.launch_alt_m[idx], threats.burnout_altitude_m[idx])
    turn = d / rho
    eps = d * d / (8 * rho) + np.maximum(np.abs(h_lo), np.abs(h_hi)) * turn**2 / 8 + 0.25 * (h_hi - h_lo) * turn + 1e3
    seg = B - L
    seg2 = np.maximum((seg * seg).sum(-1), 1e-9)
    out = np.ones((idx.size, len(radars)), bool)
    for j, rg in enumerate(radars):
        sL, sB = L - rg.site_ecef, B - rg.site_ecef
        u = np.clip(-(sL * seg).sum(-1) / seg2, 0.0, 1.0)
        dmin = np.linalg.norm(sL + u[:, None] * seg, axis=-1)
        dmax = np.maximum(np.linalg.norm(sL, axis=-1), np.linalg.norm(sB, axis=-1))
        up = np.maximum(sL @ rg.up, sB @ rg.up) + eps
        se = float(rg.sin_min_el)
        mask = se * (np.maximum(dmin - eps, 0.0) if se >= 0.0 else dmax + eps)
        out[:, j] = (dmin - eps <= rg.radar.max_range_m) & (up - mask >= 0.0)
    return out


def _powered_times(threats, idx) -> np.ndarray:
    """Scan times of the powered flight: launch to burnout every POWERED_SAMPLE_S or less."""
    tl = threats.launch_time_s[idx]
    tb = threats.burn_time_s[idx]
    n_p = np.maximum(np.ceil(tb / POWERED_SAMPLE_S).astype(int), 1)
    m = int(n_p.max()) + 1 if n_p.size else 1
    j = np.arange(m)[None, :]
    t = tl[:, None] + j * (tb / n_p)[:, None]
    t[j > n_p[:, None]] = np.nan
    return t


@njit
def _sees(x, y, z, p):
    """Whether the radar sees one point (MODELS.md section 3); p = RadarGeometry.kernel_params.
    NaN coordinates give False (every comparison with NaN fails)."""
    dx, dy, dz = x - p[0], y - p[1], z - p[2]
    rng = math.sqrt(dx * dx + dy * dy + dz * dz)
    if not rng <= p[12]:
        return False
    up = dx * p[9] + dy * p[10] + dz * p[11]
    if up < p[13] * rng:
        return False
    if p[14] > 0.0:  # sector
        de = dx * p[3] + dy * p[4] + dz * p[5]
        dn = dx * p[6] + dy * p[7] + dz * p[8]
        az = math.degrees(math.atan2(de, dn))
        off = abs((az - p[15] + 180.0) % 360.0 - 180.0)
        if off > p[16]:
            return False
    if p[17] > 0.0:  # line of sight over the ellipsoid (negative elevation masks)
        ia, ib = 1.0 / p[18], 1.0 / p[19]
        ax, ay, az_ = p[0] * ia, p[1] * ia, p[2] * ib
        ddx, ddy, ddz = dx * ia, dy * ia, dz * ib
        qa = ddx * ddx + ddy * ddy + ddz * ddz
        qb = 2.0 * (ax * ddx + ay * ddy + az_ * ddz)
        qc = ax * ax + ay * ay + az_ * az_ - 1.0
        disc = qb * qb - 4.0 * qa * qc
        if disc > 0.0:
            sq = math.sqrt(disc)
            t1 = (-qb - sq) / (2.0 * qa)
            t2 = (-qb + sq) / (2.0 * qa)
            if t2 > 1e-9 and t1 < 1.0 - 1e-9:
                return False
    return True


@njit
def _sees_batch(pts, p):
    out = np.zeros(pts.shape[0], dtype=np.bool_)
    for i in range(pts.shape[0]):
        out[i] = _sees(pts[i, 0], pts[i, 1], pts[i, 2], p)
    return out


@njit
def _near(x, y, z, p, d):
    """Whether a point that moves by at most d metres could become visible: every rule of _sees
    with a margin of d (a necessary condition, so nothing visible is ever passed over)."""
    dx, dy, dz = x - p[0], y - p[1], z - p[2]
    rng = math.sqrt(dx * dx + dy * dy + dz * dz)
    if not rng <= p[12] + d:
        return False
    up = dx * p[9] + dy * p[10] + dz * p[11]
    if up - p[13] * rng < -2.0 * d:
        return False
    if p[14] > 0.0:
        de = dx * p[3] + dy * p[4] + dz * p[5]
        dn = dx * p[6] + dy * p[7] + dz * p[8]
        hd = math.sqrt(de * de + dn * dn)
        if hd > 2.0 * d:
            az = math.degrees(math.atan2(de, dn))
            off = abs((az - p[15] + 180.0) % 360.0 - 180.0)
            if off > p[16] + math.degrees(math.asin(d / hd)) * 1.5:
                return False
    return True


@njit
def _bisect_visible(nodes, count, step, i, lo, hi, p, nbisect):
    for _ in range(nbisect):
        mid = 0.5 * (lo + hi)
        x, y, z = hermite_position(nodes, count, step, i, mid)
        if _sees(x, y, z, p):
            hi = mid
        else:
            lo = mid
    return hi


@njit(parallel=True)
def _first_visible_free(nodes, count, step, rows, t_start, t_end, p, dt, nbisect):
    """First time in [t_start, t_end] a radar sees each threat's free flight; NaN if never.

    Scanned every dt; an interval whose ends are not visible but near visibility (within the distance
    the threat can fly in dt, MAX_SPEED_M_S) is scanned again every FINE_SAMPLE_S, so short windows
    (a narrow sector crossed quickly, a range limit grazed) are not passed over; the first visible
    interval is then bisected."""
    k = rows.shape[0]
    out = np.full(k, np.nan)
    fine = FINE_SAMPLE_S
    for q in prange(k):
        i = rows[q]
        a, b = t_start[q], t_end[q]
        if not (b >= a):
            continue
        ns = max(int(math.ceil((b - a) / dt)), 1)
        h = (b - a) / ns
        d = h * MAX_SPEED_M_S
        prev = a
        prev_near = False
        for s in range(ns + 1):
            t = a + s * h
            x, y, z = hermite_position(nodes, count, step, i, t)
            if _sees(x, y, z, p):
                out[q] = t if s == 0 else _bisect_visible(nodes, count, step, i, prev, t, p, nbisect)
                break
            near = _near(x, y, z, p, d)
            if s > 0 and (near or prev_near):
                nf = max(int(math.ceil((t - prev) / fine)), 1)
                hf = (t - prev) / nf
                found = False
                for u in range(1, nf):
                    tf = prev + u * hf
                    x, y, z = hermite_position(nodes, count, step, i, tf)
                    if _sees(x, y, z, p):
                        out[q] = _bisect_visible(nodes, count, step, i, tf - hf, tf, p, nbisect)
                        found = True
                        break
                if found:
                    break
            prev = t
            prev_near = near
    return out
