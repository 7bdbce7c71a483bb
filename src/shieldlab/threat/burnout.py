"""The burnout model: where and how a threat leaves powered flight (docs/models.md, The threat missile: the
burnout model).

Vectorised over threats: every argument broadcasts; angles in radians unless the name says deg.
"""

from __future__ import annotations

import numpy as np

from shieldlab.earth import frames, geodesic
from shieldlab.earth.model import Earth


def burnout_point(earth: Earth, launch_lat_deg, launch_lon_deg, azimuth0_deg, burnout_range_m):
    """Burnout latitude/longitude (deg) and the geodesic's forward azimuth there (deg)."""
    return geodesic.direct(earth, launch_lat_deg, launch_lon_deg, azimuth0_deg, burnout_range_m)


def burnout_state_ecef(earth: Earth, lat_b_deg, lon_b_deg, burnout_altitude_m, azimuth_b_deg, gamma_rad, speed_m_s):
    """Burnout position and Earth-relative velocity in ECEF, (..., 3) each.

    v = v_bo (cos g (sin a e + cos a n) + sin g u) in the local frame at B (docs/models.md, The threat missile:
    the burnout model).
    """
    r = frames.geodetic_to_ecef(earth, lat_b_deg, lon_b_deg, burnout_altitude_m)
    u = frames.direction_enu_to_ecef(lat_b_deg, lon_b_deg, np.radians(azimuth_b_deg), np.asarray(gamma_rad, float))
    return r, np.asarray(speed_m_s, float)[..., None] * u


def powered_position_ecef(earth: Earth, launch_lat_deg, launch_lon_deg, launch_alt_m, azimuth0_deg,
                          burn_time_s, burnout_range_m, burnout_altitude_m, tau_s):
    """Position (..., 3) during powered flight, 0 <= tau <= t_bo after launch (sensors only).

    s = (tau/t_bo)^2; the missile is at direct(L, a0, s d_bo), altitude h_L + s (h_bo - h_L).
    """
    s = np.clip(np.asarray(tau_s, float) / burn_time_s, 0.0, 1.0) ** 2
    lat, lon, _ = geodesic.direct(earth, launch_lat_deg, launch_lon_deg, azimuth0_deg, s * burnout_range_m)
    alt = launch_alt_m + s * (burnout_altitude_m - launch_alt_m)
    return frames.geodetic_to_ecef(earth, lat, lon, alt)
