"""The report's figures: small functions, each returning a matplotlib Figure (Figure + Agg canvas via
:func:`shieldlab.output.mapplot.new_figure`; no pyplot, no global state).

Maps use the bundled Natural Earth data through :func:`shieldlab.output.mapplot.draw_basemap` only (never
cartopy's downloading features). :func:`png_bytes` renders a figure to PNG bytes.
"""

from __future__ import annotations

import io
import math

import cartopy.crs as ccrs
import numpy as np
from matplotlib import patheffects
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from shieldlab.api import Earth, Reason
from shieldlab.output import geometry, mapplot
from shieldlab.output.margin import margin_kind, margin_str

_REASONS = {r.value for r in Reason}

PHASE_COLORS = {"boost": "#d62728", "ascent": "#ff9f1c", "descent": "#1f5fbf"}
RADAR_COLOR = "#1b7a2e"
LAUNCH_COLOR = "#b2182b"
SITE_COLORS = ("#6a3d9a", "#e6550d", "#1f78b4", "#e377c2", "#8c564b", "#17becf", "#bcbd22", "#525252")
LINE_STYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
NONE_COLOR = "#cfcfcf"
MARGIN_COLORS = {"spare": "#2166ac", "late": "#b2182b", "none": "#777777"}  # the coverage map's blue / red
_HALO = [patheffects.withStroke(linewidth=2.5, foreground="white", alpha=0.9)]


def png_bytes(fig, dpi: float = 110.0) -> bytes:
    """The figure as PNG bytes (tight bounding box)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def site_color(k: int) -> str:
    return SITE_COLORS[k % len(SITE_COLORS)]


# --------------------------------------------------------------------------- geometry helpers
def battery_sites(scenario) -> list[tuple[object, list[int]]]:
    """Battery sites (Point) with the indices of the batteries there, in order of first appearance."""
    sites: dict[tuple, list[int]] = {}
    points = {}
    for j, b in enumerate(scenario.batteries):
        key = (round(b.at.lat_deg, 4), round(b.at.lon_deg, 4))
        sites.setdefault(key, []).append(j)
        points.setdefault(key, b.at)
    return [(points[k], v) for k, v in sites.items()]


def _site_label(p, fallback: str) -> str:
    return p.name or fallback


def _projection(lon, lat, margin_deg: float = 4.0):
    """A projection for the points: north polar stereographic for wide northern regions (tracks over the
    Arctic), otherwise mapplot's choice."""
    extent = mapplot.extent_for(lon, lat, margin_deg=margin_deg)
    lon0, lon1, lat0, lat1 = extent
    span = lon1 - lon0
    if lat0 >= 15.0 and span >= 110.0:
        return ccrs.NorthPolarStereo(central_longitude=geometry.wrap_lon((lon0 + lon1) / 2))
    extent = (lon0, lon1, max(lat0, -85.0), min(lat1, 89.0))
    return mapplot.choose_projection(extent)


def map_figure(earth: Earth, lons, lats, *, width_in: float = 11.0, top_in: float = 0.8, bottom_in: float = 1.1,
               max_aspect: float = 0.95, min_aspect: float = 0.45, dpi: float = 110.0):
    """A Figure sized to the map of the given points (plus `top_in` for titles and `bottom_in` for the
    legend) and its GeoAxes, with the bundled basemap (50m for views narrower than 5000 km on `earth`)."""
    lon = geometry.wrap_lon(np.asarray(lons, float))
    lat = np.clip(np.asarray(lats, float), -89.0, 89.0)
    ok = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[ok], lat[ok]
    proj = _projection(lon, lat)
    xy = proj.transform_points(ccrs.PlateCarree(), lon, lat)
    ok = np.isfinite(xy[:, 0]) & np.isfinite(xy[:, 1])
    x, y = xy[ok, 0], xy[ok, 1]
    w, h = max(np.ptp(x), 3e5), max(np.ptp(y), 3e5)
    x0, x1, y0, y1 = x.min() - 0.07 * w, x.max() + 0.07 * w, y.min() - 0.07 * h, y.max() + 0.09 * h
    aspect = (y1 - y0) / (x1 - x0)
    if aspect < min_aspect:
        c, hh = 0.5 * (y0 + y1), min_aspect * (x1 - x0)
        y0, y1, aspect = c - hh / 2, c + hh / 2, min_aspect
    elif aspect > max_aspect:
        c, ww = 0.5 * (x0 + x1), (y1 - y0) / max_aspect
        x0, x1, aspect = c - ww / 2, c + ww / 2, max_aspect
    bx0, bx1 = proj.x_limits
    by0, by1 = proj.y_limits
    x0, x1, y0, y1 = max(x0, bx0), min(x1, bx1), max(y0, by0), min(y1, by1)
    aspect = (y1 - y0) / (x1 - x0)
    side = 0.15
    map_w = width_in - 2 * side
    map_h = map_w * aspect
    height = map_h + top_in + bottom_in
    fig = mapplot.new_figure((width_in, height), dpi=dpi)
    ax = fig.add_axes((side / width_in, bottom_in / height, map_w / width_in, map_h / height), projection=proj)
    ax.set_extent((x0, x1, y0, y1), crs=proj)
    width_km = geometry.view_width_km(earth, proj, (*ax.get_xlim(), *ax.get_ylim()))
    mapplot.draw_basemap(ax, scale="50m" if width_km < 5000 else "110m")
    return fig, ax


