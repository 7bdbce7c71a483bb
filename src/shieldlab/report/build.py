"""Build a report: run the scenario (engage, coverage, sensitivity sweeps, its [uncertainty]), draw the figures,
assemble the HTML, and write DIR/index.html with its PNG figures beside it.

Everything is computed and rendered in memory first; then each file is written to a temporary directory
inside DIR and moved into place with os.replace (index.html last). An error or Ctrl-C leaves no partial
file in DIR, and a DIR created for the report is removed again.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from shieldlab.api import ShieldlabError, __version__, format_value, read_scenario_text
from shieldlab.report import figures as F
from shieldlab.report import html as H
from shieldlab.report import sweeps
from shieldlab.report.uncertainty import build_section as uncertainty_section

MAX_TIMELINES = 40
NAME_KEYS = {"name", "radar", "missile", "interceptor"}
POINT_KEYS = {"from", "to", "at"}


class ReportError(ShieldlabError):
    """The report cannot be written (e.g. --out names an existing file)."""


@dataclass
class Report:
    """A report in memory: the HTML and the figures (file name -> PNG bytes)."""

    html: str
    images: dict[str, bytes] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------- the scenario's own numbers
def own_numbers(text: str) -> list[tuple[str, str, str]]:
    """(where, key, value) for every value the scenario file gives itself, names and place references
    excepted (those are catalog or [places] references, listed with their sources elsewhere). A leading
    byte-order mark is skipped, as the loader skips it."""
    try:
        data = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError:
        return []
    out: list[tuple[str, str, str]] = []

    def is_reference(key, value):
        if key in NAME_KEYS:
            return True
        if key in POINT_KEYS:
            return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        return False

    def walk(where: str, table: dict):
        for key, value in table.items():
            if is_reference(key, value):
                continue
            if isinstance(value, dict) and key in ("places", "missiles", "interceptors", "earth"):
                for sub, inner in value.items():
                    if isinstance(inner, dict) and key in ("missiles", "interceptors"):
                        out.extend((f"[{key}.{sub}]", k, format_value(v)) for k, v in inner.items())
                    else:
                        out.append((f"[{key}]", sub, format_value(inner)))
            elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                for k, item in enumerate(value):
                    label = f"[[{key}]] #{k + 1}" + (f" {item['name']}" if isinstance(item.get("name"), str) else "")
                    if key == "sensors" and isinstance(item.get("radar"), str) and "name" not in item:
                        label += f" {item['radar']}"
                    walk(label, item)
            elif isinstance(value, dict) and key == "coverage":
                walk("[coverage]", value)
            elif where and key != "name":
                out.append((where, key, format_value(value)))
    walk("", data)
    return out


# --------------------------------------------------------------------------- building
def build(scenario, *, speeds_km_s=sweeps.DEFAULT_SPEEDS_KM_S, delays_s=sweeps.DEFAULT_DELAYS_S,
          bisections: int = sweeps.DEFAULT_BISECTIONS, sensitivity: bool = True, workers: int = 1,
          sample_pairs: int = sweeps.MAX_SAMPLE_PAIRS, log=None) -> Report:
    """The report of a Scenario, in memory."""
    from shieldlab.api import catalog, count_pairs, coverage, engage

    log = log or (lambda msg: None)
    rep = Report("")
    sc = scenario
    tick = time.perf_counter()

    def lap(name):
        nonlocal tick
        now = time.perf_counter()
        rep.timings[name] = now - tick
        tick = now

    sections: list[tuple[str, str, str]] = []
    sections.append(("scenario", "Scenario", H.scenario_summary(
        sc, source_file=sc.source, catalog_version=catalog.catalog_version(), version=__version__)))

    res = doc = None
    if sc.threats:
        log(f"engage: {len(sc.threats)} threats × {len(sc.batteries)} batteries")
        res = engage(sc)
        doc = res.to_document()
        lap("engage")
        rep.images["fig-trajectories.png"] = _png(F.trajectory_map(res, doc))
        body = [H.figure("fig-trajectories.png", "Ground tracks of the threats by phase (boost, free-flight ascent "
                         "and descent) with burnout, apogee and impact; radar sites with their maximum range (drawn "
                         "as a ground distance; the model tests slant range, elevation and line of sight); battery "
                         "sites; stars: first intercept points of the feasible engagements."),
                "<h3>Results at a glance</h3>",
                "<p>First intercept (scenario time and altitude) for every threat and battery, or why there is "
                "none, and the margin (latest launch − earliest launch).</p>", H.results_matrix(doc), "<h3>Threats</h3>", H.threats_table(doc)]
        sections.append(("results", "Threats and engagements", "\n".join(body)))
        tl = []
        for i, t in enumerate(doc["threats"]):
            img = None
            if i < MAX_TIMELINES and not t["error"]:
                img = f"fig-timeline-{i + 1:02d}.png"
                rep.images[img] = _png(F.timeline_figure(t))
            tl.append(f"<h3>{H.esc(t['name'])}</h3>" + H.threat_detail(t, img))
        if len(doc["threats"]) > MAX_TIMELINES:
            tl.append(f"<p class=\"meta\">Timeline charts are drawn for the first {MAX_TIMELINES} threats only.</p>")
        sections.append(("timelines", "Engage tables and timelines per threat", "\n".join(tl)))
        lap("figures (threats)")

    if sc.coverage is not None:
        log(f"coverage: {count_pairs(sc)} pairs × {len(sc.batteries)} batteries")
        result = coverage(sc, workers=workers)
        lap("coverage")
        rep.images["fig-coverage-map.png"] = _png(F.coverage_map(result))
        computable = np.array(result.flights.valid)
        rep.images["fig-coverage-share.png"] = _png(F.battery_share_figure(
            [b.name for b in sc.batteries], result.engagements.feasible, computable, what="pairs"))
        body = [f"<p>{H.esc(H.coverage_text(sc))} (<code>shieldlab coverage</code>). Shares are of the "
                f"{int(computable.sum())} pairs the missile can fly.</p>",
                H.figure("fig-coverage-map.png", "Aim points coloured by the number of launch points from which a "
                         "threat aimed there can be engaged by at least one battery.")]
        if result.layout.grid_lat_deg is None:
            rep.images["fig-coverage-matrix.png"] = _png(F.coverage_matrix(result))
            body.append(H.figure("fig-coverage-matrix.png", "Every (launch, aim) pair: the number of batteries that "
                                 "can engage it."))
        if len(sc.batteries) > 0:
            rep.images["fig-coverage-batteries.png"] = _png(F.coverage_battery_panels(result))
            body.append(H.figure("fig-coverage-batteries.png", "One map per battery: from how many launch points it "
                                 "can engage a threat aimed at each point."))
        body += [H.figure("fig-coverage-share.png", "Per battery: the share of pairs it can engage."),
                 "<h3>Per launch point and battery</h3>", H.coverage_table(result)]
        sections.append(("coverage", "Coverage", "\n".join(body)))
        lap("figures (coverage)")

    if sensitivity and sc.batteries and (sc.threats or sc.coverage is not None):
        if res is not None:
            sample_res, what = res, f"the scenario's {len(sc.threats)} threats"
        else:
            pairs, what = sweeps.sample_pairs(sc, sample_pairs)
            log(f"sensitivity sample: {what}")
            sample_res = engage(sc, pairs=pairs)
        sens = sweeps.run(sample_res, speeds_km_s=speeds_km_s, delays_s=delays_s, bisections=bisections, sample=what,
                          log=log)
        lap("sensitivity")
        nominal = {}
        for b in sc.batteries:
            nominal.setdefault(b.interceptor, sc.interceptors[b.interceptor].burnout_speed_m_s * 1e-3)
        rep.images["fig-sensitivity-speed.png"] = _png(F.speed_sensitivity_figure(sens, nominal))
        valid = sample_res.flights.valid
        feasible = sample_res.engagements.feasible
        own = [(b.name, b.launch_delay_s, float(feasible[valid, j].mean()) if valid.any() else 0.0)
               for j, b in enumerate(sc.batteries)]
        rep.images["fig-sensitivity-delay.png"] = _png(F.delay_sensitivity_figure(sens, own))
        body = [f"<p>Sample: {H.esc(what)}. A battery engages a threat when its earliest launch t0 (cue time + "
                "launch delay) is no later than L, the latest interceptor launch that still reaches the threat "
                "inside the altitude band in time (found on the same 5-s free-flight samples and exact flyout "
                "times as <code>engage</code>). For the speed sweep, every interceptor type's burnout speed is "
                "replaced by each speed in turn (burn time, altitude band, cue and delay unchanged).</p>",
                H.figure("fig-sensitivity-speed.png", "Share of threats engageable against the interceptors' burnout "
                         f"speed ({', '.join(f'{v:g}' for v in sens.speeds_km_s)} km/s); dotted lines: the "
                         "scenario's own speeds."),
                H.figure("fig-sensitivity-delay.png", "Share of threats engageable against the launch delay "
                         f"({', '.join(f'{d:g}' for d in sens.delays_s)} s), per site, interceptor and cue; circles: "
                         "the scenario's batteries.")]
        if sens.threshold_km_s is not None:
            step = (np.diff(sens.speeds_km_s).max() if sens.speeds_km_s.size > 1 else 0.0) / 2 ** bisections
            body += ["<h3>Least burnout speed that engages (km/s)</h3>",
                     f"<p>Per threat and battery, to within {step:.2g} km/s (bisection between the sweep's speeds; "
                     "the value given is a speed verified to engage). Other parameters as in the scenario.</p>",
                     H.threshold_table(sens)]
        body += ["<h3>Timeline margin (s)</h3>",
                 "<p>L − t0 per threat and battery, at the scenario's speeds: how much later the interceptor could "
                 "launch and still intercept (negative: how much too late it is). L is in scenario seconds.</p>",
                 H.margin_table(sens),
                 "<h3>Longest launch delay that still engages (s)</h3>",
                 "<p>L minus the cue time (threat launch, or first detection for cue = track), per site, interceptor "
                 "and cue. Negative: even an immediate launch at the cue is too late.</p>", H.max_delay_table(sens)]
        sections.append(("sensitivity", "Sensitivity: burnout speed and launch delay", "\n".join(body)))
        lap("figures (sensitivity)")

    if sc.uncertainty is not None and sc.uncertainty.vary and sc.batteries and (sc.threats or sc.coverage is not None):
        unc = uncertainty_section(sc, workers=workers, log=log)
        lap("uncertainty")
        for name, fig in unc.figures.items():
            rep.images[name] = _png(fig)
        sections.append(("uncertainty", "Uncertainty: the probability of an intercept", unc.body))
        lap("figures (uncertainty)")

    text = None
    if sc.source and os.path.isfile(sc.source):
        try:
            text = read_scenario_text(sc.source)
        except ShieldlabError:
            text = None
    entries = [catalog.get(k, n) for k, n in sc.catalog_refs]
    sections.append(("sources", "Assumptions and sources", H.sources_section(
        sc, entries, own_numbers(text) if text else [], catalog.citations(sc.catalog_refs), catalog.CONFIDENCE_TAGS,
        text)))
    src = f" <code>{H.esc(sc.source)}</code>" if sc.source else ""
    sections.append(("reproduce", "Reproduce", "<pre>" + H.esc("\n".join(_commands(sc))) + "</pre>"
                     "<p>Kinematics at open-literature level only (vacuum ballistic flight, straight-boost "
                     "interceptor flyout, radar line of sight and range): not a model of discrimination, "
                     "kill probability, interceptor inventory or any real system's performance.</p>"))
    meta = (f"shieldlab {H.esc(__version__)} · catalog {H.esc(catalog.catalog_version())} · scenario{src} · "
            "times are scenario seconds from the threat's launch")
    rep.html = H.page(sc.name, meta, sections)
    return rep


def _commands(sc) -> list[str]:
    f = sc.source or "FILE.toml"
    cmds = []
    if sc.threats:
        cmds.append(f"shieldlab engage {f}")
    if sc.coverage is not None:
        cmds.append(f"shieldlab coverage {f}")
    if sc.uncertainty is not None:
        cmds.append(f"shieldlab uncertainty {f}")
    cmds.append(f"shieldlab report {f} --out DIR")
    return cmds


def _png(fig) -> bytes:
    return F.png_bytes(fig)


# --------------------------------------------------------------------------- writing
def check_out_dir(out_dir) -> Path:
    """The output directory, or ReportError when it cannot be one (an existing non-directory)."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ReportError(f"--out {out}: exists and is not a directory")
    return out


