"""Shape conventions of shieldlab.earth.frames (and geodesic): scalars and arrays broadcast numpy-style.

The module docstring of shieldlab.earth.model fixes the convention: positions and velocities are (..., 3) with
x, y, z on the last axis, so a scalar point gives (3,), n points (n, 3), and per-point scalars come back with the
points' shape. Every array result must equal, row by row, the result of the scalar call (exactly: the same
floating-point operations).
"""

from __future__ import annotations

import numpy as np
import pytest

from shieldlab.earth import frames, geodesic
from shieldlab.earth.model import Earth
from shieldlab.scenario.model import EarthSpec

EARTHS = {"wgs84": Earth.from_spec(EarthSpec("wgs84")), "sphere": Earth.from_spec(EarthSpec("sphere", False, False))}
# array-vs-scalar results may differ by the last bit only if numpy vectorises transcendental functions (SIMD)
ROW_TOL_REL = 1e-14

LATS = np.array([-60.0, 0.0, 35.5, 89.0])
LONS = np.array([-170.0, 0.0, 20.0, 135.0])
ALTS = np.array([0.0, 1000.0, 200e3, 3000e3])


def _close(a, b):
    return np.allclose(a, b, rtol=ROW_TOL_REL, atol=1e-6)


@pytest.fixture(params=list(EARTHS))
def earth(request):
    return EARTHS[request.param]


# --------------------------------------------------------------------------- geodetic_to_ecef
def test_geodetic_to_ecef_scalar_is_3_vector(earth):
    r = frames.geodetic_to_ecef(earth, 35.5, 20.0, 200e3)
    assert r.shape == (3,), f"shape: expected (3,), got {r.shape}"
    # value: the point's distance from the axis and the equator plane are positive here
    assert r[0] > 0 and r[1] > 0 and r[2] > 0, f"expected a point in the first octant, got {r}"


@pytest.mark.parametrize("kind", ["python-float", "numpy-0d", "numpy-scalar"])
def test_geodetic_to_ecef_scalar_kinds(earth, kind):
    conv = {"python-float": float, "numpy-0d": np.array, "numpy-scalar": np.float64}[kind]
    r = frames.geodetic_to_ecef(earth, conv(35.5), conv(20.0), conv(200e3))
    ref = frames.geodetic_to_ecef(earth, 35.5, 20.0, 200e3)
    assert r.shape == (3,) and np.array_equal(r, ref), f"{kind}: expected {ref} with shape (3,), got {r} {r.shape}"


# (lat, lon, alt) as given, and the shape of the result: every point equals the scalar call at its inputs
BROADCAST = {
    "arrays": ((LATS, LONS, ALTS), (4, 3)),
    "lat-array-scalar-lon-alt": ((LATS, 20.0, 0.0), (4, 3)),
    "alt-array-scalar-lat-lon": ((10.0, 20.0, ALTS), (4, 3)),
    "2d-grid": ((LATS[:, None], LONS[None, :], 0.0), (4, 4, 3)),
    "lists": ((list(LATS), list(LONS), list(ALTS)), (4, 3)),
}


@pytest.mark.parametrize("case", list(BROADCAST))
def test_geodetic_to_ecef_broadcasts(earth, case):
    args, shape = BROADCAST[case]
    r = frames.geodetic_to_ecef(earth, *args)
    assert r.shape == shape, f"shape: expected {shape}, got {r.shape}"
    lat, lon, alt = np.broadcast_arrays(*(np.asarray(a, float) for a in args))
    for i in np.ndindex(lat.shape):
        ref = frames.geodetic_to_ecef(earth, float(lat[i]), float(lon[i]), float(alt[i]))
        assert _close(r[i], ref), f"point {i}: expected {ref}, got {r[i]}"


# --------------------------------------------------------------------------- ecef_to_geodetic
def test_ecef_to_geodetic_scalar_point(earth):
    r = frames.geodetic_to_ecef(earth, 35.5, 20.0, 200e3)
    lat, lon, alt = frames.ecef_to_geodetic(earth, r)
    for name, x, exp in (("lat", lat, 35.5), ("lon", lon, 20.0), ("alt", alt, 200e3)):
        assert np.shape(x) == (), f"{name} shape: expected (), got {np.shape(x)}"
        assert abs(float(x) - exp) < 1e-6, f"{name}: expected {exp}, got {float(x)}"


@pytest.mark.parametrize("shape", [(4,), (2, 2), (1,)])
def test_ecef_to_geodetic_arrays(earth, shape):
    n = int(np.prod(shape))
    r = frames.geodetic_to_ecef(earth, LATS[:n], LONS[:n], ALTS[:n]).reshape(shape + (3,))
    lat, lon, alt = frames.ecef_to_geodetic(earth, r)
    for name, x, exp in (("lat", lat, LATS), ("lon", lon, LONS), ("alt", alt, ALTS)):
        assert x.shape == shape, f"{name} shape: expected {shape}, got {x.shape}"
        assert np.allclose(x.ravel(), exp[:n], atol=1e-6), f"{name}: expected {exp[:n]}, got {x.ravel()}"


def test_ecef_to_geodetic_list_input(earth):
    r = frames.geodetic_to_ecef(earth, LATS, LONS, ALTS)
    lat, lon, alt = frames.ecef_to_geodetic(earth, r.tolist())
    assert lat.shape == (4,) and np.allclose(lat, LATS, atol=1e-6), f"lat from a list: expected {LATS}, got {lat}"


