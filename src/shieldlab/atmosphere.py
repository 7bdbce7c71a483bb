"""The U.S. Standard Atmosphere 1976 below 86 km geometric altitude, for the drag of the staged threat model
(docs/models.md, The staged model).

Seven layers of linear molecular-scale temperature in geopotential altitude H = r0 h / (r0 + h), r0 = 6356766 m;
pressure from the hydrostatic equation, density from the ideal-gas law with the sea-level molar mass. Above 86 km
the density is taken as 0 (the model has no drag there); below 0 m the lowest layer is continued.

Source: U.S. Standard Atmosphere, 1976 (NOAA/NASA/USAF, NOAA-S/T 76-1562), Part 1, sections 1.2-1.3, tables 1-4.
The temperature given by `us1976` is the molecular-scale temperature T_M; it equals the kinetic temperature
below 80 km and differs from it by less than 0.05 % between 80 and 86 km (the molar-mass ratio of table 8);
pressure and density are exact to the standard at every altitude up to 86 km.

`density_kg_m3` is a compiled scalar function for the kernels; `us1976` is its numpy twin for tests and docs.
`density_fast_kg_m3` (the staged kernels' drag) interpolates ln(density) linearly in a table every
DENSITY_TABLE_STEP_M: within 1e-4 of `density_kg_m3` (tests/test_atmosphere.py), one exp instead of a pow.
"""

from __future__ import annotations

import math

import numpy as np

from shieldlab._jit import njit

R0_M = 6356766.0  # effective Earth radius of the geopotential altitude (1976, eq. 18)
G0_M_S2 = 9.80665
R_STAR_J_MOL_K = 8.31432  # the 1976 value of the universal gas constant
M0_KG_MOL = 28.9644e-3  # sea-level mean molar mass
TOP_GEOMETRIC_M = 86000.0  # above: density 0
GMR_K_M = G0_M_S2 * M0_KG_MOL / R_STAR_J_MOL_K  # hydrostatic constant (K/m)

# layer bases: geopotential altitude (m) and molecular-scale temperature gradient (K/m) (1976, table 4)
BASE_H_M = np.array([0.0, 11000.0, 20000.0, 32000.0, 47000.0, 51000.0, 71000.0])
LAPSE_K_M = np.array([-6.5e-3, 0.0, 1.0e-3, 2.8e-3, 0.0, -2.8e-3, -2.0e-3])
TOP_GEOPOTENTIAL_M = R0_M * TOP_GEOMETRIC_M / (R0_M + TOP_GEOMETRIC_M)


def _bases() -> tuple[np.ndarray, np.ndarray]:
    """Base temperatures and pressures of the layers, from 288.15 K and 101325 Pa at sea level."""
    t = np.empty(7)
    p = np.empty(7)
    t[0], p[0] = 288.15, 101325.0
    for i in range(6):
        dh = BASE_H_M[i + 1] - BASE_H_M[i]
        t[i + 1] = t[i] + LAPSE_K_M[i] * dh
        if LAPSE_K_M[i] == 0.0:
            p[i + 1] = p[i] * math.exp(-GMR_K_M * dh / t[i])
        else:
            p[i + 1] = p[i] * (t[i] / t[i + 1]) ** (GMR_K_M / LAPSE_K_M[i])
    return t, p


BASE_T_K, BASE_P_PA = _bases()


@njit
def density_kg_m3(h_m):
    """Air density (kg/m^3) at geometric altitude h_m (m): the 1976 standard below 86 km, 0 above."""
    if h_m > TOP_GEOMETRIC_M:
        return 0.0
    hp = R0_M * h_m / (R0_M + h_m)
    i = 6
    while i > 0 and hp < BASE_H_M[i]:
        i -= 1
    lapse = LAPSE_K_M[i]
    dh = hp - BASE_H_M[i]
    tb = BASE_T_K[i]
    if lapse == 0.0:
        t = tb
        p = BASE_P_PA[i] * math.exp(-GMR_K_M * dh / tb)
    else:
        t = tb + lapse * dh
        p = BASE_P_PA[i] * (tb / t) ** (GMR_K_M / lapse)
    return p * M0_KG_MOL / (R_STAR_J_MOL_K * t)


def us1976(h_m):
    """Temperature (K, molecular-scale), pressure (Pa) and density (kg/m^3) at geometric altitudes h_m (m), any
    shape. Above 86 km all three are NaN except the density, which is 0 (the model's convention)."""
    h = np.asarray(h_m, dtype=float)
    hp = R0_M * h / (R0_M + h)
    i = np.clip(np.searchsorted(BASE_H_M, hp, side="right") - 1, 0, 6)
    lapse = LAPSE_K_M[i]
    dh = hp - BASE_H_M[i]
    tb = BASE_T_K[i]
    t = tb + lapse * dh
    flat = lapse == 0.0
    safe = np.where(flat, 1.0, lapse)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        p = BASE_P_PA[i] * np.where(flat, np.exp(-GMR_K_M * dh / tb), (tb / t) ** (GMR_K_M / safe))
    rho = p * M0_KG_MOL / (R_STAR_J_MOL_K * t)
    above = h > TOP_GEOMETRIC_M
    return np.where(above, np.nan, t), np.where(above, np.nan, p), np.where(above, 0.0, rho)


DENSITY_TABLE_STEP_M = 10.0
# ln(density) every DENSITY_TABLE_STEP_M from 0 to 86 km (and one step beyond, for the last interval)
_LN_RHO = np.log(us1976(np.minimum(np.arange(0.0, TOP_GEOMETRIC_M + 2 * DENSITY_TABLE_STEP_M, DENSITY_TABLE_STEP_M),
                                   TOP_GEOMETRIC_M))[2])
_LN_RHO_SLOPE = np.diff(_LN_RHO) / DENSITY_TABLE_STEP_M
_INV_STEP = 1.0 / DENSITY_TABLE_STEP_M


@njit
def density_fast_kg_m3(h_m):
    """`density_kg_m3` by linear interpolation of ln(density) in a table (within 1e-4 of it; below 0 m the lowest
    layer is continued exactly)."""
    if h_m > TOP_GEOMETRIC_M:
        return 0.0
    if h_m < 0.0:
        return density_kg_m3(h_m)
    x = h_m * _INV_STEP
    i = int(x)
    return math.exp(_LN_RHO[i] + _LN_RHO_SLOPE[i] * (h_m - i * DENSITY_TABLE_STEP_M))
