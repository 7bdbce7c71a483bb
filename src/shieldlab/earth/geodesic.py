"""Geodesics through pyproj's Geod (Karney's algorithm on WGS84; the great circle on the sphere)."""

from __future__ import annotations

import numpy as np

from shieldlab.earth.model import Earth


def direct(earth: Earth, lat_deg, lon_deg, azimuth_deg, distance_m):
    """End point of the geodesic from a point along an azimuth for a distance.

    Returns (lat_deg, lon_deg, forward_azimuth_deg) as float arrays; the forward azimuth is the
    geodesic's direction at the end point, in [0, 360).
    """
    lat, lon, az, dist = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (lat_deg, lon_deg, azimuth_deg, distance_m))
    )
    lon2, lat2, back = earth.geod.fwd(lon.ravel(), lat.ravel(), az.ravel(), dist.ravel())
    fwd = (np.asarray(back) + 180.0) % 360.0
    shape = lat.shape
    return np.reshape(lat2, shape), np.reshape(lon2, shape), np.reshape(fwd, shape)


def inverse(earth: Earth, lat1_deg, lon1_deg, lat2_deg, lon2_deg):
    """Geodesic from point 1 to point 2: (azimuth at 1 in [0, 360) deg, distance m)."""
    az, _, dist = inverse_both(earth, lat1_deg, lon1_deg, lat2_deg, lon2_deg)
    return az, dist


def inverse_both(earth: Earth, lat1_deg, lon1_deg, lat2_deg, lon2_deg):
    """Geodesic between two points: (azimuth at 1 towards 2, azimuth at 2 back towards 1, both in
    [0, 360) deg, distance m)."""
    a = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lat1_deg, lon1_deg, lat2_deg, lon2_deg)))
    shape = a[0].shape
    az, back, dist = earth.geod.inv(a[1].ravel(), a[0].ravel(), a[3].ravel(), a[2].ravel())
    return (np.reshape(np.asarray(az) % 360.0, shape), np.reshape(np.asarray(back) % 360.0, shape),
            np.reshape(dist, shape))
