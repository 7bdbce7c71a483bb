"""The U.S. Standard Atmosphere 1976 of the staged model's drag (docs/models.md, The staged model): the compiled
density and the numpy `us1976` against the published tables, against the independent `ambiance` package, at the
layer boundaries, and 0 above 86 km.

Source: U.S. Standard Atmosphere, 1976 (NOAA-S/T 76-1562), Part 4, tables I (geometric altitude): density
1.2250 kg/m3 at 0 m, 3.6480e-1 at 11 km, 1.0269e-3 at 50 km (1.02688e-3 with the more digits of its
geopotential tables), pressure 101325 Pa at 0 m; the seven layers' base temperatures of its table 4.
"""

from __future__ import annotations

import numpy as np
import pytest

from shieldlab import atmosphere as A

# `ambiance` (1.3.1) implements the 1993 ICAO standard atmosphere, identical to the 1976 one below 80 km except
# that its sea-level molar mass is 28.96442 kg/kmol where the 1976 standard gives 28.9644: the 7e-7 relative
# difference grows through the hydrostatic exponent to about 9e-6 in pressure and density at 80 km.
AMBIANCE_REL_TOL = 2e-5
TEMPERATURE_REL_TOL = 1e-12
# the published tables' values, to half a unit of their last digit
PUBLISHED = [(0.0, 1.2250, 0.00005), (11000.0, 0.36480, 0.000005), (50000.0, 1.02688e-3, 0.000005e-3)]
BASE_TEMPERATURES_K = [288.15, 216.65, 216.65, 228.65, 270.65, 270.65, 214.65]  # 1976, table 4
# density 1 micrometre below vs above a layer boundary: the smooth change over 2 um is 2e-6 / (scale height > 6 km)
# < 4e-10 of the density; a wrong base pressure or temperature would jump by far more
CONTINUITY_REL_TOL = 1e-9
STRADDLE_M = 1e-6


@pytest.mark.kernels
def test_published_densities():
    for h, rho, tol in PUBLISHED:
        assert A.density_kg_m3(h) == pytest.approx(rho, abs=tol), h
        assert float(A.us1976(h)[2]) == pytest.approx(rho, abs=tol), h
    assert float(A.us1976(0.0)[1]) == 101325.0
    np.testing.assert_allclose(A.BASE_T_K, BASE_TEMPERATURES_K, rtol=TEMPERATURE_REL_TOL)


def test_against_ambiance_below_80_km():
    ambiance = pytest.importorskip("ambiance")
    h = np.linspace(-500.0, 80000.0, 1617)
    ref = ambiance.Atmosphere(h)
    t, p, rho = A.us1976(h)
    np.testing.assert_allclose(t, ref.temperature, rtol=TEMPERATURE_REL_TOL)
    np.testing.assert_allclose(p, ref.pressure, rtol=AMBIANCE_REL_TOL)
    np.testing.assert_allclose(rho, ref.density, rtol=AMBIANCE_REL_TOL)
    compiled = np.array([A.density_kg_m3(x) for x in h])
    np.testing.assert_allclose(compiled, rho, rtol=1e-13)


def test_continuous_at_the_layer_boundaries():
    base_geometric = A.BASE_H_M[1:] * A.R0_M / (A.R0_M - A.BASE_H_M[1:])
    for h in base_geometric:
        below, above = A.density_kg_m3(h - STRADDLE_M), A.density_kg_m3(h + STRADDLE_M)
        assert above < below, h  # density falls with height
        assert above == pytest.approx(below, rel=CONTINUITY_REL_TOL), h
        t_below, t_above = A.us1976([h - STRADDLE_M, h + STRADDLE_M])[0]
        assert t_above == pytest.approx(t_below, abs=1e-7), h


def test_zero_above_86_km():
    top = A.TOP_GEOMETRIC_M
    assert A.density_kg_m3(top) == pytest.approx(6.958e-6, rel=1e-3)  # 1976, table I at 86 km: 6.958e-6 kg/m3
    for h in (top + 1e-6, 90e3, 200e3, 1e7):
        assert A.density_kg_m3(h) == 0.0
    t, p, rho = A.us1976([90e3, 1e6])
    assert np.all(rho == 0.0) and np.all(np.isnan(t)) and np.all(np.isnan(p))


# the staged kernels' table density: ln(density) linear over 10 m cells; inside a cell its error is h^2/8 times the
# curvature of ln(density) (~1e-9 /m^2: ~1e-8), in the cell of a layer boundary h/4 times the jump of its slope
# (lapse change / T < 3.2e-5 /m: < 8e-5)
TABLE_REL_TOL = 1e-4


def test_table_density_is_the_standard_within_its_bound():
    bases_m = A.R0_M * A.BASE_H_M[1:] / (A.R0_M - A.BASE_H_M[1:])  # geometric altitudes of the layer bases
    h = np.concatenate([np.linspace(-200.0, 86000.0, 86201 * 2), np.repeat(bases_m, 3) + np.tile([-3.0, 0.0, 4.0], 6)])
    fast = np.array([A.density_fast_kg_m3(x) for x in h])
    exact = np.array([A.density_kg_m3(x) for x in h])
    rel = np.abs(fast / exact - 1.0)
    assert rel.max() < TABLE_REL_TOL
    assert rel.max() > 1e-7  # an interpolation, not the formula (the test would pass vacuously)
    assert A.density_fast_kg_m3(86000.1) == 0.0
