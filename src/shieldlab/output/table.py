"""Human-readable `engage` output: a summary of the threats, then each threat's timeline and every
battery's window or the reason there is none. Fits an 80-column terminal.

Everything that comes from the scenario (names, error messages that quote it) is printed literally
(output/text.py `literal`: no rich markup, control characters as escapes), as rich `Text`, which rich
neither parses nor highlights: printing takes time linear in the length of the names."""

from __future__ import annotations

import math

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from shieldlab.engagement.results import Reason
from shieldlab.output.geometry import earth_text
from shieldlab.output.margin import margin_kind, margin_str
from shieldlab.output.text import literal
from shieldlab.output.timeline import events
from shieldlab.scenario.model import EarthSpec


NAME_MAX_WIDTH = 48  # a longer name is cut (with "…") in table columns, so that the numbers stay visible


def _f(x, fmt="{:.1f}", scale=1.0):
    return "—" if x is None or not math.isfinite(float(x)) else fmt.format(float(x) * scale)


def print_engage(doc: dict, console: Console) -> None:
    e = doc["earth"]
    console.print(literal(doc["scenario"], "bold"))
    console.print(literal(f"earth {earth_text(EarthSpec(e['model'], e['rotation'], e['j2']))} · "
                          f"shieldlab {doc['shieldlab_version']} · "
                          "times in scenario seconds", "dim"))
    if not doc["threats"]:
        console.print(Text("no [[threats]] in this scenario" + (" (it has a [coverage] table: use `shieldlab coverage`)"
                                                                if doc.get("has_coverage") else "")))
        return
    summary = Table(box=box.SIMPLE_HEAD, title="threats", title_justify="left", pad_edge=False)
    for col, just in (("threat", "left"), ("v_bo km/s", "right"), ("γ °", "right"), ("az₀ °", "right"),
                      ("apogee km", "right"), ("flight min", "right"), ("range km", "right")):
        name = col == "threat"
        summary.add_column(col, justify=just, no_wrap=name, max_width=NAME_MAX_WIDTH if name else None)
    for t in doc["threats"]:
        if t["error"]:
            summary.add_row(literal(t["name"]), Text("error", "red"), "", "", "", "", "")
            continue
        b, a, i = t["burnout"], t["apogee"], t["impact"]
        summary.add_row(literal(t["name"]), _f(b["speed_km_s"], "{:.3f}"), _f(b["gamma_deg"], "{:.2f}"),
                        _f(t["launch_azimuth_deg"], "{:.2f}"), _f(a["altitude_km"], "{:.0f}"),
                        _f(i["time_s"] - t["launch"]["time_s"], "{:.1f}", 1 / 60), _f(t["ground_range_km"], "{:.0f}"))
    console.print(summary)
    for t in doc["threats"]:
        console.rule(literal(t["name"], "bold"), align="left")
        if t["error"]:
            console.print(Text.assemble(("cannot be computed: ", "red"), literal(t["error"])))
            continue
        _timeline(t, console)
        if t["engagements"]:
            _batteries(t, console)
    if any(t["engagements"] and not t["error"] for t in doc["threats"]):
        console.print(Text("margin: the latest interceptor launch that still intercepts, minus the earliest launch "
                           "(+: time to spare; late by: the cue or the delay comes that much too late)", "dim"))


def _timeline(t, console):
    rows = events(t)
    tl = Table(box=box.SIMPLE, show_header=True, pad_edge=False)
    tl.add_column("time s", justify="right")
    tl.add_column("event")
    tl.add_column("where / what")
    for time_s, what, detail in rows:
        tl.add_row(_f(time_s), literal(what), literal(detail))
    console.print(tl)
    never = [d["sensor"] for d in t["detections"] if d["time_s"] is None]
    if never:
        console.print(literal(f"never detected by: {', '.join(never)}", "dim"))