def _draw_radars(ax, earth: Earth, scenario, labels: mapplot.LabelPlacer | None):
    for r in scenario.sensors:
        lo, la = geometry.range_ring(earth, r.at.lat_deg, r.at.lon_deg, r.max_range_m, r.sector)
        ax.plot(lo, la, transform=ccrs.Geodetic(), color=RADAR_COLOR, linestyle="--", linewidth=0.9, alpha=0.8,
                zorder=4)
        ax.scatter([r.at.lon_deg], [r.at.lat_deg], marker="D", s=36, color=RADAR_COLOR, edgecolors="k",
                   linewidths=0.6, transform=ccrs.PlateCarree(), zorder=9)
        if labels:
            labels.block(r.at.lon_deg, r.at.lat_deg)


def _draw_batteries(ax, scenario, labels: mapplot.LabelPlacer | None):
    for k, (p, js) in enumerate(battery_sites(scenario)):
        ax.scatter([p.lon_deg], [p.lat_deg], marker="s", s=58, color=site_color(k), edgecolors="k", linewidths=0.8,
                   transform=ccrs.PlateCarree(), zorder=10)
        if labels:
            labels.block(p.lon_deg, p.lat_deg, 6)


def _label_sites(labels: mapplot.LabelPlacer, scenario):
    for k, (p, js) in enumerate(battery_sites(scenario)):
        name = _site_label(p, scenario.batteries[js[0]].name)
        more = f" ({len(js)} batteries)" if len(js) > 1 else ""
        labels.text(p.lon_deg, p.lat_deg, name + more, fontsize=8, color="#222222", fontweight="bold")
    for r in scenario.sensors:
        labels.text(r.at.lon_deg, r.at.lat_deg, r.name, fontsize=7.5, color=RADAR_COLOR, style="italic")


