"""Geodetic <-> ECEF conversions, local east-north-up frames and look angles.

Vectorised numpy on (..., 3) arrays; latitudes and longitudes in degrees at this edge, metres otherwise.
The ellipsoidal case is cross-checked against pyproj (EPSG:4979 -> EPSG:4978) in the tests.
"""

from __future__ import annotations

import numpy as np

from shieldlab.earth.model import Earth


def geodetic_to_ecef(earth: Earth, lat_deg, lon_deg, alt_m) -> np.ndarray:
    """Geodetic latitude/longitude (deg) and altitude (m) to ECEF position (..., 3) in metres."""
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    lon = np.radians(np.asarray(lon_deg, dtype=float))
    alt = np.asarray(alt_m, dtype=float)
    sl, cl = np.sin(lat), np.cos(lat)
    n = earth.a_m / np.sqrt(1.0 - earth.e2 * sl * sl)
    x = (n + alt) * cl * np.cos(lon)
    y = (n + alt) * cl * np.sin(lon)
    z = (n * (1.0 - earth.e2) + alt) * sl
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def ecef_to_geodetic(earth: Earth, r_ecef) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ECEF (..., 3) metres to geodetic (lat_deg, lon_deg, alt_m).

    Iterates Bowring's parametric-latitude formula to convergence (sub-millimetre after 3 steps for
    any altitude above -100 km); on the sphere it is exact in one step.
    """
    r = np.asarray(r_ecef, dtype=float)
    lat, alt = _lat_alt(earth, r)
    return np.degrees(lat), np.degrees(np.arctan2(r[..., 1], r[..., 0])), alt


def geodetic_altitude(earth: Earth, r_ecef) -> np.ndarray:
    """The geodetic altitude (m) of ECEF points (..., 3): the alt_m of `ecef_to_geodetic`, the same numbers,
    without the latitude and longitude in degrees."""
    return _lat_alt(earth, np.asarray(r_ecef, dtype=float))[1]


def _lat_alt(earth: Earth, r):
    """Geodetic latitude (rad) and altitude (m) of ECEF points r (..., 3) (see `ecef_to_geodetic`)."""
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    a, e2 = earth.a_m, earth.e2
    b = earth.b_m
    ep2 = e2 / (1.0 - e2) if e2 else 0.0
    p = np.hypot(x, y)
    beta = np.arctan2(z * a, p * b)
    for _ in range(4):
        lat = np.arctan2(z + ep2 * b * np.sin(beta) ** 3, p - e2 * a * np.cos(beta) ** 3)
        beta = np.arctan2(b * np.sin(lat), a * np.cos(lat))
    sl, cl = np.sin(lat), np.cos(lat)
    alt = p * cl + z * sl - a * np.sqrt(1.0 - e2 * sl * sl)
    return lat, alt


def enu_basis(lat_deg, lon_deg) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit east, north, up vectors (..., 3) in ECEF at geodetic latitude/longitude (deg).

    On the sphere, geodetic = geocentric latitude, so `up` is radial there (docs/models.md, Frames).
    """
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    lon = np.radians(np.asarray(lon_deg, dtype=float))
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    zero = np.zeros_like(sl * so)
    east = np.stack(np.broadcast_arrays(-so, co, zero), axis=-1)
    north = np.stack(np.broadcast_arrays(-sl * co, -sl * so, cl), axis=-1)
    up = np.stack(np.broadcast_arrays(cl * co, cl * so, sl), axis=-1)
    return east, north, up


def look_angles(earth: Earth, site_lat_deg, site_lon_deg, site_alt_m, r_ecef):
    """Azimuth (deg, clockwise from north, [0, 360)), elevation (deg) and slant range (m) of ECEF
    points seen from a site, in the site's local frame."""
    s = geodetic_to_ecef(earth, site_lat_deg, site_lon_deg, site_alt_m)
    e, n, u = enu_basis(site_lat_deg, site_lon_deg)
    d = np.asarray(r_ecef, dtype=float) - s
    de, dn, du = (d * e).sum(-1), (d * n).sum(-1), (d * u).sum(-1)
    rng = np.sqrt(de * de + dn * dn + du * du)
    az = np.degrees(np.arctan2(de, dn)) % 360.0
    el = np.degrees(np.arctan2(du, np.hypot(de, dn)))
    return az, el, rng


def direction_enu_to_ecef(lat_deg, lon_deg, azimuth_rad, elevation_rad) -> np.ndarray:
    """Unit vector (..., 3) in ECEF of a direction given by azimuth/elevation (rad) in the local frame."""
    e, n, u = enu_basis(lat_deg, lon_deg)
    ce = np.cos(elevation_rad)[..., None]
    return ce * (np.sin(azimuth_rad)[..., None] * e + np.cos(azimuth_rad)[..., None] * n) + np.sin(
        elevation_rad
    )[..., None] * u
