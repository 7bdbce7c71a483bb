"""A threat's events in time order, from its JSON record: shared by the text tables and the HTML report."""

from __future__ import annotations

from shieldlab.output.geometry import place_text


def events(t: dict, latlon=place_text) -> list[tuple[float, str, str]]:
    """(time_s, event, detail) rows: launch, burnout, detections, each feasible battery's interceptor
    launch and first intercept, apogee and impact, sorted by time. `latlon(point_dict) -> str` writes the
    places (by default :func:`shieldlab.output.geometry.place_text`, "54.04°N 36.01°E")."""
    rows = [(t["launch"]["time_s"], "launch", latlon(t["launch"]))]
    b = t["burnout"]
    rows.append((b["time_s"], "burnout", f"{latlon(b)}, {b['altitude_km']:.0f} km, {b['speed_km_s']:.3f} km/s"))
    for d in t["detections"]:
        if d["time_s"] is not None:
            rows.append((d["time_s"], f"detected by {d['sensor']}", _track_text(d)))
    for e in t["engagements"]:
        if e["feasible"]:
            fi = e["first_intercept"]
            rows.append((fi["interceptor_launch_s"], f"{e['battery']}: interceptor launch",
                         f"flyout {fi['flyout_time_s']:.0f} s"))
            rows.append((fi["time_s"], f"{e['battery']}: first intercept", f"{latlon(fi)}, {fi['altitude_km']:.0f} km"))
    rows.append((t["apogee"]["time_s"], "apogee", f"{latlon(t['apogee'])}, {t['apogee']['altitude_km']:.0f} km"))
    rows.append((t["impact"]["time_s"], "impact", latlon(t["impact"])))
    return sorted(rows, key=lambda r: r[0])


def _track_text(d: dict) -> str:
    """A detection's track time (docs/models.md, Track formation) when it is not the detection time itself:
    "track at 254.9 s", or "no track" (never seen for the sensor's whole track formation time); "" otherwise."""
    if "track_s" not in d or d["track_s"] == d["time_s"]:
        return ""
    return "no track" if d["track_s"] is None else f"track at {d['track_s']:.1f} s"
