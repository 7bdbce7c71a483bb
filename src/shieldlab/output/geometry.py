"""Presentation geometry, on the scenario's own Earth: the one place maps, tables and the web page take
their rings, cell edges, view widths, longitude wrapping, sampled ground tracks and coordinate texts from.

Every function that measures or draws on the Earth takes an :class:`~shieldlab.earth.model.Earth` (build
it with ``Earth.from_spec(scenario.earth)``): geodesics go through :mod:`shieldlab.earth.geodesic`
(Karney's geodesics on WGS84, the great circle on the sphere), so a ``[earth] model = "sphere"`` scenario
is drawn on the sphere. Nothing here computes a result; presentation only.

Conventions: angles in degrees, distances in metres unless the name says otherwise; a "wrapped"
longitude is in [-180, 180) (:func:`wrap_lon`), a "continuous" one is unwrapped along a line
(:func:`unwrap_lon`) so that it may leave that range, which is what cartopy's Geodetic CRS and Leaflet
need to draw across the antimeridian without a seam.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from shieldlab.earth import frames, geodesic
from shieldlab.earth.model import Earth
from shieldlab.scenario.model import EarthSpec, Point, Sector

__all__ = [
    "GroundTrack",
    "cell_edges",
    "cell_outline",
    "densify_geodesic",
    "earth_of",
    "earth_text",
    "ground_track",
    "lat_lon_text",
    "lon_range",
    "place_text",
    "point_label",
    "range_ring",
    "site_text",
    "track_times",
    "unwrap_lon",
    "view_width_km",
    "wrap_lon",
]

RING_STEP_DEG = 1.0  # azimuth step of a range ring (361 points around a full circle)
RADIAL_POINTS = 40  # points along each straight edge of a sector outline (geodesics from the site)
POWERED_STEP_S = 10.0  # ground-track sampling: every 10 s in powered flight ...
FREE_STEP_S = 20.0  # ... and every 20 s in free flight, ends included
VIEW_SAMPLES = 41  # points along the middle row of a map view to measure its width


# --------------------------------------------------------------------------- the Earth
def earth_of(earth: Earth | EarthSpec) -> Earth:
    """An Earth from an Earth or a scenario's EarthSpec (``scenario.earth``)."""
    return earth if isinstance(earth, Earth) else Earth.from_spec(earth)


def earth_text(earth: Earth | EarthSpec) -> str:
    """The Earth model in words, as titles state it: ``"wgs84, rotation on, J2 on"``, ``"sphere, rotation
    off, J2 off"`` (the scenario's ``[earth]`` keys; J2 is always off on the sphere)."""
    spec = earth.spec if isinstance(earth, Earth) else earth
    j2 = bool(spec.j2) and spec.model == "wgs84"
    return f"{spec.model}, rotation {'on' if spec.rotation else 'off'}, J2 {'on' if j2 else 'off'}"


# --------------------------------------------------------------------------- longitudes
def wrap_lon(lon_deg):
    """Longitude(s) wrapped into [-180, 180): 180 and 540 give -180, -190 gives 170. A float for a
    scalar, an array otherwise."""
    out = (np.asarray(lon_deg, dtype=float) + 180.0) % 360.0 - 180.0
    return float(out) if out.ndim == 0 else out


def unwrap_lon(lon_deg) -> np.ndarray:
    """Longitudes made continuous along a line (steps of more than 180 deg taken the short way), starting
    from the first one as given."""
    lon = np.asarray(lon_deg, dtype=float)
    if lon.size == 0:
        return lon
    return np.degrees(np.unwrap(np.radians(lon)))


def lon_range(lon_deg) -> tuple[float, float]:
    """The shortest eastward arc that holds every finite longitude: (start_deg in [0, 360), span_deg).

    Points on both sides of the antimeridian (Japan, Alaska) give an arc across it: e.g. [170, -170]
    -> (170, 20). One point (or all equal) gives span 0. Raises ValueError without a finite longitude.
    """
    lon = np.asarray(lon_deg, dtype=float).ravel()
    lon = lon[np.isfinite(lon)]
    if lon.size == 0:
        raise ValueError("lon_range needs at least one finite longitude")
    s = np.unique(lon % 360.0)  # sorted
    gaps = np.diff(np.r_[s, s[0] + 360.0])  # gap after each point, eastward
    i = int(np.argmax(gaps))
    return float(s[(i + 1) % len(s)]), 360.0 - float(gaps[i])