# --------------------------------------------------------------------------- trajectory map
def trajectory_map(res, doc: dict, title: str | None = None):
    """Ground tracks of the threats coloured by phase (boost, free-flight ascent, descent), with burnout,
    apogee and impact, radars with their maximum-range rings, battery sites and first-intercept points."""
    sc = res.scenario
    tracks = [geometry.ground_track(res.threats, i) for i in range(res.threats.n)]
    lons, lats = [], []
    for tr in tracks:
        if tr is not None:
            lons.append(tr.lon_deg)
            lats.append(tr.lat_deg)
    for p, _ in battery_sites(sc):
        lons.append([p.lon_deg])
        lats.append([p.lat_deg])
    for r in sc.sensors:
        lons.append([r.at.lon_deg])
        lats.append([r.at.lat_deg])
    if not lons:
        fig = mapplot.new_figure((8.0, 2.0), dpi=110)
        fig.text(0.5, 0.5, "nothing to map", ha="center")
        return fig
    n_sites = len(battery_sites(sc))
    fig, ax = map_figure(res.earth, np.concatenate(lons), np.concatenate(lats), top_in=0.75,
                         bottom_in=0.35 + 0.24 * math.ceil((7 + 2 * bool(sc.sensors) + 2 * n_sites) / 4))
    labels = mapplot.LabelPlacer(ax, gap_pt=6.0, zorder=12, halo=_HALO)
    geo, pc = ccrs.Geodetic(), ccrs.PlateCarree()
    _draw_radars(ax, res.earth, sc, labels)
    _draw_batteries(ax, sc, labels)
    site_of = {}
    for k, (_, js) in enumerate(battery_sites(sc)):
        for j in js:
            site_of[j] = k
    ends = {}
    for i, tr in enumerate(tracks):
        if tr is None:
            continue
        phase = tr.phase
        for ph, col in PHASE_COLORS.items():
            m = phase == ph
            if ph != "boost":  # join the phases
                k = np.flatnonzero(m)
                if k.size:
                    m[max(k[0] - 1, 0)] = True
            if m.sum() >= 2:
                ax.plot(tr.lon_deg[m], tr.lat_deg[m], color=col, linewidth=1.6 if ph == "boost" else 1.2,
                        transform=geo, zorder=6, solid_capstyle="round")
        t = doc["threats"][i]
        b, a, im = t["burnout"], t["apogee"], t["impact"]
        ax.scatter([b["lon_deg"]], [b["lat_deg"]], marker="o", s=22, facecolor="white", edgecolor=PHASE_COLORS["boost"],
                   linewidths=1.2, transform=pc, zorder=8)
        ax.scatter([a["lon_deg"]], [a["lat_deg"]], marker="^", s=30, color="#333333", transform=pc, zorder=8)
        ax.scatter([im["lon_deg"]], [im["lat_deg"]], marker="X", s=46, color=PHASE_COLORS["descent"],
                   edgecolors="k", linewidths=0.4, transform=pc, zorder=8)
        ax.scatter([t["launch"]["lon_deg"]], [t["launch"]["lat_deg"]], marker="^", s=70, color=LAUNCH_COLOR,
                   edgecolors="k", linewidths=0.7, transform=pc, zorder=9)
        for j, e in enumerate(t["engagements"]):
            fi = e["first_intercept"]
            if e["feasible"] and fi:
                ax.scatter([fi["lon_deg"]], [fi["lat_deg"]], marker="*", s=120, color=site_color(site_of[j]),
                           edgecolors="k", linewidths=0.5, transform=pc, zorder=11)
                labels.block(fi["lon_deg"], fi["lat_deg"], 4)
        spec = sc.threats[i] if i < len(sc.threats) else None
        if spec is not None:
            ends.setdefault(("launch", spec.launch.name or t["name"].split(" -> ")[0]),
                            (t["launch"]["lon_deg"], t["launch"]["lat_deg"]))
            if spec.aim is not None and spec.aim.name:
                ends.setdefault(("aim", spec.aim.name), (im["lon_deg"], im["lat_deg"]))
        labels.block(t["launch"]["lon_deg"], t["launch"]["lat_deg"], 6)
        labels.block(im["lon_deg"], im["lat_deg"], 5)
    for (kind, name), (lo, la) in ends.items():
        labels.text(lo, la, name, fontsize=8, color="#7f0000" if kind == "launch" else "#0b2545",
                    fontweight="bold" if kind == "launch" else "normal")
    _label_sites(labels, sc)
    H = fig.get_figheight()
    fig.text(0.5, 1 - 0.08 / H, title or sc.name, ha="center", va="top", fontsize=13, fontweight="bold")
    n_ok = int(np.count_nonzero(res.threats.valid))
    flight = ("staged ascent and drag" if res.threats.staged.all() else
              "vacuum flight; staged threats with their ascent and drag" if res.threats.staged.any() else "vacuum flight")
    fig.text(0.5, 1 - 0.4 / H, f"ground tracks of {n_ok} threat{'s' * (n_ok != 1)} ({flight}; Earth: "
             f"{geometry.earth_text(res.earth)}); radar rings: maximum range drawn as ground distance", ha="center",
             va="top", fontsize=9.5, color="#333333")
    handles = [Line2D([], [], color=PHASE_COLORS["boost"], linewidth=2, label="boost (powered flight)"),
               Line2D([], [], color=PHASE_COLORS["ascent"], linewidth=2, label="free flight, ascending"),
               Line2D([], [], color=PHASE_COLORS["descent"], linewidth=2, label="free flight, descending"),
               Line2D([], [], linestyle="none", marker="^", markerfacecolor=LAUNCH_COLOR, markeredgecolor="k",
                      markersize=9, label="launch point"),
               Line2D([], [], linestyle="none", marker="o", markerfacecolor="white",
                      markeredgecolor=PHASE_COLORS["boost"], markersize=6, label="burnout"),
               Line2D([], [], linestyle="none", marker="^", color="#333333", markersize=6, label="apogee"),
               Line2D([], [], linestyle="none", marker="X", markerfacecolor=PHASE_COLORS["descent"],
                      markeredgecolor="k", markersize=8, label="impact (aim point)")]
    if sc.sensors:
        handles += [Line2D([], [], linestyle="none", marker="D", markerfacecolor=RADAR_COLOR, markeredgecolor="k",
                           markersize=6, label="radar site"),
                    Line2D([], [], color=RADAR_COLOR, linestyle="--", linewidth=1.2, label="radar maximum range")]
    hit_sites = {site_of[j] for t in doc["threats"] for j, e in enumerate(t["engagements"]) if e["feasible"]}
    for k, (p, js) in enumerate(battery_sites(sc)):
        name = _site_label(p, sc.batteries[js[0]].name)
        handles.append(Line2D([], [], linestyle="none", marker="s", markerfacecolor=site_color(k),
                              markeredgecolor="k", markersize=8, label=f"battery site: {name}"))
        if k in hit_sites:
            handles.append(Line2D([], [], linestyle="none", marker="*", markerfacecolor=site_color(k),
                                  markeredgecolor="k", markersize=11, label=f"first intercept from {name}"))
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=4, fontsize=8.5, frameon=False,
               handlelength=1.8, columnspacing=1.4)
    return fig