def write(rep: Report, out_dir) -> Path:
    """Write the report's files into out_dir atomically (temporary files, then os.replace, index.html last).
    Returns the path of index.html."""
    out = check_out_dir(out_dir)
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ReportError(f"--out {out}: cannot create the directory: {e.strerror or e}") from None
    tmp = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".shieldlab-report-", dir=out))
        for name, data in rep.images.items():
            (tmp / name).write_bytes(data)
        (tmp / "index.html").write_text(rep.html, encoding="utf-8")
        for name in rep.images:
            os.replace(tmp / name, out / name)
        os.replace(tmp / "index.html", out / "index.html")
    except BaseException as e:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp = None
        if created:
            shutil.rmtree(out, ignore_errors=True)
        if isinstance(e, OSError):
            raise ReportError(f"--out {out}: cannot write the report: {e.strerror or e}") from None
        raise
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return out / "index.html"


def build_report(scenario, out_dir, **kw) -> Path:
    """Load (if a path is given), build and write the report; returns the path of index.html. Keywords go
    to :func:`build`."""
    check_out_dir(out_dir)
    if isinstance(scenario, (str, os.PathLike)):
        from shieldlab.api import load_scenario

        scenario = load_scenario(scenario)
    return write(build(scenario, **kw), out_dir)
