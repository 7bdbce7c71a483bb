"""`shieldlab report FILE --out DIR` and the case-study scenarios (examples/case-studies/).

The report is built once, by the command as a user runs it (a subprocess), on a tiny scenario with two
sensitivity points; the rest checks its files, the sweeps' agreement with `engage`, atomic writing, and
that every case-study file loads (one is engaged), and that the margin tables of docs/case-studies.md are what
the case-study scenarios give (two files re-run here, cell by cell, plus a few key figures named in its prose).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np
import pytest

from shieldlab.api import engage, load_scenario, load_scenario_text

ROOT = Path(__file__).resolve().parents[1]
CASE_STUDIES = ROOT / "examples" / "case-studies"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CASE_PAGE = ROOT / "docs" / "case-studies.md"
# docs/case-studies.md rounds margins and latest launches to whole seconds (0.5 s), and the engine's latest launch
# is refined to 0.02 s (docs/models.md, "The latest launch"); 1 s leaves room for a refinement of a few tenths
MARGIN_TOL_S = 1.0

TINY = """
name = "report-check"

[places]
north-sea = { lat = 57.0, lon = 3.0 }   # a stated assumption, listed among the scenario's own numbers

[[sensors]]
radar = "tpy2-kurecik"

[[batteries]]
name = "romania-iia"
at = "deveselu"
interceptor = "sm3-iia"
cue = "track"
launch_delay = "60 s"

[[batteries]]
name = "north-sea-iib"
at = "north-sea"
interceptor = "sm3-iib"
cue = "launch"
launch_delay = "30 s"

[[threats]]
name = "semnan-berlin"
missile = "irbm-liquid"
from = "semnan"
to = "berlin"

[[threats]]
name = "tabriz-rome"
missile = "irbm-liquid"
from = "tabriz"
to = "rome"

