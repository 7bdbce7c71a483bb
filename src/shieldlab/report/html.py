"""The report's HTML: small functions returning escaped HTML fragments, and :func:`page` assembling them.

The page is self-contained: inline CSS, no scripts, no web fonts, no external resources; images are PNG
files written beside index.html and referenced by their bare file names. Nothing is linked; sources are
plain text.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np

from shieldlab.api import AimGrid, Reason, count_pairs, format_value
from shieldlab.output.geometry import earth_text, point_label, site_text
from shieldlab.output.margin import margin_kind, margin_str
from shieldlab.output.timeline import events as timeline_events


def _reason_text(reason, short: bool = False) -> str:
    """A JSON reason string as a Reason's label (short) or explanation; other values as they are."""
    try:
        r = Reason(reason)
    except ValueError:
        return str(reason)
    return r.label if short else r.explanation

CSS = """
body { font-family: sans-serif; max-width: 1180px; margin: 1.5em auto; padding: 0 1em; color: #1a1a1a;
       line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; border-bottom: 2px solid #ccc; padding-bottom: 0.15em; margin-top: 2em; }
h3 { font-size: 1.08em; margin-top: 1.4em; }
.meta { color: #555; font-size: 0.9em; }
.note { color: #444; font-size: 0.92em; background: #f6f6f2; border-left: 4px solid #c9c28f; padding: 0.5em 0.8em; }
table { border-collapse: collapse; margin: 0.6em 0 1em 0; font-size: 0.88em; }
th, td { border: 1px solid #d0d0d0; padding: 0.22em 0.5em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.ok { background: #e3f4e1; color: #0b5d1e; white-space: nowrap; }
td.no { background: #fbeaea; color: #8a1c1c; }
td.na { color: #888; }
td.spare { color: #0b3d91; white-space: nowrap; text-align: right; }
td.late { color: #a50f15; white-space: nowrap; text-align: right; }
img { max-width: 100%; height: auto; border: 1px solid #e2e2e2; margin: 0.4em 0; }
figure { margin: 0.8em 0 1.2em 0; }
figcaption { font-size: 0.88em; color: #444; }
details { margin: 0.5em 0; }
summary { cursor: pointer; font-weight: bold; }
pre { background: #f7f7f7; border: 1px solid #e0e0e0; padding: 0.6em; overflow-x: auto; font-size: 0.82em; }
code { font-size: 0.92em; }
nav ol { columns: 2; font-size: 0.92em; }
"""


# --------------------------------------------------------------------------- small helpers
def esc(x) -> str:
    return escape(str(x), quote=True)


def num(x, fmt: str = "{:.1f}", none: str = "—") -> str:
    if x is None:
        return none
    x = float(x)
    return none if not math.isfinite(x) else fmt.format(x)


