"""Human-readable `assess` output (docs/models.md, Assessing a missile from a flight test): per assessment, one
table with its fits side by side (a staged type: the staged fit and the burnout fit of the same burnout state),
then the places within reach. Works from the `assess --json` document."""

from __future__ import annotations

import math

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from shieldlab.output.geometry import earth_text
from shieldlab.output.text import literal
from shieldlab.scenario.model import EarthSpec

FIT_TITLES = {"staged": "staged fit (kick, payload)", "burnout": "burnout fit (v_bo, γ)",
              "burnout-equivalent": "burnout fit, same burnout state (v_bo, γ)"}
PARAMETER_ROWS = (("kick_deg", "kick", "°", "{:.3f}"), ("payload_mass_kg", "payload", "kg", "{:.0f}"),
                  ("burnout_speed_km_s", "burnout speed", "km/s", "{:.3f}"),
                  ("gamma_deg", "γ at burnout", "°", "{:.2f}"))
BURNOUT_ROWS = (("burn_time_s", "burn time", "s", "{:.1f}"),
                ("burnout_altitude_km", "burnout altitude", "km", "{:.1f}"),
                ("burnout_range_km", "burnout range", "km", "{:.1f}"))
OBS_LABELS = {"apogee": ("apogee", "km", "{:.0f}", "{:+.1f}"),
              "flight_time": ("flight time", "min", "{:.2f}", "{:+.2f}"),
              "ground_range": ("ground range", "km", "{:.0f}", "{:+.1f}")}
PLACES_SHOWN = 30


def _f(x, fmt="{:.1f}"):
    return "—" if x is None or not math.isfinite(float(x)) else fmt.format(float(x))


def print_assess(doc: dict, console: Console) -> None:
    e = doc["earth"]
    console.print(literal(doc["scenario"], "bold"))
    console.print(literal(f"earth {earth_text(EarthSpec(e['model'], e['rotation'], e['j2']))} · "
                          f"shieldlab {doc['shieldlab_version']} · residuals: model − observed", "dim"))
    for a in doc["assessments"]:
        _print_one(a, console)


def _print_one(a: dict, console: Console) -> None:
    console.rule(literal(a["name"], "bold"), align="left")
    f = a["from"]
    head = (f"missile {a['missile']} ({a['model']}) · from {f['name'] or ''} ({f['lat_deg']:.2f}, {f['lon_deg']:.2f})"
            f" · launch azimuth {_f(a['azimuth_deg'], '{:.2f}')}°")
    console.print(literal(head))
    if a["error"]:
        console.print(Text.assemble(("cannot be assessed: ", "red"), literal(a["error"])))
        return
    fits = a["fits"]
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("", no_wrap=True)
    for fit in fits:
        t.add_column(FIT_TITLES[fit["kind"]], justify="right")
    rows: list[tuple[str, list[str]]] = []
    for key, label, unit, fmt in PARAMETER_ROWS:
        if any(key in fit["parameters"] for fit in fits):
            rows.append((f"fitted {label} {unit}", [_f(fit["parameters"].get(key), fmt) for fit in fits]))
    for key, label, unit, fmt in (*BURNOUT_ROWS, ("burnout_speed_km_s", "burnout speed", "km/s", "{:.3f}"),
                                  ("gamma_deg", "γ at burnout", "°", "{:.2f}")):
        if key in ("burnout_speed_km_s", "gamma_deg") and all(key in fit["parameters"] for fit in fits):
            continue
        rows.append((f"{label} {unit}", [_f(fit["burnout"].get(key), fmt) +
                                         (" (type)" if key in fit["fixed"] and fit["kind"] == "burnout" else "")
                                         for fit in fits]))
    for i, o in enumerate(fits[0]["observations"]):
        label, unit, fmt, rfmt = OBS_LABELS[o["observation"]]
        obs = o[f"observed_{unit}"]
        rows.append((f"{label} {unit}: observed {fmt.format(obs)} ± {o['uncertainty_pct']:g} %",
                     [f"{fmt.format(fit['observations'][i][f'model_{unit}'])}  "
                      f"({rfmt.format(fit['observations'][i][f'residual_{unit}'])}, "
                      f"{fit['observations'][i]['residual_sigma']:+.2f} σ)" for fit in fits]))
    rows.append(("uniqueness", [_uniqueness(fit) for fit in fits]))
    rows.append((f"max range along {_f(a['azimuth_deg'], '{:.1f}')}° km",
                 [f"{_f(fit['max_range_km'], '{:.0f}')} ({_angle(fit)})" for fit in fits]))
    for k, pr in enumerate(fits[0]["payload_ranges"]):
        rows.append((f"  with a {pr['payload_mass_kg']:g} kg payload km",
                     [_f(fit["payload_ranges"][k]["max_range_km"], "{:.0f}") if fit["payload_ranges"] else "—"
                      for fit in fits]))
    for which, label in (("least", "least over azimuths km"), ("greatest", "greatest over azimuths km")):
        rows.append((label, [f"{_f(fit['reach'][which]['max_range_km'], '{:.0f}')} at "
                             f"{_f(fit['reach'][which]['azimuth_deg'], '{:.0f}')}°" for fit in fits]))
    rows.append(("catalog places within reach", [str(len(fit["reach"]["places_within_reach"])) for fit in fits]))
    for label, cells in rows:
        t.add_row(literal(label), *cells)
    console.print(t)
    for fit in fits:
        places = fit["reach"]["places_within_reach"]
        names = ", ".join(p["name"] for p in places[:PLACES_SHOWN])
        more = f" and {len(places) - PLACES_SHOWN} more" if len(places) > PLACES_SHOWN else ""
        console.print(Text.assemble((f"within reach ({FIT_TITLES[fit['kind']]}): ", "dim"),
                                    literal((names or "none") + more)), soft_wrap=True)


def _angle(fit: dict) -> str:
    key = "max_range_kick_deg" if fit["kind"] == "staged" else "max_range_gamma_deg"
    name = "kick" if fit["kind"] == "staged" else "γ"
    return f"{name} {_f(fit.get(key), '{:.2f}')}°"


def _uniqueness(fit: dict) -> str:
    good = sum(m["reproduces"] for m in fit["minima"])
    other = len(fit["minima"]) - good
    text = "unique" if good == 1 else f"NOT unique: {good} minima reproduce the test (see --json)"
    return text + (f" (+{other} minima that do not)" if other else "")
