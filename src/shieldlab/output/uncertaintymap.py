"""Maps of the probability of an intercept (`shieldlab uncertainty FILE --out map.png`, a run over a [coverage]).

One panel per (launch point, battery): the aim points coloured by the share of the samples in which that battery
can intercept a threat aimed there (docs/models.md, Uncertainty), on a sequential scale from 0 to 1 under one
colour bar; aim points where the threat cannot be computed in any sample are hatched (a grid) or crossed (places),
as on the coverage map. On the bundled Natural Earth basemap with the launch point and the battery sites (the
panel's battery outlined). Drawn from an uncertainty Dataset only (:func:`shieldlab.output.uncertaintyds.
uncertainty_dataset`), so a `.nc` file read back can be mapped again. The frame, projection and basemap are the
coverage map's (:mod:`shieldlab.output.covermap`).
"""

from __future__ import annotations

import math

import cartopy.crs as ccrs
import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import offset_copy

from shieldlab.coverage.dataset import is_grid
from shieldlab.output import covermap, geometry, mapplot

PROBABILITY_CMAP = "viridis"  # sequential, 0 (none of the samples) .. 1 (all of them)
PROBABILITY_PANEL = "probability"  # a panel's label (Axes.get_label): "probability: <launch> | <battery>"
PROBABILITY_COLORBAR = "probability colour bar"
COLORBAR_LABEL = "probability of an intercept"

__all__ = ["probability_figure", "probability_values", "PROBABILITY_CMAP", "PROBABILITY_PANEL",
           "PROBABILITY_COLORBAR", "COLORBAR_LABEL"]


def probability_values(ds, launch: int, battery: int) -> tuple[np.ndarray, np.ndarray]:
    """(probability, not computed) over the aim points ((lat, lon) for a grid, (aim,) for places) of one launch
    point and battery; not computed: the threat could be computed in none of the samples (probability NaN)."""
    aim_dims = ("lat", "lon") if is_grid(ds) else ("aim",)
    p = np.asarray(ds["probability"].isel(launch=launch, battery=battery).transpose(*aim_dims).values, float)
    n = np.asarray(ds["samples_computed"].isel(launch=launch, battery=battery).transpose(*aim_dims).values, float)
    return p, ~(n > 0)


def _check(ds) -> None:
    if "launch" not in ds.dims or "battery" not in ds.dims or ds.sizes["battery"] == 0:
        raise ValueError("a probability map needs the Dataset of an uncertainty run over [coverage] pairs with at "
                         "least one battery (dims launch and lat/lon or aim, and battery)")


