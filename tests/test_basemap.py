"""Bundled Natural Earth data and offline map drawing (shieldlab.output.basemap / mapplot)."""

from __future__ import annotations

import ast
import inspect
import json
import socket
import urllib.request
import warnings
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, shape

from shieldlab.output import basemap

cartopy = pytest.importorskip("cartopy")
from shieldlab.output import mapplot  # noqa: E402  (after the importorskip)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- data
@pytest.mark.parametrize("name", basemap.DATASETS)
def test_datasets_are_valid_planar_feature_collections(name):
    fc = basemap.load_natural_earth(name)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) > 0
    for f in fc["features"]:
        assert f["type"] == "Feature"
        g = shape(f["geometry"])
        assert g.geom_type in ("Polygon", "MultiPolygon")
        assert g.is_valid and not g.is_empty
        for poly in getattr(g, "geoms", [g]):
            for ring in (poly.exterior, *poly.interiors):
                xy = np.asarray(ring.coords)
                assert np.all(np.abs(xy[:, 0]) <= 180.0) and np.all(np.abs(xy[:, 1]) <= 90.0)
                # nothing spans the antimeridian: no edge jumps more than 180 deg of longitude,
                # except the artificial edge along the South Pole that closes Antarctica
                jump = np.abs(np.diff(xy[:, 0])) > 180.0
                along_pole = (np.abs(xy[:-1, 1]) == 90.0) & (xy[:-1, 1] == xy[1:, 1])
                assert not np.any(jump & ~along_pole), f["properties"]


def test_dataset_names_and_cache():
    a = basemap.load_natural_earth("ne_110m_land")
    assert basemap.load_natural_earth("110m_land.geojson") is a  # cached, flexible name
    with pytest.raises(ValueError, match="unknown Natural Earth dataset"):
        basemap.load_natural_earth("ne_10m_land")
    with pytest.raises(ValueError):
        basemap.land_geometries("10m")


def test_data_ships_inside_the_package_with_readme():
    folder = resources.files("shieldlab").joinpath("data/natural_earth")
    names = {p.name for p in folder.iterdir()}
    assert {"ne_110m_land.geojson", "ne_50m_land.geojson", "ne_110m_countries.geojson",
            "README.md"} <= names
    readme = folder.joinpath("README.md").read_text(encoding="utf-8")
    assert "world-atlas" in readme and "2.0.2" in readme and "public domain" in readme


def test_land_polygons():
    assert len(basemap.land_geometries("50m")) > 100
    assert len(basemap.land_geometries("110m")) > 50
    assert all(g.geom_type == "Polygon" for g in basemap.land_geometries("50m"))


def test_countries_have_names():
    fc = basemap.load_natural_earth("ne_110m_countries")
    names = [f["properties"].get("name") for f in fc["features"]]
    assert all(isinstance(n, str) and n for n in names)
    assert len(fc["features"]) > 150
    assert "Poland" in names
    geoms = dict(zip(basemap.country_names(), basemap.country_geometries()))
    assert geoms["Poland"].contains(Point(19.0, 52.0))
    # Russia crosses the antimeridian: it is cut into pieces on both sides
    assert geoms["Russia"].contains(Point(-175.0, 66.0)) and geoms["Russia"].contains(Point(100.0, 60.0))


@pytest.mark.parametrize("scale", basemap.SCALES)
def test_point_in_poland_is_land_and_mid_atlantic_is_not(scale):
    polys = basemap.land_geometries(scale)
    tree = shapely.STRtree(polys)
    on_land = Point(19.0, 52.0)  # (52N, 19E), Poland
    at_sea = Point(-30.0, 45.0)  # (45N, 30W), North Atlantic
    assert any(polys[i].contains(on_land) for i in tree.query(on_land))
    assert not any(polys[i].contains(at_sea) for i in tree.query(at_sea))
    assert basemap.is_land([19.0, -30.0], [52.0, 45.0], scale=scale).tolist() == [True, False]


def test_antimeridian_and_poles_are_handled_in_land():
    # Chukotka on both sides of 180, Fiji, the South Pole; open Pacific and the North Pole are sea
    lons = [-175.0, 178.0, 178.0, 0.0, -170.0, 0.0]
    lats = [66.0, 66.0, -17.8, -89.9, 20.0, 89.9]
    assert basemap.is_land(lons, lats, "50m").tolist() == [True, True, True, True, False, False]


def test_coastlines_leave_out_the_artificial_cuts():
    for line in basemap.coastline_geometries("110m").geoms:
        xy = np.asarray(line.coords)
        edge_on_cut = (np.abs(xy[:-1, 0]) == 180.0) & (xy[:-1, 0] == xy[1:, 0])
        edge_on_pole = (xy[:-1, 1] == -90.0) & (xy[1:, 1] == -90.0)
        assert not np.any(edge_on_cut | edge_on_pole)
    borders = basemap.border_geometries()
    assert not borders.is_empty and borders.length > 500.0


# --------------------------------------------------------------------------- extents
def test_extent_for_plain_and_across_antimeridian():
    assert mapplot.extent_for([-90.0, 60.0], [30.0, 70.0], margin_deg=0) == (-90.0, 60.0, 30.0, 70.0)
    lon0, lon1, lat0, lat1 = mapplot.extent_for([-10.0, 30.0], [40.0, 60.0])
    assert (lon0, lon1, lat0, lat1) == (-15.0, 35.0, 35.0, 65.0)
    # Tokyo, Anchorage, Honolulu: the short way is across the antimeridian
    lon0, lon1, lat0, lat1 = mapplot.extent_for([139.7, -149.9, -157.8], [35.7, 61.2, 21.3])
    assert lon0 == pytest.approx(134.7) and lon1 == pytest.approx(215.1) and lon1 > 180.0
    assert (lat0, lat1) == pytest.approx((16.3, 66.2))
    # points all around the world: the whole longitude range, latitudes clamped
    lon0, lon1, lat0, lat1 = mapplot.extent_for(np.arange(-180, 180, 10), [88.0] * 36)
    assert (lon0, lon1, lat1) == (-180.0, 180.0, 90.0)
    # a single point still gives a usable box
    lon0, lon1, lat0, lat1 = mapplot.extent_for([19.0], [52.0], margin_deg=0)
    assert lon1 > lon0 and lat1 > lat0


