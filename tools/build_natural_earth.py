#!/usr/bin/env python3
"""Build the bundled Natural Earth GeoJSON files from the npm package ``world-atlas``.

This is a development-time tool. Its output is committed to the repository, so the
package never needs the network at run time.

Usage::

    mkdir -p /tmp/ne && cd /tmp/ne && npm install --no-audit --no-fund world-atlas@2.0.2
    python tools/build_natural_earth.py /tmp/ne/node_modules/world-atlas

By default the files are written to ``src/shieldlab/data/natural_earth`` next to this
script; ``--out DIR`` writes them elsewhere.

What it does. world-atlas ships Natural Earth as TopoJSON in d3's spherical convention:
polygons that cross the antimeridian are stitched across +-180 deg, and Antarctica is a
ring around the South Pole. Read as planar lon/lat, those polygons fill the oceans and
draw horizontal stripes. So each polygon is decoded, unwrapped in longitude, closed via
the pole when it encircles one, and cut into pieces inside [-180, 180] x [-90, 90].
Coordinates are then snapped to a 0.001 deg grid (keeping the polygons valid) and the
result is written as RFC 7946 GeoJSON (exterior rings counter-clockwise).

Needs only numpy and shapely (>= 2.0).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon, box, mapping
from shapely.geometry.polygon import orient

GRID_DEG = 0.001  # coordinate precision of the output (3 decimals, about 100 m)
DECIMALS = 3
WORLD = box(-180.0, -90.0, 180.0, 90.0)

# (input file, TopoJSON object, output file, properties to keep)
PRODUCTS = [
    ("land-110m.json", "land", "ne_110m_land.geojson", ()),
    ("land-50m.json", "land", "ne_50m_land.geojson", ()),
    ("countries-110m.json", "countries", "ne_110m_countries.geojson", ("name",)),
]


# --------------------------------------------------------------------------- TopoJSON
def load_topojson(path: Path, obj: str):
    """Yield ``(geometry, properties, id)`` for each geometry of TopoJSON object ``obj``.

    A minimal decoder: quantized, delta-encoded arcs; Polygon and MultiPolygon only.
    """
    tj = json.loads(Path(path).read_text(encoding="utf-8"))
    tr = tj.get("transform")
    arcs = []
    for arc in tj["arcs"]:
        a = np.asarray(arc, dtype=float)[:, :2]
        if tr:
            a = np.cumsum(a, axis=0) * np.asarray(tr["scale"]) + np.asarray(tr["translate"])
        arcs.append(a)

    def ring(indices):
        parts = []
        for i in indices:
            a = arcs[i] if i >= 0 else arcs[~i][::-1]
            parts.append(a if not parts else a[1:])  # consecutive arcs share an endpoint
        return np.vstack(parts)

    for g in tj["objects"][obj]["geometries"]:
        props = dict(g.get("properties") or {})
        gid = g.get("id")
        if g.get("type") == "Polygon":
            polys = [g["arcs"]]
        elif g.get("type") == "MultiPolygon":
            polys = g["arcs"]
        else:  # null geometry (some countries at some scales)
            polys = []
        yield [(ring(p[0]), [ring(r) for r in p[1:]]) for p in polys], props, gid


# --------------------------------------------------------------------------- antimeridian
def _unwrap(lonlat: np.ndarray) -> np.ndarray:
    """Make longitudes continuous along a ring (no jumps of more than 180 deg)."""
    lon = np.degrees(np.unwrap(np.radians(lonlat[:, 0])))
    return np.column_stack([lon, lonlat[:, 1]])


def _flatten_polygons(geom) -> list[Polygon]:
    if geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    if hasattr(geom, "geoms"):
        out: list[Polygon] = []
        for g in geom.geoms:
            out.extend(_flatten_polygons(g))
        return out
    return []  # points and lines left over by make_valid / intersection


def planar_pieces(exterior: np.ndarray, holes: list[np.ndarray]) -> list[Polygon]:
    """Cut one d3-stitched spherical polygon into planar pieces inside [-180, 180]."""
    ext = _unwrap(exterior)
    if abs(ext[-1, 0] - ext[0, 0]) > 180.0:
        # The ring goes once around the globe: it encircles a pole (Antarctica).
        # Close it along the pole so that the planar polygon covers the polar cap.
        pole = -90.0 if ext[:, 1].mean() < 0 else 90.0
        ext = np.vstack([ext, [[ext[-1, 0], pole], [ext[0, 0], pole]]])
    ext_poly = Polygon(ext)
    lo, hi = float(ext[:, 0].min()), float(ext[:, 0].max())
    mid = 0.5 * (lo + hi)
    inner = []
    for h in holes:
        r = _unwrap(h)
        # a hole is unwrapped from its own first point: move it onto the exterior's branch
        shift = 360.0 * np.round((mid - 0.5 * (r[:, 0].min() + r[:, 0].max())) / 360.0)
        r = r + [shift, 0.0]
        if ext_poly.is_valid and not ext_poly.intersects(Polygon(r)):
            continue  # should not happen; keep the output sane if it does
        inner.append(r)
    p = shapely.make_valid(Polygon(ext, inner))
    pieces: list[Polygon] = []
    # every copy of the polygon, shifted by a multiple of 360 deg, that can overlap the world box
    for k in range(int(np.floor((-180.0 - hi) / 360.0)), int(np.ceil((180.0 - lo) / 360.0)) + 1):
        q = affinity.translate(p, xoff=360.0 * k)
        if not q.intersects(WORLD):
            continue
        pieces.extend(_flatten_polygons(q.intersection(WORLD)))
    return pieces


def _snap(poly: Polygon) -> list[Polygon]:
    """Snap to the output grid, keeping validity; drop pieces that vanish."""
    snapped = shapely.set_precision(poly, GRID_DEG)
    return [orient(q, 1.0) for q in _flatten_polygons(snapped) if q.area > 0.0]


# --------------------------------------------------------------------------- GeoJSON
def _round_coords(obj):
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(v), DECIMALS) + 0.0 for v in obj]  # + 0.0 turns -0.0 into 0.0
        return [_round_coords(v) for v in obj]
    return obj


def convert(src: Path, obj: str, dst: Path, keep: tuple[str, ...]) -> dict:
    features = []
    n_polys = 0
    for polys, props, gid in load_topojson(src, obj):
        parts: list[Polygon] = []
        for exterior, holes in polys:
            for piece in planar_pieces(exterior, holes):
                parts.extend(_snap(piece))
        if not parts:
            continue
        n_polys += len(parts)
        geom = mapping(MultiPolygon(parts))
        geom = {"type": geom["type"], "coordinates": _round_coords(geom["coordinates"])}
        feature = {"type": "Feature", "properties": {k: props.get(k) for k in keep}, "geometry": geom}
        if gid is not None:
            feature["id"] = gid
        features.append(feature)
    fc = {"type": "FeatureCollection", "features": features}
    dst.write_text(json.dumps(fc, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
    return {"file": dst.name, "features": len(features), "polygons": n_polys, "bytes": dst.stat().st_size}


# --------------------------------------------------------------------------- checks
def check(path: Path) -> None:
    """Raise AssertionError unless ``path`` is a clean planar GeoJSON FeatureCollection."""
    fc = json.loads(path.read_text(encoding="utf-8"))
    assert fc["type"] == "FeatureCollection" and fc["features"], path
    for f in fc["features"]:
        assert f["type"] == "Feature" and "properties" in f, path
        g = shapely.geometry.shape(f["geometry"])
        assert g.is_valid and not g.is_empty, (path, f["properties"], shapely.is_valid_reason(g))
        for poly in getattr(g, "geoms", [g]):
            for r in [poly.exterior, *poly.interiors]:
                xy = np.asarray(r.coords)
                assert np.all(np.abs(xy[:, 0]) <= 180.0) and np.all(np.abs(xy[:, 1]) <= 90.0), path
                # no edge jumps across the antimeridian (the closing edge along a pole is fine)
                jump = np.abs(np.diff(xy[:, 0])) > 180.0
                along_pole = (np.abs(xy[:-1, 1]) == 90.0) & (xy[:-1, 1] == xy[1:, 1])
                assert not np.any(jump & ~along_pole), (path, f["properties"])
            assert poly.exterior.is_ccw, path


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("world_atlas", type=Path, help="path to node_modules/world-atlas (version 2.0.2)")
    ap.add_argument("--out", type=Path, default=here.parent / "src" / "shieldlab" / "data" / "natural_earth")
    args = ap.parse_args(argv)

    pkg = json.loads((args.world_atlas / "package.json").read_text())
    if pkg.get("version") != "2.0.2":
        print(f"warning: world-atlas {pkg.get('version')} (expected 2.0.2)", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    for src, obj, dst, keep in PRODUCTS:
        info = convert(args.world_atlas / src, obj, args.out / dst, keep)
        check(args.out / dst)
        print(f"{info['file']}: {info['features']} features, {info['polygons']} polygons, "
              f"{info['bytes'] / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