def probability_figure(ds, *, panel_width_in: float = 9.5, dpi: float = 130.0, scale: str = "auto"):
    """The probability maps of an uncertainty Dataset of a run over [coverage] pairs, as a matplotlib Figure.

    ``scale`` is the basemap's Natural Earth scale as for :func:`covermap.coverage_figure`. The panels are
    labelled ``"probability: <launch> | <battery>"`` (``Axes.get_label``) and the colour bar's Axes
    ``"probability colour bar"``. ValueError for a Dataset of a run over [[threats]]."""
    _check(ds)
    earth = covermap.dataset_earth(ds)
    extent = covermap.map_extent(ds)
    proj = mapplot.choose_projection(extent)
    frame, scale = covermap.panel_frame(ds, proj, extent, earth, scale)
    x0, x1, y0, y1 = frame
    aspect = (y1 - y0) / (x1 - x0)
    nl, nb = ds.sizes["launch"], ds.sizes["battery"]
    cols = nb if nb <= 3 else covermap.panel_layout(nb, aspect)[1]
    rows_per = math.ceil(nb / cols)
    rows = nl * rows_per
    panel_w = panel_width_in if cols == 1 else panel_width_in * (0.78 if cols == 2 else 0.6)
    panel_h = panel_w * aspect
    errors = any(probability_values(ds, k, j)[1].any() for k in range(nl) for j in range(nb))
    legend_in = max(0.9, covermap.legend_height_in(len(_legend_handles(ds, errors))))
    bar_at_in = legend_in + 0.42
    bottom_in, top_in, gap_h, gap_w, side = bar_at_in + 0.46, 1.15, 0.45, 0.25, 0.2
    width = cols * panel_w + (cols - 1) * gap_w + 2 * side
    height = rows * panel_h + (rows - 1) * gap_h + top_in + bottom_in
    fig = mapplot.new_figure((width, height), dpi=dpi)
    norm, cmap = Normalize(0.0, 1.0), colormaps[PROBABILITY_CMAP]
    for k in range(nl):
        for j in range(nb):
            r, c = divmod(j, cols)
            r += k * rows_per
            left = (side + c * (panel_w + gap_w)) / width
            bottom = (bottom_in + (rows - 1 - r) * (panel_h + gap_h)) / height
            ax = fig.add_axes((left, bottom, panel_w / width, panel_h / height), projection=proj)
            ax.set_extent(frame, crs=proj)
            covermap.draw_clipped_basemap(ax, frame, scale)
            _draw_panel(ax, ds, k, j, norm, cmap)
    _title(fig, ds, height, earth)
    _colorbar(fig, norm, cmap, width, height, bar_at_in)
    handles = _legend_handles(ds, errors)
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(handles), 4),
               fontsize=9, frameon=False, title="aim points coloured by the probability that the panel's battery "
               "intercepts a threat aimed there", title_fontsize=9.5, handlelength=1.8, columnspacing=1.6)
    return fig


def _draw_panel(ax, ds, k: int, j: int, norm, cmap) -> None:
    pc = ccrs.PlateCarree()
    p, err = probability_values(ds, k, j)
    placer = mapplot.LabelPlacer(ax, gap_pt=7.0, zorder=9, halo=covermap.LABEL_HALO)
    if is_grid(ds):
        le, be = geometry.cell_edges(ds["lon"].values), geometry.cell_edges(ds["lat"].values, -90.0, 90.0)
        ax.pcolormesh(le, be, np.ma.masked_array(p, mask=err), cmap=cmap, norm=norm, alpha=covermap.GRID_ALPHA,
                      transform=pc, zorder=3, edgecolors=(1, 1, 1, 0.35), linewidth=0.3, shading="flat")
        if err.any():
            cells = [covermap.grid_cell(le[b], le[b + 1], be[a], be[a + 1]) for a, b in zip(*np.nonzero(err))]
            ax.add_geometries(cells, crs=pc, facecolor=covermap.ERROR_FACE, edgecolor=covermap.ERROR_EDGE,
                              hatch="xxx", linewidth=0.4, alpha=0.85, zorder=3)
    else:
        alat, alon = ds["aim_lat"].values, ds["aim_lon"].values
        ok = ~err
        ax.scatter(geometry.wrap_lon(alon[ok]), alat[ok], c=p[ok], cmap=cmap, norm=norm, s=70, edgecolors="k",
                   linewidths=0.6, transform=pc, zorder=6)
        if err.any():
            ax.scatter(geometry.wrap_lon(alon[err]), alat[err], marker="x", s=40, color="#444444", linewidths=1.2,
                       transform=pc, zorder=6)
        for lo, la in zip(alon, alat):
            placer.block(lo, la, 5)
    # the battery sites (co-located ones side by side), the panel's battery outlined
    nb = ds.sizes["battery"]
    blat, blon = ds["battery_lat"].values, ds["battery_lon"].values
    sites: dict[tuple, list[int]] = {}
    for b in range(nb):
        sites.setdefault((round(float(blat[b]), 3), round(float(blon[b]), 3)), []).append(b)
    for (la, lo), bs in sites.items():
        for m, b in enumerate(bs):
            dx = (m - (len(bs) - 1) / 2) * 9
            tr = offset_copy(pc._as_mpl_transform(ax), fig=ax.figure, x=dx, y=0, units="points")
            ax.scatter([lo], [la], marker="s", s=60, color=covermap.battery_color(b), edgecolors="k",
                       linewidths=0.8, transform=tr, zorder=8)
            if b == j:
                ax.scatter([lo], [la], marker="s", s=150, facecolor="none", edgecolors="k", linewidths=1.6,
                           transform=tr, zorder=8)
        placer.block(lo, la, 5 + 4.5 * (len(bs) - 1))
    llat, llon = float(ds["launch_lat"].values[k]), float(ds["launch_lon"].values[k])
    ax.scatter([llon], [llat], marker="^", s=110, color=covermap.LAUNCH_COLOR, edgecolors="k", linewidths=0.8,
               transform=pc, zorder=8)
    placer.block(llon, llat, 6)
    launch, battery = str(ds["launch"].values[k]), str(ds["battery"].values[j])
    placer.text(llon, llat, launch, fontsize=9.5, fontweight="bold", color="#7f0000")
    for (la, lo), bs in sites.items():
        placer.text(lo, la, "\n".join(str(ds["battery"].values[b]) for b in bs), fontsize=8.5, color="#0b2545",
                    linespacing=1.0)
    if not is_grid(ds) and ds.sizes["aim"] <= 40:
        for a in range(ds.sizes["aim"]):
            placer.text(float(ds["aim_lon"].values[a]), float(ds["aim_lat"].values[a]), str(ds["aim"].values[a]),
                        fontsize=7.5, color="#222222")
    ax.set_label(f"{PROBABILITY_PANEL}: {launch} | {battery}")
    fin = p[np.isfinite(p)]
    mid = f"median P {np.median(fin):.2f} over {fin.size} aim points" if fin.size else "no aim point computed"
    ax.set_title(f"{battery}, launched from {launch}: {mid}", fontsize=10.5, loc="left")