[coverage]
missile = "irbm-liquid"
from = ["semnan", "tabriz"]
to = ["berlin", "rome"]
"""


@pytest.fixture(scope="module")
def tiny_file(toml_file) -> Path:
    return toml_file(TINY, "tiny.toml")


@pytest.fixture(scope="module")
def report_dir(shieldlab_cli, tiny_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out") / "report"
    proc = shieldlab_cli("report", tiny_file, "--out", out, "--speeds", "4,6", "--delays", "0,120")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    return out


# --------------------------------------------------------------------------- the report's files
def test_report_writes_index_and_figures(report_dir):
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    pngs = sorted(p.name for p in report_dir.glob("*.png"))
    assert {"fig-trajectories.png", "fig-timeline-01.png", "fig-timeline-02.png", "fig-coverage-map.png",
            "fig-coverage-share.png", "fig-sensitivity-speed.png", "fig-sensitivity-delay.png"} <= set(pngs)
    for section in ("Scenario", "Threats and engagements", "Coverage", "Sensitivity", "Assumptions and sources"):
        assert section in html
    # every image the page shows is a file beside it, and every figure written is shown
    shown = set(re.findall(r'<img src="([^"]+)"', html))
    assert shown == set(pngs)
    # no temporary files or directories left behind
    assert not [p for p in report_dir.iterdir() if p.name.startswith(".")]


def test_figures_are_valid_pngs(report_dir):
    from matplotlib import image

    for p in report_dir.glob("*.png"):
        data = p.read_bytes()
        assert data[:8] == PNG_MAGIC, p.name
        img = image.imread(p)
        assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 300, p.name


def test_html_is_self_contained(report_dir):
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    low = html.lower()
    assert "<script" not in low and "<link" not in low and "@import" not in low and "url(" not in low
    for attr in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert not re.match(r"[a-z][a-z0-9+.-]*:", attr, re.I), attr  # no scheme: local files and #anchors only
        assert attr.startswith("#") or (report_dir / attr).is_file(), attr
    # http(s):// may appear only in the citations text (the sources section)
    before_sources = html.split('<section id="sources">')[0]
    assert not re.search(r"https?://", before_sources, re.I)


def test_report_lists_sources_and_own_numbers(report_dir):
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    sources = html.split('<section id="sources">')[1]
    for ref in ("interceptors/sm3-iia", "interceptors/sm3-iib", "missiles/irbm-liquid", "radars/tpy2-kurecik",
                "places/semnan", "places/deveselu"):
        assert ref in sources
    assert "Arms Control Today" in sources  # the IIB's citation
    assert "launch_delay" in sources and "60 s" in sources and "57.0" in sources


def test_report_tables_match_engage(report_dir, tiny_file):
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    res = engage(load_scenario(tiny_file))
    eng = res.engagements
    assert eng.feasible.any()
    for i, j in zip(*np.nonzero(eng.feasible)):
        assert f"{eng.first.time_s[i, j]:.0f} s @ {eng.first.altitude_m[i, j] * 1e-3:.0f} km" in html


# --------------------------------------------------------------------------- errors
def test_bad_scenario_exits_2_and_writes_nothing(shieldlab_cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[[batteries]]\nname = "x"\nat = "nowhere-at-all"\ninterceptor = "sm3-iib"\n')
    out = tmp_path / "out"
    proc = shieldlab_cli("report", bad, "--out", out)
    assert proc.returncode == 2
    assert "bad.toml" in proc.stderr and "nowhere-at-all" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_bad_options_exit_2(shieldlab_cli, tiny_file, tmp_path):
    not_a_dir = tmp_path / "file.txt"
    not_a_dir.write_text("x")
    proc = shieldlab_cli("report", tiny_file, "--out", not_a_dir, "--speeds", "fast")
    assert proc.returncode == 2
    assert "--speeds" in proc.stderr and "not a directory" in proc.stderr
    assert not_a_dir.read_text() == "x"


def test_write_is_atomic(tmp_path, monkeypatch):
    from shieldlab.report import build as B

    rep = B.Report("<html></html>", {"fig-a.png": PNG_MAGIC + b"a", "fig-b.png": PNG_MAGIC + b"b"})
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return os.rename(src, dst)

    monkeypatch.setattr(B.os, "replace", failing_replace)
    new = tmp_path / "new"
    with pytest.raises(B.ReportError):
        B.write(rep, new)
    assert not new.exists()  # a directory created for the report is removed again
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "index.html").write_text("old")
    calls.clear()
    with pytest.raises(B.ReportError):
        B.write(rep, existing)
    assert (existing / "index.html").read_text() == "old"
    assert sorted(p.name for p in existing.iterdir()) in (["index.html"], ["fig-a.png", "index.html"])
    monkeypatch.undo()
    assert B.write(rep, existing) == existing / "index.html"
    assert (existing / "fig-b.png").read_bytes() == PNG_MAGIC + b"b"
    assert not [p for p in existing.iterdir() if p.name.startswith(".")]


# --------------------------------------------------------------------------- the sweeps
def test_latest_launch_agrees_with_engage(tiny_file):
    from shieldlab.report import sweeps

    sc = load_scenario(tiny_file)
    res = engage(sc)
    sens = sweeps.run(res, speeds_km_s=(4.0, 6.0), delays_s=(0.0, 120.0), bisections=2)
    feasible = np.isfinite(sens.t0_s) & (sens.t0_s <= sens.latest_s)
    assert (feasible == res.engagements.feasible).all()
    # faster never loses an intercept; a longer delay never gains one
    f = sens.speed_feasible()
    assert (f[1] >= f[0]).all()
    d = sens.delay_feasible()
    assert (d[1] <= d[0]).all()
    # a threshold is a speed that engages, and within the sweep's bracket
    th = sens.threshold_km_s
    for i, j in zip(*np.nonzero(np.isfinite(th))):
        assert 4.0 < th[i, j] <= 6.0 and f[1, i, j] and not f[0, i, j]


def test_coverage_sample_without_threats(tiny_file):
    from dataclasses import replace

    from shieldlab.report import sweeps

    sc = replace(load_scenario(tiny_file), threats=())
    pairs, what = sweeps.sample_pairs(sc, max_pairs=3)
    assert len(pairs) == 3 and "3 of the 4" in what
    res = engage(sc, pairs=pairs)
    assert len(res.names) == 3 and res.names[0].startswith("semnan -> ")
    assert res.flights.launch_lat_deg[0] == sc.coverage.launch[0].lat_deg


def test_own_numbers_lists_the_files_values():
    from shieldlab.report.build import own_numbers

    rows = own_numbers(TINY)
    assert ("[places]", "north-sea", "{ lat = 57.0, lon = 3.0 }") in rows
    assert any(w.startswith("[[batteries]] #1 romania-iia") and k == "launch_delay" and v == '"60 s"'
               for w, k, v in rows)
    assert not any(k in ("name", "interceptor", "missile", "radar") for _, k, _ in rows)


# --------------------------------------------------------------------------- case studies
CASE_FILES = sorted(CASE_STUDIES.glob("*.toml"))


def test_case_studies_exist():
    names = {p.name for p in CASE_FILES}
    assert {"epaa-phase3-vs-russia.toml", "epaa-phase4-vs-russia.toml", "march-2013-gbi-vs-north-korea.toml",
            "epaa-vs-iran.toml", "joint-system-russian-radars.toml", "east-coast-gbi-vs-iran.toml"} <= names


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_case_study_loads(path):
    sc = load_scenario(path)
    assert sc.threats and sc.batteries and sc.sensors
    assert sc.catalog_refs  # they use the catalog by name
    text = path.read_text(encoding="utf-8")
    command = "uncertainty" if sc.uncertainty is not None else "engage"
    assert f"shieldlab {command} examples/case-studies/" + path.name in text  # says how to run it
    # the Iranian-threat pair differs only by the Russian radars
    if path.name == "joint-system-russian-radars.toml":
        base = load_scenario(CASE_STUDIES / "epaa-vs-iran.toml")
        assert [s.name for s in sc.sensors] == [s.name for s in base.sensors] + ["armavir", "gabala"]
        assert sc.batteries == base.batteries and sc.threats == base.threats and sc.coverage == base.coverage


def test_case_study_engage_iib_ceiling():
    """The smallest case study, engaged: what docs/case-studies.md reports for it."""
    res = engage(load_scenario(CASE_STUDIES / "epaa-iib-ceiling-vs-iran-us.toml"))
    batteries = [b.name for b in res.scenario.batteries]
    feas = {b: res.engagements.feasible[:, j] for j, b in enumerate(batteries)}
    i = res.names.index("semnan-washington")
    assert res.flights.valid.all()
    assert feas["poland-1500km"][i] and feas["north-sea-1500km"][i] and feas["romania-1500km"][i]
    assert not feas["poland-1000km"][i] and not feas["north-sea-1000km"][i]
    assert math.isclose(res.detections_s[i, 0], 173.7, abs_tol=1.0)  # Kurecik sees it during the boost


def _page_table(key: str) -> dict[tuple[str, str], str]:
    """A generated table of docs/case-studies.md (between `<!-- tables.py: KEY -->` and its end): (first column,
    column header) -> cell text."""
    text = CASE_PAGE.read_text(encoding="utf-8")
    block = re.search(rf"<!-- tables\.py: {re.escape(key)} -->\n(.*?)<!-- end of tables\.py -->", text, re.S)
    assert block, f"docs/case-studies.md: no generated table {key!r} (python examples/case-studies/tables.py --update)"
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in block[1].strip().splitlines()]
    header = [c.strip("`") for c in rows[0]]
    return {(r[0], header[k]): r[k] for r in rows[2:] for k in range(1, len(header))}


def _seconds(cell: str) -> float:
    return float(cell.replace("\u2212", "-").replace("+", ""))


@pytest.mark.parametrize("stem", ["epaa-iib-ceiling-vs-iran-us", "epaa-phase3-vs-russia"])
def test_case_study_page_margins_match_the_runs(stem):
    """Every margin the page's table gives for the file is the engine's `margin_s`, to the page's whole seconds;
    a cell without a number names the reason."""
    res = engage(load_scenario(CASE_STUDIES / f"{stem}.toml"))
    cells = _page_table(f"margins {stem}")
    words = {"out-of-reach": "out of reach", "altitude": "altitude", "not-detected": "not detected"}
    checked = 0
    for i, threat in enumerate(res.names):
        for j, b in enumerate(res.scenario.batteries):
            cell = cells[(threat, b.name)]
            margin = res.engagements.margin_s[i, j]
            if math.isnan(margin):
                assert cell == words[res.engagements.reason(i, j).value], (threat, b.name, cell)
            else:
                assert abs(_seconds(cell) - margin) <= MARGIN_TOL_S, (threat, b.name, cell, margin)
                assert cell.startswith("+") == bool(res.engagements.feasible[i, j]), (threat, b.name, cell)
            checked += 1
    assert checked == len(res.names) * len(res.scenario.batteries) >= 30


def test_case_study_page_key_figures():
    """Figures the page's prose and summary build on (docs/case-studies.md, sections 1 and 5): GAO's ranking of the
    IIB sites by margin, the 1000 km Poland IIB's latest launch during the 250 s boost, the Poland IIA's thin
    launch-warning margin against Kozelsk->Washington."""
    cells = _page_table("margins epaa-iib-ceiling-vs-iran-us")
    semnan = {b: _seconds(cells[("semnan-washington", b)]) for b in ("north-sea-1500km", "poland-1500km",
                                                                       "romania-1500km")}
    assert semnan["north-sea-1500km"] > semnan["poland-1500km"] > semnan["romania-1500km"] > 0, semnan
    assert abs(semnan["poland-1500km"] - 284) <= MARGIN_TOL_S, semnan
    latest = _page_table("latest epaa-iib-ceiling-vs-iran-us")
    low, high = (_seconds(x) for x in latest[("`poland-1000km`", "latest launch L (s)")].split(" to "))
    assert (low, high) == (128, 233) and high < 250, (low, high)  # every latest launch during the boost
    phase3 = _page_table("margins epaa-phase3-vs-russia")
    assert phase3[("kozelsk-washington", "poland-launch-30")] == "+58"
    assert phase3[("kozelsk-washington", "poland-launch-60")] == "+28"
    assert phase3[("kozelsk-washington", "poland-track-60")].startswith("\u2212")
    # the prose states the same figures as the tables
    prose = CASE_PAGE.read_text(encoding="utf-8")
    for figure in ("**+58 s**", "**+28 s**", "+263 to +285 s", "L = 518 s to **143 s**"):
        assert figure in prose, f"docs/case-studies.md: expected {figure!r} in the prose (section 1 or 5)"


def test_tiny_text_scenario_matches_file(tiny_file):
    assert load_scenario_text(TINY).batteries == load_scenario(tiny_file).batteries


# --------------------------------------------------------------------------- margins and geometry (issue 12)
def _threat_section(html: str, name: str) -> str:
    """The report's part about one threat: from its heading to the next one."""
    start = html.index(f"<h3>{name}</h3>")
    nxt = html.find("<h3>", start + 4)
    return html[start:nxt if nxt > 0 else None]


