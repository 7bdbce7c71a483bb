"""Regenerate every table of docs/case-studies.md from the case-study scenarios in this folder.

    python examples/case-studies/tables.py                  # print every table (Markdown) on stdout
    python examples/case-studies/tables.py --update docs/case-studies.md   # rewrite the page's tables in place
    python examples/case-studies/tables.py --check docs/case-studies.md    # exit 1 if the page's tables differ
    python examples/case-studies/tables.py --json-dir DIR   # read DIR/FILE.json, the output of
                                                            # `shieldlab engage examples/case-studies/FILE.toml --json`,
                                                            # instead of running shieldlab.api.engage

Every number comes from `shieldlab.api.engage(...).to_document()`, which is the `shieldlab engage FILE --json`
document: per threat and battery the latest launch `latest_launch_s` and the margin `margin_s` (latest launch minus
earliest launch), the track time `track_time_s`, and at the first and last intercepts `closing_speed_km_s` and
`crossing_angle_deg`. Margins are rounded to whole seconds ("+58": 58 s to spare; "−17": 17 s too late).

The page holds each table between `<!-- tables.py: KEY -->` and `<!-- end of tables.py -->`; `--update` replaces
what lies between, so prose written around the tables stays as it is.

The variant files (radar-warhead-*, track-10s-*, track-30s-*, energy-management-*) carry the batteries and threats
of the case files they name; each variant engagement is compared with the same threat and battery (same site,
interceptor type, cue and launch delay) in a case file. The latest launch does not depend on the radars, so for the
radar variants it must agree with the case file's; the script checks that.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent

# the case files, in the page's order, with their section numbers
CASES = {
    "epaa-phase3-vs-russia": "1",
    "epaa-phase4-vs-russia": "2",
    "poland-gbi-2007-vs-russia": "3",
    "march-2013-gbi-vs-north-korea": "4",
    "epaa-vs-iran": "5",
    "epaa-iib-ceiling-vs-iran-us": "5",
    "joint-system-russian-radars": "6",
    "east-coast-gbi-vs-iran": "7",
}
# the variant files of each region: which case files they take their batteries and threats from
REGIONS = {
    "russia": ["epaa-phase3-vs-russia", "epaa-phase4-vs-russia", "poland-gbi-2007-vs-russia"],
    "north-korea": ["march-2013-gbi-vs-north-korea"],
    "iran": ["epaa-vs-iran", "epaa-iib-ceiling-vs-iran-us", "east-coast-gbi-vs-iran"],
    "joint": ["joint-system-russian-radars"],
}
# the regions with an energy-management file (the joint system's batteries and threats are the Iran files')
EM_REGIONS = ("russia", "north-korea", "iran")
RADAR_VARIANTS = {"radar-warhead": "warhead cross-section", "track-10s": "track 10 s", "track-30s": "track 30 s"}
# the European sites whose intercept geometry the page gives
GEOMETRY_SITES = {"redzikowo": "Poland", "deveselu": "Romania"}
# the threats whose Poland/Romania intercepts the page lists one by one
GEOMETRY_THREATS = ("kozelsk-washington", "tatishchevo-washington", "semnan-washington", "tabriz-washington",
                    "semnan-london", "tabriz-london")
# the latest launch of a radar variant must equal the case file's (it does not depend on the radars); the engine
# finds it to 0.02 s, so 0.5 s is generous
SAME_LATEST_S = 0.5
# a latest launch counted as changed by energy management
EM_CHANGE_S = 0.5
MINUS = "\u2212"


# --------------------------------------------------------------------------- running
class Runs:
    """The engage documents of the scenario files, from shieldlab.api or from saved `--json` outputs."""

    def __init__(self, json_dir: Path | None = None):
        self.json_dir = json_dir

    @cache
    def scenario(self, stem: str):
        from shieldlab.api import load_scenario

        return load_scenario(HERE / f"{stem}.toml")

    @cache
    def doc(self, stem: str) -> dict:
        if self.json_dir is not None:
            return json.loads((self.json_dir / f"{stem}.json").read_text(encoding="utf-8"))
        from shieldlab.api import engage

        return engage(self.scenario(stem)).to_document()

    def batteries(self, stem: str) -> dict[str, tuple]:
        """battery name -> (site, interceptor type, cue, launch delay): what makes two batteries the same."""
        sc = self.scenario(stem)
        out = {}
        for b in sc.batteries:
            it = sc.interceptors[b.interceptor]
            kind = (it.burn_time_s, it.burnout_speed_m_s, it.min_altitude_m, it.max_altitude_m,
                    getattr(it, "max_flight_time_s", None))
            out[b.name] = ((round(b.at.lat_deg, 4), round(b.at.lon_deg, 4)), kind, b.cue, b.launch_delay_s)
        return out

    def site(self, stem: str, battery: str) -> str | None:
        """The place name of a battery's site, if it is one of GEOMETRY_SITES."""
        b = next(b for b in self.scenario(stem).batteries if b.name == battery)
        return b.at.name if b.at.name in GEOMETRY_SITES else None

    def interceptor(self, stem: str, battery: str) -> str:
        return next(b.interceptor for b in self.scenario(stem).batteries if b.name == battery)


