"""Static maps with matplotlib + cartopy, drawn from the bundled Natural Earth data only.

Never call cartopy's own Natural Earth features here (``ax.coastlines()``,
``cartopy.feature.LAND``/``BORDERS``/...): they download shapefiles at draw time and fail
offline. The basemap comes from :mod:`shieldlab.output.basemap` and is drawn with
``ax.add_geometries(..., crs=ccrs.PlateCarree())``.

No pyplot: figures are :class:`matplotlib.figure.Figure` objects with an Agg canvas, so
nothing touches matplotlib's global backend or state.

Extents are ``(lon_min, lon_max, lat_min, lat_max)`` in degrees. The longitude range runs
**eastward** from ``lon_min`` to ``lon_max``; a range across the antimeridian is written
either with ``lon_max > 180`` (``(130, 240, 15, 65)``) or with ``lon_max < lon_min``
(``(130, -120, 15, 65)``).

Typical use::

    fig = new_figure()
    ext = extent_for(lons, lats)
    ax = new_map_axes(fig, ext)
    draw_basemap(ax, scale="50m")
    plot_geodesic_tracks(ax, track_lons, track_lats)
    plot_points(ax, lons, lats)
    save_figure(fig, "map.png")
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import cartopy.crs as ccrs
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from shieldlab.earth.model import Earth
from shieldlab.output import basemap
from shieldlab.output.geometry import densify_geodesic, lon_range, wrap_lon
from shieldlab.scenario.model import EarthSpec

__all__ = [
    "choose_projection",
    "draw_basemap",
    "extent_for",
    "new_figure",
    "new_map_axes",
    "normalize_extent",
    "plot_geodesic_tracks",
    "plot_points",
    "save_figure",
    "set_lonlat_extent",
]

LAND_COLOR = "#efe8d4"
OCEAN_COLOR = "#d4e6f4"
COAST_COLOR = "#5a5a5a"
BORDER_COLOR = "#9a9a9a"

Extent = tuple[float, float, float, float]


# --------------------------------------------------------------------------- figures
def new_figure(figsize: tuple[float, float] = (10.0, 6.5), dpi: float = 100.0) -> Figure:
    """A new Figure with its own Agg canvas (no pyplot, no global backend switch)."""
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | os.PathLike, dpi: float | None = None, **kwargs) -> None:
    """Save ``fig`` (PNG, SVG, PDF... by extension) with a tight bounding box by default."""
    if fig.canvas is None or not hasattr(fig.canvas, "print_figure"):
        FigureCanvasAgg(fig)
    kwargs.setdefault("bbox_inches", "tight")
    fig.savefig(os.fspath(path), dpi=dpi, **kwargs)


# --------------------------------------------------------------------------- extents
def normalize_extent(extent_lonlat: Sequence[float]) -> Extent:
    """Return ``(lon_min, lon_max, lat_min, lat_max)`` with lon_min in [-180, 180) and
    lon_min < lon_max <= lon_min + 360 (lon_max > 180 means the range crosses the antimeridian).
    """
    lon0, lon1, lat0, lat1 = (float(v) for v in extent_lonlat)
    if not all(np.isfinite([lon0, lon1, lat0, lat1])):
        raise ValueError(f"extent must be finite, got {extent_lonlat!r}")
    span = (lon1 - lon0) % 360.0
    if span == 0.0:
        if lon1 == lon0:
            raise ValueError(f"extent has zero longitude width: {extent_lonlat!r}")
        span = 360.0  # e.g. (-180, 180) or (0, 360)
    if lat0 > lat1:
        lat0, lat1 = lat1, lat0
    if lat0 == lat1:
        raise ValueError(f"extent has zero latitude height: {extent_lonlat!r}")
    lat0, lat1 = max(lat0, -90.0), min(lat1, 90.0)
    if span >= 360.0:
        return (-180.0, 180.0, lat0, lat1)
    lon0 = wrap_lon(lon0)
    return (lon0, lon0 + span, lat0, lat1)


def extent_for(lons, lats, margin_deg: float = 5.0) -> Extent:
    """A lon/lat extent that contains all points plus ``margin_deg`` on every side.

    The longitude range is the shortest arc that covers all points, so points on both sides
    of the antimeridian (e.g. Japan and Alaska) give a range across it, returned with
    ``lon_max > 180``. When the range (plus margins) would cover 360 deg, it is (-180, 180).
    Latitudes are clamped to [-90, 90].
    """
    lon = np.asarray(lons, dtype=float).ravel()
    lat = np.asarray(lats, dtype=float).ravel()
    if lon.shape != lat.shape:
        raise ValueError("lons and lats must have the same number of values")
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        raise ValueError("extent_for needs at least one finite point")
    lon, lat = lon[ok], lat[ok]
    m = max(float(margin_deg), 0.0)

    start, span = lon_range(lon)  # the points run eastward from `start` over `span` degrees
    half_min = 0.5  # never a zero-size map
    pad = max(m, half_min - 0.5 * span, 0.0)
    if span + 2.0 * pad >= 360.0:
        lon0, lon1 = -180.0, 180.0
    else:
        lon0 = wrap_lon(start - pad)
        lon1 = lon0 + span + 2.0 * pad
    lat_pad = max(m, half_min - 0.5 * float(lat.max() - lat.min()), 0.0)
    lat0 = max(float(lat.min()) - lat_pad, -90.0)
    lat1 = min(float(lat.max()) + lat_pad, 90.0)
    return (lon0, lon1, lat0, lat1)


# --------------------------------------------------------------------------- projections
def choose_projection(extent_lonlat: Sequence[float] | None = None,
                      central_lon: float | None = None) -> ccrs.Projection:
    """A sensible cartopy projection for an extent (see the module doc for the convention).

    - no extent, or (nearly) the whole world: Robinson;
    - a polar cap (reaching past 80 deg, wide in longitude): polar stereographic;
    - mid-latitudes of one hemisphere: Lambert conformal conic, standard parallels at 1/6
      and 5/6 of the latitude range;
    - low latitudes / across the equator: Mercator (Robinson if very large).

    The central longitude is the middle of the extent unless ``central_lon`` is given, so a
    region across the antimeridian (e.g. the North Pacific) is not split at the map edge.
    """
    if extent_lonlat is None:
        return ccrs.Robinson(central_longitude=wrap_lon(central_lon or 0.0))
    lon0, lon1, lat0, lat1 = normalize_extent(extent_lonlat)
    span, height = lon1 - lon0, lat1 - lat0
    clon = wrap_lon(0.5 * (lon0 + lon1) if central_lon is None else central_lon)
    clat = 0.5 * (lat0 + lat1)

    if span >= 300.0 and height >= 100.0:
        return ccrs.Robinson(central_longitude=clon)
    if lat1 > 80.0 and lat0 >= 20.0 and (span > 120.0 or lat1 >= 89.0):
        return ccrs.NorthPolarStereo(central_longitude=clon)
    if lat0 < -80.0 and lat1 <= -20.0 and (span > 120.0 or lat0 <= -89.0):
        return ccrs.SouthPolarStereo(central_longitude=clon)
    one_side = lat0 >= 0.0 or lat1 <= 0.0
    if one_side and abs(clat) >= 20.0 and span <= 200.0 and max(abs(lat0), abs(lat1)) < 89.9:
        p1, p2 = lat0 + height / 6.0, lat1 - height / 6.0
        north = clat > 0
        return ccrs.LambertConformal(
            central_longitude=clon,
            central_latitude=clat,
            standard_parallels=(p1, p2),
            cutoff=-30.0 if north else 30.0,
        )
    if span <= 200.0 and max(abs(lat0), abs(lat1)) <= 70.0:
        return ccrs.Mercator(central_longitude=clon)
    return ccrs.Robinson(central_longitude=clon)


def set_lonlat_extent(ax, extent_lonlat: Sequence[float], n: int = 181) -> None:
    """Zoom a GeoAxes onto a lon/lat box, whatever the projection and the antimeridian.

    The box outline is sampled densely, projected, and its bounding box becomes the axes
    limits (cartopy's ``set_extent`` with a lon/lat box struggles across +-180).
    """
    lon0, lon1, lat0, lat1 = normalize_extent(extent_lonlat)
    proj = ax.projection
    if isinstance(proj, ccrs.Mercator):  # Mercator is infinite at the poles
        lat0, lat1 = max(lat0, -84.0), min(lat1, 84.0)
    if lon1 - lon0 >= 360.0 and lat0 <= -89.9 and lat1 >= 89.9:
        ax.set_global()
        return
    lo = np.linspace(lon0, lon1, n)
    la = np.linspace(lat0, lat1, n)
    bl = np.r_[lo, np.full(n, lon1), lo[::-1], np.full(n, lon0)]
    bt = np.r_[np.full(n, lat0), la, np.full(n, lat1), la[::-1]]
    # also sample the inside, for projections where the box outline is not the extreme
    g_lon, g_lat = np.meshgrid(np.linspace(lon0, lon1, 37), np.linspace(lat0, lat1, 19))
    bl = np.r_[bl, g_lon.ravel()]
    bt = np.r_[bt, g_lat.ravel()]
    xyz = proj.transform_points(ccrs.PlateCarree(), wrap_lon(bl), bt)
    x, y = xyz[:, 0], xyz[:, 1]
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        raise ValueError(f"extent {extent_lonlat!r} is not visible in {type(proj).__name__}")
    x, y = x[ok], y[ok]
    xmin, xmax = x.min(), x.max()
    ymin, ymax = y.min(), y.max()
    # stay inside the projection's domain
    bx0, bx1 = proj.x_limits
    by0, by1 = proj.y_limits
    xmin, xmax = max(xmin, bx0), min(xmax, bx1)
    ymin, ymax = max(ymin, by0), min(ymax, by1)
    ax.set_extent((xmin, xmax, ymin, ymax), crs=proj)


def new_map_axes(fig: Figure, extent_lonlat: Sequence[float] | None = None,
                 central_lon: float | None = None, projection: ccrs.Projection | None = None,
                 rect=(1, 1, 1)):
    """Add a cartopy GeoAxes to ``fig`` and zoom it onto ``extent_lonlat``.

    ``projection`` overrides the automatic choice (:func:`choose_projection`);
    ``central_lon`` overrides the central longitude of the automatic choice. Without an
    extent the map is global. ``rect`` is passed to ``fig.add_subplot`` (e.g. ``(1, 2, 1)``).
    """
    if projection is None:
        projection = choose_projection(extent_lonlat, central_lon)
    ax = fig.add_subplot(*rect, projection=projection)
    if extent_lonlat is None:
        ax.set_global()
    else:
        set_lonlat_extent(ax, extent_lonlat)
    return ax


# --------------------------------------------------------------------------- drawing
def draw_basemap(ax, scale: str = "110m", *, land_color: str = LAND_COLOR,
                 ocean_color: str | None = OCEAN_COLOR, coast_color: str = COAST_COLOR,
                 border_color: str | None = BORDER_COLOR, coast_width: float = 0.6,
                 border_width: float = 0.4, gridlines: bool = True, zorder: float = 0.0,
                 clip_to_view: bool = True) -> dict:
    """Draw ocean, land, coastline, country borders (and a graticule) from the bundled data.

    ``scale`` ("110m" or "50m") selects the land and coastline; borders are always 1:110m
    (set ``border_color=None`` to leave them out). ``ocean_color=None`` keeps the axes
    background. Returns the artists by name.

    With ``clip_to_view`` (the default) only geometries near the current view are handed to
    cartopy, which makes regional 50m maps several times faster; so set the extent first
    (:func:`new_map_axes` does), or pass ``clip_to_view=False`` to zoom out later.
    """
    pc = ccrs.PlateCarree()
    out = {}
    if ocean_color is not None:
        ax.set_facecolor(ocean_color)
    keep = _visible_filter(ax) if clip_to_view else (lambda geoms: list(geoms))
    # fill without edges: the polygons have artificial edges along +-180 and the South Pole
    out["land"] = ax.add_geometries(keep(basemap.land_geometries(scale)), crs=pc, facecolor=land_color,
                                    edgecolor="none", linewidth=0.0, zorder=zorder + 0.1)
    if border_color is not None:
        out["borders"] = ax.add_geometries(keep(_parts(basemap.border_geometries())), crs=pc,
                                           facecolor="none", edgecolor=border_color,
                                           linewidth=border_width, zorder=zorder + 0.2)
    out["coast"] = ax.add_geometries(keep(_parts(basemap.coastline_geometries(scale))), crs=pc,
                                     facecolor="none", edgecolor=coast_color, linewidth=coast_width,
                                     zorder=zorder + 0.3)
    if gridlines:
        out["gridlines"] = ax.gridlines(crs=pc, draw_labels=False, linewidth=0.3, color="#7a7a7a",
                                        alpha=0.5, linestyle="--", zorder=zorder + 0.4)
    return out


def _parts(geom) -> list:
    """The single-part geometries of a (multi-part) geometry."""
    return list(getattr(geom, "geoms", [geom]))


def _visible_filter(ax, cell_deg: float = 2.0, n: int = 240):
    """A function that keeps only the geometries whose lon/lat bounds touch the current view.

    The axes rectangle is sampled on an n x n grid and mapped back to lon/lat; the lon/lat
    cells hit (dilated by one cell) form the visible mask. Over-inclusive by design: cartopy
    clips what is kept.
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    ll = ccrs.PlateCarree().transform_points(ax.projection, gx.ravel(), gy.ravel())
    lon, lat = ll[:, 0], ll[:, 1]
    ok = np.isfinite(lon) & np.isfinite(lat)
    nx, ny = int(round(360.0 / cell_deg)), int(round(180.0 / cell_deg))
    mask = np.zeros((ny, nx), dtype=bool)
    if ok.any():
        ix = np.clip(((wrap_lon(lon[ok]) + 180.0) / cell_deg).astype(int), 0, nx - 1)
        iy = np.clip(((lat[ok] + 90.0) / cell_deg).astype(int), 0, ny - 1)
        mask[iy, ix] = True
    # dilate by one cell (wrapping in longitude)
    m = mask.copy()
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            shifted = np.roll(mask, dx, axis=1)
            if dy > 0:
                shifted = np.vstack([np.zeros((1, nx), bool), shifted[:-1]])
            elif dy < 0:
                shifted = np.vstack([shifted[1:], np.zeros((1, nx), bool)])
            m |= shifted
    if m.mean() > 0.6 or not ok.any():  # (nearly) global view, or nothing mapped back
        return lambda geoms: list(geoms)
    # 2-D prefix sums: "any visible cell in this box" in O(1)
    csum = np.zeros((ny + 1, nx + 1), dtype=np.int32)
    csum[1:, 1:] = np.cumsum(np.cumsum(m, axis=0), axis=1)

    def keep(geoms):
        geoms = list(geoms)
        if not geoms:
            return geoms
        b = np.array([g.bounds for g in geoms], dtype=float)  # minx, miny, maxx, maxy
        i0 = np.clip(((b[:, 0] + 180.0) / cell_deg).astype(int), 0, nx - 1)
        i1 = np.clip(((b[:, 2] + 180.0) / cell_deg).astype(int), 0, nx - 1) + 1
        j0 = np.clip(((b[:, 1] + 90.0) / cell_deg).astype(int), 0, ny - 1)
        j1 = np.clip(((b[:, 3] + 90.0) / cell_deg).astype(int), 0, ny - 1) + 1
        hits = csum[j1, i1] - csum[j0, i1] - csum[j1, i0] + csum[j0, i0]
        return [g for g, h in zip(geoms, hits) if h > 0]

    return keep


def plot_points(ax, lons, lats, **style):
    """Scatter points given in lon/lat degrees. ``style`` goes to ``ax.scatter``."""
    kw = {"s": 16, "color": "C3", "edgecolors": "k", "linewidths": 0.4, "zorder": 5}
    kw.update(style)
    kw["transform"] = ccrs.PlateCarree()
    return ax.scatter(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float), **kw)


