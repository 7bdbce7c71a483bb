"""The coverage map (`shieldlab coverage FILE --out map.png`).

Per launch point, one panel of the aim points coloured by which batteries can engage the threat aimed
there (categorical: no battery / each battery alone / several batteries; aim points the missile cannot
reach are crossed), then one panel per battery coloured by its margin (latest launch minus earliest
launch, docs/models.md, The latest launch; with more than MAX_MARGIN_PANELS launch point and battery
pairs, one panel per battery of its least margin over the launch points instead): a diverging scale, white at 0 s, red where the battery
is late (full red at the largest lateness), blue where it has time to spare (full blue at the largest margin), grey where there is no margin (never in the band, nothing
reachable, no cue), under one colour bar in seconds. On the bundled Natural Earth basemap, with the launch
point, the battery sites (in their battery's colour) and the radar sites with their range rings drawn as
geodesic circles (or sectors): a radar with a reference range is drawn at its range against the
coverage missile's cross-section (and, dotted, against its booster's when that differs), the others at
their maximum range; the ring's range is in the radar's label. Drawn from a coverage Dataset only (:func:`shieldlab.coverage.dataset.to_dataset`), so a
`.nc` file read back can be mapped again.

Never uses cartopy's downloading features: the basemap is :func:`shieldlab.output.mapplot.draw_basemap`.
"""

from __future__ import annotations

import math

import cartopy.crs as ccrs
import numpy as np
from matplotlib import patheffects
from matplotlib.transforms import offset_copy
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import BoundaryNorm, ListedColormap, TwoSlopeNorm
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from shieldlab.coverage.dataset import is_grid
from shieldlab.earth.model import Earth
from shieldlab.output import geometry, mapplot
from shieldlab.scenario.model import EarthSpec, Sector

BATTERY_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#e377c2", "#8c564b", "#17becf", "#bcbd22", "#7f7f7f")
NONE_COLOR = "#c9c9c9"
SEVERAL_COLOR = "#6a3d9a"
LAUNCH_COLOR = "#d62728"
RADAR_COLOR = "#1b5e20"
ERROR_FACE = "#f7f7f7"
ERROR_EDGE = "#8a8a8a"
GRID_ALPHA = 0.72
MARGIN_CMAP = "RdBu"  # red: late (margin < 0), white: 0 s, blue: time to spare
NO_MARGIN_COLOR = NONE_COLOR  # no margin: never in the band, nothing reachable, or no cue
MARGIN_PANEL = "margin"  # the label (Axes.get_label) of a margin panel starts with it; the colour bar's is
MARGIN_COLORBAR = "margin colour bar"
LEGEND_COLS = 4
MAX_MARGIN_PANELS = 24  # more (launch point, battery) pairs than this: one panel per battery, the least margin
LABEL_HALO = [patheffects.withStroke(linewidth=2.6, foreground="white", alpha=0.9)]  # white halo behind map labels


# --------------------------------------------------------------------------- categories
def categories(batteries) -> list[tuple[str, str]]:
    """(label, colour) of the map categories: code 0 none, 1..nb one battery alone, nb+1 several."""
    nb = len(batteries)
    out = [("no battery", NONE_COLOR)]
    out += [(f"{b} only" if nb > 1 else b, battery_color(j)) for j, b in enumerate(batteries)]
    if nb > 1:
        out.append(("all batteries" if nb == 2 else "several batteries", SEVERAL_COLOR))
    return out


def battery_color(j: int) -> str:
    return BATTERY_COLORS[j % len(BATTERY_COLORS)]


def category_codes(feasible: np.ndarray) -> np.ndarray:
    """Category code per pair from a (..., nb) boolean array (see :func:`categories`)."""
    feasible = np.asarray(feasible, bool)
    nb = feasible.shape[-1]
    count = feasible.sum(axis=-1)
    code = np.zeros(count.shape, int)
    if nb:
        only = np.argmax(feasible, axis=-1) + 1
        code = np.where(count == 1, only, code)
        code = np.where(count > 1, nb + 1, code)
    return code


