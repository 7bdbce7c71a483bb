"""`assess --out` files (docs/models.md, Assessing a missile from a flight test): the reach contours of every
assessment, as a map (`.png`, on the bundled Natural Earth basemap) or as GeoJSON (`.geojson`). Both work from the
`assess --json` document (`AssessResult.to_document()`) and are written atomically (output/files.py).

GeoJSON (RFC 7946, lon/lat in [-180, 180]): per assessment and fit, the reach contour as a MultiLineString (the end
points of the maximum-range flights along every azimuth, in azimuth order and closed, cut at the antimeridian;
properties `kind = "reach"`, `assessment`, `fit`, `missile`, `least_max_range_km`, `greatest_max_range_km`,
`max_range_km` along the test's azimuth), and, where the contour neither crosses the antimeridian nor passes the
antipode, the same ring as a Polygon (`kind = "reach-area"`); a Point per launch point (`kind = "launch"`) and per
place within reach of each fit (`kind = "place"`, with `distance_km`, `reach_km`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from shieldlab.output.files import OutputError, atomic_write
from shieldlab.output.geometry import wrap_lon

FORMATS = {".png": "PNG map", ".geojson": "GeoJSON"}
FIT_STYLE = {"staged": "-", "burnout": "-", "burnout-equivalent": "--"}  # colours: one per assessment
GLOBAL_KM = 6000.0  # contours reaching farther are drawn on a world map


def check_assess_output(path) -> str:
    """The extension of a supported `assess --out` path, else OutputError (the directory checked as for
    coverage outputs)."""
    from shieldlab.output.files import check_output_path

    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        known = ", ".join(f"{e} ({d})" for e, d in FORMATS.items())
        raise OutputError(f"{path}: unknown output format for assess {ext or '(no extension)'!r}; use one of {known}")
    check_output_path(path)
    return ext


def _ring(fit: dict) -> tuple[list[float], list[float]]:
    az = fit["reach"]["azimuths"]
    lon = [p["end"]["lon_deg"] for p in az if p["end"]["lon_deg"] is not None]
    lat = [p["end"]["lat_deg"] for p in az if p["end"]["lat_deg"] is not None]
    if lon:
        lon.append(lon[0])
        lat.append(lat[0])
    return lon, lat


def _cut(lon, lat) -> list[list[list[float]]]:
    """A line cut where it crosses the antimeridian (a jump of more than 180 deg between vertices)."""
    parts, cur = [], []
    for i, (x, y) in enumerate(zip(lon, lat)):
        x = float(wrap_lon(x))
        if cur and abs(x - cur[-1][0]) > 180.0:
            parts.append(cur)
            cur = []
        cur.append([round(x, 6), round(float(y), 6)])
    if cur:
        parts.append(cur)
    return [p for p in parts if len(p) >= 2]


def geojson_document(doc: dict) -> dict:
    """The FeatureCollection of an `assess` document (see the module's description)."""
    features = []
    for a in doc["assessments"]:
        f = a["from"]
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [
            round(float(wrap_lon(f["lon_deg"])), 6), round(f["lat_deg"], 6)]}, "properties": {
            "kind": "launch", "assessment": a["name"], "name": f["name"], "error": a["error"]}})
        for fit in a["fits"]:
            reach = fit["reach"]
            props = {"assessment": a["name"], "fit": fit["kind"], "missile": a["missile"],
                     "least_max_range_km": reach["least"]["max_range_km"],
                     "greatest_max_range_km": reach["greatest"]["max_range_km"], "max_range_km": fit["max_range_km"]}
            lon, lat = _ring(fit)
            parts = _cut(lon, lat)
            if parts:
                features.append({"type": "Feature", "geometry": {"type": "MultiLineString", "coordinates": parts},
                                  "properties": {"kind": "reach", **props}})
            far = reach["greatest"]["max_range_km"] or math.inf
            if len(parts) == 1 and len(parts[0]) >= 4 and far < 0.45 * 40030.0:
                features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [parts[0]]},
                                  "properties": {"kind": "reach-area", **props}})
            for p in reach["places_within_reach"]:
                features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [
                    round(float(wrap_lon(p["lon_deg"])), 6), round(p["lat_deg"], 6)]}, "properties": {
                    "kind": "place", "assessment": a["name"], "fit": fit["kind"], "name": p["name"],
                    "distance_km": p["distance_km"], "reach_km": p["reach_km"]}})
    return {"type": "FeatureCollection", "features": features}


def assess_figure(doc: dict, dpi: float = 110.0):
    """The reach contours of every assessment on one map (a matplotlib Figure)."""
    import cartopy.crs as ccrs
    from matplotlib.lines import Line2D

    from shieldlab.output import mapplot

    lons, lats, far = [], [], 0.0
    for a in doc["assessments"]:
        lons.append(a["from"]["lon_deg"])
        lats.append(a["from"]["lat_deg"])
        for fit in a["fits"]:
            lo, la = _ring(fit)
            lons += lo
            lats += la
            far = max(far, fit["reach"]["greatest"]["max_range_km"] or 0.0)
    fig = mapplot.new_figure((11.0, 6.8), dpi=dpi)
    if far > GLOBAL_KM or len(lons) < 3:
        centre = float(np.mean([a["from"]["lon_deg"] for a in doc["assessments"]])) if doc["assessments"] else 0.0
        ax = mapplot.new_map_axes(fig, None, projection=ccrs.Robinson(central_longitude=centre))
    else:
        ax = mapplot.new_map_axes(fig, mapplot.extent_for(lons, lats, margin_deg=5.0))
    mapplot.draw_basemap(ax, "110m")
    handles = []
    for i, a in enumerate(doc["assessments"]):
        color = f"C{i % 10}"
        for fit in a["fits"]:
            style = FIT_STYLE[fit["kind"]]
            lo, la = _ring(fit)
            if len(lo) >= 2:  # geodesic segments between the end points (longitudes unwrapped: no jump at 180)
                x = np.degrees(np.unwrap(np.radians(np.asarray(lo, float))))
                ax.plot(x, la, color=color, linestyle=style, linewidth=1.3, transform=ccrs.Geodetic(), zorder=4)
            label = f"{a['name']}: {fit['kind']} fit, max range {fit['max_range_km']:.0f} km along " \
                    f"{a['azimuth_deg']:.0f}°" if fit["max_range_km"] is not None else f"{a['name']}: {fit['kind']}"
            handles.append(Line2D([], [], color=color, linestyle=style, label=label))
        mapplot.plot_points(ax, [a["from"]["lon_deg"]], [a["from"]["lat_deg"]], color="k", s=18)
    ax.set_title(f"{doc['scenario']}: reach contours (maximum range along every 5° of azimuth)", fontsize=10)
    if handles:
        fig.legend(handles=handles, loc="lower center", fontsize=7, ncol=1, frameon=False)
    return fig


def write_assess_output(doc: dict, path) -> None:
    """Write `path` (.png or .geojson) from an `assess` document, atomically."""
    ext = check_assess_output(path)
    if ext == ".geojson":
        def render(tmp):
            Path(tmp).write_text(json.dumps(geojson_document(doc), indent=1) + "\n", encoding="utf-8")
    else:
        def render(tmp):
            from shieldlab.output.mapplot import save_figure

            save_figure(assess_figure(doc), tmp, format="png")
    try:
        atomic_write(path, render)
    except OSError as e:
        raise OutputError(f"{path}: cannot write: {e.strerror or e}") from None