def plot_geodesic_tracks(ax, lons_list, lats_list, step_m: float = 25e3, *, earth: Earth | None = None,
                         **style) -> list:
    """Draw one line per track, following geodesics between its vertices.

    ``lons_list``/``lats_list`` are sequences of per-track sequences (degrees); a single
    track may also be given as two flat sequences. Each segment is densified along the geodesic
    of ``earth`` (the scenario's Earth; without one the default ``[earth]``, WGS84) every
    ``step_m`` metres (:func:`shieldlab.output.geometry.densify_geodesic`), then drawn in
    ``ccrs.Geodetic()``. ``style`` goes to ``ax.plot``; a ``label`` is attached to the first
    track only, so a legend shows it once.
    """
    if np.ndim(lons_list) == 1 and len(lons_list) and np.isscalar(lons_list[0]):
        lons_list, lats_list = [lons_list], [lats_list]
    if len(lons_list) != len(lats_list):
        raise ValueError("lons_list and lats_list must have the same number of tracks")
    earth = earth if earth is not None else Earth.from_spec(EarthSpec())
    kw = {"color": "C0", "linewidth": 1.2, "zorder": 4}
    kw.update(style)
    kw["transform"] = ccrs.Geodetic()
    label = kw.pop("label", None)
    lines = []
    for i, (lo, la) in enumerate(zip(lons_list, lats_list)):
        lo, la = np.asarray(lo, dtype=float).ravel(), np.asarray(la, dtype=float).ravel()
        if lo.shape != la.shape:
            raise ValueError(f"track {i}: lons and lats differ in length")
        lo, la = densify_geodesic(earth, lo, la, step_m)
        lines.extend(ax.plot(lo, la, label=label if i == 0 else "_nolegend_", **kw))
    return lines