def engagements(doc: dict):
    """(threat record, engagement record) of every threat and battery of an engage document."""
    for t in doc["threats"]:
        for e in t["engagements"] or []:
            yield t, e


def find_in_cases(runs: Runs, region: str, threat: str, key: tuple, variant_stem: str):
    """The case file's (stem, threat, engagement) for the same threat and the same battery (by `key`); None where
    no case file has both (the variant files take the union of their case files' batteries and threats)."""
    for stem in REGIONS[region]:
        names = [n for n, k in runs.batteries(stem).items() if k == key]
        if not names:
            continue
        for t in runs.doc(stem)["threats"]:
            if t["name"] == threat:
                e = next(e for e in t["engagements"] if e["battery"] == names[0])
                return stem, t, e
    return None  # a threat and a battery of two different case files: not a pair of the case studies


# --------------------------------------------------------------------------- formatting
def whole(x: float) -> int:
    return int(math.floor(x + 0.5))


def margin_cell(e: dict) -> str:
    """'+58', '−17' (whole seconds; '−0': late by less than half a second), or why there is no margin."""
    m = e["margin_s"]
    if m is None:
        return {"altitude": "altitude", "out-of-reach": "out of reach", "not-detected": "not detected"}.get(
            e["reason"], "—")
    r = whole(abs(m))
    return f"+{r}" if m >= 0 else f"{MINUS}{r}"


def seconds(x: float | None) -> str:
    if x is None:
        return "—"
    r = whole(x)
    return f"{MINUS}{-r}" if r < 0 else f"{r}"


def span(values: list[float], fmt) -> str:
    if not values:
        return "—"
    lo, hi = min(values), max(values)
    return fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)} to {fmt(hi)}"


def signed(x: float) -> str:
    r = whole(abs(x))
    return f"+{r}" if x >= 0 else f"{MINUS}{r}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def first_sensor(t: dict) -> str:
    if t["track_time_s"] is None:
        return "none"
    best = min((d for d in t["detections"] if d.get("track_s") is not None), key=lambda d: d["track_s"])
    return best["sensor"]


# --------------------------------------------------------------------------- the tables
def versions(runs: Runs) -> str:
    from shieldlab.api import __version__, catalog

    docs = {runs.doc(s)["shieldlab_version"] for s in CASES}
    assert docs == {__version__} or runs.json_dir is not None, docs
    return (f"shieldlab {', '.join(sorted(docs))} (`shieldlab version`), catalog {catalog.catalog_version()} "
            f"(`shieldlab catalog`)")