# --------------------------------------------------------------------------- geometry helpers
def dataset_earth(ds) -> Earth:
    """The Earth the coverage Dataset was computed on (its earth_model, earth_rotation, earth_j2 attributes):
    the map's rings and widths are measured on it."""
    a = ds.attrs
    return Earth.from_spec(EarthSpec(str(a["earth_model"]), bool(a["earth_rotation"]), bool(a["earth_j2"])))


def grid_cell(lon0, lon1, lat0, lat1):
    """A lon/lat grid cell as a shapely polygon whose sides follow meridians/parallels."""
    from shapely.geometry import Polygon

    return Polygon(np.c_[geometry.cell_outline(lon0, lon1, lat0, lat1)])


def key_points(ds) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat of what a map of a Dataset over [coverage] pairs must show: the aim points (grid outline
    densified), the launch points, the battery and radar sites (those the Dataset has: `battery_lon`/`_lat`,
    `sensor_lon`/`_lat`)."""
    lons = [np.ravel(ds["launch_lon"].values)]
    lats = [np.ravel(ds["launch_lat"].values)]
    for what in ("battery", "sensor"):
        if f"{what}_lon" in ds:
            lons.append(np.ravel(ds[f"{what}_lon"].values))
            lats.append(np.ravel(ds[f"{what}_lat"].values))
    if is_grid(ds):
        le = geometry.cell_edges(ds["lon"].values)
        be = geometry.cell_edges(ds["lat"].values, -90.0, 90.0)
        lo = np.linspace(le[0], le[-1], 60)
        la = np.linspace(be[0], be[-1], 60)
        lons += [lo, lo, np.full(60, le[0]), np.full(60, le[-1])]
        lats += [np.full(60, be[0]), np.full(60, be[-1]), la, la]
    else:
        lons.append(ds["aim_lon"].values)
        lats.append(ds["aim_lat"].values)
    return geometry.wrap_lon(np.concatenate(lons)), np.clip(np.concatenate(lats), -90, 90)


def map_extent(ds) -> tuple:
    """The lon/lat extent (mapplot's convention) of a map of a Dataset over [coverage] pairs: its
    :func:`key_points` with 4 deg around them, latitudes kept within -85..88 deg."""
    lon, lat = key_points(ds)
    lon0, lon1, lat0, lat1 = mapplot.extent_for(lon, lat, margin_deg=4.0)
    return lon0, lon1, max(lat0, -85.0), min(lat1, 88.0)


def map_frame(ds, proj, extent, pad=0.07) -> tuple[float, float, float, float]:
    """Axes limits (x0, x1, y0, y1) in the projection: the :func:`key_points`' bounding box plus `pad` on each
    side (so the map is not the whole projected lon/lat box, which is mostly empty for a wide conic map); None
    when no key point can be projected."""
    lon, lat = key_points(ds)
    xy = proj.transform_points(ccrs.PlateCarree(), lon, lat)
    ok = np.isfinite(xy[:, 0]) & np.isfinite(xy[:, 1])
    if not ok.any():
        return None
    x, y = xy[ok, 0], xy[ok, 1]
    w, h = max(x.max() - x.min(), 1e5), max(y.max() - y.min(), 1e5)
    x0, x1 = x.min() - pad * w, x.max() + pad * w
    y0, y1 = y.min() - pad * h, y.max() + pad * h + 0.05 * h  # room for labels at the top
    bx0, bx1 = proj.x_limits
    by0, by1 = proj.y_limits
    return max(x0, bx0), min(x1, bx1), max(y0, by0), min(y1, by1)


def widen_frame(frame, proj, min_aspect: float, max_aspect: float):
    """Grow the short side of a frame so that its height/width lies in [min_aspect, max_aspect]."""
    x0, x1, y0, y1 = frame
    w, h = x1 - x0, y1 - y0
    if h < min_aspect * w:
        c, h = 0.5 * (y0 + y1), min_aspect * w
        y0, y1 = c - h / 2, c + h / 2
    elif h > max_aspect * w:
        c, w = 0.5 * (x0 + x1), h / max_aspect
        x0, x1 = c - w / 2, c + w / 2
    bx0, bx1 = proj.x_limits
    by0, by1 = proj.y_limits
    return max(x0, bx0), min(x1, bx1), max(y0, by0), min(y1, by1)


def view_box(proj, frame, margin_deg: float = 2.0, n: int = 60):
    """A lon/lat box around the whole view, or None when the view wraps (a pole, the antimeridian)."""
    x0, x1, y0, y1 = frame
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    ll = ccrs.PlateCarree().transform_points(proj, gx.ravel(), gy.ravel())
    lon, lat = ll[:, 0], ll[:, 1]
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        return None
    if lon.max() - lon.min() > 300.0 or lat.max() > 89.0 or lat.min() < -89.0:
        return None
    return (lon.min() - margin_deg, lat.min() - margin_deg, lon.max() + margin_deg, lat.max() + margin_deg)


def draw_clipped_basemap(ax, frame, scale: str):
    """The bundled basemap on `ax` (as :func:`mapplot.draw_basemap`; `frame` the axes limits in its projection,
    `scale` "110m" or "50m"), its geometries cut to the view first: cartopy then projects a few thousand vertices
    instead of whole continents (about 3x faster for 50m maps)."""
    from shapely.geometry import box

    from shieldlab.output import basemap

    vb = view_box(ax.projection, frame)
    if vb is None:
        mapplot.draw_basemap(ax, scale=scale, gridlines=True)
        return
    clip = box(*vb)

    def cut(geoms):
        out = []
        for g in geoms:
            if g.intersects(clip):
                c = g.intersection(clip)
                if not c.is_empty:
                    out.append(c)
        return out

    pc = ccrs.PlateCarree()
    ax.set_facecolor(mapplot.OCEAN_COLOR)
    ax.add_geometries(cut(basemap.land_geometries(scale)), crs=pc, facecolor=mapplot.LAND_COLOR, edgecolor="none",
                      linewidth=0.0, zorder=0.1)
    borders = basemap.border_geometries()
    ax.add_geometries(cut(getattr(borders, "geoms", [borders])), crs=pc, facecolor="none",
                      edgecolor=mapplot.BORDER_COLOR, linewidth=0.4, zorder=0.2)
    ax.add_geometries(cut(basemap.coastline_geometries(scale).geoms), crs=pc, facecolor="none",
                      edgecolor=mapplot.COAST_COLOR, linewidth=0.6, zorder=0.3)
    ax.gridlines(crs=pc, draw_labels=False, linewidth=0.3, color="#7a7a7a", alpha=0.5, linestyle="--", zorder=0.4)


def panel_frame(ds, proj, extent, earth: Earth, scale: str = "auto") -> tuple[tuple, str]:
    """(frame, scale) of the map panels of a Dataset over [coverage] pairs: the axes limits in `proj`
    (:func:`map_frame`, or the whole `extent` when nothing can be projected; height/width kept within 0.42..1.3)
    and the basemap scale ("auto": 50m for views narrower than 5000 km on `earth`, else 110m)."""
    frame = map_frame(ds, proj, extent)
    if frame is None:
        probe = mapplot.new_figure((4, 4), dpi=50)
        pax = mapplot.new_map_axes(probe, extent, projection=proj)
        frame = (*pax.get_xlim(), *pax.get_ylim())
    frame = widen_frame(frame, proj, min_aspect=0.42, max_aspect=1.3)
    if scale == "auto":
        scale = "110m" if geometry.view_width_km(earth, proj, frame) > 5000.0 else "50m"
    return frame, scale


# --------------------------------------------------------------------------- the figure
def panel_layout(n: int, aspect: float) -> tuple[int, int]:
    """(rows, cols) of n map panels of height/width `aspect` (one column for up to 3 wide panels, else 2 or 3)."""
    if n == 1:
        return 1, 1
    cols = 1 if aspect < 0.62 and n <= 3 else 2 if n <= 4 or aspect < 0.75 else 3
    return math.ceil(n / cols), cols


def _panels(nl: int, nb: int, aspect: float) -> tuple[list[tuple[int, int, int | None, int | None]], int, int]:
    """The panels as (row, col, launch point or None, battery or None), and the (rows, cols) grid.
    Without batteries: one category panel per launch point (as :func:`panel_layout` lays them out). With
    up to MAX_MARGIN_PANELS (launch point, battery) pairs: each launch point starts a row with its category
    panel, then one margin panel per battery. With more: the category panels, then one panel per battery
    of its least margin over the launch points (launch point None)."""
    if nb == 0:
        rows, cols = panel_layout(max(nl, 1), aspect)
        return [(*divmod(k, cols), k, None) for k in range(max(nl, 1))], rows, cols
    if nl * nb > MAX_MARGIN_PANELS:
        cols = 2 if aspect > 0.75 else 3
        cat_rows = math.ceil(nl / cols)
        out = [(*divmod(k, cols), k, None) for k in range(nl)]
        out += [(cat_rows + j // cols, j % cols, None, j) for j in range(nb)]
        return out, cat_rows + math.ceil(nb / cols), cols
    per = 1 + nb
    cols = min(per, 2 if aspect > 0.75 else 3)
    rows_per = math.ceil(per / cols)
    out = []
    for k in range(max(nl, 1)):
        for m in range(per):
            r, c = divmod(m, cols)
            out.append((k * rows_per + r, c, k, None if m == 0 else m - 1))
    return out, max(nl, 1) * rows_per, cols


def margin_scale(ds) -> TwoSlopeNorm:
    """The margin colour scale of a coverage Dataset: diverging at 0 s (white), reaching full red at the
    largest lateness and full blue at the largest margin, each rounded up to a whole 10 s (at least 10 s)."""
    m = np.asarray(ds["margin_s"].values, float) if "margin_s" in ds else np.array([])
    m = m[np.isfinite(m)]

    def top(x):
        return max(10.0, 10.0 * math.ceil(float(x) / 10.0))

    return TwoSlopeNorm(0.0, vmin=-top(-m.min() if m.size else 0.0), vmax=top(m.max() if m.size else 0.0))


def margin_cmap():
    return colormaps[MARGIN_CMAP].with_extremes(bad=NO_MARGIN_COLOR)


def coverage_figure(ds, *, panel_width_in: float = 9.5, dpi: float = 130.0, scale: str = "auto"):
    """The coverage map of a coverage Dataset as a matplotlib Figure.

    ``scale`` is the Natural Earth scale of the basemap, "110m" or "50m"; "auto" takes 50m for maps
    narrower than 5000 km (regional) and 110m for wider ones (same look at that size, much faster).
    The margin panels are labelled ``"margin: <launch> | <battery>"`` (``Axes.get_label``; the launch is
    "all launch points" for a least-margin panel) and the colour bar's Axes ``"margin colour bar"``.
    """
    earth = dataset_earth(ds)
    extent = map_extent(ds)
    proj = mapplot.choose_projection(extent)
    launches = [str(x) for x in ds["launch"].values]
    batteries = [str(x) for x in ds["battery"].values]
    nl = len(launches)

    # the panels' aspect ratio in the projection
    frame, scale = panel_frame(ds, proj, extent, earth, scale)
    x0, x1, y0, y1 = frame
    aspect = (y1 - y0) / (x1 - x0)

    with_margins = bool(batteries) and nl > 0
    panels, rows, cols = _panels(nl, len(batteries) if with_margins else 0, aspect)
    panel_w = panel_width_in if cols == 1 else panel_width_in * (0.78 if cols == 2 else 0.6)
    panel_h = panel_w * aspect
    errors_present = bool(nl) and any(bool(str(e)) for e in np.ravel(ds["error"].values))
    legend_in = max(1.05, legend_height_in(len(_legend_handles(ds, categories(batteries), errors_present))))
    bar_at_in = legend_in + 0.42  # the colour bar, with its label under it, above the legend
    bottom_in = bar_at_in + 0.46 if with_margins else legend_in
    top_in, gap_h, gap_w, side = 1.12, 0.45, 0.25, 0.2
    width = cols * panel_w + (cols - 1) * gap_w + 2 * side
    height = rows * panel_h + (rows - 1) * gap_h + top_in + bottom_in
    fig = mapplot.new_figure((width, height), dpi=dpi)

    cats = categories(batteries)
    norm, cmap = margin_scale(ds), margin_cmap()
    for r, c, li, j in panels:
        left = (side + c * (panel_w + gap_w)) / width
        bottom = (bottom_in + (rows - 1 - r) * (panel_h + gap_h)) / height
        ax = fig.add_axes((left, bottom, panel_w / width, panel_h / height), projection=proj)
        ax.set_extent(frame, crs=proj)
        draw_clipped_basemap(ax, frame, scale)
        if nl:
            _draw_panel(ax, ds, li, cats, earth, battery=j, margin=(norm, cmap))
    _title(fig, ds, height, earth)
    _legend(fig, ds, cats, errors_present, bottom_in / height)
    if with_margins:
        _margin_colorbar(fig, norm, cmap, width, height, bar_at_in)
    return fig


def _margin_colorbar(fig, norm, cmap, width, height, bottom_in):
    """The margin colour bar, in seconds, above the legend."""
    w = min(6.5, 0.7 * width)
    cax = fig.add_axes(((width - w) / 2 / width, bottom_in / height, w / width, 0.16 / height), label=MARGIN_COLORBAR)
    cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal", extend="neither")
    cb.set_label("margin (s) = latest launch − earliest launch:  red, late by that much  ·  blue, time to spare  ·  "
                 "grey, no margin (never in the band, nothing reachable, or no cue)", fontsize=8.5)
    cb.ax.tick_params(labelsize=8)
    cb.ax.axvline(0.0, color="k", linewidth=1.0)
    return cb


def _title(fig, ds, height, earth: Earth):
    a = ds.attrs
    nl = ds.sizes["launch"]
    na = ds.sizes["lat"] * ds.sizes["lon"] if is_grid(ds) else ds.sizes["aim"]
    fig.text(0.5, 1 - 0.18 / height, str(a.get("scenario", "coverage")), ha="center", va="top",
             fontsize=14, fontweight="bold")
    where = ("aim grid" if is_grid(ds) else "aim points")
    sub = (f"missile {a.get('missile', '?')}, {a.get('trajectory', '?')} trajectory, launch at "
           f"{float(a.get('launch_time_s', 0.0)):g} s  ·  {nl * na} pairs ({nl} launch point{'s' * (nl != 1)} × "
           f"{na} {where})\nEarth: {geometry.earth_text(earth)}  ·  shieldlab {a.get('shieldlab_version', '')}")
    fig.text(0.5, 1 - 0.52 / height, sub, ha="center", va="top", fontsize=9.5, color="#333333", linespacing=1.4)


def _legend(fig, ds, cats, errors_present, bottom_frac):
    handles = _legend_handles(ds, cats, errors_present)
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(handles), LEGEND_COLS),
               fontsize=9, frameon=False,
               title="aim points coloured by the batteries that can engage a threat aimed there"
               + ("; per battery, by its margin (colour bar)" if ds.sizes["battery"] and ds.sizes["launch"] else ""),
               title_fontsize=9.5, handlelength=1.8, columnspacing=1.6)


def legend_height_in(n_handles: int) -> float:
    """The height in inches of a map legend of `n_handles` entries under a title, LEGEND_COLS to a row."""
    return 0.42 + 0.21 * math.ceil(n_handles / LEGEND_COLS)


def _legend_handles(ds, cats, errors_present) -> list:
    handles = [Patch(facecolor=col, edgecolor="#555555", linewidth=0.5, alpha=GRID_ALPHA, label=lab)
               for lab, col in cats]
    if errors_present and is_grid(ds):
        handles.append(Patch(facecolor=ERROR_FACE, edgecolor=ERROR_EDGE, hatch="xxx", linewidth=0.5,
                             label="beyond missile reach"))
    elif errors_present:
        handles.append(Line2D([], [], linestyle="none", marker="x", color="#444444", markersize=6,
                              label="beyond missile reach"))
    handles.append(Line2D([], [], linestyle="none", marker="^", markerfacecolor=LAUNCH_COLOR, markeredgecolor="k",
                          markersize=9, label="launch point"))
    if ds.sizes["battery"]:
        handles.append(Line2D([], [], linestyle="none", marker="s", markerfacecolor="white", markeredgecolor="k",
                              markersize=8, label="battery site (its colour)"))
    if ds.sizes["sensor"]:
        handles.append(Line2D([], [], linestyle="none", marker="D", markerfacecolor=RADAR_COLOR,
                              markeredgecolor="k", markersize=6, label="radar site"))
        handles.append(Line2D([], [], color=RADAR_COLOR, linestyle="--", linewidth=1.2,
                              label="radar range (geodesic; see its label)"))
        if any(r[4] is not None for r in radar_rings(ds)):
            handles.append(Line2D([], [], color=RADAR_COLOR, linestyle=":", linewidth=1.2,
                                  label="radar range against the booster"))
    return handles


def _pairs(ds, k):
    """Per aim point (grid or list shape): feasible (..., battery), missile cannot fly it (...), margin_s
    (..., battery), for launch point k; for k None, over every launch point: feasible from all of them,
    flown from none, and the least margin (NaN only where no launch point gives one)."""
    aim_dims = ("lat", "lon") if is_grid(ds) else ("aim",)
    feas = ds["feasible"].transpose("launch", *aim_dims, "battery").values
    err = np.array([bool(str(e)) for e in np.ravel(ds["error"].transpose("launch", *aim_dims).values)])
    err = err.reshape(feas.shape[:-1])
    m = np.asarray(ds["margin_s"].transpose("launch", *aim_dims, "battery").values, float)
    if k is not None:
        return feas[k], err[k], m[k]
    with np.errstate(invalid="ignore"):
        least = np.where(np.isfinite(m).any(axis=0), np.nanmin(np.where(np.isfinite(m), m, np.inf), axis=0), np.nan)
    return feas.all(axis=0), err.all(axis=0), least


def _panel_values(ds, k, cats, battery, margin):
    """What a panel is coloured by: (values, cmap, norm), the category codes or one battery's margins."""
    feas, _, m = _pairs(ds, k)
    if battery is None:
        return (category_codes(feas), ListedColormap([c for _, c in cats]),
                BoundaryNorm(np.arange(len(cats) + 1) - 0.5, len(cats)))
    norm, cmap = margin
    return np.ma.masked_invalid(m[..., battery]), cmap, norm


def _draw_panel(ax, ds, k, cats, earth: Earth, battery: int | None = None, margin=None) -> bool:
    """One panel of launch point k: the category map (battery None) or battery's margin map; k None (a
    battery only): its least margin over the launch points."""
    pc = ccrs.PlateCarree()
    nb = ds.sizes["battery"]
    values, cmap, norm = _panel_values(ds, k, cats, battery, margin)
    feas, err, _ = _pairs(ds, k)
    code = category_codes(feas)
    if battery is None:
        engageable = int(np.count_nonzero((code > 0) & ~err))
    else:
        engageable = int(np.count_nonzero(feas[..., battery] & ~err))
    placer = mapplot.LabelPlacer(ax, gap_pt=7.0, zorder=9, halo=LABEL_HALO)

    if is_grid(ds):
        lat, lon = ds["lat"].values, ds["lon"].values
        masked = np.ma.masked_array(values, mask=err)
        if battery is not None:  # no margin: grey (the colour map's "bad" colour); beyond the missile: hatched
            masked = np.ma.masked_array(np.ma.filled(values, np.nan), mask=err)
        le, be = geometry.cell_edges(lon), geometry.cell_edges(lat, -90.0, 90.0)
        ax.pcolormesh(le, be, masked, cmap=cmap, norm=norm, alpha=GRID_ALPHA,
                      transform=pc, zorder=3, edgecolors=(1, 1, 1, 0.35), linewidth=0.3, shading="flat")
        none = np.isnan(np.ma.filled(values, np.nan)) & ~err if battery is not None else np.zeros_like(err)
        if none.any():  # no margin: pcolormesh leaves NaN cells transparent, so they get a grey layer of their own
            ax.pcolormesh(le, be, np.ma.masked_array(np.zeros(none.shape), mask=~none),
                          cmap=ListedColormap([NO_MARGIN_COLOR]), vmin=-0.5, vmax=0.5, alpha=GRID_ALPHA,
                          transform=pc, zorder=3, edgecolors=(1, 1, 1, 0.35), linewidth=0.3, shading="flat")
        if err.any():  # hatched cells
            cells = [grid_cell(le[j], le[j + 1], be[i], be[i + 1]) for i, j in zip(*np.nonzero(err))]
            ax.add_geometries(cells, crs=pc, facecolor=ERROR_FACE, edgecolor=ERROR_EDGE, hatch="xxx",
                              linewidth=0.4, alpha=0.85, zorder=3)
        n_aims = code.size
    else:
        alat, alon = ds["aim_lat"].values, ds["aim_lon"].values
        ok = ~err
        c = values[ok] if battery is None else np.ma.filled(values, np.nan)[ok]
        ax.scatter(geometry.wrap_lon(alon[ok]), alat[ok], c=c, cmap=cmap, norm=norm, s=70, edgecolors="k",
                   linewidths=0.6, transform=pc, zorder=6, plotnonfinite=True)
        if err.any():
            ax.scatter(geometry.wrap_lon(alon[err]), alat[err], marker="x", s=40, color="#444444", linewidths=1.2,
                       transform=pc, zorder=6)
        n_aims = code.size
        for lo, la in zip(alon, alat):
            placer.block(lo, la, 5)

    # radars: ring/sector (at the range against the missile, when the radar gives a reference range), marker
    rings = radar_rings(ds)
    for s, (slat, slon, sector, r_km, boost_km, _) in enumerate(rings):
        rlon, rlat = geometry.range_ring(earth, slat, slon, r_km * 1e3, sector)
        ax.plot(rlon, rlat, transform=ccrs.Geodetic(), color=RADAR_COLOR, linestyle="--", linewidth=1.1,
                alpha=0.85, zorder=4)
        if boost_km is not None:
            blon, blat = geometry.range_ring(earth, slat, slon, boost_km * 1e3, sector)
            ax.plot(blon, blat, transform=ccrs.Geodetic(), color=RADAR_COLOR, linestyle=":", linewidth=1.0,
                    alpha=0.8, zorder=4)
        ax.scatter([slon], [slat], marker="D", s=34, color=RADAR_COLOR, edgecolors="k", linewidths=0.6,
                   transform=pc, zorder=7)
        placer.block(slon, slat, 5)

    # batteries: markers in their colour, co-located ones side by side
    sites: dict[tuple, list[int]] = {}
    for j in range(nb):
        key = (round(float(ds["battery_lat"].values[j]), 3), round(float(ds["battery_lon"].values[j]), 3))
        sites.setdefault(key, []).append(j)
    for (blat, blon), js in sites.items():
        for m, j in enumerate(js):
            dx = (m - (len(js) - 1) / 2) * 9
            ax.scatter([blon], [blat], marker="s", s=60, color=battery_color(j), edgecolors="k", linewidths=0.8,
                       transform=offset_copy(pc._as_mpl_transform(ax), fig=ax.figure, x=dx, y=0, units="points"),
                       zorder=8)
        placer.block(blon, blat, 5 + 4.5 * (len(js) - 1))

    # the launch point of this panel (all of them for a least-margin panel)
    ks = range(ds.sizes["launch"]) if k is None else [k]
    for kk in ks:
        llat, llon = float(ds["launch_lat"].values[kk]), float(ds["launch_lon"].values[kk])
        ax.scatter([llon], [llat], marker="^", s=110 if k is not None else 60, color=LAUNCH_COLOR, edgecolors="k",
                   linewidths=0.8, transform=pc, zorder=8)
        placer.block(llon, llat, 6)

    # labels, most important first
    launch = "all launch points" if k is None else str(ds["launch"].values[k])
    if k is not None:
        placer.text(llon, llat, launch, fontsize=9.5, fontweight="bold", color="#7f0000")
    for (blat, blon), js in sites.items():
        placer.text(blon, blat, "\n".join(str(ds["battery"].values[j]) for j in js), fontsize=8.5,
                    color="#0b2545", linespacing=1.0)
    for s, (slat, slon, _, _, _, label) in enumerate(rings):
        placer.text(slon, slat, label, fontsize=8, color=RADAR_COLOR, style="italic", linespacing=1.0)
    if not is_grid(ds) and ds.sizes["aim"] <= 40:
        for a in range(ds.sizes["aim"]):
            placer.text(float(ds["aim_lon"].values[a]), float(ds["aim_lat"].values[a]), str(ds["aim"].values[a]),
                        fontsize=7.5, color="#222222")

    if battery is None:
        ax.set_title(f"launched from {launch}: {engageable} of {n_aims} aim points engageable", fontsize=10.5,
                     loc="left")
    else:
        name = str(ds["battery"].values[battery])
        ax.set_label(f"{MARGIN_PANEL}: {launch} | {name}")
        if k is None:
            ax.set_title(f"{name}: least margin over {ds.sizes['launch']} launch points", fontsize=10.5, loc="left")
        else:
            ax.set_title(f"{name}: margin, launched from {launch} ({engageable} of {n_aims} engageable)",
                         fontsize=10.5, loc="left")
        ax.scatter([float(ds["battery_lon"].values[battery])], [float(ds["battery_lat"].values[battery])],
                   marker="s", s=150, facecolor="none", edgecolors="k", linewidths=1.6, transform=pc, zorder=8)
    return bool(err.any())


def radar_rings(ds) -> list[tuple[float, float, Sector | None, float, float | None, str]]:
    """Per sensor of a coverage Dataset: (lat, lon, sector, ring km, booster ring km or None, label). A radar
    with a reference range (docs/models.md, Sensitivity: range against a cross-section) is drawn at its range
    against the missile's cross-section in free flight, and at the booster's when that differs; the others, and
    Datasets written before the sensitivity existed, at the maximum range."""
    out = []
    rcs = ds.attrs.get("missile_rcs_m2")
    for s in range(ds.sizes["sensor"]):
        slat, slon = float(ds["sensor_lat"].values[s]), float(ds["sensor_lon"].values[s])
        center = float(ds["sensor_sector_center_deg"].values[s])
        sector = Sector(center, float(ds["sensor_sector_half_width_deg"].values[s])) if math.isfinite(center) else None
        name = str(ds["sensor"].values[s])
        ref = float(ds["sensor_reference_range_km"].values[s]) if "sensor_reference_range_km" in ds else math.nan
        if math.isfinite(ref) and "sensor_range_km" in ds:
            r_km = float(ds["sensor_range_km"].values[s])
            b_km = float(ds["sensor_boost_range_km"].values[s]) if "sensor_boost_range_km" in ds else r_km
            label = f"{name}\n{r_km:,.0f} km vs {_m2(rcs)}"
            if math.isfinite(b_km) and abs(b_km - r_km) > 0.5:
                label += f" (booster {b_km:,.0f} km)"
            else:
                b_km = None
        else:
            r_km, b_km = float(ds["sensor_max_range_km"].values[s]), None
            label = f"{name}\nmax range {r_km:,.0f} km"
        out.append((slat, slon, sector, r_km, b_km, label))
    return out


def _m2(rcs) -> str:
    return "the missile" if rcs is None else f"{float(rcs):g} m²"


__all__ = ["coverage_figure", "radar_rings", "margin_scale", "margin_cmap", "categories", "category_codes",
           "battery_color", "dataset_earth", "grid_cell", "key_points", "map_extent", "map_frame", "widen_frame",
           "view_box", "draw_clipped_basemap", "panel_layout", "panel_frame", "legend_height_in", "LABEL_HALO"]
