"""Presentation geometry (shieldlab.output.geometry): rings, cell edges, view widths, longitude wrapping,
ground tracks, coordinate texts, and that a sphere scenario's maps are drawn on the sphere.

References: on WGS84 the ring distances are checked against pyproj's own Geod(ellps="WGS84") (Karney 2013,
"Algorithms for geodesics", J. Geodesy 87, accurate to 15 nm); on the sphere against the great-circle
distance in its atan2 form (Vincenty 1975, the spherical case; e.g. Snyder 1987, "Map Projections: a working
manual", USGS PP 1395, eq. 5-3a), and the northward ring point on the ellipsoid against the meridian arc
integrated from the meridional radius of curvature M = a(1 - e^2) / (1 - e^2 sin^2 phi)^(3/2) (Snyder 1987,
eq. 4-18).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyproj import Geod

from shieldlab.earth.model import Earth
from shieldlab.output import geometry as G
from shieldlab.scenario.model import EarthSpec, Point, Sector

WGS84 = Earth.from_spec(EarthSpec("wgs84"))
SPHERE = Earth.from_spec(EarthSpec("sphere", rotation=False, j2=False))
R_SPHERE_M = 6371008.8  # constants.SPHERE_R_M, the IUGG mean radius R1 (Moritz 2000)
A_M, F = 6378137.0, 1.0 / 298.257223563  # WGS84 (NIMA TR8350.2)
REF_GEOD = Geod(ellps="WGS84")  # an independent Geod, not the one Earth builds
RING_TOL_M = 1e-3  # ring points sit on the circle to a millimetre (both references are sub-micrometre)
DEG_TOL = 1e-9  # for exact wrap/edge arithmetic


def great_circle_m(lat1, lon1, lat2, lon2, r=R_SPHERE_M):
    """Great-circle distance, atan2 form (well conditioned at every distance)."""
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(np.asarray(lon2) - np.asarray(lon1))
    num = np.hypot(np.cos(p2) * np.sin(dl), np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl))
    den = np.sin(p1) * np.sin(p2) + np.cos(p1) * np.cos(p2) * np.cos(dl)
    return r * np.arctan2(num, den)


# --------------------------------------------------------------------------- range rings
CENTRES = [(54.4728, 17.1231), (76.57, -68.3), (-33.9, 151.2), (0.0, 179.5), (64.3, -149.2)]


@pytest.mark.parametrize("lat,lon", CENTRES)
@pytest.mark.parametrize("radius_m", [500e3, 4820e3])
def test_ring_on_wgs84_is_the_pyproj_geodesic_circle(lat, lon, radius_m):
    rlon, rlat = G.range_ring(WGS84, lat, lon, radius_m)
    assert rlon.size == 361  # every RING_STEP_DEG = 1 deg, closed
    _, _, d = REF_GEOD.inv(np.full(rlon.size, lon), np.full(rlon.size, lat), rlon, rlat)
    assert np.max(np.abs(d - radius_m)) < RING_TOL_M, f"ring off the circle by {np.max(np.abs(d - radius_m))} m"
    assert np.max(np.abs(np.diff(rlon))) < 180.0  # continuous longitudes
    # closed; a ring around a pole winds once (its longitudes advance by 360 deg)
    _, _, to_pole = REF_GEOD.inv(lon, lat, lon, math.copysign(90.0, lat))
    winding = 360.0 if to_pole < radius_m else 0.0
    assert abs(rlon[-1] - rlon[0]) == pytest.approx(winding, abs=1e-6) and rlat[0] == pytest.approx(rlat[-1], abs=1e-9)


@pytest.mark.parametrize("lat,lon", CENTRES)
@pytest.mark.parametrize("radius_m", [500e3, 4820e3])
def test_ring_on_the_sphere_is_the_great_circle_circle(lat, lon, radius_m):
    rlon, rlat = G.range_ring(SPHERE, lat, lon, radius_m)
    d = great_circle_m(lat, lon, rlat, rlon)
    assert np.max(np.abs(d - radius_m)) < RING_TOL_M, f"ring off the circle by {np.max(np.abs(d - radius_m))} m"


def _meridian_arc_m(lat1_deg, lat2_deg):
    """Meridian arc length on WGS84 between two latitudes, by quadrature of M(phi)."""
    from scipy.integrate import quad

    e2 = F * (2 - F)
    val, _ = quad(lambda p: A_M * (1 - e2) / (1 - e2 * math.sin(p) ** 2) ** 1.5, math.radians(lat1_deg),
                  math.radians(lat2_deg), epsabs=1e-6, epsrel=1e-14)
    return val


def test_sphere_ring_differs_from_the_wgs84_ring_by_the_meridian_arc():
    """A 3000-km ring around Redzikowo: its northernmost point (azimuth 0) lies d/R north on the sphere, and
    where the meridian arc reaches d on the ellipsoid; the two differ by ~0.08 deg (~9 km)."""
    from scipy.optimize import brentq

    lat0, lon0, d = 54.4728, 17.1231, 3000e3
    slon, slat = G.range_ring(SPHERE, lat0, lon0, d)
    wlon, wlat = G.range_ring(WGS84, lat0, lon0, d)
    sphere_north = lat0 + math.degrees(d / R_SPHERE_M)
    wgs84_north = brentq(lambda p: _meridian_arc_m(lat0, p) - d, lat0, 89.9, xtol=1e-12)
    assert slat[0] == pytest.approx(sphere_north, abs=1e-9)
    assert wlat[0] == pytest.approx(wgs84_north, abs=1e-8)  # 1e-8 deg ~ 1 mm
    assert slon[0] == pytest.approx(lon0, abs=1e-9) and wlon[0] == pytest.approx(lon0, abs=1e-9)
    expected = sphere_north - wgs84_north
    assert 0.07 < expected < 0.09  # the ellipsoid's meridian is flatter up there: M > R
    assert slat[0] - wlat[0] == pytest.approx(expected, abs=1e-8)


def test_sector_outline_runs_site_arc_site():
    lat0, lon0, d = 38.35, 37.79, 1500e3
    sec = Sector(110.0, 60.0)
    lon, lat = G.range_ring(WGS84, lat0, lon0, d, sec)
    n_arc = 121  # 120 deg of arc, a point every degree
    assert lon.size == 2 * G.RADIAL_POINTS + n_arc
    assert (lon[0], lat[0]) == pytest.approx((lon0, lat0)) and (lon[-1], lat[-1]) == pytest.approx((lon0, lat0))
    az, _, dist = REF_GEOD.inv(np.full(lon.size, lon0), np.full(lon.size, lat0), lon, lat)
    arc = slice(G.RADIAL_POINTS, G.RADIAL_POINTS + n_arc)
    assert np.max(np.abs(dist[arc] - d)) < RING_TOL_M
    np.testing.assert_allclose(az[arc] % 360.0, np.linspace(50.0, 170.0, n_arc), atol=1e-7)
    np.testing.assert_allclose(dist[: G.RADIAL_POINTS], np.linspace(0.0, d, G.RADIAL_POINTS), atol=RING_TOL_M)


@pytest.mark.parametrize("sector", [None, Sector(0.0, 180.0), Sector(float("nan"), float("nan"))])
def test_all_round_sectors_give_the_full_circle(sector):
    lon, lat = G.range_ring(SPHERE, 10.0, 20.0, 1000e3, sector)
    assert lon.size == 361


# --------------------------------------------------------------------------- longitudes
@pytest.mark.parametrize("lon,wrapped", [(180.0, -180.0), (-180.0, -180.0), (540.0, -180.0), (-190.0, 170.0),
                                         (359.5, -0.5), (0.0, 0.0), (179.25, 179.25), (-540.0, -180.0),
                                         (725.0, 5.0)])
def test_wrap_lon_edge_cases(lon, wrapped):
    got = G.wrap_lon(lon)
    assert isinstance(got, float)
    assert got == pytest.approx(wrapped, abs=DEG_TOL)
    assert -180.0 <= got < 180.0


def test_wrap_lon_arrays_keep_their_shape():
    got = G.wrap_lon([[190.0, -181.0], [0.0, 360.0]])
    assert got.shape == (2, 2)
    np.testing.assert_allclose(got, [[-170.0, 179.0], [0.0, 0.0]], atol=DEG_TOL)


def test_unwrap_lon_crosses_the_antimeridian_continuously():
    np.testing.assert_allclose(G.unwrap_lon([170.0, 179.0, -179.0, -170.0]), [170.0, 179.0, 181.0, 190.0],
                               atol=DEG_TOL)
    np.testing.assert_allclose(G.unwrap_lon([-170.0, 175.0]), [-170.0, -185.0], atol=DEG_TOL)
    assert G.unwrap_lon([]).size == 0


@pytest.mark.parametrize("lons,start,span", [
    ([170.0, -170.0], 170.0, 20.0),  # across the antimeridian
    ([139.7, -149.9, -157.8], 139.7, 70.4),  # Tokyo, Anchorage, Honolulu
    ([-10.0, 30.0], 350.0, 40.0),  # across Greenwich
    ([19.0], 19.0, 0.0),
    ([-90.0, 60.0, np.nan], 270.0, 150.0),  # NaN ignored
])
def test_lon_range_is_the_shortest_covering_arc(lons, start, span):
    s, w = G.lon_range(lons)
    assert (s, w) == pytest.approx((start, span), abs=1e-9)


def test_lon_range_needs_a_finite_longitude():
    with pytest.raises(ValueError, match="finite"):
        G.lon_range([np.nan])


# --------------------------------------------------------------------------- cells and views
def test_cell_edges_of_a_regular_grid():
    np.testing.assert_allclose(G.cell_edges([0.0, 2.0, 4.0]), [-1.0, 1.0, 3.0, 5.0], atol=DEG_TOL)
    np.testing.assert_allclose(G.cell_edges([-90.0, -88.0, -86.0], -90.0, 90.0), [-90.0, -89.0, -87.0, -85.0],
                               atol=DEG_TOL)
    np.testing.assert_allclose(G.cell_edges([52.0]), [51.5, 52.5], atol=DEG_TOL)
    lat = np.arange(25.0, 50.5, 1.0)  # the us-east grid step
    e = G.cell_edges(lat)
    assert e.size == lat.size + 1 and np.allclose(np.diff(e), 1.0) and e[0] == 24.5


def test_cell_outline_follows_the_sides():
    lon, lat = G.cell_outline(10.0, 12.0, 50.0, 51.0, n=5)
    assert lon.size == lat.size == 20
    assert set(np.round(lon, 9)) >= {10.0, 12.0} and lon.min() == 10.0 and lat.max() == 51.0
    assert np.all(lat[:5] == 50.0) and np.all(lon[5:10] == 12.0)


@pytest.mark.parametrize("earth,expected_km", [
    (SPHERE, R_SPHERE_M * math.radians(20.0) * 1e-3),  # a great-circle arc of the equator
    (WGS84, A_M * math.radians(20.0) * 1e-3),  # the equator is a geodesic: a * dlambda
])
def test_view_width_across_the_antimeridian(earth, expected_km):
    """A Plate Carree view centred on 180 deg, from 170 E to 170 W along the equator."""
    import cartopy.crs as ccrs

    proj = ccrs.PlateCarree(central_longitude=180.0)
    width = G.view_width_km(earth, proj, (-10.0, 10.0, -5.0, 5.0))
    assert width == pytest.approx(expected_km, abs=1e-6)


def test_view_width_off_the_earth_is_infinite():
    import cartopy.crs as ccrs

    proj = ccrs.Orthographic(0.0, 0.0)
    r = 2 * A_M
    assert G.view_width_km(WGS84, proj, (r, 2 * r, r, 2 * r)) == math.inf


def test_densified_track_follows_the_earths_geodesic():
    lon, lat = G.densify_geodesic(SPHERE, [139.7, -122.4], [35.7, 37.8], 25e3)
    assert np.max(np.abs(np.diff(lon))) < 5.0  # continuous across the antimeridian
    step = great_circle_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    assert step.max() <= 25e3 and step.max() - step.min() < 1e-3  # evenly spaced along the great circle
    total = great_circle_m(35.7, 139.7, 37.8, -122.4)
    assert step.sum() == pytest.approx(total, abs=1e-3)


# --------------------------------------------------------------------------- texts
def test_earth_text_states_the_model():
    assert G.earth_text(EarthSpec()) == "wgs84, rotation on, J2 on"
    assert G.earth_text(EarthSpec("wgs84", rotation=False, j2=False)) == "wgs84, rotation off, J2 off"
    assert G.earth_text(EarthSpec("sphere", rotation=True, j2=True)) == "sphere, rotation on, J2 off"
    assert G.earth_text(SPHERE) == "sphere, rotation off, J2 off"
    assert G.earth_text(Earth.from_spec(EarthSpec("wgs84", True, False))) == "wgs84, rotation on, J2 off"


def test_coordinate_texts_are_pinned():
    assert G.lat_lon_text(38.9072, -77.0369) == "38.91°N 77.04°W"
    assert G.lat_lon_text(-33.8688, 151.2093, 3) == "33.869°S 151.209°E"
    assert G.lat_lon_text(-0.0, 0.0) == "0.00°N 0.00°E"
    assert G.place_text({"lat_deg": 54.035, "lon_deg": 36.013}) == "54.03°N 36.01°E"  # 54.035 is 54.03499...
    assert G.place_text(None) == "" and G.place_text({"lat_deg": None, "lon_deg": None}) == ""
    assert G.site_text(Point(38.34944, 37.79361, 2085.0, "kurecik")) == "kurecik (38.349°N 37.794°E, 2085 m)"
    assert G.site_text(Point(54.4728, 17.1231)) == "54.473°N 17.123°E"
    assert G.point_label(Point(54.035, 36.013)) == "54.035,36.013"
    assert G.point_label(Point(54.035, -77.0)) == "54.035,-77"
    assert G.point_label(Point(54.035, 36.013), 1) == "54.0,36.0"
    assert G.point_label(Point(54.035, 36.013, name="kozelsk"), 1) == "kozelsk"


# --------------------------------------------------------------------------- ground tracks
def test_track_times():
    t = G.track_times(0.0, 180.0, 1800.0)
    assert t.size == 19 + 81 and t[0] == 0.0 and t[-1] == 1800.0
    assert np.max(np.diff(t[:19])) == pytest.approx(10.0) and np.max(np.diff(t[18:])) == pytest.approx(20.0)
    assert np.count_nonzero(t == 180.0) == 1
    with_apogee = G.track_times(0.0, 180.0, 1800.0, 905.0)
    assert with_apogee.size == t.size + 1 and 905.0 in with_apogee and np.all(np.diff(with_apogee) > 0)
    assert G.track_times(0.0, 180.0, 1800.0, 100.0).size == t.size  # apogee in boost: not added
    t = G.track_times(5.0, 70.0, 1000.0)  # uneven: steps shrink to fit
    assert t[0] == 5.0 and 70.0 in t and t[-1] == 1000.0 and np.diff(t).max() <= 20.0


SPHERE_SCENARIO = """
name = "sphere-check"