def margins(runs: Runs, stem: str) -> str:
    """One row per threat: its track time (first sensor), then the margin against every battery."""
    doc = runs.doc(stem)
    sc = runs.scenario(stem)
    cols = [b.name for b in sc.batteries]
    rows = []
    for t in doc["threats"]:
        if t["error"]:
            rows.append([t["name"], "error"] + ["—"] * len(cols))
            continue
        track = "none" if t["track_time_s"] is None else f"{seconds(t['track_time_s'])} ({first_sensor(t)})"
        by = {e["battery"]: e for e in t["engagements"]}
        rows.append([t["name"], track] + [margin_cell(by[c]) for c in cols])
    return table(["threat", "track (s)", *[f"`{c}`" for c in cols]], rows)


def latest(runs: Runs, stem: str) -> str:
    """Per battery: the latest launch L over the threats (range), and the first intercepts of the engaged ones."""
    doc = runs.doc(stem)
    rows = []
    for b in runs.scenario(stem).batteries:
        es = [(t, e) for t, e in engagements(doc) if e["battery"] == b.name]
        ls = [e["latest_launch_s"] for _, e in es if e["latest_launch_s"] is not None]
        ok = [e for _, e in es if e["feasible"]]
        first = [e["first_intercept"]["time_s"] for e in ok]
        alt = [e["first_intercept"]["altitude_km"] for e in ok]
        rows.append([f"`{b.name}`", f"{len(ok)}/{len(es)}", span(ls, seconds), span(first, seconds),
                     span(alt, seconds)])
    return table(["battery", "engages", "latest launch L (s)", "first intercept (s)", "its altitude (km)"], rows)


def sensitivity(runs: Runs, region: str) -> tuple[str, str]:
    """(per battery: engaged and margins under the catalog radars and each radar variant;
        per threat and battery whose answer changes: the margins)."""
    base: dict[tuple, dict] = {}
    var: dict[str, dict[tuple, dict]] = {}
    order: list[tuple] = []
    names: dict[tuple, str] = {}
    track: dict[str, dict[str, float | None]] = {"catalog": {}}
    for v in RADAR_VARIANTS:
        stem = f"{v}-{region}"
        keys = runs.batteries(stem)
        var[v] = {}
        track[v] = {}
        for t, e in engagements(runs.doc(stem)):
            key = keys[e["battery"]]
            found = find_in_cases(runs, region, t["name"], key, stem)
            if found is None:
                continue
            case, ct, ce = found
            pair = (e["battery"], t["name"])
            if pair not in base:
                order.append(pair)
                base[pair] = ce
                names[pair] = case
            var[v][pair] = e
            track[v][t["name"]] = t["track_time_s"]
            track["catalog"][t["name"]] = ct["track_time_s"]
            a, b = ce["latest_launch_s"], e["latest_launch_s"]
            if (a is None) != (b is None) or (a is not None and abs(a - b) > SAME_LATEST_S):
                raise AssertionError(f"{stem}: {pair}: latest launch {b} differs from {case}'s {a}")
    rows = []
    batteries = list(dict.fromkeys(p[0] for p in order))
    for bname in batteries:
        pairs = [p for p in order if p[0] == bname]
        cells = [f"`{bname}`"]
        for src in [base] + [var[v] for v in RADAR_VARIANTS]:
            es = [src[p] for p in pairs]
            n = sum(e["feasible"] for e in es)
            ms = [e["margin_s"] for e in es if e["margin_s"] is not None]
            cells.append(f"{n}/{len(es)}: {span(ms, signed)}")
        rows.append(cells)
    summary = table(["battery (radar cue)", "catalog radars", *RADAR_VARIANTS.values()], rows)
    changed = []
    for p in order:
        answers = [base[p]["feasible"]] + [var[v][p]["feasible"] for v in RADAR_VARIANTS]
        if len(set(answers)) > 1:
            changed.append([f"`{p[0]}`", p[1], margin_cell(base[p])] + [margin_cell(var[v][p]) for v in RADAR_VARIANTS])
    flips = table(["battery", "threat", "catalog radars", *RADAR_VARIANTS.values()], changed) if changed else (
        "No engagement changes its answer (engaged or not) under these variants.")
    return summary, flips