# --------------------------------------------------------------------------- rings and cells
def range_ring(earth: Earth, lat_deg: float, lon_deg: float, radius_m: float, sector: Sector | None = None, *,
               step_deg: float = RING_STEP_DEG, radial_points: int = RADIAL_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(lon_deg, lat_deg) of the geodesic circle of radius_m around a site on this Earth, or of the
    outline of an azimuth sector (site, geodesic out along the first edge, the arc, back along the last
    edge). A sector of half-width 180 deg or more, or with a non-finite centre, is the full circle.
    Longitudes are continuous (see the module text)."""
    full = sector is None or not math.isfinite(sector.center_deg) or sector.half_width_deg >= 180.0
    if full:
        az = np.linspace(0.0, 360.0, int(round(360.0 / step_deg)) + 1)
    else:
        c, h = sector.center_deg, sector.half_width_deg
        az = np.linspace(c - h, c + h, max(int(2.0 * h / step_deg), 2) + 1)
    lats, lons, _ = geodesic.direct(earth, np.full(az.size, float(lat_deg)), np.full(az.size, float(lon_deg)),
                                    az, np.full(az.size, float(radius_m)))
    if not full:  # the straight edges, densified so that they stay geodesics
        d = np.linspace(0.0, float(radius_m), radial_points)
        b1, l1, _ = geodesic.direct(earth, lat_deg, lon_deg, np.full(d.size, az[0]), d)
        b2, l2, _ = geodesic.direct(earth, lat_deg, lon_deg, np.full(d.size, az[-1]), d[::-1])
        lons, lats = np.r_[l1, lons, l2], np.r_[b1, lats, b2]
    return unwrap_lon(lons), np.asarray(lats, dtype=float)


def cell_edges(centers, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """The n + 1 cell edges of n cell centres (midway between neighbours, the outer ones as far out as
    their neighbour's midpoint; a single centre gets a 1-deg cell), clipped to [lo, hi] when given
    (e.g. -90, 90 for latitudes)."""
    c = np.asarray(centers, dtype=float).ravel()
    if c.size == 1:
        e = np.array([c[0] - 0.5, c[0] + 0.5])
    else:
        mid = 0.5 * (c[1:] + c[:-1])
        e = np.r_[c[0] - (mid[0] - c[0]), mid, c[-1] + (c[-1] - mid[-1])]
    if lo is not None or hi is not None:
        e = np.clip(e, lo, hi)
    return e


def cell_outline(lon0_deg: float, lon1_deg: float, lat0_deg: float, lat1_deg: float,
                 n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """(lon_deg, lat_deg) of a lon/lat cell's outline, each side sampled at n points so that, drawn in a
    projection, the sides follow the meridians and parallels."""
    lo, la = np.linspace(lon0_deg, lon1_deg, n), np.linspace(lat0_deg, lat1_deg, n)
    return (np.r_[lo, np.full(n, lon1_deg), lo[::-1], np.full(n, lon0_deg)],
            np.r_[np.full(n, lat0_deg), la, np.full(n, lat1_deg), la[::-1]])


def densify_geodesic(earth: Earth, lon_deg, lat_deg, step_m: float,
                     max_points_per_segment: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """A polyline with points inserted along each segment's geodesic on this Earth, so that consecutive
    points are at most step_m apart (at most max_points_per_segment inserted per segment). Non-finite
    points are dropped; longitudes come back continuous."""
    lon = np.asarray(lon_deg, dtype=float).ravel()
    lat = np.asarray(lat_deg, dtype=float).ravel()
    ok = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[ok], lat[ok]
    if len(lon) < 2 or step_m <= 0:
        return lon, lat
    az, dist = geodesic.inverse(earth, lat[:-1], lon[:-1], lat[1:], lon[1:])
    out_lon, out_lat = [lon[:1]], [lat[:1]]
    for k in range(len(lon) - 1):
        n_mid = min(int(np.ceil(dist[k] / step_m)) - 1, max_points_per_segment)
        if n_mid > 0:
            frac = np.arange(1, n_mid + 1) / (n_mid + 1)
            la, lo, _ = geodesic.direct(earth, lat[k], lon[k], az[k], dist[k] * frac)
            out_lon.append(lo)
            out_lat.append(la)
        out_lon.append(lon[k + 1 : k + 2])
        out_lat.append(lat[k + 1 : k + 2])
    return unwrap_lon(np.concatenate(out_lon)), np.concatenate(out_lat)


def view_width_km(earth: Earth, projection, frame, n: int = VIEW_SAMPLES) -> float:
    """The ground width of a map view, in km on this Earth: the sum of geodesic distances between n points
    along the middle row of the frame (x0, x1, y0, y1, in the projection's coordinates). Points off the
    Earth (outside the projection's domain) are left out; inf when fewer than two are on it."""
    import cartopy.crs as ccrs

    x0, x1, y0, y1 = frame
    x = np.linspace(x0, x1, n)
    ll = ccrs.PlateCarree().transform_points(projection, x, np.full(x.size, 0.5 * (y0 + y1)))
    ok = np.isfinite(ll[:, 0]) & np.isfinite(ll[:, 1])
    if ok.sum() < 2:
        return math.inf
    lon, lat = ll[ok, 0], ll[ok, 1]
    _, d = geodesic.inverse(earth, lat[:-1], lon[:-1], lat[1:], lon[1:])
    return float(np.sum(d)) * 1e-3


# --------------------------------------------------------------------------- ground tracks
@dataclass(frozen=True)
class GroundTrack:
    """One threat's flight sampled for drawing: scenario times, geodetic latitude, continuous longitude
    and altitude at each sample, with the burnout and apogee times that split it into phases."""

    time_s: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_m: np.ndarray
    burnout_time_s: float
    apogee_time_s: float

    @property
    def phase(self) -> np.ndarray:
        """Per sample: "boost" up to burnout, then "ascent" up to the apogee, then "descent"."""
        t = self.time_s
        return np.where(t <= self.burnout_time_s, "boost", np.where(t <= self.apogee_time_s, "ascent", "descent"))

    def __repr__(self) -> str:
        return (f"GroundTrack({self.time_s.size} samples, t {self.time_s[0]:g}..{self.time_s[-1]:g} s, "
                f"burnout {self.burnout_time_s:g} s, apogee {self.apogee_time_s:g} s)")


def track_times(launch_time_s: float, burnout_time_s: float, impact_time_s: float,
                apogee_time_s: float | None = None) -> np.ndarray:
    """Sample times of a flight: launch..burnout every POWERED_STEP_S or less, then burnout..impact every
    FREE_STEP_S or less, ends included; the apogee added as a sample when given and inside free flight."""
    n_p = max(1, int(math.ceil((burnout_time_s - launch_time_s) / POWERED_STEP_S)))
    n_f = max(1, int(math.ceil((impact_time_s - burnout_time_s) / FREE_STEP_S)))
    t = np.concatenate([np.linspace(launch_time_s, burnout_time_s, n_p + 1),
                        np.linspace(burnout_time_s, impact_time_s, n_f + 1)[1:]])
    if apogee_time_s is not None and burnout_time_s < apogee_time_s < impact_time_s:
        t = np.sort(np.append(t, apogee_time_s))
    return t


def ground_track(threats, i: int, *, with_apogee: bool = True) -> GroundTrack | None:
    """Threat i of a flown ThreatBatch sampled at :func:`track_times` (with its apogee as a sample when
    with_apogee), on the batch's own Earth; None for a threat that could not be computed."""
    if not threats.valid[i]:
        return None
    t0, tb = float(threats.launch_time_s[i]), float(threats.burnout_time_s[i])
    ti, ta = float(threats.impact_time_s[i]), float(threats.apogee_time_s[i])
    t = track_times(t0, tb, ti, ta if with_apogee else None)
    lat, lon, alt = frames.ecef_to_geodetic(threats.earth, threats.position_ecef(np.full(t.shape, i), t))
    return GroundTrack(t, lat, unwrap_lon(lon), alt, tb, ta)


# --------------------------------------------------------------------------- coordinate texts
def lat_lon_text(lat_deg: float, lon_deg: float, decimals: int = 2) -> str:
    """``"54.04°N 36.01°E"``: hemisphere letters, no signs, `decimals` decimals."""
    return (f"{abs(lat_deg):.{decimals}f}°{'N' if lat_deg >= 0 else 'S'} "
            f"{abs(lon_deg):.{decimals}f}°{'E' if lon_deg >= 0 else 'W'}")


def place_text(p: Mapping | None, decimals: int = 2) -> str:
    """:func:`lat_lon_text` of a mapping with ``lat_deg`` and ``lon_deg`` (a point of a result document);
    "" when there is none or its latitude is None."""
    if not p or p.get("lat_deg") is None:
        return ""
    return lat_lon_text(p["lat_deg"], p["lon_deg"], decimals)


def site_text(p: Point, decimals: int = 3) -> str:
    """A site in words: ``"kurecik (38.349°N 37.794°E, 2085 m)"``; the altitude only when not zero, the
    bare coordinates when the point has no name."""
    s = lat_lon_text(p.lat_deg, p.lon_deg, decimals)
    if p.alt_m:
        s += f", {p.alt_m:g} m"
    return f"{p.name} ({s})" if p.name else s


def point_label(p: Point, decimals: int | None = None) -> str:
    """A point's short label: its name, else ``"lat,lon"`` (shortest form, ``"54.035,36.013"``, or with a
    fixed number of decimals, ``"54.0,36.0"`` for decimals=1)."""
    if p.name:
        return p.name
    if decimals is None:
        return f"{p.lat_deg:g},{p.lon_deg:g}"
    return f"{p.lat_deg:.{decimals}f},{p.lon_deg:.{decimals}f}"