# --------------------------------------------------------------------------- timeline per threat
def timeline_figure(t: dict, title: str | None = None):
    """One threat's timeline as horizontal bars: the flight by phase, each sensor's detection (then
    tracking), and per battery its earliest launch, the interceptor's flyout to the first intercept and
    the intercept window (first to last intercept), or why there is none."""
    dets, engs = t["detections"], t["engagements"]
    rows = 1 + len(dets) + len(engs)
    fig = mapplot.new_figure((11.0, 1.35 + 0.36 * rows), dpi=110)
    ax = fig.add_axes((0.2, 0.75 / fig.get_figheight() + 0.04, 0.78, 1 - (1.25 / fig.get_figheight()) - 0.04))
    t0 = t["launch"]["time_s"]
    tb, ta, ti = t["burnout"]["time_s"], t["apogee"]["time_s"], t["impact"]["time_s"]
    y = rows - 1
    labels = []
    h = 0.56
    ax.broken_barh([(t0, tb - t0)], (y - h / 2, h), color=PHASE_COLORS["boost"])
    ax.broken_barh([(tb, ta - tb)], (y - h / 2, h), color=PHASE_COLORS["ascent"])
    ax.broken_barh([(ta, ti - ta)], (y - h / 2, h), color=PHASE_COLORS["descent"])
    labels.append((y, "threat flight"))
    for x in (tb, ta, ti):
        ax.axvline(x, color="#999999", linewidth=0.6, linestyle=":", zorder=0)
    for x, s, ha in ((tb, "burnout", "center"), (ta, "apogee", "center"), (ti, "impact", "right")):
        ax.annotate(s, (x, 1.0), xycoords=ax.get_xaxis_transform(), xytext=(0, 2), textcoords="offset points",
                    ha=ha, va="bottom", fontsize=7.5, color="#555555", annotation_clip=False)
    span = ti - t0
    for k, d in enumerate(dets):
        y = rows - 2 - k
        labels.append((y, f"radar {d['sensor']}"))
        if d["time_s"] is None:
            ax.text(t0 + 0.01 * span, y, "never detected", va="center", fontsize=8, color="#777777")
            continue
        ax.broken_barh([(d["time_s"], ti - d["time_s"])], (y - h / 4, h / 2), color=RADAR_COLOR, alpha=0.35)
        ax.plot([d["time_s"]], [y], marker="D", color=RADAR_COLOR, markeredgecolor="k", markersize=6)
        ax.annotate(f"{d['time_s']:.0f} s", (d["time_s"], y), xytext=(-5, 0), textcoords="offset points",
                    ha="right", va="center", fontsize=7.5, path_effects=_HALO)
        tr = d.get("track_s")
        if tr is not None and tr != d["time_s"]:  # the track formed later (docs/models.md "Track formation")
            ax.plot([tr, tr], [y - h / 2, y + h / 2], color=RADAR_COLOR, linewidth=2.0)
            ax.annotate(f"track {tr:.0f} s", (tr, y), xytext=(4, 0), textcoords="offset points", ha="left",
                        va="center", fontsize=7.5, path_effects=_HALO)
        elif tr is None and "track_s" in d:
            ax.annotate("no track", (d["time_s"], y), xytext=(8, 0), textcoords="offset points", ha="left",
                        va="center", fontsize=7.5, color="#777777", path_effects=_HALO)
    for k, e in enumerate(engs):
        y = rows - 2 - len(dets) - k
        labels.append((y, f"battery {e['battery']}"))
        el = e["earliest_launch_s"]
        if el is not None:
            ax.plot([el, el], [y - h / 2, y + h / 2 + 0.14], color="k", linewidth=1.4)
        _margin_marks(ax, e, y + h / 2 + 0.1)
        if e["feasible"]:
            fi, li = e["first_intercept"], e["last_intercept"]
            ax.broken_barh([(fi["interceptor_launch_s"], fi["time_s"] - fi["interceptor_launch_s"])],
                           (y - h / 4, h / 2), color="#9ecae1")
            ax.broken_barh([(fi["time_s"], max(li["time_s"] - fi["time_s"], 0.5))], (y - h / 2, h), color="#31a354")
            ax.annotate(f"{fi['time_s']:.0f}–{li['time_s']:.0f} s", (fi["time_s"], y), xytext=(3, 0),
                        textcoords="offset points", ha="left", va="center", fontsize=7.5, color="white",
                        fontweight="bold") if li["time_s"] - fi["time_s"] > 0.12 * span else \
                ax.annotate(f"{fi['time_s']:.0f}–{li['time_s']:.0f} s", (li["time_s"], y), xytext=(4, 0),
                            textcoords="offset points", ha="left", va="center", fontsize=7.5)
        else:
            why = Reason(e["reason"]).explanation if e["reason"] in _REASONS else str(e["reason"])
            x = el if el is not None else t0
            ax.annotate(f"no intercept: {why}", (x, y), xytext=(5, 0), textcoords="offset points", ha="left",
                        va="center", fontsize=8, color="#a50f15", path_effects=_HALO)
    ax.set_yticks([yy for yy, _ in labels], [s for _, s in labels], fontsize=8.5)
    ax.set_ylim(-0.7, rows - 0.3)
    lat = [e["latest_launch_s"] for e in engs if e.get("latest_launch_s") is not None]
    ax.set_xlim(min(t0, 0.0, *lat) - 0.01 * span, ti + 0.02 * span)
    ax.set_xlabel("scenario time (s; threat launch at %g s)" % t0, fontsize=9)
    ax.tick_params(axis="x", labelsize=8.5)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    fig.text(0.5, 1 - 0.04 / fig.get_figheight(), title or f"timeline: {t['name']}", ha="center", va="top",
             fontsize=11, fontweight="bold")
    handles = [Patch(color=PHASE_COLORS["boost"], label="boost"), Patch(color=PHASE_COLORS["ascent"], label="ascent"),
               Patch(color=PHASE_COLORS["descent"], label="descent"),
               Patch(color=RADAR_COLOR, alpha=0.35, label="tracked (after first detection)"),
               Line2D([], [], color="k", linewidth=1.4, label="earliest launch t₀"),
               Line2D([], [], color=MARGIN_COLORS["spare"], linewidth=3.5, marker="|", markersize=9,
                      markeredgewidth=2, label="t₀ → latest launch L: time to spare"),
               Line2D([], [], color=MARGIN_COLORS["late"], linewidth=3.5, marker="|", markersize=9,
                      markeredgewidth=2, label="L → t₀: late by"),
               Patch(color="#9ecae1", label="interceptor flyout"),
               Patch(color="#31a354", label="intercept window (first–last)")]
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=5, fontsize=7.5, frameon=False,
               handlelength=1.8, columnspacing=1.0)
    return fig