def _batteries(t, console):
    et = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col, just in (("battery", "left"), ("earliest launch s", "right"), ("margin", "right"),
                      ("window (intercept times) s", "left")):
        et.add_column(col, justify=just, max_width=NAME_MAX_WIDTH if col == "battery" else None)
    for e in t["engagements"]:
        if e["feasible"]:
            fi, li = e["first_intercept"], e["last_intercept"]
            win = Text(f"{fi['time_s']:.1f} → {li['time_s']:.1f}", "green")
        else:
            win = Text.assemble(("none", "red"), ": ", literal(_why(e["reason"])))
        et.add_row(literal(e["battery"]), _f(e["earliest_launch_s"]), margin_text(e.get("margin_s")), win)
    console.print(et)


def margin_text(margin_s) -> Text:
    """A margin as the table shows it (:func:`shieldlab.output.margin.margin_str`): "+42 s" in green
    (launching up to that much later still intercepts), "late by 17 s" in red (the earliest launch comes
    that much too late), "—" when there is none."""
    return Text(margin_str(margin_s), _MARGIN_STYLE[margin_kind(margin_s)])


_MARGIN_STYLE = {"spare": "green", "late": "red", "none": ""}


def _why(reason) -> str:
    """The explanation of a JSON reason string (the string itself when it is none of the Reasons)."""
    try:
        return Reason(reason).explanation
    except ValueError:
        return str(reason)


def print_coverage(ds, console: Console) -> None:
    """A short summary of a coverage Dataset: per launch point and battery, the aim points it can engage
    and the count of each reason."""
    import numpy as np

    from shieldlab.coverage.dataset import flat

    a = ds.attrs
    nl = ds.sizes["launch"]
    feas, reason, err = flat(ds, "feasible"), flat(ds, "reason"), flat(ds, "error")
    na = feas.shape[0] // max(nl, 1)
    console.print(literal(a.get("scenario", ""), "bold"))
    console.print(literal(f"missile {a.get('missile')}, {a.get('trajectory')} trajectory · {nl} launch point"
                          f"{'s' * (nl != 1)} × {na} aim points = {feas.shape[0]} pairs", "dim"))
    spec = EarthSpec(a.get("earth_model"), bool(a.get("earth_rotation")), bool(a.get("earth_j2")))
    console.print(literal(f"earth {earth_text(spec)} · shieldlab {a.get('shieldlab_version')}",
                          "dim"))
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("launch", no_wrap=True, max_width=NAME_MAX_WIDTH)
    t.add_column("battery", no_wrap=True, max_width=NAME_MAX_WIDTH)
    t.add_column("engageable", justify="right")
    why_not = [r for r in Reason if r is not Reason.OK]
    for r in why_not:
        t.add_column(r.value, justify="right")
    t.add_column("error", justify="right")
    batteries = [str(b) for b in ds["battery"].values]
    for li, launch in enumerate(str(x) for x in ds["launch"].values):
        sl = slice(li * na, (li + 1) * na)
        f, rc = feas[sl], reason[sl]
        n_err = int(sum(1 for e in err[sl] if str(e)))
        for j, b in enumerate(batteries):
            k = int(np.count_nonzero(f[:, j]))
            counts = [str(int(np.count_nonzero(rc[:, j] == r.code))) for r in why_not]
            t.add_row(literal(launch) if j == 0 else "", literal(b), f"{k}/{na} ({100.0 * k / max(na, 1):.0f}%)",
                      *counts, str(n_err))
        if len(batteries) != 1:
            k = int(np.count_nonzero(f.any(axis=1))) if batteries else 0
            t.add_row("" if batteries else literal(launch), Text("any battery", "italic"),
                      Text(f"{k}/{na} ({100.0 * k / max(na, 1):.0f}%)", "bold"), *([""] * len(why_not)),
                      str(n_err), end_section=True)
        else:
            t.rows[-1].end_section = True
    console.print(t)
    console.print(Text("engageable: aim points a threat to which the battery can intercept; other columns: why not "
                       "(error: the missile cannot reach the aim point)", "dim"))