def test_normalize_extent_conventions():
    assert mapplot.normalize_extent((130, -120, 15, 65)) == (130.0, 240.0, 15.0, 65.0)
    assert mapplot.normalize_extent((130, 240, 15, 65)) == (130.0, 240.0, 15.0, 65.0)
    assert mapplot.normalize_extent((-180, 180, -90, 90)) == (-180.0, 180.0, -90.0, 90.0)
    with pytest.raises(ValueError):
        mapplot.normalize_extent((10, 10, 0, 5))


def test_projection_choice():
    import cartopy.crs as ccrs

    assert isinstance(mapplot.choose_projection(None), ccrs.Robinson)
    europe = mapplot.choose_projection((-90, 60, 30, 70))
    assert isinstance(europe, ccrs.LambertConformal)
    pacific = mapplot.choose_projection((130, 240, 15, 65))
    assert pacific.proj4_params["lon_0"] == pytest.approx(-175.0)  # centred on the Pacific
    assert isinstance(mapplot.choose_projection((-180, 180, 60, 90)), ccrs.NorthPolarStereo)
    assert isinstance(mapplot.choose_projection((100, 160, -20, 20)), ccrs.Mercator)


def test_mapplot_never_calls_cartopy_downloading_features():
    tree = ast.parse(inspect.getsource(mapplot))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            assert node.attr not in {"coastlines", "stock_img", "add_feature"}, node.attr
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            assert not any(m.startswith("cartopy.feature") or m == "feature" for m in mods)
            assert not any(m in ("pyplot", "matplotlib.pyplot") for m in mods)


# --------------------------------------------------------------------------- offline drawing
def _files_under(path: Path) -> set[str]:
    return {str(p) for p in path.rglob("*")} if path.exists() else set()


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to reach the network raises."""

    def refuse(*args, **kwargs):
        raise OSError("network access attempted in an offline test")

    import cartopy.io

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(cartopy.io, "urlopen", refuse, raising=False)  # cartopy imported it by name
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    with warnings.catch_warnings():
        from cartopy.io import DownloadWarning

        warnings.simplefilter("error", DownloadWarning)
        yield


@pytest.mark.parametrize(
    "name, lons, lats, scale",
    [
        # Europe and the North Atlantic, (30N, 90W) to (70N, 60E)
        ("europe", [-90.0, 60.0, -77.0, 21.0], [30.0, 70.0, 38.9, 52.2], "50m"),
        # the North Pacific: Tokyo, Anchorage, Honolulu (across the antimeridian)
        ("npacific", [139.7, -149.9, -157.8], [35.7, 61.2, 21.3], "110m"),
    ],
)
def test_map_renders_offline(no_network, tmp_path, name, lons, lats, scale):
    cartopy_dirs = [Path.home() / ".local" / "share" / "cartopy", Path(cartopy.config["data_dir"])]
    before = [_files_under(d) for d in cartopy_dirs]

    fig = mapplot.new_figure(figsize=(10, 6.5), dpi=100)
    ax = mapplot.new_map_axes(fig, mapplot.extent_for(lons, lats, margin_deg=3))
    artists = mapplot.draw_basemap(ax, scale=scale)
    assert {"land", "coast", "borders"} <= set(artists)
    mapplot.plot_geodesic_tracks(ax, [lons[:2], lons[1:3]], [lats[:2], lats[1:3]], color="C3", label="t")
    mapplot.plot_points(ax, lons, lats)
    out = tmp_path / f"map_{name}.png"
    mapplot.save_figure(fig, out)

    data = out.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 20_000
    assert [_files_under(d) for d in cartopy_dirs] == before


def test_world_map_renders_offline(no_network, tmp_path):
    fig = mapplot.new_figure(figsize=(8, 4.5))
    ax = mapplot.new_map_axes(fig, central_lon=150.0)
    mapplot.draw_basemap(ax)
    out = tmp_path / "world.png"
    mapplot.save_figure(fig, out, dpi=80)
    assert out.read_bytes()[:8] == PNG_MAGIC and out.stat().st_size > 20_000


def test_geodesic_tracks_are_densified():
    fig = mapplot.new_figure()
    ax = mapplot.new_map_axes(fig, (120, 250, 10, 70))
    (line,) = mapplot.plot_geodesic_tracks(ax, [139.7, -122.4], [35.7, 37.8])  # one flat track
    lon, lat = line.get_data()
    assert len(lon) > 100
    assert np.all(np.abs(np.diff(lon)) < 5.0)  # continuous across the antimeridian
    assert lat.max() > 45.0  # a geodesic, not a rhumb line


def test_geojson_files_are_compact():
    folder = resources.files("shieldlab").joinpath("data/natural_earth")
    text = folder.joinpath("ne_110m_land.geojson").read_text(encoding="utf-8")
    fc = json.loads(text)
    coords = np.asarray(fc["features"][0]["geometry"]["coordinates"][0][0])
    assert np.allclose(coords, np.round(coords, 3))
