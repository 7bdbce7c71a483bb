"""Geodetic <-> ECEF conversions, the compiled geodetic kernel, geodesics, local frames and look angles
(shieldlab.earth.frames, shieldlab.earth._kernels, shieldlab.earth.geodesic), against pyproj/PROJ and
hand-written spherical trigonometry.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from shieldlab.earth import _kernels, frames, geodesic
from shieldlab.earth.model import Earth
from shieldlab.scenario.model import EarthSpec

WGS84 = Earth.from_spec(EarthSpec("wgs84"))
SPHERE = Earth.from_spec(EarthSpec("sphere", rotation=False, j2=False))

# docs/models.md, Shape, rotation and gravity constants (typed here so that a wrong constant in src/ shows up)
WGS84_A_M = 6378137.0
WGS84_F = 1.0 / 298.257223563
SPHERE_R_M = 6371008.8

POSITION_TOL_M = 1e-3  # mm
ANGLE_TOL_RAD = POSITION_TOL_M / 6.4e6  # an angle that moves a point on the Earth's surface by 1 mm
ANGLE_TOL_DEG = math.degrees(ANGLE_TOL_RAD)
AZIMUTH_TOL_DEG = 1e-8
UNIT_TOL = 1e-12  # orthonormality of unit vectors
LOOK_ANGLE_TOL_DEG = 1e-9
LOOK_RANGE_TOL_M = 1e-6
# PROJ's inverse geocentric conversion is non-iterative (Bowring's formula): it loses accuracy with altitude
# (measured with pyproj 3.7: 0.1 mm at 100 km, 8 mm at 1000 km, 8 cm at 5000 km, for PROJ's own round trip).
# Above this altitude the inverse is checked against PROJ's exact forward conversion instead.
PROJ_INVERSE_ACCURATE_TO_M = 100e3

LATS = [-90.0, -89.9999, -89.0, -60.0, -45.5, -10.0, 0.0, 10.0, 33.3, 45.0, 60.0, 89.0, 89.9999, 90.0]
LONS = [-180.0, -135.0, -90.0, -45.0, 0.0, 30.0, 90.0, 135.0, 179.9]
ALTS = [-1000.0, 0.0, 1000.0, 100e3, 1000e3, 5000e3]

TO_ECEF = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)


def _grid():
    la, lo, al = np.meshgrid(LATS, LONS, ALTS, indexing="ij")
    return la.ravel(), lo.ravel(), al.ravel()


def _proj_ecef(lat, lon, alt):
    x, y, z = TO_ECEF.transform(lon, lat, alt)
    return np.stack([np.asarray(x), np.asarray(y), np.asarray(z)], axis=-1)


def _worst(diff, *labels):
    i = int(np.argmax(diff))
    return f"worst {diff[i]:.3g} at " + ", ".join(f"{name}={vals[i]!r}" for name, vals in labels)


# --------------------------------------------------------------------------- constants
def test_earth_constants_match_models_md():
    assert (WGS84.a_m, WGS84.f) == (WGS84_A_M, WGS84_F), f"wgs84: expected a={WGS84_A_M}, f={WGS84_F}, got {WGS84.a_m}, {WGS84.f}"
    assert (SPHERE.a_m, SPHERE.f) == (SPHERE_R_M, 0.0), f"sphere: expected R={SPHERE_R_M}, f=0, got {SPHERE.a_m}, {SPHERE.f}"


# --------------------------------------------------------------------------- geodetic <-> ECEF vs PROJ
def test_geodetic_to_ecef_matches_proj():
    lat, lon, alt = _grid()
    got = frames.geodetic_to_ecef(WGS84, lat, lon, alt)
    exp = _proj_ecef(lat, lon, alt)  # PROJ, EPSG:4979 -> EPSG:4978 (WGS 84 geographic 3D -> geocentric)
    err = np.linalg.norm(got - exp, axis=-1)
    assert err.max() < POSITION_TOL_M, "ECEF vs PROJ: " + _worst(err, ("lat", lat), ("lon", lon), ("alt", alt))


def test_ecef_to_geodetic_matches_proj():
    lat, lon, alt = _grid()
    r = _proj_ecef(lat, lon, alt)
    glat, glon, galt = frames.ecef_to_geodetic(WGS84, r)
    low = alt <= PROJ_INVERSE_ACCURATE_TO_M
    plon, plat, palt = TO_ECEF.transform(r[low, 0], r[low, 1], r[low, 2], direction="INVERSE")
    dlat = np.abs(glat[low] - plat)
    dalt = np.abs(galt[low] - palt)
    assert dlat.max() < ANGLE_TOL_DEG, "latitude vs PROJ inverse: " + _worst(dlat, ("lat", lat[low]), ("alt", alt[low]))
    assert dalt.max() < POSITION_TOL_M, "altitude vs PROJ inverse: " + _worst(dalt, ("lat", lat[low]), ("alt", alt[low]))
    # every altitude: the input of PROJ's (exact) forward conversion is recovered
    dlat = np.abs(glat - lat)
    dalt = np.abs(galt - alt)
    not_pole = np.abs(lat) < 90.0
    dlon = np.abs((glon - lon + 180.0) % 360.0 - 180.0) * np.cos(np.radians(lat))
    assert dlat.max() < ANGLE_TOL_DEG, "latitude: " + _worst(dlat, ("lat", lat), ("lon", lon), ("alt", alt))
    assert dalt.max() < POSITION_TOL_M, "altitude: " + _worst(dalt, ("lat", lat), ("lon", lon), ("alt", alt))
    assert dlon[not_pole].max() < ANGLE_TOL_DEG, "longitude: " + _worst(dlon[not_pole], ("lat", lat[not_pole]),
                                                                        ("lon", lon[not_pole]))


@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.parametrize("alt", [-1000.0, 0.0, 5000e3])
def test_poles_exactly(sign, alt):
    """On the axis (p = 0) the latitude is +-90 and the altitude |z| - b."""
    b = WGS84_A_M * (1.0 - WGS84_F)
    lat, lon, h = frames.ecef_to_geodetic(WGS84, np.array([0.0, 0.0, sign * (b + alt)]))
    assert abs(float(lat) - sign * 90.0) < ANGLE_TOL_DEG, f"lat: expected {sign * 90}, got {float(lat)!r}"
    assert abs(float(h) - alt) < POSITION_TOL_M, f"alt: expected {alt}, got {float(h)!r}"
    klat, kalt = _kernels.geodetic_lat_alt(0.0, 0.0, sign * (b + alt), WGS84.kernel_params)
    assert abs(klat - sign * math.pi / 2) < ANGLE_TOL_RAD, f"kernel lat: expected {sign * math.pi / 2}, got {klat!r}"
    assert abs(kalt - alt) < POSITION_TOL_M, f"kernel alt: expected {alt}, got {kalt!r}"


def test_round_trip_grid():
    lat, lon, alt = _grid()
    r = frames.geodetic_to_ecef(WGS84, lat, lon, alt)
    back = frames.geodetic_to_ecef(WGS84, *frames.ecef_to_geodetic(WGS84, r))
    err = np.linalg.norm(back - r, axis=-1)
    assert err.max() < POSITION_TOL_M, "ECEF round trip: " + _worst(err, ("lat", lat), ("lon", lon), ("alt", alt))


@pytest.mark.kernels
@pytest.mark.parametrize("earth", [WGS84, SPHERE], ids=["wgs84", "sphere"])
def test_compiled_kernel_matches_frames(earth):
    """_kernels.geodetic_lat_alt (3 Bowring steps, used by the integrator) = frames.ecef_to_geodetic (1 mm)."""
    lat, lon, alt = _grid()
    r = frames.geodetic_to_ecef(earth, lat, lon, alt)
    flat, _, falt = frames.ecef_to_geodetic(earth, r)
    k = np.array([_kernels.geodetic_lat_alt(x, y, z, earth.kernel_params) for x, y, z in r])
    dlat = np.abs(np.degrees(k[:, 0]) - flat)
    dalt = np.abs(k[:, 1] - falt)
    assert dlat.max() < ANGLE_TOL_DEG, "kernel latitude: " + _worst(dlat, ("lat", lat), ("alt", alt))
    assert dalt.max() < POSITION_TOL_M, "kernel altitude: " + _worst(dalt, ("lat", lat), ("alt", alt))


def test_sphere_is_geocentric():
    """docs/models.md, Frames: on `sphere`, latitude is geocentric and altitude = |r| - R."""
    lat, lon, alt = _grid()
    r = frames.geodetic_to_ecef(SPHERE, lat, lon, alt)
    p, lo = np.radians(lat), np.radians(lon)
    exp = (SPHERE_R_M + alt)[:, None] * np.stack([np.cos(p) * np.cos(lo), np.cos(p) * np.sin(lo), np.sin(p)], -1)
    err = np.linalg.norm(r - exp, axis=-1)
    assert err.max() < POSITION_TOL_M, "sphere ECEF: " + _worst(err, ("lat", lat), ("alt", alt))
    glat, _, galt = frames.ecef_to_geodetic(SPHERE, r)
    dalt = np.abs(galt - (np.linalg.norm(r, axis=-1) - SPHERE_R_M))
    dlat = np.abs(glat - np.degrees(np.arcsin(r[:, 2] / np.linalg.norm(r, axis=-1))))
    assert dalt.max() < POSITION_TOL_M, "sphere altitude: " + _worst(dalt, ("lat", lat), ("alt", alt))
    assert dlat.max() < ANGLE_TOL_DEG, "sphere latitude: " + _worst(dlat, ("lat", lat), ("alt", alt))


@settings(max_examples=300, deadline=None, database=None)
@given(lat=st.floats(-90.0, 90.0), lon=st.floats(-180.0, 180.0), alt=st.floats(-1000.0, 5000e3),
       spherical=st.booleans())
def test_round_trip_property(lat, lon, alt, spherical):
    earth = SPHERE if spherical else WGS84
    r = frames.geodetic_to_ecef(earth, lat, lon, alt)
    glat, glon, galt = frames.ecef_to_geodetic(earth, r)
    assert abs(float(glat) - lat) < ANGLE_TOL_DEG, f"lat: expected {lat!r}, got {float(glat)!r}"
    assert abs(float(galt) - alt) < POSITION_TOL_M, f"alt: expected {alt!r}, got {float(galt)!r}"
    dlon = abs((float(glon) - lon + 180.0) % 360.0 - 180.0) * math.cos(math.radians(lat))
    assert dlon < ANGLE_TOL_DEG, f"lon: expected {lon!r}, got {float(glon)!r}"
    klat, kalt = _kernels.geodetic_lat_alt(r[0], r[1], r[2], earth.kernel_params)
    assert abs(math.degrees(klat) - lat) < ANGLE_TOL_DEG, f"kernel lat: expected {lat!r}, got {math.degrees(klat)!r}"
    assert abs(kalt - alt) < POSITION_TOL_M, f"kernel alt: expected {alt!r}, got {kalt!r}"


# --------------------------------------------------------------------------- geodesics
GEODESIC_SEED = 20240611
N_GEODESICS = 300
MAX_DISTANCE_M = 18000e3  # away from antipodal points, where the inverse azimuth is ill-conditioned
DISTANCE_TOL_M = POSITION_TOL_M


def _random_geodesics():
    rng = np.random.default_rng(GEODESIC_SEED)
    n = N_GEODESICS
    return (rng.uniform(-89.0, 89.0, n), rng.uniform(-180.0, 180.0, n), rng.uniform(0.0, 360.0, n),
            rng.uniform(0.0, MAX_DISTANCE_M, n))


def test_direct_inverse_match_pyproj_wgs84():
    lat1, lon1, az, d = _random_geodesics()
    lat2, lon2, fwd = geodesic.direct(WGS84, lat1, lon1, az, d)
    ref = Geod(ellps="WGS84")  # Karney's algorithm (GeographicLib), docs/models.md, Geodesics
    plon2, plat2, pback = ref.fwd(lon1, lat1, az, d)
    dlat = np.abs(lat2 - plat2)
    dlon = np.abs((lon2 - plon2 + 180.0) % 360.0 - 180.0)
    dfwd = np.abs((fwd - (np.asarray(pback) + 180.0) + 180.0) % 360.0 - 180.0)
    assert dlat.max() < ANGLE_TOL_DEG, "direct lat: " + _worst(dlat, ("lat1", lat1), ("az", az), ("d", d))
    assert dlon.max() < ANGLE_TOL_DEG, "direct lon: " + _worst(dlon, ("lat1", lat1), ("az", az), ("d", d))
    assert dfwd.max() < AZIMUTH_TOL_DEG, "forward azimuth: " + _worst(dfwd, ("lat1", lat1), ("az", az), ("d", d))
    assert ((fwd >= 0.0) & (fwd < 360.0)).all(), f"forward azimuth outside [0, 360): {fwd[(fwd < 0) | (fwd >= 360)]}"
    azi, dist = geodesic.inverse(WGS84, lat1, lon1, lat2, lon2)
    paz, _, pdist = ref.inv(lon1, lat1, lon2, lat2)
    ddist = np.abs(dist - np.asarray(pdist))
    daz = np.abs((azi - np.asarray(paz) + 180.0) % 360.0 - 180.0)
    assert ddist.max() < DISTANCE_TOL_M, "inverse distance: " + _worst(ddist, ("lat1", lat1), ("d", d))
    assert daz.max() < AZIMUTH_TOL_DEG, "inverse azimuth: " + _worst(daz, ("lat1", lat1), ("d", d))
    # and the inverse undoes the direct problem
    assert np.abs(dist - d).max() < DISTANCE_TOL_M, f"inverse(direct) distance: worst {np.abs(dist - d).max()} m"
    assert ((azi >= 0.0) & (azi < 360.0)).all(), "inverse azimuth outside [0, 360)"


def test_sphere_geodesics_are_great_circles():
    """Spherical trigonometry (e.g. Todhunter 1886, Spherical Trigonometry, ch. 6), on R = 6371008.8 m."""
    lat1, lon1, az, d = _random_geodesics()
    lat2, lon2, fwd = geodesic.direct(SPHERE, lat1, lon1, az, d)
    p1, a, delta = np.radians(lat1), np.radians(az), d / SPHERE_R_M
    # direct: sine/cosine rules of the triangle (pole, P1, P2)
    p2 = np.arcsin(np.sin(p1) * np.cos(delta) + np.cos(p1) * np.sin(delta) * np.cos(a))
    dl = np.arctan2(np.sin(a) * np.sin(delta) * np.cos(p1), np.cos(delta) - np.sin(p1) * np.sin(p2))
    exp_lat, exp_lon = np.degrees(p2), lon1 + np.degrees(dl)
    # forward azimuth at P2 from the tangent of the great circle there: t = -sin(delta) u1 + cos(delta) t1
    e1, n1, u1 = frames.enu_basis(lat1, lon1)
    t1 = np.sin(a)[:, None] * e1 + np.cos(a)[:, None] * n1
    t2 = -np.sin(delta)[:, None] * u1 + np.cos(delta)[:, None] * t1
    e2, n2, _ = frames.enu_basis(exp_lat, exp_lon)
    exp_fwd = np.degrees(np.arctan2((t2 * e2).sum(-1), (t2 * n2).sum(-1))) % 360.0
    dlat = np.abs(lat2 - exp_lat)
    dlon = np.abs((lon2 - exp_lon + 180.0) % 360.0 - 180.0)
    dfwd = np.abs((fwd - exp_fwd + 180.0) % 360.0 - 180.0)
    assert dlat.max() < ANGLE_TOL_DEG, "sphere direct lat: " + _worst(dlat, ("lat1", lat1), ("az", az), ("d", d))
    assert dlon.max() < ANGLE_TOL_DEG, "sphere direct lon: " + _worst(dlon, ("lat1", lat1), ("az", az), ("d", d))
    assert dfwd.max() < AZIMUTH_TOL_DEG, "sphere forward azimuth: " + _worst(dfwd, ("lat1", lat1), ("az", az), ("d", d))
    # inverse of independent random pairs: haversine distance and the initial-course formula
    rng = np.random.default_rng(GEODESIC_SEED + 1)
    la, lb = rng.uniform(-89.0, 89.0, (2, N_GEODESICS))
    oa, ob = rng.uniform(-180.0, 180.0, (2, N_GEODESICS))
    azi, dist = geodesic.inverse(SPHERE, la, oa, lb, ob)
    pa, pb, dlo = np.radians(la), np.radians(lb), np.radians(ob - oa)
    hav = np.sin((pb - pa) / 2) ** 2 + np.cos(pa) * np.cos(pb) * np.sin(dlo / 2) ** 2
    exp_d = 2.0 * SPHERE_R_M * np.arcsin(np.sqrt(hav))
    exp_az = np.degrees(np.arctan2(np.sin(dlo) * np.cos(pb),
                                   np.cos(pa) * np.sin(pb) - np.sin(pa) * np.cos(pb) * np.cos(dlo))) % 360.0
    far = exp_d < MAX_DISTANCE_M
    ddist = np.abs(dist - exp_d)
    daz = np.abs((azi - exp_az + 180.0) % 360.0 - 180.0)[far]
    assert ddist.max() < DISTANCE_TOL_M, "sphere inverse distance: " + _worst(ddist, ("lat1", la), ("lat2", lb))
    assert daz.max() < AZIMUTH_TOL_DEG, "sphere inverse azimuth: " + _worst(daz, ("lat1", la[far]), ("lat2", lb[far]))


def test_direct_known_values():
    # A quarter of the equator on the sphere: from (0, 0) east by pi R / 2 reaches (0, 90), heading east
    lat, lon, fwd = geodesic.direct(SPHERE, 0.0, 0.0, 90.0, math.pi * SPHERE_R_M / 2)
    assert abs(float(lat)) < ANGLE_TOL_DEG and abs(float(lon) - 90.0) < ANGLE_TOL_DEG, f"expected (0, 90), got ({lat}, {lon})"
    assert abs(float(fwd) - 90.0) < AZIMUTH_TOL_DEG, f"forward azimuth: expected 90, got {fwd}"
    # WGS84 meridian quadrant: 10 001 965.729 m (Karney 2013, J. Geodesy 87:43, eq. for the quarter meridian)
    lat, lon, fwd = geodesic.direct(WGS84, 0.0, 10.0, 0.0, 10001965.729)
    assert abs(float(lat) - 90.0) < 1e-7, f"quarter meridian: expected lat 90, got {float(lat)!r}"


# --------------------------------------------------------------------------- local frame
@pytest.mark.parametrize("earth", [WGS84, SPHERE], ids=["wgs84", "sphere"])
def test_enu_basis_orthonormal_and_geodetic(earth):
    lat, lon, _ = _grid()
    ok = np.abs(lat) < 90.0  # east/north are defined by the limit on the pole; test the rest
    lat, lon = lat[ok], lon[ok]
    e, n, u = frames.enu_basis(lat, lon)
    gram = np.stack([(a * b).sum(-1) for a in (e, n, u) for b in (e, n, u)], -1).reshape(-1, 3, 3)
    err = np.abs(gram - np.eye(3)).max(axis=(1, 2))
    assert err.max() < UNIT_TOL, "E, N, U orthonormal: " + _worst(err, ("lat", lat), ("lon", lon))
    hand = np.abs(np.cross(e, n) - u).max(-1)  # right-handed: east x north = up
    assert hand.max() < UNIT_TOL, "east x north = up: " + _worst(hand, ("lat", lat), ("lon", lon))
    # up is the ellipsoid's outward normal: grad(x^2/a^2 + y^2/a^2 + z^2/b^2) at the surface point
    r = frames.geodetic_to_ecef(earth, lat, lon, 0.0)
    b = earth.a_m * (1.0 - earth.f)
    g = r / np.array([earth.a_m**2, earth.a_m**2, b**2])
    g /= np.linalg.norm(g, axis=-1, keepdims=True)
    dn = np.abs(u - g).max(-1)
    assert dn.max() < UNIT_TOL * 100, "up = ellipsoid normal: " + _worst(dn, ("lat", lat), ("lon", lon))
    # north and east point along increasing latitude / longitude (finite differences of the surface)
    step = 1e-6
    dlat = frames.geodetic_to_ecef(earth, lat + step, lon, 0.0) - frames.geodetic_to_ecef(earth, lat - step, lon, 0.0)
    dlon = frames.geodetic_to_ecef(earth, lat, lon + step, 0.0) - frames.geodetic_to_ecef(earth, lat, lon - step, 0.0)
    dlat /= np.linalg.norm(dlat, axis=-1, keepdims=True)
    dlon /= np.linalg.norm(dlon, axis=-1, keepdims=True)
    FD_TOL = 1e-6
    assert np.abs(dlat - n).max() < FD_TOL, f"north vs d r / d lat: worst {np.abs(dlat - n).max()}"
    assert np.abs(dlon - e).max() < FD_TOL, f"east vs d r / d lon: worst {np.abs(dlon - e).max()}"


# --------------------------------------------------------------------------- look angles
def test_look_angles_hand_computed_equator():
    """Site at (0, 0, 0) on WGS84: east = +y, north = +z, up = +x."""
    a = WGS84_A_M
    pts = np.array([
        [a + 1000e3, 0.0, 0.0],  # straight up, 1000 km
        [a, 1000e3, 0.0],  # due east in the horizontal plane
        [a + 100e3, 0.0, 100e3],  # north, 45 deg up
        [a - 50e3, -50e3 * math.sqrt(3.0), 0.0],  # west, 30 deg down
        [a + 300e3, -400e3, -400e3],  # south-west, up atan(300 / (400 sqrt 2))
    ])
    az, el, rng = frames.look_angles(WGS84, 0.0, 0.0, 0.0, pts)
    exp_el = [90.0, 0.0, 45.0, -30.0, math.degrees(math.atan2(300.0, 400.0 * math.sqrt(2.0)))]
    exp_rng = [1000e3, 1000e3, 100e3 * math.sqrt(2.0), 100e3, math.sqrt(300e3**2 + 2 * 400e3**2)]
    exp_az = [None, 90.0, 0.0, 270.0, 225.0]
    for i in range(len(pts)):
        assert abs(el[i] - exp_el[i]) < LOOK_ANGLE_TOL_DEG, f"point {i} elevation: expected {exp_el[i]}, got {el[i]}"
        assert abs(rng[i] - exp_rng[i]) < LOOK_RANGE_TOL_M, f"point {i} range: expected {exp_rng[i]}, got {rng[i]}"
        if exp_az[i] is not None:
            assert abs(az[i] - exp_az[i]) < LOOK_ANGLE_TOL_DEG, f"point {i} azimuth: expected {exp_az[i]}, got {az[i]}"
    assert ((az >= 0.0) & (az < 360.0)).all(), f"azimuths outside [0, 360): {az}"


def test_look_angles_hand_computed_mid_latitude():
    """Site at 45 N, 30 E, 2 km up: the target is site + 100 km north + 50 km east + 20 km up, with the unit
    vectors written out by hand (e = (-sin lon, cos lon, 0), n = (-sin lat cos lon, -sin lat sin lon, cos lat),
    u = (cos lat cos lon, cos lat sin lon, sin lat))."""
    s45 = c45 = math.sqrt(0.5)
    s30, c30 = 0.5, math.sqrt(3.0) / 2.0
    e = np.array([-s30, c30, 0.0])
    n = np.array([-s45 * c30, -s45 * s30, c45])
    u = np.array([c45 * c30, c45 * s30, s45])
    site = frames.geodetic_to_ecef(WGS84, 45.0, 30.0, 2000.0)
    target = site + 50e3 * e + 100e3 * n + 20e3 * u
    az, el, rng = frames.look_angles(WGS84, 45.0, 30.0, 2000.0, target)
    exp_az = math.degrees(math.atan2(50.0, 100.0))
    exp_el = math.degrees(math.atan2(20.0, math.hypot(50.0, 100.0)))
    exp_rng = math.sqrt(50e3**2 + 100e3**2 + 20e3**2)
    assert abs(float(az) - exp_az) < LOOK_ANGLE_TOL_DEG, f"azimuth: expected {exp_az}, got {float(az)}"
    assert abs(float(el) - exp_el) < LOOK_ANGLE_TOL_DEG, f"elevation: expected {exp_el}, got {float(el)}"
    assert abs(float(rng) - exp_rng) < LOOK_RANGE_TOL_M, f"range: expected {exp_rng}, got {float(rng)}"


# docs/sources.md "Radars" [C], radar horizon without refraction: a target at altitude h rises above 0 deg
# elevation at ground range R acos(R / (R + h)); 1000 km -> 3357 km (R = 6371 km).
HORIZON_ALT_M = 1000e3
HORIZON_RANGE_KM = 3357.0
HORIZON_ROUNDING_KM = 1.0


def test_radar_horizon_on_the_sphere():
    psi = math.acos(SPHERE_R_M / (SPHERE_R_M + HORIZON_ALT_M))
    assert abs(SPHERE_R_M * psi / 1e3 - HORIZON_RANGE_KM) < HORIZON_ROUNDING_KM, (
        f"horizon range: expected {HORIZON_RANGE_KM} km, got {SPHERE_R_M * psi / 1e3:.3f} km")
    target = frames.geodetic_to_ecef(SPHERE, 0.0, 20.0 + math.degrees(psi), HORIZON_ALT_M)  # along the equator
    az, el, rng = frames.look_angles(SPHERE, 0.0, 20.0, 0.0, target)
    assert abs(float(az) - 90.0) < LOOK_ANGLE_TOL_DEG, f"azimuth: expected 90, got {float(az)!r}"
    assert abs(float(el)) < LOOK_ANGLE_TOL_DEG * 1e3, f"elevation at the horizon: expected 0, got {float(el)!r}"
    exp_rng = math.sqrt((SPHERE_R_M + HORIZON_ALT_M) ** 2 - SPHERE_R_M**2)  # tangent length
    assert abs(float(rng) - exp_rng) < LOOK_RANGE_TOL_M * 1e3, f"slant range: expected {exp_rng}, got {float(rng)}"