def test_report_engage_tables_give_margin_latest_launch_and_geometry_of_the_json(report_dir, tiny_file):
    """Per threat and battery: earliest launch, latest launch L, the margin L − t0 in the text table's words
    (docs/models.md, The latest launch), and at the first and last intercept the closing speed and
    crossing angle (docs/models.md "Intercept geometry"), all as `engage --json` gives them."""
    from shieldlab.output.margin import margin_str
    from shieldlab.output.table import margin_text

    html = (report_dir / "index.html").read_text(encoding="utf-8")
    doc = engage(load_scenario(tiny_file)).to_document()
    kinds = set()
    for t in doc["threats"]:
        part = _threat_section(html, t["name"])
        assert "closing speed, crossing angle (first)" in part and "0° head-on, 180° a tail chase" in part
        for e in t["engagements"]:
            m = e["margin_s"]
            words = margin_str(m)
            assert words == margin_text(m).plain  # one formatter for the text table and the report
            cls = "na" if m is None else "spare" if m >= 0 else "late"
            kinds.add(cls)
            L = "—" if e["latest_launch_s"] is None else f"{e['latest_launch_s']:.1f}"
            row = (f'<td>{e["battery"]}</td><td class="num">{e["earliest_launch_s"]:.1f}</td>'
                   f'<td class="num">{L}</td><td class="{cls}">{words}</td>')
            assert row in part, (t["name"], e["battery"], row)
            if e["feasible"]:
                for i in (e["first_intercept"], e["last_intercept"]):
                    assert f"{i['closing_speed_km_s']:.2f} km/s, {i['crossing_angle_deg']:.0f}°" in part
                    assert 0.0 <= i["crossing_angle_deg"] <= 180.0 and i["closing_speed_km_s"] > 0.0
    assert "spare" in kinds, "the tiny scenario has a battery with time to spare"
    # the threats x batteries matrix gives the margin too
    matrix = html.split('<section id="results">')[1].split("</section>")[0]
    for t in doc["threats"]:
        for e in t["engagements"]:
            m = margin_str(e["margin_s"])
            assert (m if m.startswith("late by") else f"margin {m}") in matrix