def track_times(runs: Runs, region: str) -> str:
    """Per threat: the track time (first sensor) with the catalog radars and under each radar variant."""
    rows = []
    first_case: dict[str, dict] = {}
    for stem in REGIONS[region]:
        for t in runs.doc(stem)["threats"]:
            first_case.setdefault(t["name"], t)
    variants = {v: {t["name"]: t for t in runs.doc(f"{v}-{region}")["threats"]} for v in RADAR_VARIANTS}
    for name, t in first_case.items():
        if name not in variants["radar-warhead"]:
            continue
        cells = [name, f"{seconds(t['track_time_s'])} ({first_sensor(t)})"]
        for v in RADAR_VARIANTS:
            tv = variants[v][name]
            if tv["track_time_s"] is None:
                cells.append("none")
            else:
                cells.append(f"{seconds(tv['track_time_s'])} ({first_sensor(tv)})")
        rows.append(cells)
    return table(["threat", "catalog radars: track (s)", *[f"{v}: track (s)" for v in RADAR_VARIANTS.values()]],
                 rows)


def energy_management(runs: Runs) -> str:
    """Per battery of the case files that energy management changes: how it moves its latest launch, and what it
    changes; then one row for all the batteries it does not change."""
    rows, unchanged = [], []
    for region in EM_REGIONS:
        stem = f"energy-management-{region}"
        keys = runs.batteries(stem)
        per: dict[str, list] = {}
        for t, e in engagements(runs.doc(stem)):
            key = keys[e["battery"]]
            # the same battery of a case file: same site, cue, delay and interceptor numbers, without energy management
            found = find_in_cases(runs, region, t["name"], key, stem)
            if found is None:
                continue  # not a pair of the case studies
            per.setdefault(e["battery"], []).append((t["name"], found[2], e))
        for bname, items in per.items():
            gains, newly, reach = [], [], []
            for threat, b0, b1 in items:
                l0, l1 = b0["latest_launch_s"], b1["latest_launch_s"]
                if l0 is None and l1 is not None:
                    reach.append(threat)
                elif l0 is not None and l1 is not None and l1 - l0 > EM_CHANGE_S:
                    gains.append((l1 - l0, threat))
                if b1["feasible"] and not b0["feasible"]:
                    newly.append(threat)
            interceptor = runs.interceptor(stem, bname).removesuffix("-em")
            if not (gains or newly or reach):
                what, most = "none", "—"
            else:
                parts = []
                if gains:
                    who = ", ".join(g[1] for g in gains) if len(gains) <= 3 else f"{len(gains)} threats"
                    parts.append(f"L later for {who}, by {span([g[0] for g in gains], lambda x: str(whole(x)))} s")
                if reach:
                    parts.append("now in reach: " + ", ".join(reach))
                if newly:
                    parts.append("now engaged: " + ", ".join(newly))
                what = "; ".join(parts)
                most = "—" if not gains else f"+{whole(max(gains)[0])} ({max(gains)[1]})"
            if what == "none":
                unchanged.append(bname)
                continue
            rows.append([f"`{bname}`", f"`{interceptor}`", f"{len(items)}", what, most])
    rows.append([f"the other {len(unchanged)} batteries", "all the others", "—", "none", "—"])
    return table(["battery", "interceptor", "threats", f"changed (L later by > {EM_CHANGE_S} s)",
                  "largest gain in L (s)"], rows)


