"""Compiled scalar kernels of the Earth model: gravity and geodetic altitude.

`params` is Earth.kernel_params: (a, e2, GM, omega, J2*a^2). Positions are in an Earth-centred frame
whose z axis is the rotation axis (inertial or ECEF: both quantities here do not depend on which).
"""

from __future__ import annotations

import math

from shieldlab._jit import njit


@njit
def gravity(x, y, z, params):
    """Point mass + J2 acceleration (docs/models.md, Gravity), in m/s^2."""
    gm = params[2]
    j2a2 = params[4]
    r2 = x * x + y * y + z * z
    ir2 = 1.0 / r2  # one division (and a square root): the integrators' cost is mostly these
    c = -gm * ir2 * math.sqrt(ir2)
    k = 1.5 * j2a2 * ir2
    zz = z * z * ir2
    fxy = c * (1.0 + k * (1.0 - 5.0 * zz))
    fz = c * (1.0 + k * (3.0 - 5.0 * zz))
    return fxy * x, fxy * y, fz * z


@njit
def geodetic_sin_cos_alt(x, y, z, params, steps=3):
    """sin and cos of the geodetic latitude, and the altitude (m), of a point: Bowring's iteration
    (3 steps: sub-mm at any altitude of interest; 1 step: well under a metre below 5,000 km, enough
    for scans and table look-ups), carried on (sin, cos) pairs so that it needs no trigonometry."""
    a = params[0]
    e2 = params[1]
    p = math.sqrt(x * x + y * y)
    if e2 == 0.0:
        r = math.sqrt(p * p + z * z)
        if r == 0.0:
            return 0.0, 1.0, -a
        return z / r, p / r, r - a
    b = a * math.sqrt(1.0 - e2)
    ep2 = e2 / (1.0 - e2)
    # parametric latitude beta: tan(beta) = (a z) / (b p)
    u = p * b
    v = z * a
    nrm = math.sqrt(u * u + v * v)
    if nrm == 0.0:  # the centre of the Earth
        return 0.0, 1.0, -a
    cb = u / nrm
    sb = v / nrm
    sl = 0.0
    cl = 1.0
    for _ in range(steps):
        num = z + ep2 * b * sb * sb * sb
        den = p - e2 * a * cb * cb * cb
        nrm = math.sqrt(num * num + den * den)
        sl = num / nrm
        cl = den / nrm
        # tan(beta) = (b / a) tan(lat)
        u = a * cl
        v = b * sl
        nrm = math.sqrt(u * u + v * v)
        cb = u / nrm
        sb = v / nrm
    alt = p * cl + z * sl - a * math.sqrt(1.0 - e2 * sl * sl)
    return sl, cl, alt


@njit
def geodetic_lat_alt(x, y, z, params, steps=3):
    """Geodetic latitude (rad) and altitude (m) of a point (see `geodetic_sin_cos_alt`)."""
    sl, cl, alt = geodetic_sin_cos_alt(x, y, z, params, steps)
    return math.atan2(sl, cl), alt


@njit
def altitude_rate(x, y, z, vx, vy, vz, params, steps=3):
    """Geodetic altitude (m) and its rate (m/s): velocity along the ellipsoid normal (`steps` Bowring steps, see
    `geodetic_sin_cos_alt`).

    The rate is the same in the inertial frame and in ECEF (the rotation's velocity is horizontal).
    """
    sl, cl, alt = geodetic_sin_cos_alt(x, y, z, params, steps)
    p = math.sqrt(x * x + y * y)
    if p > 0.0:
        nx = cl * x / p
        ny = cl * y / p
    else:
        nx = 0.0
        ny = 0.0
    return alt, vx * nx + vy * ny + vz * sl
