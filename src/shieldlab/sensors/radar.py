"""Radar visibility, first-detection times and track times (docs/models.md, Radars), vectorised.

A radar at S sees P when the slant range is at most its detection range, P's elevation seen from S is at
least min_elevation, P's azimuth lies in the sector, and the line of sight clears the ellipsoid (always
true when the elevation is >= 0; checked explicitly for negative masks).

The detection range is `max_range`, or, for a radar with a `reference_range`, the range against the
threat's radar cross-section (docs/models.md, Sensitivity: range against a cross-section; `Radar.range_m`):
the booster's (`rcs_boost`) in powered flight (0 <= t - t_L <= t_bo), the warhead's (`rcs`) in free flight. A
radar's track time (docs/models.md, Track formation) is the first time t at which it has seen the threat at
every instant of [t - track_formation, t]: `track_times` walks the visible intervals from the detection time
on.
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
UNSEEN_BLOCK = 16  # track formation: samples of [s, s + t_f] tested per vectorised call
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

    def sees(self, p_ecef: np.ndarray, range_m=None) -> np.ndarray:
        """Boolean mask (...) of the points (..., 3) this radar sees (False for NaN points); the same
        compiled rule as the free-flight scan. `range_m` (broadcast to (...)): the detection range at each
        point (`ranges_m`); default `max_range`."""
        p = np.asarray(p_ecef, dtype=float)
        flat = np.ascontiguousarray(p.reshape(-1, 3))
        shape = p.shape[:-1]
        r = self.kernel_params[12] if range_m is None else range_m
        r = np.ascontiguousarray(np.broadcast_to(np.asarray(r, dtype=float), shape).reshape(-1))
        return _sees_batch(flat, self.kernel_params, r).reshape(shape)

    def range_m(self, rcs_m2) -> np.ndarray:
        """Detection range (m) against targets of cross-sections `rcs_m2` (array), docs/models.md, Sensitivity:
        range against a cross-section. The scenario's rule (`Radar.range_m`) applied to each distinct value."""
        s = np.asarray(rcs_m2, dtype=float)
        if self.radar.reference_range_m is None:
            return np.full(s.shape, self.radar.max_range_m)
        u, inv = np.unique(s, return_inverse=True)
        return np.array([self.radar.range_m(float(x)) for x in u], float)[inv].reshape(s.shape)

    def ranges_m(self, threats, idx) -> tuple[np.ndarray, np.ndarray]:
        """(boost, free) detection ranges (k,) of this radar against threats idx (k,): against the booster's
        cross-section in powered flight, the warhead's in free flight."""
        idx = np.asarray(idx, dtype=np.int64)
        return self.range_m(threats.rcs_boost_m2[idx]), self.range_m(threats.rcs_m2[idx])

    def sees_threats(self, threats, idx, t_s, boost_range_m, free_range_m) -> np.ndarray:
        """Whether this radar sees threats idx (k,) at times t_s (k,), with the detection range of each
        threat's phase at that time (`ranges_m`); False before launch and after impact."""
        idx = np.asarray(idx, dtype=np.int64)
        t = np.asarray(t_s, dtype=float)
        powered = t - threats.launch_time_s[idx] <= threats.burn_time_s[idx]  # as FlownThreats.position_ecef
        return self.sees(threats.position_ecef(idx, t), np.where(powered, boost_range_m, free_range_m))