def _title(fig, ds, height: float, earth) -> None:
    a = ds.attrs
    fig.text(0.5, 1 - 0.18 / height, str(a.get("scenario", "uncertainty")), ha="center", va="top", fontsize=14,
             fontweight="bold")
    sens = int(a.get("sensitivity_samples", 0) or 0)
    sub = (f"probability of an intercept over {int(a.get('samples', ds.sizes.get('sample', 0)))} samples "
           f"(seed {a.get('seed', '?')}" + (f"; Sobol indices from Saltelli's N = {sens}" if sens else "") + ")"
           f"\nEarth: {geometry.earth_text(earth)}  ·  shieldlab {a.get('shieldlab_version', '')}")
    fig.text(0.5, 1 - 0.5 / height, sub, ha="center", va="top", fontsize=9.5, color="#333333", linespacing=1.4)


def _colorbar(fig, norm, cmap, width: float, height: float, bottom_in: float):
    w = min(6.5, 0.7 * width)
    cax = fig.add_axes(((width - w) / 2 / width, bottom_in / height, w / width, 0.16 / height),
                       label=PROBABILITY_COLORBAR)
    cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal")
    cb.set_label(COLORBAR_LABEL, fontsize=9)
    cb.ax.tick_params(labelsize=8)
    return cb


def _legend_handles(ds, errors: bool) -> list:
    handles = []
    if errors and is_grid(ds):
        handles.append(Patch(facecolor=covermap.ERROR_FACE, edgecolor=covermap.ERROR_EDGE, hatch="xxx",
                             linewidth=0.5, label="cannot be computed (e.g. beyond the missile's reach)"))
    elif errors:
        handles.append(Line2D([], [], linestyle="none", marker="x", color="#444444", markersize=6,
                              label="cannot be computed (e.g. beyond the missile's reach)"))
    handles.append(Line2D([], [], linestyle="none", marker="^", markerfacecolor=covermap.LAUNCH_COLOR,
                          markeredgecolor="k", markersize=9, label="launch point"))
    handles.append(Line2D([], [], linestyle="none", marker="s", markerfacecolor="white", markeredgecolor="k",
                          markersize=8, label="battery site (outlined: the panel's battery)"))
    return handles