[earth]
model = "sphere"
rotation = false
j2 = false

[missiles.m]
model = "burnout"
burn_time = "120 s"
burnout_altitude = "120 km"
burnout_range = "150 km"
burnout_speed = "5.0 km/s"

[interceptors.i]
model = "straight-boost"
burn_time = "40 s"
burnout_speed = "4 km/s"
min_altitude = "100 km"

[[sensors]]
name = "ring-radar"
at = { lat = 60.0, lon = 10.0 }
max_range = "3000 km"
min_elevation = "3 deg"

[[sensors]]
name = "wedge-radar"
at = { lat = 45.0, lon = 30.0 }
max_range = "2000 km"
min_elevation = "3 deg"
azimuth = { center = "350 deg", half_width = "50 deg" }

[[batteries]]
name = "b"
at = { lat = 55.0, lon = 20.0 }
interceptor = "i"
cue = "launch"
launch_delay = "30 s"

[[threats]]
name = "t"
missile = "m"
from = { lat = 50.0, lon = 40.0 }
to = { lat = 58.0, lon = 12.0 }

[coverage]
missile = "m"
from = [{ lat = 50.0, lon = 40.0 }]
to = [{ lat = 58.0, lon = 12.0 }, { lat = 56.0, lon = 14.0 }]
"""


@pytest.fixture(scope="module")
def sphere_scenario():
    from shieldlab.api import load_scenario_text

    return load_scenario_text(SPHERE_SCENARIO, "sphere-check.toml")


@pytest.fixture(scope="module")
def sphere_engage(sphere_scenario):
    from shieldlab.api import engage

    return engage(sphere_scenario)


def test_ground_track_of_a_sphere_scenario_is_on_the_sphere(sphere_engage):
    res = sphere_engage
    tr = G.ground_track(res.threats, 0)
    th = res.threats
    assert tr.time_s[0] == th.launch_time_s[0] and tr.time_s[-1] == th.impact_time_s[0]
    assert th.apogee_time_s[0] in tr.time_s
    r = th.position_ecef(np.zeros(tr.time_s.size, int), tr.time_s)
    # on the sphere, geodetic = geocentric latitude and altitude = |r| - R
    np.testing.assert_allclose(tr.lat_deg, np.degrees(np.arctan2(r[:, 2], np.hypot(r[:, 0], r[:, 1]))), atol=1e-9)
    np.testing.assert_allclose(tr.alt_m, np.linalg.norm(r, axis=1) - R_SPHERE_M, atol=1e-3)
    assert list(np.unique(tr.phase)) == ["ascent", "boost", "descent"]
    assert "GroundTrack(" in repr(tr) and "samples" in repr(tr)
    assert G.ground_track(res.threats, 0, with_apogee=False).time_s.size == tr.time_s.size - 1


def _radar_lines(ax, color):
    from matplotlib.colors import to_rgba

    return [ln for ln in ax.lines if ln.get_linestyle() == "--" and to_rgba(ln.get_color()) == to_rgba(color)]


def test_report_map_of_a_sphere_scenario_draws_sphere_rings_and_says_so(sphere_engage):
    from shieldlab.report import figures as F

    res = sphere_engage
    fig = F.trajectory_map(res, res.to_document())
    ax = fig.axes[0]
    ring, wedge = _radar_lines(ax, F.RADAR_COLOR)
    lon, lat = ring.get_data()
    d_sphere = great_circle_m(60.0, 10.0, lat, lon)
    assert np.max(np.abs(d_sphere - 3000e3)) < RING_TOL_M
    _, _, d_wgs84 = REF_GEOD.inv(np.full(lon.size, 10.0), np.full(lon.size, 60.0), lon, lat)
    assert np.max(np.abs(d_wgs84 - 3000e3)) > 5e3  # so it is not the WGS84 circle
    wlon, wlat = wedge.get_data()
    arc = great_circle_m(45.0, 30.0, wlat, wlon)[G.RADIAL_POINTS:-G.RADIAL_POINTS]
    assert np.max(np.abs(arc - 2000e3)) < RING_TOL_M
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "Earth: sphere, rotation off, J2 off" in texts and "WGS84" not in texts


def test_coverage_png_of_a_sphere_scenario_is_drawn_on_the_sphere(sphere_scenario):
    from shieldlab.api import coverage
    from shieldlab.output import covermap

    ds = coverage(sphere_scenario).to_dataset()
    assert covermap.dataset_earth(ds) == SPHERE
    fig = covermap.coverage_figure(ds)
    ring, wedge = _radar_lines(fig.axes[0], covermap.RADAR_COLOR)
    lon, lat = ring.get_data()
    assert np.max(np.abs(great_circle_m(60.0, 10.0, lat, lon) - 3000e3)) < RING_TOL_M
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "Earth: sphere, rotation off, J2 off" in texts


def test_report_coverage_figures_and_html_state_the_earth(sphere_scenario):
    from shieldlab.api import coverage
    from shieldlab.report import figures as F
    from shieldlab.report import html as H

    result = coverage(sphere_scenario)
    for fig in (F.coverage_map(result), F.coverage_battery_panels(result)):
        assert "Earth: sphere, rotation off, J2 off" in " ".join(t.get_text() for t in fig.texts)
    ring = _radar_lines(F.coverage_map(result).axes[0], F.RADAR_COLOR)[0]
    lon, lat = ring.get_data()
    assert np.max(np.abs(great_circle_m(60.0, 10.0, lat, lon) - 3000e3)) < RING_TOL_M
    summary = H.scenario_summary(sphere_scenario, source_file="sphere-check.toml", catalog_version="x", version="y")
    assert "sphere, rotation off, J2 off; vacuum flight" in summary


def test_web_radar_outline_of_a_sphere_scenario_is_on_the_sphere(sphere_scenario):
    """The web map's coverage outline at a reference altitude: on the sphere, the farthest ground distance
    the radar sees a 1000-km target at is set by the 3000-km slant range or the 3-deg elevation mask;
    each outline point is that ground distance from the site along a great circle."""
    from shieldlab.web import geo

    fc = geo.geometry(sphere_scenario, ref_altitudes_km=(1000.0,))
    ring = next(f for f in fc["features"] if f["properties"].get("name") == "ring-radar"
                and f["properties"]["kind"] == "radar-coverage")
    pts = np.array(ring["geometry"]["coordinates"][0])
    d = great_circle_m(60.0, 10.0, pts[:, 1], pts[:, 0])
    # slant range 3000 km to a target 1000 km up: the law of cosines on the sphere gives the central angle
    r, h, s = R_SPHERE_M, 1000e3, 3000e3
    theta = math.acos((r**2 + (r + h) ** 2 - s**2) / (2 * r * (r + h)))
    elevation = math.degrees(math.atan2(math.cos(theta) - r / (r + h), math.sin(theta)))
    assert elevation > 3.0  # the range limit binds, not the elevation mask
    # 4-decimal rounding of the GeoJSON coordinates: 1e-4 deg is at most ~11 m
    assert np.max(np.abs(d - r * theta)) < 15.0
