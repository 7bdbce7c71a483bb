"""Compiled scalar kernels of the Earth model: gravity and geodetic altitude.

`params` is Earth.kernel_params: (a, e2, GM, omega, J2*a^2). Positions are in an Earth-centred frame
whose z axis is the rotation axis (inertial or ECEF: both quantities here do not depend on which).
"""

from __future__ import annotations

import math

from shieldlab._jit import njit


@njit
def gravity(x, y, z, params):
    """Point mass + J2 acceleration (MODELS.md section 1), in m/s^2."""
    gm = params[2]
    j2a2 = params[4]
    r2 = x * x + y * y + z * z
    r = math.sqrt(r2)
    c = -gm / (r2 * r)
    k = 1.5 * j2a2 / r2
    zz = z * z / r2
    fxy = c * (1.0 + k * (1.0 - 5.0 * zz))
    fz = c * (1.0 + k * (3.0 - 5.0 * zz))
    return fxy * x, fxy * y, fz * z


@njit
def geodetic_lat_alt(x, y, z, params, steps=3):
    """Geodetic latitude (rad) and altitude (m) of a point; Bowring's iteration (3 steps: sub-mm at
    any altitude of interest; 1 step: well under a metre below 5,000 km, enough for table look-ups)."""
    a = params[0]
    e2 = params[1]
    p = math.sqrt(x * x + y * y)
    if e2 == 0.0:
        return math.atan2(z, p), math.sqrt(p * p + z * z) - a
    b = a * math.sqrt(1.0 - e2)
    ep2 = e2 / (1.0 - e2)
    beta = math.atan2(z * a, p * b)
    lat = 0.0
    for _ in range(steps):
        sb = math.sin(beta)
        cb = math.cos(beta)
        lat = math.atan2(z + ep2 * b * sb * sb * sb, p - e2 * a * cb * cb * cb)
        beta = math.atan2(b * math.sin(lat), a * math.cos(lat))
    sl = math.sin(lat)
    cl = math.cos(lat)
    alt = p * cl + z * sl - a * math.sqrt(1.0 - e2 * sl * sl)
    return lat, alt


@njit
def altitude_rate(x, y, z, vx, vy, vz, params):
    """Geodetic altitude (m) and its rate (m/s): velocity along the ellipsoid normal.

    The rate is the same in the inertial frame and in ECEF (the rotation's velocity is horizontal).
    """
    lat, alt = geodetic_lat_alt(x, y, z, params)
    p = math.sqrt(x * x + y * y)
    cl = math.cos(lat)
    if p > 0.0:
        nx = cl * x / p
        ny = cl * y / p
    else:
        nx = 0.0
        ny = 0.0
    nz = math.sin(lat)
    return alt, vx * nx + vy * ny + vz * nz