class RowRangeGeometry(RadarGeometry):
    """A radar whose detection ranges are given per threat row, (boost, free) arrays over the rows of the threats
    it is used with, instead of by its cross-section rule: one radar in many variants that differ only in range
    (`max_range`, `reference_range`, `reference_rcs`: the samples of an uncertainty run, each row a sample's
    threat). Site, elevation mask, sector and track formation are the radar's."""

    def __init__(self, earth: Earth, radar: Radar, boost_range_m, free_range_m):
        super().__init__(earth, radar)
        self.boost_range_m = np.asarray(boost_range_m, dtype=float)
        self.free_range_m = np.asarray(free_range_m, dtype=float)
        both = np.concatenate([self.boost_range_m, self.free_range_m])
        self.kernel_params[12] = float(both.max()) if both.size else radar.max_range_m  # a bound of every row's

    def ranges_m(self, threats, idx) -> tuple[np.ndarray, np.ndarray]:
        idx = np.asarray(idx, dtype=np.int64)
        return self.boost_range_m[idx], self.free_range_m[idx]


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
    compiled kernel; the first visible sample's interval is bisected (BISECTIONS halvings). The range
    is each radar's against the threat's booster in powered flight and its warhead in free flight
    (`RadarGeometry.ranges_m`). Returns (n_threats, n_radars).
    """
    idx = np.flatnonzero(threats.valid) if idx is None else np.asarray(idx)
    n_all = threats.n
    out = np.full((n_all, len(radars)), np.nan)
    if idx.size == 0 or not radars:
        return out
    ranges = [rg.ranges_m(threats, idx) for rg in radars]  # (boost, free) per radar, each (k,)
    maybe = _may_see_powered(threats, idx, radars, [r[0] for r in ranges])  # (k, n_radars)
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
        r_boost, r_free = ranges[j]
        # only threats that this radar may see while powered are scanned; the rest start at burnout
        vis = np.zeros((idx.size, m), bool)
        mine = maybe[scan, j]
        vis[scan[mine]] = rg.sees(pos[mine], r_boost[scan[mine], None]) & np.isfinite(times[mine])
        anyv = vis.any(1)
        hit = np.flatnonzero(anyv)
        if hit.size:
            fi = np.argmax(vis[hit], axis=1)
            t_hi = times_all[hit, fi]
            at_start = fi == 0
            t_lo = np.where(at_start, t_hi, times_all[hit, np.maximum(fi - 1, 0)])
            out[idx[hit], j] = np.where(at_start, times_all[hit, 0],
                                        _bisect_powered(threats, idx[hit], t_lo, t_hi, rg, r_boost[hit]))
        rest = ~anyv
        if rest.any():
            out[idx[rest], j] = _first_visible_free(
                threats.nodes, threats.node_count, threats.step_s, idx[rest].astype(np.int64),
                threats.burnout_time_s[idx[rest]], threats.impact_time_s[idx[rest]], rg.kernel_params,
                np.ascontiguousarray(r_free[rest]), FREE_SAMPLE_S, BISECTIONS)
    return out


def track_times(threats, radars: list[RadarGeometry], detections_s: np.ndarray, idx=None) -> np.ndarray:
    """Each radar's track time (s) of each threat (docs/models.md, Track formation): the first time t at which
    the radar has seen the threat at every instant of [t - t_f, t], t_f its `track_formation_s`; NaN if never.
    Returns (n_threats, n_radars); with t_f = 0 the detection time itself (`detections_s`, detection_times).

    From the detection time on, each visible interval is followed: [s, s + t_f] is scanned every
    FINE_SAMPLE_S or less (visibility gaps shorter than that step may be passed over, as short windows of
    visibility are by the detection scan); an interval that ends before s + t_f (its first unseen sample:
    a sector edge, a mask, a range limit, the booster-to-warhead range change at burnout, or impact) gives
    no track, and the next interval starts where the radar next sees the threat, located as detection
    times are (the same scans and bisections). The first interval at least t_f long gives s + t_f.
    """
    out = np.array(detections_s, dtype=float, copy=True)
    idx = np.flatnonzero(threats.valid) if idx is None else np.asarray(idx)
    for j, rg in enumerate(radars):
        tf = float(rg.radar.track_formation_s)
        if not tf > 0.0:
            continue
        out[idx, j] = np.nan
        rows = idx[np.isfinite(detections_s[idx, j])].astype(np.int64)
        start = np.array(detections_s[rows, j], dtype=float)
        r_boost, r_free = rg.ranges_m(threats, rows)
        pending = np.arange(rows.size)
        while pending.size:
            gap = _first_unseen(threats, rows[pending], start[pending], tf, rg, r_boost[pending], r_free[pending])
            held = np.isnan(gap)
            out[rows[pending[held]], j] = start[pending[held]] + tf
            pending, gap = pending[~held], gap[~held]
            if not pending.size:
                break
            start[pending] = _first_visible_from(threats, rows[pending], gap, rg, r_boost[pending], r_free[pending])
            pending = pending[np.isfinite(start[pending])]
    return out


def _first_unseen(threats, rows, start_s, span_s, rg, r_boost, r_free) -> np.ndarray:
    """The first time in (start, start + span], scanned every FINE_SAMPLE_S or less, at which the radar
    does not see each threat rows (k,); NaN where it sees it at every sample. Threats whose start lies in the
    free flight are scanned by a compiled kernel (`_first_unseen_free`), the others (from the powered flight,
    positions by the burnout model's rule) in vectorised blocks, at the same sample times."""
    n = max(int(math.ceil(span_s / FINE_SAMPLE_S)), 1)
    h = span_s / n
    out = np.full(rows.size, np.nan)
    rows = np.asarray(rows, dtype=np.int64)
    free = threats.in_free_flight(rows, start_s)  # (a start after the impact: the block scan sees nothing either)
    f = np.flatnonzero(free)
    if f.size:
        out[f] = _first_unseen_free(threats.nodes, threats.node_count, threats.step_s, rows[f],
                                    np.ascontiguousarray(start_s[f], dtype=float), h, n,
                                    threats.impact_time_s[rows[f]], rg.kernel_params,
                                    np.ascontiguousarray(r_free[f], dtype=float))
    live = np.flatnonzero(~free)
    # the samples k = 1..n in blocks of UNSEEN_BLOCK, each block one call for every live threat (a threat
    # leaves at its first unseen sample; a Python loop per sample made track formation ~10 % of coverage)
    for k0 in range(1, n + 1, UNSEEN_BLOCK):
        if not live.size:
            break
        ks = np.arange(k0, min(k0 + UNSEEN_BLOCK, n + 1))
        t = start_s[live, None] + ks[None, :] * h
        m = ks.size
        seen = rg.sees_threats(threats, np.repeat(rows[live], m), t.ravel(), np.repeat(r_boost[live], m),
                               np.repeat(r_free[live], m)).reshape(live.size, m)
        gone = ~seen.all(axis=1)
        first = np.argmin(seen[gone], axis=1)
        out[live[gone]] = t[gone, first]
        live = live[~gone]
    return out


def _first_visible_from(threats, rows, t_from_s, rg: RadarGeometry, r_boost, r_free) -> np.ndarray:
    """The first time at or after t_from_s (k,) at which the radar sees each threat rows (k,), to impact;
    NaN if never. The rest of the powered flight is scanned and bisected as in detection_times (range
    r_boost), then, where nothing was seen, the free flight by the same compiled scan (range r_free)."""
    rows = np.asarray(rows, dtype=np.int64)
    t0 = np.asarray(t_from_s, dtype=float)
    out = np.full(rows.size, np.nan)
    t_bo = threats.burnout_time_s[rows]
    pw = np.flatnonzero(t0 <= t_bo)
    if pw.size:
        span = t_bo[pw] - t0[pw]
        n_p = np.maximum(np.ceil(span / POWERED_SAMPLE_S).astype(int), 1)
        m = int(n_p.max()) + 1
        j = np.arange(m)[None, :]
        times = t0[pw, None] + j * (span / n_p)[:, None]
        times[j > n_p[:, None]] = np.nan
        good = np.isfinite(times)
        r = np.repeat(rows[pw], m)[good.ravel()]
        vis = np.zeros(times.shape, bool)
        vis[good] = rg.sees(threats.position_ecef(r, times[good]), np.repeat(r_boost[pw], m)[good.ravel()])
        hit = np.flatnonzero(vis.any(1))
        if hit.size:
            fi = np.argmax(vis[hit], axis=1)
            t_hi = times[hit, fi]
            t_lo = times[hit, np.maximum(fi - 1, 0)]
            k = pw[hit]
            out[k] = np.where(fi == 0, t_hi, _bisect_powered(threats, rows[k], t_lo, t_hi, rg, r_boost[k]))
    rest = np.flatnonzero(np.isnan(out))
    if rest.size:
        out[rest] = _first_visible_free(
            threats.nodes, threats.node_count, threats.step_s, rows[rest], np.maximum(t0[rest], t_bo[rest]),
            threats.impact_time_s[rows[rest]], rg.kernel_params, np.ascontiguousarray(r_free[rest], dtype=float),
            FREE_SAMPLE_S, BISECTIONS)
    return out


def _bisect_powered(threats, rows, t_lo, t_hi, rg, r_boost) -> np.ndarray:
    """BISECTIONS halvings of [t_lo, t_hi] (powered flight; unseen at t_lo, seen at t_hi): the earliest
    time found at which the radar sees each threat."""
    for _ in range(BISECTIONS):
        mid = 0.5 * (t_lo + t_hi)
        seen = rg.sees(threats.position_ecef(rows, mid), r_boost)
        t_hi = np.where(seen, mid, t_hi)
        t_lo = np.where(seen, t_lo, mid)
    return t_hi


def _may_see_powered(threats, idx, radars, boost_ranges_m=None) -> np.ndarray:
    """(k, n_radars): False where radar j cannot see threat idx[k] at any time of its powered flight
    (`boost_ranges_m`: per radar, the detection ranges (k,) against the boosters; default max_range).

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
        r_max = rg.radar.max_range_m if boost_ranges_m is None else boost_ranges_m[j]
        sL, sB = L - rg.site_ecef, B - rg.site_ecef
        u = np.clip(-(sL * seg).sum(-1) / seg2, 0.0, 1.0)
        dmin = np.linalg.norm(sL + u[:, None] * seg, axis=-1)
        dmax = np.maximum(np.linalg.norm(sL, axis=-1), np.linalg.norm(sB, axis=-1))
        up = np.maximum(sL @ rg.up, sB @ rg.up) + eps
        se = float(rg.sin_min_el)
        mask = se * (np.maximum(dmin - eps, 0.0) if se >= 0.0 else dmax + eps)
        out[:, j] = (dmin - eps <= r_max) & (up - mask >= 0.0)
    out[threats.staged[idx]] = True  # a staged ascent is not on the segment: scanned whole
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
def _sees(x, y, z, p, rmax):
    """Whether the radar sees one point (docs/models.md, Radars); p = RadarGeometry.kernel_params, rmax the
    detection range (p[12], max_range, unless the target's cross-section sets it: docs/models.md, Sensitivity:
    range against a cross-section). NaN coordinates give False (every comparison with NaN fails)."""
    dx, dy, dz = x - p[0], y - p[1], z - p[2]
    rng = math.sqrt(dx * dx + dy * dy + dz * dz)
    if not rng <= rmax:
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
def _sees_batch(pts, p, rmax):
    out = np.zeros(pts.shape[0], dtype=np.bool_)
    for i in range(pts.shape[0]):
        out[i] = _sees(pts[i, 0], pts[i, 1], pts[i, 2], p, rmax[i])
    return out


@njit(parallel=True)
def _first_unseen_free(nodes, count, step, rows, start_s, h, n, impact_s, p, rmax):
    """`_first_unseen` of threats rows (k,) whose start_s (k,) lies in the free flight: the first of the times
    start + j h (j = 1..n) at which the radar (kernel parameters p, range rmax (k,) against the warhead) does
    not see the threat, past its impact included (nothing is seen there); NaN where it sees it at all n."""
    k = rows.shape[0]
    out = np.full(k, np.nan)
    for q in prange(k):
        i = rows[q]
        for j in range(1, n + 1):
            t = start_s[q] + j * h
            if not (t <= impact_s[q]):
                out[q] = t
                break
            x, y, z = hermite_position(nodes, count, step, i, t)
            if not _sees(x, y, z, p, rmax[q]):
                out[q] = t
                break
    return out


@njit
def _near(x, y, z, p, rmax, d):
    """Whether a point that moves by at most d metres could become visible: every rule of _sees
    with a margin of d (a necessary condition, so nothing visible is ever passed over)."""
    dx, dy, dz = x - p[0], y - p[1], z - p[2]
    rng = math.sqrt(dx * dx + dy * dy + dz * dz)
    if not rng <= rmax + d:
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
def _bisect_visible(nodes, count, step, i, lo, hi, p, rmax, nbisect):
    for _ in range(nbisect):
        mid = 0.5 * (lo + hi)
        x, y, z = hermite_position(nodes, count, step, i, mid)
        if _sees(x, y, z, p, rmax):
            hi = mid
        else:
            lo = mid
    return hi


@njit(parallel=True)
def _first_visible_free(nodes, count, step, rows, t_start, t_end, p, rmax, dt, nbisect):
    """First time in [t_start, t_end] a radar sees each threat's free flight (detection range rmax[q]);
    NaN if never.

    Scanned every dt; an interval whose ends are not visible but near visibility (within the distance
    the threat can fly in dt, MAX_SPEED_M_S) is scanned again every FINE_SAMPLE_S, so short windows
    (a narrow sector crossed quickly, a range limit grazed) are not passed over; the first visible
    interval is then bisected."""
    k = rows.shape[0]
    out = np.full(k, np.nan)
    fine = FINE_SAMPLE_S
    for q in prange(k):
        i = rows[q]
        r = rmax[q]
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
            if _sees(x, y, z, p, r):
                out[q] = t if s == 0 else _bisect_visible(nodes, count, step, i, prev, t, p, r, nbisect)
                break
            near = _near(x, y, z, p, r, d)
            if s > 0 and (near or prev_near):
                nf = max(int(math.ceil((t - prev) / fine)), 1)
                hf = (t - prev) / nf
                found = False
                for u in range(1, nf):
                    tf = prev + u * hf
                    x, y, z = hermite_position(nodes, count, step, i, tf)
                    if _sees(x, y, z, p, r):
                        out[q] = _bisect_visible(nodes, count, step, i, tf - hf, tf, p, r, nbisect)
                        found = True
                        break
                if found:
                    break
            prev = t
            prev_near = near
    return out