def table(headers: list[str], rows: list[list[str]], classes: list[list[str]] | None = None) -> str:
    """An HTML table; cells are given as HTML (escape them before); `classes` per cell, optional."""
    out = ["<table><thead><tr>", *(f"<th>{h}</th>" for h in headers), "</tr></thead><tbody>"]
    for r, row in enumerate(rows):
        out.append("<tr>")
        for c, cell in enumerate(row):
            cls = classes[r][c] if classes and classes[r] and classes[r][c] else ""
            out.append(f'<td class="{cls}">{cell}</td>' if cls else f"<td>{cell}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def figure(src: str, caption: str, alt: str | None = None) -> str:
    return (f'<figure><img src="{esc(src)}" alt="{esc(alt or caption)}" loading="lazy">'
            f"<figcaption>{caption}</figcaption></figure>")


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>\n{body}\n</section>'


def point_text(p) -> str:
    """A site as escaped HTML: name (lat lon, altitude)."""
    return esc(site_text(p))


def km(x_m) -> str:
    return "∞" if not math.isfinite(x_m) else f"{x_m * 1e-3:g} km"


def margin_cell(margin_s) -> tuple[str, str]:
    """A margin as an (HTML, css class) cell, in the text table's words ("+42 s", "late by 17 s", "—")."""
    kind = margin_kind(margin_s)
    return esc(margin_str(margin_s)), {"spare": "spare", "late": "late", "none": "na"}[kind]


def geometry_text(i: dict | None) -> str:
    """Closing speed and crossing angle at an intercept (docs/models.md "Intercept geometry"): "5.04 km/s, 73°"."""
    if not i or i.get("closing_speed_km_s") is None:
        return "—"
    return f"{num(i['closing_speed_km_s'], '{:.2f}')} km/s, {num(i.get('crossing_angle_deg'), '{:.0f}')}°"


MARGIN_NOTE = ('<p class="meta">margin: the latest interceptor launch that still intercepts (latest launch) minus '
               "the earliest launch (+: time to spare; late by: the cue or the delay comes that much too late; —: "
               "no margin, the threat never enters the band, nothing is reachable, or no sensor gives a cue). "
               "Geometry at an intercept: closing speed |v<sub>K</sub> − v<sub>T</sub>| of kill vehicle and threat "
               "and crossing angle between v<sub>K</sub> and −v<sub>T</sub> (0° head-on, 180° a tail chase "
               "from directly behind).</p>")


# --------------------------------------------------------------------------- scenario summary
def scenario_summary(sc, *, source_file: str | None, catalog_version: str, version: str) -> str:
    parts = []
    e = sc.earth
    facts = [["scenario file", esc(source_file or "(not from a file)")],
             ["Earth model", esc(f"{earth_text(e)}; " + (
                 "vacuum flight; staged missiles with the US Standard Atmosphere 1976"
                 if any(m.model == "staged" for m in sc.missiles.values()) else "vacuum flight"))],
             ["shieldlab / catalog", esc(f"{version} / {catalog_version}")],
             ["threats", str(len(sc.threats))], ["sensors", str(len(sc.sensors))],
             ["batteries", str(len(sc.batteries))],
             ["coverage", "none" if sc.coverage is None else esc(coverage_text(sc))]]
    parts.append(table(["", ""], facts))
    if sc.sensors:
        rows = []
        for r in sc.sensors:
            sec = "all round" if r.sector is None or r.sector.half_width_deg >= 180 else \
                f"{r.sector.center_deg:g}° ± {r.sector.half_width_deg:g}°"
            ref = "—" if r.reference_range_m is None else f"{km(r.reference_range_m)} vs {r.reference_rcs_m2:g} m²"
            rows.append([esc(r.name), point_text(r.at), km(r.max_range_m), esc(ref), f"{r.min_elevation_deg:g}°",
                         esc(sec), f"{r.track_formation_s:g} s"])
        parts.append("<h3>Sensors</h3>" + table(["radar", "site", "max range", "reference range", "min elevation",
                                                  "azimuth sector", "track formation"], rows))
    if sc.batteries:
        rows = []
        for b in sc.batteries:
            it = sc.interceptors[b.interceptor]
            band = f"{it.min_altitude_m * 1e-3:g}–{km(it.max_altitude_m)}"
            rows.append([esc(b.name), point_text(b.at), esc(b.interceptor), f"{it.burnout_speed_m_s * 1e-3:g} km/s",
                         f"{it.burn_time_s:g} s", band, esc(b.cue), f"{b.launch_delay_s:g} s"])
        parts.append("<h3>Batteries</h3>" + table(
            ["battery", "site", "interceptor", "burnout speed", "burn time", "altitude band", "cue", "launch delay"],
            rows))
        parts.append('<p class="note">cue = track: the interceptor may launch <em>launch delay</em> after the '
                     "threat's first detection by any sensor; cue = launch: after the threat's launch (an idealised "
                     "launch warning). The interceptor count is not modelled: a battery is one interceptor type at "
                     "one site.</p>")
    missiles = sorted({t.missile for t in sc.threats} | ({sc.coverage.missile} if sc.coverage else set()))
    if missiles:
        rows = []
        for m in missiles:
            mt = sc.missiles[m]
            if mt.model == "staged":  # its burnout is flown, not given (docs/scenario.md, Staged missile types)
                rows.append([esc(m) + f" (staged: {len(mt.stages)} stages, {mt.liftoff_mass_kg * 1e-3:,.4g} t at "
                             "lift-off)", f"{mt.burn_time_s:g} s", "—", "—", "—"])
                continue
            rows.append([esc(m), f"{mt.burn_time_s:g} s", f"{mt.burnout_altitude_m * 1e-3:g} km",
                         f"{mt.burnout_range_m * 1e-3:g} km",
                         "—" if mt.burnout_speed_m_s is None else f"{mt.burnout_speed_m_s * 1e-3:g} km/s"])
        parts.append("<h3>Threat missile types</h3>" + table(
            ["missile", "burn time", "burnout altitude", "burnout downrange", "burnout speed (unaimed, lofted, depressed)"],
            rows))
    return "\n".join(parts)


def coverage_text(sc) -> str:
    cov = sc.coverage
    n_pairs = count_pairs(sc)
    launch = ", ".join(point_label(p) for p in cov.launch)
    if isinstance(cov.aim, AimGrid):
        g = cov.aim
        aims = (f"a {g.step_deg:g}° grid, lat {g.lat_min_deg:g}…{g.lat_max_deg:g}, lon {g.lon_min_deg:g}…"
                f"{g.lon_max_deg:g} ({n_pairs // len(cov.launch)} points)")
    else:
        aims = ", ".join(point_label(p) for p in cov.aim)
    return (f"{cov.missile}, {cov.trajectory.label()} trajectory, from {launch} to {aims}: "
            f"{n_pairs} pairs")


# --------------------------------------------------------------------------- engage results
def results_matrix(doc: dict) -> str:
    """Threats × batteries: first intercept (time, altitude) or why not; plus track time and flight time."""
    threats = doc["threats"]
    if not threats:
        return "<p>No [[threats]] in the scenario.</p>"
    batteries = [e["battery"] for e in threats[0]["engagements"]]
    rows, classes = [], []
    for t in threats:
        if t["error"]:
            rows.append([esc(t["name"]), f"cannot be computed: {esc(t['error'])}"] + [""] * (len(batteries) + 1))
            classes.append([""] * (len(batteries) + 3))
            continue
        flight = t["impact"]["time_s"] - t["launch"]["time_s"]
        row = [esc(t["name"]), num(flight / 60.0, "{:.1f}"), num(t["track_time_s"], "{:.0f}")]
        cls = ["", "num", "num"]
        for e in t["engagements"]:
            m = esc(margin_str(e.get("margin_s")))
            m = m if margin_kind(e.get("margin_s")) == "late" else f"margin {m}"  # "late by 17 s", "margin +42 s"
            if e["feasible"]:
                fi = e["first_intercept"]
                row.append(f"{fi['time_s']:.0f} s @ {fi['altitude_km']:.0f} km<br>{m}")
                cls.append("ok")
            else:
                row.append(esc(_reason_text(e["reason"], short=True)) + f"<br>{m}")
                cls.append("no")
        rows.append(row)
        classes.append(cls)
    return (table(["threat", "flight min", "track time s"] + [esc(b) for b in batteries], rows, classes)
            + '<p class="meta">too late: reachable, but not in time; out of reach: no point of the flight inside the '
              "altitude band can be reached; outside band: never inside the interceptor's altitude band; not "
              "detected: cue = track and no sensor sees the threat.</p>" + MARGIN_NOTE)


def threats_table(doc: dict) -> str:
    rows = []
    for t in doc["threats"]:
        if t["error"]:
            rows.append([esc(t["name"]), "error"] + [""] * 6)
            continue
        b, a = t["burnout"], t["apogee"]
        rows.append([esc(t["name"]), num(b["speed_km_s"], "{:.3f}"), num(b["gamma_deg"], "{:.2f}"),
                     num(t["launch_azimuth_deg"], "{:.1f}"), num(a["altitude_km"], "{:.0f}"),
                     num((t["impact"]["time_s"] - t["launch"]["time_s"]) / 60, "{:.1f}"),
                     num(t["ground_range_km"], "{:.0f}"), num(t["track_time_s"], "{:.1f}")])
    return table(["threat", "burnout speed km/s", "γ at burnout °", "launch azimuth °", "apogee km", "flight min",
                  "ground range km", "track time s"], rows,
                 [["", *(["num"] * 7)] for _ in rows])


def threat_detail(t: dict, img: str | None) -> str:
    """One threat: its events in time order, every battery's window, and its timeline chart."""
    if t["error"]:
        return f"<p>cannot be computed: {esc(t['error'])}</p>"
    ev = timeline_events(t)
    events = table(["time s", "event", "where / what"], [[f"{x:.1f}", esc(w), esc(d)] for x, w, d in ev],
                   [["num", "", ""] for _ in ev])
    never = [d["sensor"] for d in t["detections"] if d["time_s"] is None]
    if never:
        events += f'<p class="meta">never detected by: {esc(", ".join(never))}</p>'
    return events + sensor_table(t) + engagement_table(t) + (figure(
        img, f"Timeline of {esc(t['name'])}: flight phases, radar detections and tracks, and per battery the "
             "earliest launch t<sub>0</sub>, the latest launch L that still intercepts (the span between them "
             "blue when there is time to spare, red when the battery is late), the flyout to the first intercept "
             "and the intercept window.", alt=f"Timeline of {t['name']}") if img else "")


def sensor_table(t: dict) -> str:
    """Per sensor: its first detection of the threat and its track time (seen for its whole track formation
    time, docs/models.md "Track formation")."""
    if not t["detections"]:
        return ""
    rows = [[esc(d["sensor"]), num(d["time_s"], none="never"),
             num(d.get("track_s"), none="never" if d["time_s"] is None else "no track")] for d in t["detections"]]
    return table(["sensor", "first detection s", "track time s"], rows, [["", "num", "num"] for _ in rows])


def engagement_table(t: dict) -> str:
    """Per battery: earliest launch, latest launch, margin, the window, and the geometry at the intercepts."""
    rows, cls = [], []
    for e in t["engagements"]:
        m, mc = margin_cell(e.get("margin_s"))
        head = [esc(e["battery"]), num(e["earliest_launch_s"]), num(e.get("latest_launch_s")), m]
        if e["feasible"]:
            fi, li = e["first_intercept"], e["last_intercept"]
            rows.append(head + [f"{fi['time_s']:.1f} → {li['time_s']:.1f}",
                                f"{fi['altitude_km']:.0f} km → {li['altitude_km']:.0f} km",
                                f"{fi['interceptor_launch_s']:.1f} s / {fi['flyout_time_s']:.0f} s",
                                geometry_text(fi), geometry_text(li)])
            cls.append(["", "num", "num", mc, "ok", "num", "num", "num", "num"])
        else:
            rows.append(head + ["none: " + esc(_reason_text(e["reason"])), "", "", "", ""])
            cls.append(["", "num", "num", mc, "no", "", "", "", ""])
    if not rows:
        return ""
    return table(["battery", "earliest launch s", "latest launch s", "margin", "window (intercept times) s",
                  "intercept altitude", "interceptor launch / flyout (first)", "closing speed, crossing angle (first)",
                  "closing speed, crossing angle (last)"], rows, cls) + MARGIN_NOTE


# --------------------------------------------------------------------------- coverage
def coverage_table(result) -> str:
    """Per launch point and battery: aim points engageable, and the reasons for the others."""
    sc, lay, eng = result.scenario, result.layout, result.engagements
    nl, na, nb = len(lay.launch), lay.aim_lat_deg.size, len(sc.batteries)
    feas = np.asarray(eng.feasible, bool).reshape(nl, na, nb)
    code = np.asarray(eng.reason_code).reshape(nl, na, nb)
    err = np.array([e is not None and str(e) != "" for e in result.flights.error], bool).reshape(nl, na)
    why_not = [r for r in Reason if r is not Reason.OK]
    headers = ["launch point", "battery", "engageable"] + [esc(r.value) for r in why_not] + ["missile cannot fly it"]
    rows, cls = [], []
    for li, p in enumerate(lay.launch):
        name = esc(point_label(p))
        for j, b in enumerate(sc.batteries):
            k = int(feas[li, :, j].sum())
            rows.append([name if j == 0 else "", esc(b.name), f"{k}/{na} ({100 * k / max(na, 1):.0f}%)",
                         *(str(int((code[li, :, j] == r.code).sum())) for r in why_not),
                         str(int(err[li].sum()))])
            cls.append(["", "", "ok" if k else "no", *(["num"] * (len(why_not) + 1))])
        if nb > 1:
            k = int((feas[li].any(axis=1) & ~err[li]).sum())
            rows.append(["", "<em>any battery</em>", f"<strong>{k}/{na} ({100 * k / max(na, 1):.0f}%)</strong>",
                         *([""] * len(why_not)), str(int(err[li].sum()))])
            cls.append(["", "", "ok" if k else "no", *(["num"] * (len(why_not) + 1))])
    return table(headers, rows, cls)


# --------------------------------------------------------------------------- sensitivity
def _threat_grid(sens, columns: list[str], cell, invalid: str = "—") -> str:
    """A threats × columns table; cell(i, j) -> (text, css class); rows of threats that could not be
    computed say `invalid`."""
    rows, cls = [], []
    for i, name in enumerate(sens.threat_names):
        row, c = [esc(name)], [""]
        for j in range(len(columns)):
            text, klass = (invalid, "na") if not sens.valid[i] else cell(i, j)
            row.append(text)
            c.append(klass)
        rows.append(row)
        cls.append(c)
    return table(["threat"] + [esc(col) for col in columns], rows, cls)


def threshold_table(sens) -> str:
    """Threats × batteries: the least burnout speed at which the battery engages the threat."""
    th = sens.threshold_km_s
    if th is None:
        return ""
    lo, hi = sens.speeds_km_s.min(), sens.speeds_km_s.max()

    def cell(i, j):
        v = th[i, j]
        if math.isnan(v):
            return "never cued", "na"
        if v == -math.inf:
            return f"≤ {lo:g}", "ok"
        if v == math.inf:
            return f"> {hi:g}", "no"
        return f"{v:.2f}", "num"

    return _threat_grid(sens, list(sens.battery_names), cell, invalid="not computable")


def margin_table(sens) -> str:
    """Threats × batteries: the latest interceptor launch L and the margin L − t0 (s)."""
    L, m = sens.latest_s, sens.margin_s()

    def cell(i, j):
        if not math.isfinite(L[i, j]):
            return "unreachable", "no"
        if not math.isfinite(m[i, j]):
            return f"L {L[i, j]:.0f}; never cued", "na"
        return f"{esc(margin_str(m[i, j]))} (L {L[i, j]:.0f})", ("ok" if m[i, j] >= 0 else "no")

    return _threat_grid(sens, list(sens.battery_names), cell)


def max_delay_table(sens) -> str:
    md = sens.max_delay_s()

    def cell(i, k):
        v = md[i, k]
        if math.isnan(v):
            return "never cued", "na"
        if v == -math.inf:
            return "unreachable", "no"
        return f"{v:.0f}", ("ok" if v >= 0 else "no")

    return _threat_grid(sens, [lbl for lbl, _, _ in sens.cue_lines], cell)


# --------------------------------------------------------------------------- sources
def sources_section(sc, entries: list, own: list[tuple[str, str, str]], citation_lines: list[str], tags: dict,
                    file_text: str | None) -> str:
    parts = ['<p>Every bundled catalog entry the scenario uses by name, with its source and confidence, then every '
             "number the scenario file gives itself. Confidence tags: "
             + "; ".join(f"<strong>{esc(t)}</strong> {esc(m)}" for t, m in tags.items()) + ".</p>"]
    if entries:
        rows = []
        for e in entries:
            values = ", ".join(f"{k} = {_value(v)}" + (f" [{e.confidence_of(k)}]" if k not in ("model", "site")
                                              and e.confidence_of(k) != e.confidence else "")
                               for k, v in e.values.items() if k != "model")
            rows.append([f"<code>{esc(e.kind)}/{esc(e.name)}</code>", esc(e.label), f"<strong>{esc(e.confidence)}</strong>"
                         + (" (assumptions)" if e.assumption else ""), esc(values), esc(e.source), esc(e.note)])
        parts.append("<h3>Catalog entries used</h3>" + table(
            ["entry", "label", "confidence", "values", "source", "note"], rows))
        parts.append("<details><summary>The same as citation lines (shieldlab.catalog.citations)</summary><pre>"
                     + esc("\n".join(citation_lines)) + "</pre></details>")
    else:
        parts.append("<p>The scenario uses no catalog entries.</p>")
    if own:
        parts.append("<h3>The scenario's own numbers</h3>" + table(
            ["where", "key", "value"], [[esc(a), esc(b), esc(c)] for a, b, c in own]))
        parts.append('<p class="note">Values given in the scenario file itself (not from the catalog): their sources '
                     "and confidence are whatever the file's comments say (reproduced below).</p>")
    if file_text is not None:
        parts.append("<details><summary>The scenario file</summary><pre>" + esc(file_text) + "</pre></details>")
    return "\n".join(parts)


def _value(v) -> str:
    """A catalog value as written in TOML, without the quotes of a plain string."""
    return v if isinstance(v, str) else format_value(v)


# --------------------------------------------------------------------------- the page
def page(title: str, meta: str, sections: list[tuple[str, str, str]]) -> str:
    """The whole document from (anchor, title, body) sections, with a table of contents."""
    toc = "".join(f'<li><a href="#{esc(a)}">{esc(t)}</a></li>' for a, t, _ in sections)
    body = "\n".join(section(a, t, b) for a, t, b in sections)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<h1>{esc(title)}</h1>\n<p class=\"meta\">{meta}</p>\n<nav><ol>{toc}</ol></nav>\n{body}\n"
            "</body>\n</html>\n")
