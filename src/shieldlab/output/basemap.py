"""Bundled Natural Earth basemap data (land, countries) as GeoJSON and shapely geometries.

The data ships inside the package (``shieldlab/data/natural_earth``, built by
``tools/build_natural_earth.py`` from Natural Earth via world-atlas 2.0.2), so nothing
here touches the network.

Geometries are planar lon/lat degrees in [-180, 180] x [-90, 90]: polygons that cross the
antimeridian are cut at +-180 and Antarctica is closed along lat -90. Those cuts are not
coastline; :func:`coastline_geometries` and :func:`border_geometries` leave them out.

Everything is cached: treat the returned dicts and geometries as read-only.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Polygon, shape

from shieldlab.output.geometry import wrap_lon

_DATA_DIR = "data/natural_earth"
SCALES = ("110m", "50m")
DATASETS = ("ne_110m_land", "ne_50m_land", "ne_110m_countries")

__all__ = [
    "DATASETS",
    "SCALES",
    "border_geometries",
    "coastline_geometries",
    "country_geometries",
    "country_names",
    "is_land",
    "land_geometries",
    "load_natural_earth",
]


def _dataset_name(name: str) -> str:
    key = name.strip()
    if key.endswith(".geojson"):
        key = key[: -len(".geojson")]
    if not key.startswith("ne_"):
        key = "ne_" + key
    if key not in DATASETS:
        raise ValueError(f"unknown Natural Earth dataset {name!r}; available: {', '.join(DATASETS)}")
    return key


def _check_scale(scale: str) -> str:
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    return scale


@lru_cache(maxsize=None)
def _load(key: str) -> dict:
    ref = resources.files("shieldlab").joinpath(f"{_DATA_DIR}/{key}.geojson")
    with ref.open("r", encoding="utf-8") as fh:
        return json.load(fh)


def load_natural_earth(name: str) -> dict:
    """Return a bundled dataset as a GeoJSON FeatureCollection dict (cached; don't mutate it).

    ``name`` is one of :data:`DATASETS` (``"ne_110m_land"``, ``"ne_50m_land"``,
    ``"ne_110m_countries"``); the ``ne_`` prefix and ``.geojson`` suffix are optional.
    """
    return _load(_dataset_name(name))


def _polygons(geom) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]


@lru_cache(maxsize=None)
def _land(scale: str) -> tuple[Polygon, ...]:
    fc = load_natural_earth(f"ne_{scale}_land")
    return tuple(p for f in fc["features"] for p in _polygons(shape(f["geometry"])))


def land_geometries(scale: str = "110m") -> tuple[Polygon, ...]:
    """Land polygons at ``scale`` ("110m" or "50m"), one shapely Polygon per land mass piece."""
    return _land(_check_scale(scale))


@lru_cache(maxsize=None)
def _countries() -> tuple[tuple[str, object], ...]:
    fc = load_natural_earth("ne_110m_countries")
    return tuple((f["properties"].get("name") or "", shape(f["geometry"])) for f in fc["features"])


def country_geometries() -> tuple:
    """Country (admin-0) geometries at 1:110m, one (Multi)Polygon per country.

    Same order as :func:`country_names`; ``dict(zip(country_names(), country_geometries()))``
    maps names to geometries.
    """
    return tuple(g for _, g in _countries())


def country_names() -> tuple[str, ...]:
    """Names of the countries of :func:`country_geometries`, in the same order."""
    return tuple(n for n, _ in _countries())


# --------------------------------------------------------------------------- lines
def _is_artificial(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True for edges a->b that run along the antimeridian cut or the South Pole closure."""
    on_cut = (np.abs(a[:, 0]) == 180.0) & (a[:, 0] == b[:, 0])
    on_pole = (np.abs(a[:, 1]) == 90.0) & (a[:, 1] == b[:, 1])
    return on_cut | on_pole


def _real_edges(ring_coords) -> list[np.ndarray]:
    """Split a ring into runs of consecutive non-artificial edges."""
    xy = np.asarray(ring_coords, dtype=float)[:, :2]
    if len(xy) < 2:
        return []
    bad = _is_artificial(xy[:-1], xy[1:])
    if not bad.any():
        return [xy]
    runs, start = [], None
    for i, b in enumerate(bad):  # edge i joins xy[i] and xy[i+1]
        if not b and start is None:
            start = i
        elif b and start is not None:
            runs.append(xy[start : i + 1])
            start = None
    if start is not None:
        runs.append(xy[start:])
    # the ring is closed: a run ending at the last point continues with the one starting at 0
    if len(runs) > 1 and not bad[0] and not bad[-1]:
        runs[0] = np.vstack([runs.pop(), runs[0][1:]])
    return runs


def _boundary_lines(polys) -> MultiLineString:
    lines = []
    for p in polys:
        for ring in (p.exterior, *p.interiors):
            lines.extend(LineString(r) for r in _real_edges(ring.coords) if len(r) >= 2)
    return MultiLineString(lines)


@lru_cache(maxsize=None)
def _coast(scale: str) -> MultiLineString:
    return _boundary_lines(land_geometries(scale))


def coastline_geometries(scale: str = "110m") -> MultiLineString:
    """Coastlines at ``scale``: land polygon boundaries without the antimeridian/pole cuts."""
    return _coast(_check_scale(scale))


@lru_cache(maxsize=None)
def _borders() -> object:
    countries = [g for _, g in _countries()]
    all_edges = shapely.union_all([g.boundary for g in countries])
    outline = shapely.union_all(countries).boundary  # coasts (and the artificial cuts)
    inner = all_edges.difference(outline.buffer(1e-3))  # country boundaries that are not coast
    inner = shapely.line_merge(inner) if not inner.is_empty else inner
    # the difference leaves no artificial edges: those lie on the outline of the union
    return inner


def border_geometries():
    """Land borders between countries at 1:110m (lines; coasts and cuts excluded)."""
    return _borders()


# --------------------------------------------------------------------------- queries
@lru_cache(maxsize=None)
def _land_union(scale: str):
    u = shapely.union_all(land_geometries(scale))
    shapely.prepare(u)
    return u


def is_land(lons, lats, scale: str = "110m") -> np.ndarray:
    """Boolean array: whether each (lon, lat) in degrees falls on land at ``scale``.

    Longitudes are wrapped into [-180, 180). Points exactly on a coastline count as land.
    """
    lon = np.asarray(wrap_lon(lons))
    lat = np.asarray(lats, dtype=float)
    u = _land_union(_check_scale(scale))
    return shapely.intersects_xy(u, lon, lat)