def _margin_marks(ax, e: dict, y: float) -> None:
    """A battery's margin on its timeline row, at height y: a bar from the earliest launch t₀ to the latest
    launch L (blue: time to spare; red: late, L before t₀), L marked, and the margin in the text table's words.
    The bar's gid is "margin:<battery>" (for tests)."""
    L, el, m = e.get("latest_launch_s"), e.get("earliest_launch_s"), e.get("margin_s")
    if L is None:
        return
    kind = margin_kind(m)
    col = MARGIN_COLORS[kind]
    if el is not None and kind != "none":
        bar, = ax.plot([el, L], [y, y], color=col, linewidth=3.5, solid_capstyle="butt", zorder=5)
        bar.set_gid(f"margin:{e['battery']}")
    ax.plot([L], [y], marker="|", markersize=10, markeredgewidth=2.2, color=col, zorder=6)
    words = {"spare": f"L {L:.0f} s, margin {margin_str(m)}", "late": f"L {L:.0f} s, {margin_str(m)}",
             "none": f"L {L:.0f} s (no cue)"}[kind]
    ax.annotate(words, (max(L, el if el is not None else L), y), xytext=(5, 0), textcoords="offset points",
                ha="left", va="center", fontsize=7.5, color=col, path_effects=_HALO, zorder=7)


