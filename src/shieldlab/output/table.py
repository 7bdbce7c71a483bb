"""Human-readable `engage` output: per threat, its timeline and each battery's window (rich tables)."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table


def _f(x, fmt="{:.1f}", scale=1.0):
    return "—" if x is None or not math.isfinite(float(x)) else fmt.format(float(x) * scale)


def print_engage(doc: dict, console: Console) -> None:
    console.print(f"[bold]{doc['scenario']}[/bold]  (earth: {doc['earth']['model']}, "
                  f"rotation {'on' if doc['earth']['rotation'] else 'off'}, J2 {'on' if doc['earth']['j2'] else 'off'}; "
                  f"shieldlab {doc['shieldlab_version']})")
    summary = Table(title="Threats", title_justify="left")
    for col in ("threat", "launch s", "burnout s", "v_bo km/s", "γ deg", "az₀ deg", "apogee km", "apogee s",
                "impact s", "flight min", "range km"):
        summary.add_column(col, justify="left" if col == "threat" else "right")
    for t in doc["threats"]:
        if t["error"]:
            summary.add_row(t["name"], _f(t["launch"]["time_s"]), "[red]" + t["error"] + "[/red]", *[""] * 8)
            continue
        b, a, i = t["burnout"], t["apogee"], t["impact"]
        summary.add_row(t["name"], _f(t["launch"]["time_s"]), _f(b["time_s"]), _f(b["speed_km_s"], "{:.3f}"),
                        _f(b["gamma_deg"], "{:.2f}"), _f(t["launch_azimuth_deg"], "{:.2f}"), _f(a["altitude_km"]),
                        _f(a["time_s"]), _f(i["time_s"]), _f(i["time_s"] - t["launch"]["time_s"], "{:.1f}", 1 / 60),
                        _f(t["ground_range_km"], "{:.0f}"))
    console.print(summary)
    for t in doc["threats"]:
        if t["error"] or (not t["detections"] and not t["engagements"]):
            continue
        console.print(f"\n[bold]{t['name']}[/bold] timeline (scenario seconds)")
        tl = Table(show_header=True)
        tl.add_column("event")
        tl.add_column("time s", justify="right")
        tl.add_column("detail")
        tl.add_row("launch", _f(t["launch"]["time_s"]), "")
        tl.add_row("burnout", _f(t["burnout"]["time_s"]), f"{t['burnout']['altitude_km']:.0f} km")
        for d in t["detections"]:
            tl.add_row(f"detected by {d['sensor']}", _f(d["time_s"]), "" if d["time_s"] is not None else "never")
        tl.add_row("track (first detection)", _f(t["track_time_s"]), "")
        tl.add_row("apogee", _f(t["apogee"]["time_s"]), f"{t['apogee']['altitude_km']:.0f} km")
        tl.add_row("impact", _f(t["impact"]["time_s"]), "")
        console.print(tl)
        if t["engagements"]:
            et = Table(title="batteries", title_justify="left")
            for col in ("battery", "earliest launch s", "result", "interceptor launch s", "flyout s",
                        "first intercept s", "alt km", "last intercept s"):
                et.add_column(col, justify="left" if col in ("battery", "result") else "right")
            for e in t["engagements"]:
                fi, li = e["first_intercept"], e["last_intercept"]
                if e["feasible"]:
                    et.add_row(e["battery"], _f(e["earliest_launch_s"]), "[green]engage[/green]",
                               _f(fi["interceptor_launch_s"]), _f(fi["flyout_time_s"]), _f(fi["time_s"]),
                               _f(fi["altitude_km"], "{:.0f}"), _f(li["time_s"]))
                else:
                    et.add_row(e["battery"], _f(e["earliest_launch_s"]), f"[red]no: {e['reason']}[/red]",
                               "—", "—", "—", "—", "—")
            console.print(et)