# --------------------------------------------------------------------------- enu_basis
def test_enu_basis_scalar_and_array():
    e, n, u = frames.enu_basis(0.0, 0.0)
    for name, x, exp in (("east", e, [0, 1, 0]), ("north", n, [0, 0, 1]), ("up", u, [1, 0, 0])):
        assert x.shape == (3,), f"{name} shape: expected (3,), got {x.shape}"
        assert np.allclose(x, exp, atol=1e-15), f"{name} at (0, 0): expected {exp}, got {x}"
    E, N, U = frames.enu_basis(LATS, LONS)
    for name, X in (("east", E), ("north", N), ("up", U)):
        assert X.shape == (4, 3), f"{name} shape: expected (4, 3), got {X.shape}"
    for i in range(4):
        for X, x in zip((E, N, U), frames.enu_basis(LATS[i], LONS[i])):
            assert _close(X[i], x), f"row {i}: expected {x}, got {X[i]}"
    # a scalar longitude with an array latitude: east is the same at every latitude
    E2, _, _ = frames.enu_basis(LATS, 90.0)
    assert E2.shape == (4, 3) and np.allclose(E2, [-1.0, 0.0, 0.0], atol=1e-15), f"east at lon 90: got {E2}"


# --------------------------------------------------------------------------- direction_enu_to_ecef
def test_direction_enu_to_ecef_shapes():
    d = frames.direction_enu_to_ecef(0.0, 0.0, np.pi / 2, 0.0)  # due east at (0, 0): +y
    assert d.shape == (3,) and np.allclose(d, [0, 1, 0], atol=1e-15), f"expected (3,) [0, 1, 0], got {d.shape} {d}"
    d = frames.direction_enu_to_ecef(0.0, 0.0, 0.0, np.pi / 2)  # straight up at (0, 0): +x
    assert d.shape == (3,) and np.allclose(d, [1, 0, 0], atol=1e-15), f"expected (3,) [1, 0, 0], got {d.shape} {d}"
    az = np.radians([0.0, 90.0, 180.0, 270.0])
    D = frames.direction_enu_to_ecef(LATS, LONS, az, np.radians(30.0))
    assert D.shape == (4, 3), f"shape: expected (4, 3), got {D.shape}"
    assert np.allclose(np.linalg.norm(D, axis=-1), 1.0, atol=1e-15), "unit vectors"
    for i in range(4):
        ref = frames.direction_enu_to_ecef(LATS[i], LONS[i], az[i], np.radians(30.0))
        assert _close(D[i], ref), f"row {i}: expected {ref}, got {D[i]}"
    D2 = frames.direction_enu_to_ecef(10.0, 20.0, az, 0.1)  # one place, many azimuths
    assert D2.shape == (4, 3), f"shape: expected (4, 3), got {D2.shape}"


# --------------------------------------------------------------------------- look_angles
def test_look_angles_shapes(earth):
    pts = frames.geodetic_to_ecef(earth, LATS * 0 + 36.0, LONS * 0 + 21.0 + np.arange(4), ALTS + 100e3)
    az, el, rng = frames.look_angles(earth, 35.5, 20.0, 0.0, pts[0])
    for name, x in (("az", az), ("el", el), ("range", rng)):
        assert np.shape(x) == (), f"{name} shape for one point: expected (), got {np.shape(x)}"
    AZ, EL, RNG = frames.look_angles(earth, 35.5, 20.0, 0.0, pts)
    for name, X in (("az", AZ), ("el", EL), ("range", RNG)):
        assert X.shape == (4,), f"{name} shape for 4 points: expected (4,), got {X.shape}"
    assert _close(AZ[0], az) and _close(EL[0], el) and _close(RNG[0], rng), (
        f"row 0: expected ({az}, {el}, {rng}), got ({AZ[0]}, {EL[0]}, {RNG[0]})")
    # many sites against one point each
    sites_lat = np.array([35.5, 36.5, 37.5, 38.5])
    AZ2, EL2, RNG2 = frames.look_angles(earth, sites_lat, 20.0, 0.0, pts)
    assert AZ2.shape == EL2.shape == RNG2.shape == (4,), f"shapes: got {AZ2.shape}, {EL2.shape}, {RNG2.shape}"
    for i in range(4):
        a, e, r = frames.look_angles(earth, sites_lat[i], 20.0, 0.0, pts[i])
        assert _close(AZ2[i], a) and _close(EL2[i], e) and _close(RNG2[i], r), f"site {i}"
    # (sites, points) table by broadcasting
    T = frames.look_angles(earth, sites_lat[:, None], 20.0, 0.0, pts[None, :, :])
    assert all(x.shape == (4, 4) for x in T), f"table shapes: expected (4, 4), got {[x.shape for x in T]}"
    assert _close(T[2][1, 3], frames.look_angles(earth, sites_lat[1], 20.0, 0.0, pts[3])[2]), "table element (1, 3)"


# --------------------------------------------------------------------------- geodesic
def test_geodesic_shapes(earth):
    lat, lon, fwd = geodesic.direct(earth, 10.0, 20.0, 45.0, 1e6)
    assert np.shape(lat) == np.shape(lon) == np.shape(fwd) == (), "direct on scalars gives 0-d results"
    LAT, LON, FWD = geodesic.direct(earth, 10.0, 20.0, [45.0, 90.0, 135.0], 1e6)
    assert LAT.shape == LON.shape == FWD.shape == (3,), f"direct shapes: got {LAT.shape}"
    assert _close(LAT[0], lat) and _close(LON[0], lon) and _close(FWD[0], fwd), "direct row 0"
    az, dist = geodesic.inverse(earth, 10.0, 20.0, LATS[:, None], LONS[None, :])
    assert az.shape == dist.shape == (4, 4), f"inverse grid shapes: got {az.shape}, {dist.shape}"
    a1, d1 = geodesic.inverse(earth, 10.0, 20.0, LATS[2], LONS[1])
    assert _close(az[2, 1], a1) and _close(dist[2, 1], d1), f"inverse element (2, 1): expected {a1}, {d1}"