class LabelPlacer:
    """Greedy label placement on a map: try a few offsets around each point and keep the first that
    overlaps nothing placed so far (markers included), else the least overlapping one; labels off
    the map are penalised, points off the map get none."""

    def __init__(self, ax, *, gap_pt: float = 6.0, zorder: float = 10, halo=None):
        from matplotlib import patheffects

        g = gap_pt
        self.offsets = ((g, 0.7 * g, "left", "bottom"), (g, -0.7 * g, "left", "top"),
                        (-g, 0.7 * g, "right", "bottom"), (-g, -0.7 * g, "right", "top"),
                        (0, 1.3 * g, "center", "bottom"), (0, -1.3 * g, "center", "top"),
                        (2 * g, 0, "left", "center"), (-2 * g, 0, "right", "center"))
        self.ax, self.fig, self.zorder = ax, ax.figure, zorder
        self.halo = halo if halo is not None else [patheffects.withStroke(linewidth=2.5, foreground="white",
                                                                           alpha=0.9)]
        self.renderer = self.fig.canvas.get_renderer()
        self.ax_box = ax.get_window_extent(self.renderer)
        self.boxes: list[tuple[float, float, float, float]] = []

    def _xy(self, lon, lat):
        xy = self.ax.projection.transform_point(float(lon), float(lat), ccrs.PlateCarree())
        return self.ax.transData.transform(xy)

    def block(self, lon, lat, size_pt: float = 5.0):
        """Reserve the area of a marker so no label covers it."""
        x, y = self._xy(lon, lat)
        if np.isfinite(x) and np.isfinite(y):
            r = size_pt * self.fig.dpi / 72.0
            self.boxes.append((x - r, y - r, x + r, y + r))

    def _cost(self, b):
        tot = 0.0
        for o in self.boxes:
            w = min(b[2], o[2]) - max(b[0], o[0])
            h = min(b[3], o[3]) - max(b[1], o[1])
            if w > 0 and h > 0:
                tot += w * h
        a = self.ax_box
        iw = max(min(b[2], a.x1) - max(b[0], a.x0), 0)
        ih = max(min(b[3], a.y1) - max(b[1], a.y0), 0)
        return tot + 4.0 * ((b[2] - b[0]) * (b[3] - b[1]) - iw * ih)

    def text(self, lon, lat, s, **kw):
        """Place text `s` next to (lon, lat); returns the Text, or None for a point off the map."""
        from matplotlib.transforms import offset_copy

        x, y = self._xy(lon, lat)
        if not (np.isfinite(x) and np.isfinite(y)) or not self.ax_box.contains(x, y):
            return None
        base = ccrs.PlateCarree()._as_mpl_transform(self.ax)
        best, best_cost = None, float("inf")
        for dx, dy, ha, va in self.offsets:
            t = self.ax.text(float(lon), float(lat), s, ha=ha, va=va, zorder=self.zorder, path_effects=self.halo,
                             transform=offset_copy(base, fig=self.fig, x=dx, y=dy, units="points"), **kw)
            bb = t.get_window_extent(self.renderer)
            box = (bb.x0 - 1, bb.y0 - 1, bb.x1 + 1, bb.y1 + 1)
            cost = self._cost(box)
            if cost < best_cost:
                if best is not None:
                    best[0].remove()
                best, best_cost = (t, box), cost
            else:
                t.remove()
            if cost == 0:
                break
        self.boxes.append(best[1])
        return best[0]