def test_report_lists_each_sensors_detection_and_track_time(report_dir, tiny_file):
    """docs/models.md "Track formation": per sensor, its first detection and its track time."""
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    doc = engage(load_scenario(tiny_file)).to_document()
    for t in doc["threats"]:
        part = _threat_section(html, t["name"])
        assert "<th>track time s</th>" in part
        for d in t["detections"]:
            first = "never" if d["time_s"] is None else f"{d['time_s']:.1f}"
            track = ("never" if d["time_s"] is None else "no track") if d["track_s"] is None else f"{d['track_s']:.1f}"
            assert f'<td>{d["sensor"]}</td><td class="num">{first}</td><td class="num">{track}</td>' in part


def test_timeline_figure_marks_t0_and_the_latest_launch(tiny_file):
    """The timeline's margin bar of each battery runs from its earliest launch t0 to its latest launch L,
    blue when there is time to spare, red when late; a battery without a margin has none."""
    from matplotlib.colors import to_rgba

    from shieldlab.output.margin import margin_str
    from shieldlab.report import figures as F

    doc = engage(load_scenario(tiny_file)).to_document()
    n_bars = 0
    for t in doc["threats"]:
        fig = F.timeline_figure(t)
        ax = fig.axes[0]
        bars = {ln.get_gid(): ln for ln in ax.lines if (ln.get_gid() or "").startswith("margin:")}
        texts = " ".join(x.get_text() for x in ax.texts)
        for e in t["engagements"]:
            bar = bars.get(f"margin:{e['battery']}")
            if e["margin_s"] is None:
                assert bar is None
                continue
            n_bars += 1
            x0, x1 = bar.get_xdata()
            assert x0 == e["earliest_launch_s"] and x1 == e["latest_launch_s"]
            kind = "spare" if e["margin_s"] >= 0 else "late"
            assert to_rgba(bar.get_color()) == to_rgba(F.MARGIN_COLORS[kind])
            assert margin_str(e["margin_s"]) in texts and f"L {e['latest_launch_s']:.0f} s" in texts
        legend = " ".join(x.get_text() for x in fig.legends[0].get_texts())
        assert "earliest launch t₀" in legend and "latest launch L" in legend
    assert n_bars > 0
