"""Radar visibility and first-detection times (MODELS.md section 3), vectorised.

A radar at S sees P when the slant range is at most max_range, P's elevation seen from S is at least
min_elevation, P's azimuth lies in the sector, and the line of sight clears the ellipsoid (always
true when the elevation is >= 0; checked explicitly for negative masks).
"""

from __future__ import annotations

import numpy as np

from shieldlab.earth import frames
from shieldlab.earth.model import Earth
from shieldlab.scenario.model import Radar

POWERED_SAMPLE_S = 2.0
FREE_SAMPLE_S = 5.0
BISECTIONS = 11  # 5 s / 2**11 = 2.4 ms, far below the 1 s asked


class RadarGeometry:
    """A radar's site vectors, precomputed once."""

    def __init__(self, earth: Earth, radar: Radar):
        self.earth, self.radar = earth, radar
        self.site_ecef = frames.geodetic_to_ecef(earth, radar.at.lat_deg, radar.at.lon_deg, radar.at.alt_m)
        self.east, self.north, self.up = frames.enu_basis(radar.at.lat_deg, radar.at.lon_deg)
        self.sin_min_el = np.sin(np.radians(radar.min_elevation_deg))

    def sees(self, p_ecef: np.ndarray) -> np.ndarray:
        """Boolean mask (...) of the points (..., 3) this radar sees."""
        d = p_ecef - self.site_ecef
        rng = np.linalg.norm(d, axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            up = d @ self.up
            ok = (rng <= self.radar.max_range_m) & (up >= self.sin_min_el * rng)
            sec = self.radar.sector
            if sec is not None and sec.half_width_deg < 180.0:
                az = np.degrees(np.arctan2(d @ self.east, d @ self.north))
                off = np.abs((az - sec.center_deg + 180.0) % 360.0 - 180.0)
                ok &= off <= sec.half_width_deg
            if self.radar.min_elevation_deg < 0.0:
                ok &= line_of_sight_clear(self.earth, self.site_ecef, p_ecef)
        return ok & np.isfinite(rng)


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

    Scans the powered flight every POWERED_SAMPLE_S and the free flight every FREE_SAMPLE_S, then
    bisects the first visible sample's interval (BISECTIONS halvings). Returns (n_threats, n_radars).
    """
    idx = np.flatnonzero(threats.valid) if idx is None else np.asarray(idx)
    n_all = threats.n
    out = np.full((n_all, len(radars)), np.nan)
    if idx.size == 0 or not radars:
        return out
    times = _sample_times(threats, idx)  # (k, m), NaN padded
    k, m = times.shape
    rows = np.repeat(idx, m)
    flat_t = times.ravel()
    good = np.isfinite(flat_t)
    pos = np.full((k * m, 3), np.nan)
    pos[good] = threats.position_ecef(rows[good], flat_t[good])
    pos = pos.reshape(k, m, 3)
    for j, rg in enumerate(radars):
        vis = rg.sees(pos) & np.isfinite(times)
        anyv = vis.any(1)
        first = np.argmax(vis, axis=1)
        hit = np.flatnonzero(anyv)
        if hit.size == 0:
            continue
        fi = first[hit]
        t_hi = times[hit, fi]
        at_start = fi == 0
        t_lo = np.where(at_start, t_hi, times[hit, np.maximum(fi - 1, 0)])
        tr = idx[hit]
        for _ in range(BISECTIONS):
            mid = 0.5 * (t_lo + t_hi)
            seen = rg.sees(threats.position_ecef(tr, mid))
            t_hi = np.where(seen, mid, t_hi)
            t_lo = np.where(seen, t_lo, mid)
        out[tr, j] = np.where(at_start, times[hit, 0], t_hi)
    return out


def _sample_times(threats, idx) -> np.ndarray:
    """Scan times per threat: launch..burnout every POWERED_SAMPLE_S, then to impact every
    FREE_SAMPLE_S, with burnout and impact themselves included; NaN padded to a common length."""
    tl = threats.launch_time_s[idx]
    tb = threats.burn_time_s[idx]
    tf = threats.impact_time_s[idx] - threats.burnout_time_s[idx]
    n_p = np.ceil(tb / POWERED_SAMPLE_S).astype(int)
    n_f = np.ceil(tf / FREE_SAMPLE_S).astype(int)
    m = int((n_p + n_f).max()) + 2
    j = np.arange(m)[None, :]
    dp = tb / n_p
    df = tf / n_f
    t = np.where(j <= n_p[:, None], tl[:, None] + j * dp[:, None],
                 (tl + tb)[:, None] + (j - n_p[:, None]) * df[:, None])
    t[j > (n_p + n_f)[:, None]] = np.nan
    return t