def geometry(runs: Runs) -> tuple[str, str]:
    """(per case file and Poland/Romania battery: closing speed and crossing angle ranges at the first and last
    intercepts; the same, one row per listed threat)."""
    rows, detail = [], []
    for stem in CASES:
        doc = runs.doc(stem)
        for b in runs.scenario(stem).batteries:
            site = runs.site(stem, b.name)
            if site is None:
                continue
            ok = [(t, e) for t, e in engagements(doc) if e["battery"] == b.name and e["feasible"]]
            if not ok:
                continue
            fv = [e["first_intercept"]["closing_speed_km_s"] for _, e in ok]
            fa = [e["first_intercept"]["crossing_angle_deg"] for _, e in ok]
            lv = [e["last_intercept"]["closing_speed_km_s"] for _, e in ok]
            la = [e["last_intercept"]["crossing_angle_deg"] for _, e in ok]
            rows.append([f"`{stem}`", f"`{b.name}`", f"{len(ok)}", span(fv, lambda x: f"{x:.1f}"),
                         span(fa, lambda x: f"{whole(x)}"), span(lv, lambda x: f"{x:.1f}"),
                         span(la, lambda x: f"{whole(x)}")])
            for t, e in ok:
                if t["name"] in GEOMETRY_THREATS and stem in ("epaa-phase3-vs-russia", "epaa-phase4-vs-russia",
                                                               "epaa-vs-iran"):
                    f, last = e["first_intercept"], e["last_intercept"]
                    detail.append([t["name"], f"`{b.name}`", margin_cell(e),
                                   f"{seconds(f['time_s'])} s, {seconds(f['altitude_km'])} km",
                                   f"{f['closing_speed_km_s']:.1f}", f"{whole(f['crossing_angle_deg'])}",
                                   f"{seconds(last['time_s'])} s, {seconds(last['altitude_km'])} km",
                                   f"{last['closing_speed_km_s']:.1f}", f"{whole(last['crossing_angle_deg'])}"])
    summary = table(["file", "battery", "engaged", "closing speed, first (km/s)", "crossing angle, first (°)",
                     "closing speed, last (km/s)", "crossing angle, last (°)"], rows)
    per = table(["threat", "battery", "margin (s)", "first intercept", "closing (km/s)", "angle (°)",
                 "last intercept", "closing (km/s)", "angle (°)"], detail)
    return summary, per


# --------------------------------------------------------------------------- the page
def all_tables(runs: Runs) -> dict[str, str]:
    out = {"versions": versions(runs)}
    for stem in CASES:
        out[f"margins {stem}"] = margins(runs, stem)
        out[f"latest {stem}"] = latest(runs, stem)
    for region in REGIONS:
        out[f"sensitivity {region}"], out[f"changes {region}"] = sensitivity(runs, region)
        out[f"tracks {region}"] = track_times(runs, region)
    out["energy-management"] = energy_management(runs)
    out["geometry"], out["geometry threats"] = geometry(runs)
    return out


BLOCK = re.compile(r"(<!-- tables\.py: (?P<key>[^>]+?) -->\n)(?P<body>.*?)(<!-- end of tables\.py -->)", re.S)


def update(page: str, tables: dict[str, str]) -> tuple[str, list[str]]:
    """The page with its blocks replaced; the keys whose text changed."""
    changed, unknown = [], []

    def sub(m):
        key = m.group("key").strip()
        if key not in tables:
            unknown.append(key)
            return m.group(0)
        body = "\n" + tables[key] + "\n\n"  # blank lines: Markdown sees the table apart from the comments
        if body != m.group("body"):
            changed.append(key)
        return m.group(1) + body + m.group(4)

    new = BLOCK.sub(sub, page)
    if unknown:
        raise SystemExit(f"unknown table keys on the page: {unknown} (known: {sorted(tables)})")
    return new, changed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json-dir", type=Path, help="read DIR/STEM.json (`shieldlab engage STEM.toml --json`)")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--update", type=Path, metavar="PAGE", help="rewrite the page's tables in place")
    group.add_argument("--check", type=Path, metavar="PAGE", help="exit 1 if the page's tables are out of date")
    args = ap.parse_args(argv)
    tables = all_tables(Runs(args.json_dir))
    if args.update or args.check:
        path = args.update or args.check
        text = path.read_text(encoding="utf-8")
        new, changed = update(text, tables)
        if args.check:
            print("out of date: " + ", ".join(changed) if changed else "up to date")
            return 1 if changed else 0
        path.write_text(new, encoding="utf-8")
        print(f"{path}: updated {len(changed)} tables" + (f" ({', '.join(changed)})" if changed else ""))
        return 0
    for key, text in tables.items():
        print(f"<!-- tables.py: {key} -->\n\n{text}\n\n<!-- end of tables.py -->\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