# --------------------------------------------------------------------------- coverage
def coverage_counts(result) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per aim point: number of launch points from which a threat aimed there is engageable by some battery
    (A,), whether every launch point fails to reach it (A,), and the per-pair feasibility (L, A, B)."""
    lay = result.layout
    nl, na = len(lay.launch), lay.aim_lat_deg.size
    nb = len(result.scenario.batteries)
    feas = np.asarray(result.engagements.feasible, bool).reshape(nl, na, nb)
    err = np.array([e is not None and str(e) != "" for e in result.flights.error], bool).reshape(nl, na)
    count = (feas.any(axis=2) & ~err).sum(axis=0)
    return count, err.all(axis=0), feas


def coverage_map(result, title: str | None = None):
    """Aim points coloured by how many of the launch points a threat aimed there can be engaged from (by
    any battery), with launch points, battery sites and radars."""
    sc, lay = result.scenario, result.layout
    nl = len(lay.launch)
    count, unreachable, _ = coverage_counts(result)
    lons = [lay.aim_lon_deg, [p.lon_deg for p in lay.launch], [b.at.lon_deg for b in sc.batteries]]
    lats = [lay.aim_lat_deg, [p.lat_deg for p in lay.launch], [b.at.lat_deg for b in sc.batteries]]
    earth = Earth.from_spec(sc.earth)
    fig, ax = map_figure(earth, np.concatenate([np.asarray(v, float) for v in lons]),
                         np.concatenate([np.asarray(v, float) for v in lats]), top_in=0.85, bottom_in=1.15)
    labels = mapplot.LabelPlacer(ax, gap_pt=6.0, zorder=12, halo=_HALO)
    pc = ccrs.PlateCarree()
    colors = [NONE_COLOR] + [_seq_color(k, nl) for k in range(1, nl + 1)]
    cmap = ListedColormap(colors)
    norm = BoundaryNorm(np.arange(nl + 2) - 0.5, nl + 1)
    if lay.grid_lat_deg is not None:
        glat, glon = lay.grid_lat_deg, lay.grid_lon_deg
        c = np.ma.masked_array(count.reshape(glat.size, glon.size), mask=unreachable.reshape(glat.size, glon.size))
        ax.pcolormesh(geometry.cell_edges(glon), geometry.cell_edges(glat, -90, 90), c, cmap=cmap, norm=norm,
                      alpha=0.75, transform=pc, zorder=3, edgecolors=(1, 1, 1, 0.4), linewidth=0.3, shading="flat")
        if unreachable.any():
            ax.scatter(lay.aim_lon_deg[unreachable], lay.aim_lat_deg[unreachable], marker="x", s=18,
                       color="#555555", transform=pc, zorder=4)
    else:
        ok = ~unreachable
        ax.scatter(lay.aim_lon_deg[ok], lay.aim_lat_deg[ok], c=count[ok], cmap=cmap, norm=norm, s=110,
                   edgecolors="k", linewidths=0.7, transform=pc, zorder=7)
        if unreachable.any():
            ax.scatter(lay.aim_lon_deg[~ok], lay.aim_lat_deg[~ok], marker="x", s=50, color="#444444", transform=pc,
                       zorder=7)
        for lo, la in zip(lay.aim_lon_deg, lay.aim_lat_deg):
            labels.block(lo, la, 6)
    _draw_radars(ax, earth, sc, labels)
    _draw_batteries(ax, sc, labels)
    for p in lay.launch:
        ax.scatter([p.lon_deg], [p.lat_deg], marker="^", s=80, color=LAUNCH_COLOR, edgecolors="k", linewidths=0.7,
                   transform=pc, zorder=9)
        labels.block(p.lon_deg, p.lat_deg, 6)
    for p in lay.launch:
        labels.text(p.lon_deg, p.lat_deg, geometry.point_label(p, 1), fontsize=8, color="#7f0000",
                    fontweight="bold")
    if lay.grid_lat_deg is None:
        names = _aim_names(sc, lay)
        for lo, la, nm, k in zip(lay.aim_lon_deg, lay.aim_lat_deg, names, count):
            labels.text(lo, la, f"{nm} ({k}/{nl})", fontsize=8, color="#0b2545")
    _label_sites(labels, sc)
    H = fig.get_figheight()
    fig.text(0.5, 1 - 0.08 / H, title or f"coverage: {sc.name}", ha="center", va="top", fontsize=13,
             fontweight="bold")
    cov = sc.coverage
    fig.text(0.5, 1 - 0.4 / H, f"{nl} launch point{'s' * (nl != 1)} × {lay.aim_lat_deg.size} aim points, missile "
             f"{cov.missile}, {cov.trajectory.label()} trajectory; Earth: {geometry.earth_text(earth)}\ncolour: from "
             "how many launch points a threat aimed there can be engaged by at least one battery", ha="center",
             va="top", fontsize=9, color="#333333")
    handles = [Patch(facecolor=colors[k], edgecolor="#555555", label=f"{k} of {nl}") for k in range(nl + 1)]
    if nl > 8:  # a shorter legend
        keep = sorted(set([0, 1, nl // 4, nl // 2, (3 * nl) // 4, nl]))
        handles = [handles[k] for k in keep]
    handles += [Line2D([], [], linestyle="none", marker="^", markerfacecolor=LAUNCH_COLOR, markeredgecolor="k",
                       markersize=8, label="launch point")]
    if unreachable.any():
        handles.append(Line2D([], [], linestyle="none", marker="x", color="#444444", markersize=7,
                              label="beyond the missile's reach"))
    if sc.sensors:
        handles += [Line2D([], [], linestyle="none", marker="D", markerfacecolor=RADAR_COLOR, markeredgecolor="k",
                           markersize=6, label="radar (ring: maximum range)")]
    for k, (p, js) in enumerate(battery_sites(sc)):
        handles.append(Line2D([], [], linestyle="none", marker="s", markerfacecolor=site_color(k),
                              markeredgecolor="k", markersize=8, label=f"battery site: {_site_label(p, sc.batteries[js[0]].name)}"))
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=min(6, len(handles)),
               fontsize=8.5, frameon=False, title="launch points from which the aim point is engageable",
               title_fontsize=9)
    return fig


def coverage_battery_panels(result, max_panels: int = 12, title: str | None = None):
    """Small multiples, one map per battery: each aim point coloured by the number of launch points from which
    that battery can engage a threat aimed there."""
    sc, lay = result.scenario, result.layout
    nl, nb = len(lay.launch), len(sc.batteries)
    _, unreachable, feas = coverage_counts(result)
    nb_shown = min(nb, max_panels)
    cols = 1 if nb_shown == 1 else 2 if nb_shown <= 4 else 3
    rows = math.ceil(nb_shown / cols)
    lons = np.concatenate([lay.aim_lon_deg, [p.lon_deg for p in lay.launch], [b.at.lon_deg for b in sc.batteries]])
    lats = np.concatenate([lay.aim_lat_deg, [p.lat_deg for p in lay.launch], [b.at.lat_deg for b in sc.batteries]])
    lon = geometry.wrap_lon(lons)
    proj = _projection(lon, lats)
    xy = proj.transform_points(ccrs.PlateCarree(), lon, np.clip(lats, -89, 89))
    ok = np.isfinite(xy[:, 0]) & np.isfinite(xy[:, 1])
    x, y = xy[ok, 0], xy[ok, 1]
    w, h = max(np.ptp(x), 3e5), max(np.ptp(y), 3e5)
    frame = (x.min() - 0.06 * w, x.max() + 0.06 * w, y.min() - 0.06 * h, y.max() + 0.06 * h)
    aspect = min(max((frame[3] - frame[2]) / (frame[1] - frame[0]), 0.45), 1.1)
    pw = 11.0 / cols - 0.15
    ph = pw * aspect
    top, bottom, gap = 0.9, 0.75, 0.4
    W, H = 11.0, rows * (ph + gap) + top + bottom
    fig = mapplot.new_figure((W, H), dpi=100)
    colors = [NONE_COLOR] + [_seq_color(k, nl) for k in range(1, nl + 1)]
    cmap = ListedColormap(colors)
    norm = BoundaryNorm(np.arange(nl + 2) - 0.5, nl + 1)
    pc = ccrs.PlateCarree()
    for j in range(nb_shown):
        r, c = divmod(j, cols)
        left = (0.075 + c * (pw + 0.15)) / W
        bot = (bottom + (rows - 1 - r) * (ph + gap)) / H
        ax = fig.add_axes((left, bot, pw / W, ph / H), projection=proj)
        ax.set_extent(frame, crs=proj)
        mapplot.draw_basemap(ax, scale="110m", gridlines=False)
        count = (feas[:, :, j] & ~unreachable[None, :]).sum(axis=0)
        if lay.grid_lat_deg is not None:
            glat, glon = lay.grid_lat_deg, lay.grid_lon_deg
            cm = np.ma.masked_array(count.reshape(glat.size, glon.size), mask=unreachable.reshape(glat.size, glon.size))
            ax.pcolormesh(geometry.cell_edges(glon), geometry.cell_edges(glat, -90, 90), cm, cmap=cmap, norm=norm,
                          alpha=0.8, transform=pc, zorder=3, shading="flat")
        else:
            ax.scatter(lay.aim_lon_deg, lay.aim_lat_deg, c=count, cmap=cmap, norm=norm, s=40, edgecolors="k",
                       linewidths=0.5, transform=pc, zorder=7)
        b = sc.batteries[j]
        ax.scatter([b.at.lon_deg], [b.at.lat_deg], marker="s", s=46, color="#d62728", edgecolors="k", linewidths=0.8,
                   transform=pc, zorder=9)
        for p in lay.launch:
            ax.scatter([p.lon_deg], [p.lat_deg], marker="^", s=36, color=LAUNCH_COLOR, edgecolors="k",
                       linewidths=0.5, transform=pc, zorder=9)
        k = int((feas[:, :, j] & ~unreachable[None, :]).sum())
        n = int(nl * (~unreachable).sum())
        ax.set_title(f"{b.name}: {k}/{n} pairs", fontsize=9.5, loc="left")
    fig.text(0.5, 1 - 0.1 / H, title or "coverage per battery", ha="center", va="top", fontsize=12,
             fontweight="bold")
    fig.text(0.5, 1 - 0.42 / H, "aim points coloured by the number of launch points from which the battery can "
             "engage a threat aimed there; red square: the battery\n"
             f"Earth: {geometry.earth_text(sc.earth)}", ha="center", va="top", fontsize=9, color="#333333")
    handles = [Patch(facecolor=colors[k], edgecolor="#555555", label=f"{k} of {nl}") for k in range(nl + 1)]
    if nl > 8:
        keep = sorted(set([0, 1, nl // 4, nl // 2, (3 * nl) // 4, nl]))
        handles = [handles[k] for k in keep]
    handles.append(Line2D([], [], linestyle="none", marker="^", markerfacecolor=LAUNCH_COLOR, markeredgecolor="k",
                          markersize=7, label="launch point"))
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(handles), 8),
               fontsize=8.5, frameon=False)
    if nb > nb_shown:
        fig.text(0.99, 0.01, f"first {nb_shown} of {nb} batteries", ha="right", va="bottom", fontsize=8)
    return fig


def _aim_names(scenario, lay) -> list[str]:
    pts = sorted(scenario.coverage.aim, key=lambda p: (p.lat_deg, p.lon_deg))
    return [geometry.point_label(p, 1) for p in pts]


def _seq_color(k: int, n: int) -> str:
    from matplotlib import colormaps

    cm = colormaps["YlGnBu"]
    return cm(0.25 + 0.7 * (k / max(n, 1)))


def coverage_matrix(result, title: str | None = None):
    """For a list of aim places: a launch × aim matrix, each cell the number of batteries that can engage
    that pair (0 grey), x where the missile cannot fly it."""
    sc, lay = result.scenario, result.layout
    _, _, feas = coverage_counts(result)
    nl, na, nb = feas.shape
    err = np.array([e is not None and str(e) != "" for e in result.flights.error], bool).reshape(nl, na)
    n = feas.sum(axis=2)
    W, H = 2.6 + 0.95 * na, 1.6 + 0.36 * nl
    fig = mapplot.new_figure((W, H), dpi=110)
    ax = fig.add_axes((1.3 / W, 1.0 / H, (W - 2.6) / W, (H - 1.55) / H))
    cmap = ListedColormap([NONE_COLOR] + [_seq_color(k, nb) for k in range(1, nb + 1)])
    norm = BoundaryNorm(np.arange(nb + 2) - 0.5, nb + 1)
    im = ax.imshow(np.ma.masked_array(n, mask=err), cmap=cmap, norm=norm, aspect="auto")
    for li in range(nl):
        for ai in range(na):
            s = "×" if err[li, ai] else str(int(n[li, ai]))
            ax.text(ai, li, s, ha="center", va="center", fontsize=8.5,
                    color="white" if n[li, ai] > nb * 0.6 else "#222222")
    ax.set_xticks(range(na), _aim_names(sc, lay), rotation=30, ha="right", fontsize=8.5)
    ax.set_yticks(range(nl), [geometry.point_label(p, 1) for p in lay.launch], fontsize=8.5)
    ax.set_xlabel("aim point", fontsize=9)
    ax.set_ylabel("launch point", fontsize=9)
    cb = fig.colorbar(im, ax=ax, fraction=0.05, pad=0.03, ticks=range(nb + 1))
    cb.set_label(f"batteries (of {nb}) that can engage", fontsize=8.5)
    cb.ax.tick_params(labelsize=8)
    fig.text(0.5, 1 - 0.1 / H, title or "coverage pairs: number of batteries that can engage", ha="center", va="top",
             fontsize=11, fontweight="bold")
    return fig


def battery_share_figure(names: list[str], feasible: np.ndarray, computable: np.ndarray, what: str = "pairs",
                         title: str | None = None):
    """Horizontal bars: per battery (and any battery) the share of computable pairs/threats it can engage."""
    f = np.asarray(feasible, bool)[np.asarray(computable, bool)]
    n = f.shape[0]
    rows = list(names) + ["any battery"]
    k = list(f.sum(axis=0)) + [int(f.any(axis=1).sum()) if f.size else 0]
    share = [100.0 * x / max(n, 1) for x in k]
    fig = mapplot.new_figure((9.0, 1.3 + 0.34 * len(rows)), dpi=110)
    ax = fig.add_axes((0.28, 0.9 / fig.get_figheight(), 0.64, 1 - 1.35 / fig.get_figheight()))
    y = np.arange(len(rows))[::-1]
    colors = ["#4c72b0"] * len(names) + ["#222222"]
    ax.barh(y, share, color=colors, height=0.62)
    for yy, s, kk in zip(y, share, k):
        ax.text(min(s, 100) + 1.0, yy, f"{kk}/{n} ({s:.0f}%)", va="center", fontsize=8)
    ax.set_yticks(y, rows, fontsize=8.5)
    ax.set_xlim(0, 118)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel(f"share of {what} engageable (%)", fontsize=9)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    fig.text(0.5, 1 - 0.08 / fig.get_figheight(), title or f"share of {what} each battery can engage", ha="center",
             va="top", fontsize=11, fontweight="bold")
    return fig


# --------------------------------------------------------------------------- sensitivity
def speed_sensitivity_figure(sens, nominal: dict[str, float], title: str | None = None):
    """Share of threats engageable vs the interceptors' burnout speed (every interceptor type set to the
    same speed), per battery and by any battery; the scenario's own speeds marked."""
    share, any_share = sens.speed_share()
    v = sens.speeds_km_s
    nb = share.shape[1]
    fig = mapplot.new_figure((10.5, 5.6), dpi=110)
    ax = fig.add_axes((0.08, 0.12, 0.6, 0.76))
    for j in range(nb):
        g = sens.battery_group[j]
        ax.plot(v, 100 * share[:, j], marker=MARKERS[j % len(MARKERS)], linestyle=LINE_STYLES[(j // len(SITE_COLORS)) % 4],
                color=site_color(g) if nb <= len(SITE_COLORS) else None, markersize=5, linewidth=1.2, alpha=0.9,
                label=sens.battery_names[j], markerfacecolor="none" if (j % 2) else None)
    ax.plot(v, 100 * any_share, color="k", linewidth=2.4, linestyle="-", alpha=0.55, label="any battery", zorder=1)
    for k, (name, speed) in enumerate(sorted(nominal.items(), key=lambda kv: kv[1])):
        ax.axvline(speed, color="#777777", linestyle=":", linewidth=1)
        ax.annotate(f"{name} {speed:g} km/s", (speed, 0.985 - 0.0 * k), xycoords=ax.get_xaxis_transform(),
                    xytext=(3, 0), textcoords="offset points", rotation=90, ha="left", va="top", fontsize=7.5,
                    color="#444444", path_effects=_HALO)
    ax.set_xlim(v.min() - 0.2, v.max() + 0.2)
    ax.set_ylim(-3, 103)
    ax.set_xlabel("interceptor burnout speed (km/s), all interceptor types", fontsize=9)
    ax.set_ylabel(f"share of {sens.n_valid} threats engageable (%)", fontsize=9)
    ax.grid(color="#e0e0e0", linewidth=0.6)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False, title="battery",
              title_fontsize=8.5)
    fig.text(0.38, 0.995, title or "sensitivity to interceptor burnout speed", ha="center", va="top", fontsize=11,
             fontweight="bold")
    fig.text(0.38, 0.955, f"sample: {sens.sample}; cue, delay, burn time and altitude band as in the scenario",
             ha="center", va="top", fontsize=8.5, color="#444444")
    return fig


def delay_sensitivity_figure(sens, battery_delays: list[tuple[str, float, float]], title: str | None = None):
    """Share of threats engageable vs the launch delay, per (site, interceptor, cue) and by any of them, at
    the scenario's own speeds; the batteries' own delays marked (name, delay, share)."""
    share, any_share = sens.delay_share()
    d = sens.delays_s
    fig = mapplot.new_figure((10.5, 5.6), dpi=110)
    ax = fig.add_axes((0.08, 0.12, 0.6, 0.76))
    for k, (label, g, cue) in enumerate(sens.cue_lines):
        ax.plot(d, 100 * share[:, k], marker=MARKERS[k % len(MARKERS)], color=site_color(g),
                linestyle="-" if cue == "launch" else "--", markersize=5, linewidth=1.3, label=label)
    ax.plot(d, 100 * any_share, color="k", linewidth=2.4, alpha=0.55, label="any of them", zorder=1)
    for name, delay, sh in battery_delays:
        ax.plot([delay], [100 * sh], marker="o", markersize=9, markerfacecolor="none", markeredgecolor="#d62728",
                markeredgewidth=1.4, linestyle="none")
    if battery_delays:
        ax.plot([], [], marker="o", markersize=9, markerfacecolor="none", markeredgecolor="#d62728", linestyle="none",
                label="the scenario's batteries")
    ax.set_xlim(d.min() - 5, d.max() + 5)
    ax.set_ylim(-3, 103)
    ax.set_xlabel("launch delay after the cue (s)  —  cue = launch: after the threat's launch; "
                  "cue = track: after its first detection", fontsize=8.5)
    ax.set_ylabel(f"share of {sens.n_valid} threats engageable (%)", fontsize=9)
    ax.grid(color="#e0e0e0", linewidth=0.6)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False,
              title="site / interceptor, cue", title_fontsize=8.5)
    fig.text(0.38, 0.995, title or "sensitivity to the interceptor launch delay", ha="center", va="top", fontsize=11,
             fontweight="bold")
    fig.text(0.38, 0.955, f"sample: {sens.sample}; interceptor speeds as in the scenario", ha="center", va="top",
             fontsize=8.5, color="#444444")
    return fig


__all__ = [
    "battery_share_figure", "coverage_map", "coverage_matrix", "delay_sensitivity_figure", "png_bytes",
    "speed_sensitivity_figure", "timeline_figure", "trajectory_map", "coverage_battery_panels",
]
