"""The outputs of `shieldlab uncertainty FILE` (docs/scenario.md, Uncertainty; docs/models.md, Uncertainty): the
probability maps of a run over a [coverage] (`--out F.png`, shieldlab.output.uncertaintymap), the netCDF file read
back, the JSON document's keys, the text table, and the report's Uncertainty section.

The maps are checked on the figure objects (the arrays the panels draw), not on pixels. Small runs keep it fast:
an IRBM from two launch points in Iran against a 3 x 3 aim grid over Europe (part of it out of the missile's
reach from Semnan), two batteries whose launch delays are uniform and a radar whose range is triangular (the
inputs that cost least to vary: docs/models.md, Uncertainty).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from matplotlib.image import imread
from scenarios import EUROPE, FAST, battery, header, interceptor, missile, places, radar, table

from shieldlab.api import load_scenario_text, uncertainty
from shieldlab.output import uncertaintymap

VARY = """
[uncertainty]
samples = {samples}
seed = 1
sensitivity_samples = {sens}
vary = [
  {{ key = "batteries.romania.launch_delay", uniform = ["30 s", "400 s"] }},
  {{ key = "batteries.poland.launch_delay", uniform = ["0 s", "300 s"] }},
  {{ key = "sensors.kurecik.max_range", triangular = ["600 km", "1200 km", "1800 km"] }},
]
"""
# the radar's elevation mask instead of its range (the places and [[threats]] scenarios)
VARY_ELEVATION = VARY.replace("sensors.kurecik.max_range", "sensors.kurecik.min_elevation").replace(
    '["600 km", "1200 km", "1800 km"]', '["0.5 deg", "1 deg", "3 deg"]')
COVERAGE = (header("uncertainty map check") + places("semnan", "tabriz", "deveselu", "redzikowo", "kurecik")
            + missile("irbm", burnout_speed="4.6 km/s") + FAST
            + interceptor("slow", "40 s", "2.5 km/s", "80 km", "600 km")
            + radar("kurecik", "kurecik", "1800 km", "1 deg")
            + battery("romania", "deveselu", "fast") + battery("poland", "redzikowo", "slow", "30 s", cue="launch")
            + table("coverage", missile="irbm", trajectory="lofted", from_=["tabriz", "semnan"],
                    to={"lat": [36, 52], "lon": [14, 30], "step": "8 deg"}))
PLACES = (header("uncertainty places check") + places("semnan", "berlin", "rome", "athens", "deveselu", "redzikowo",
                                                      "kurecik")
          + missile("irbm") + FAST + radar("kurecik", "kurecik", "1800 km", "1 deg")
          + battery("romania", "deveselu", "fast") + battery("poland", "redzikowo", "fast")
          + table("coverage", missile="irbm", from_=["semnan"], to=["berlin", "rome", "athens"]))
THREATS = EUROPE  # two batteries (romania, poland) against one threat, Semnan to Berlin


@pytest.fixture(scope="module")
def grid_ds():
    return uncertainty(load_scenario_text(COVERAGE + VARY.format(samples=60, sens=0), "grid.toml")).to_dataset()


@pytest.fixture(scope="module")
def grid_fig(grid_ds):
    return uncertaintymap.probability_figure(grid_ds, dpi=40.0, scale="110m")


def _panels(fig) -> dict[tuple[str, str], object]:
    out = {}
    for ax in fig.axes:
        if ax.get_label().startswith(uncertaintymap.PROBABILITY_PANEL + ": "):
            launch, battery = ax.get_label()[len(uncertaintymap.PROBABILITY_PANEL) + 2:].split(" | ")
            out[(launch, battery)] = ax
    return out


def _probability_artist(ax, size: int):
    found = [c for c in ax.collections if c.get_array() is not None and np.size(c.get_array()) == size
             and c.cmap.name == uncertaintymap.PROBABILITY_CMAP]
    assert len(found) == 1
    return found[0]


def test_the_grid_run_has_aim_points_out_of_reach_and_probabilities_strictly_between_0_and_1(grid_ds):
    """The set-up the map tests need: some aim points cannot be computed (beyond the IRBM's reach from Semnan),
    and the uniform launch delay gives some aim point a probability neither 0 nor 1."""
    n = grid_ds["samples_computed"].values
    p = grid_ds["probability"].values
    assert (n == 0).any() and (n > 0).any()
    assert ((p > 0) & (p < 1)).any()


def test_one_panel_per_launch_point_and_battery_coloured_by_the_datasets_probability(grid_ds, grid_fig):
    """Every panel's mesh is its (launch, battery)'s probability over the aim grid, masked exactly where the
    threat could be computed in no sample; the scale runs from 0 to 1."""
    panels = _panels(grid_fig)
    launches, batteries = [str(x) for x in grid_ds["launch"].values], [str(x) for x in grid_ds["battery"].values]
    assert set(panels) == {(lo, b) for lo in launches for b in batteries}
    for (launch, battery), ax in panels.items():
        want = grid_ds["probability"].sel(launch=launch, battery=battery).transpose("lat", "lon").values
        none = grid_ds["samples_computed"].sel(launch=launch, battery=battery).transpose("lat", "lon").values == 0
        mesh = _probability_artist(ax, want.size)
        got = np.ma.masked_invalid(mesh.get_array()).reshape(want.shape)
        np.testing.assert_array_equal(np.ma.getmaskarray(got), none)
        np.testing.assert_array_equal(got.compressed(), want[~none])
        assert (mesh.norm.vmin, mesh.norm.vmax) == (0.0, 1.0)
        if none.any():  # the hatched cells of the coverage map
            assert any(getattr(c, "get_hatch", lambda: None)() == "xxx" for c in ax.collections + ax.patches
                       + [a for a in ax.artists])


def test_colour_bar_and_title(grid_ds, grid_fig):
    bars = [ax for ax in grid_fig.axes if ax.get_label() == uncertaintymap.PROBABILITY_COLORBAR]
    assert len(bars) == 1 and bars[0].get_xlabel() == "probability of an intercept"
    texts = " ".join(t.get_text() for t in grid_fig.texts)
    assert "uncertainty map check" in texts and "60 samples" in texts and "Earth: wgs84" in texts


def test_places_are_scattered_in_their_probability():
    ds = uncertainty(load_scenario_text(PLACES + VARY_ELEVATION.format(samples=40, sens=0), "places.toml")).to_dataset()
    fig = uncertaintymap.probability_figure(ds, dpi=40.0, scale="110m")
    panels = _panels(fig)
    assert len(panels) == 2
    for (launch, battery), ax in panels.items():
        want = ds["probability"].sel(launch=launch, battery=battery).values
        dots = _probability_artist(ax, want.size)
        np.testing.assert_array_equal(np.asarray(dots.get_array(), float), want)


def test_a_threats_dataset_is_not_mapped():
    ds = xr.Dataset({"probability": (("battery", "threat"), np.zeros((1, 1)))})
    with pytest.raises(ValueError, match="over \\[coverage\\] pairs"):
        uncertaintymap.probability_figure(ds)


# ---- the command line ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_run(shieldlab_cli, toml_file, tmp_path_factory):
    path = toml_file(COVERAGE + VARY.format(samples=40, sens=16), "cov.toml")
    out = tmp_path_factory.mktemp("out")
    r = shieldlab_cli("uncertainty", path, "--json", "--out", out / "p.nc", "--out", out / "p.png")
    assert r.returncode == 0, r.stderr
    return path, out, json.loads(r.stdout)


def test_png_is_written_and_readable(cli_run):
    _, out, _ = cli_run
    img = imread(out / "p.png")
    assert (out / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 200


def test_netcdf_round_trip_keeps_the_probability(cli_run):
    """The file read back holds the run's probabilities (the same file and seed give the same numbers: docs/models.md,
    Uncertainty)."""
    path, out, doc = cli_run
    with xr.open_dataset(out / "p.nc") as back:
        want = uncertainty(load_scenario_text(path.read_text(), str(path))).to_dataset()
        np.testing.assert_array_equal(back["probability"].values, want["probability"].values)
        assert back.attrs["samples"] == doc["samples"] == 40
        assert [str(b) for b in back["battery"].values] == ["romania", "poland"]


def test_json_document_keys(cli_run):
    _, _, doc = cli_run
    assert set(doc) == {"shieldlab_version", "scenario", "samples", "seed", "sensitivity_samples",
                        "sensitivity_evaluations", "vary", "pairs"}
    assert len(doc["pairs"]) == 18  # 2 launch points x 9 aim points
    rec = doc["pairs"][0]
    assert set(rec) == {"name", "errors", "error", "batteries"}
    assert set(rec["batteries"][0]) == {"battery", "probability", "probability_interval", "samples", "intercepts",
                                        "first_intercept_s", "margin_s", "samples_with_margin", "deciding",
                                        "sensitivity"}


def test_png_of_a_threats_run_is_refused(shieldlab_cli, toml_file, tmp_path):
    path = toml_file(THREATS + VARY_ELEVATION.format(samples=20, sens=0))
    r = shieldlab_cli("uncertainty", path, "--out", tmp_path / "p.png")
    assert r.returncode == 2
    assert "a probability map needs a run over a [coverage]" in r.stderr
    assert not (tmp_path / "p.png").exists()


def test_text_table_prints_one_row_per_battery(shieldlab_cli, toml_file):
    path = toml_file(THREATS + VARY_ELEVATION.format(samples=20, sens=0))
    r = shieldlab_cli("uncertainty", path, columns="200")
    assert r.returncode == 0, r.stderr
    rows = [ln for ln in r.stdout.splitlines() if ln.strip().startswith(("romania", "poland"))]
    assert [ln.split()[0] for ln in rows] == ["romania", "poland"]


# ---- the report ------------------------------------------------------------------------------------------------
def test_report_has_the_uncertainty_table_charts_and_maps():
    """`shieldlab report` of a scenario with an [uncertainty] table over [coverage] pairs: the probability table
    (one row per pair and battery, the document's numbers), a sensitivity chart per battery and the maps."""
    import re

    from shieldlab.report.build import build

    sc = load_scenario_text(COVERAGE + VARY.format(samples=40, sens=16), "report.toml")
    rep = build(sc, sensitivity=False)
    doc = uncertainty(sc).to_document()
    part = rep.html[rep.html.index('<section id="uncertainty">'):]
    part = part[:part.index("</section>")]
    want = ["fig-uncertainty-map.png", "fig-uncertainty-sensitivity-01.png", "fig-uncertainty-sensitivity-02.png"]
    for name in want:
        assert rep.images[name][:8] == b"\x89PNG\r\n\x1a\n" and f'src="{name}"' in part
    table = part[part.index("<h3>Probability of an intercept</h3>"):]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>", table)
    assert len(rows) == 18 * 2
    got = {(re.sub(r" <span.*", "", n), b): p for n, b, p in rows}
    for rec in doc["pairs"]:
        for b in rec["batteries"]:
            p = b["probability"]
            assert got[(rec["name"].replace(">", "&gt;"), b["battery"])] == ("—" if p is None else f"{p:.3f}")
    assert "shieldlab uncertainty report.toml" in rep.html


def test_report_of_a_run_too_large_for_one_process_exits_2(shieldlab_cli, toml_file, tmp_path):
    """As `shieldlab uncertainty`: more than MAX_SERIAL_EVALUATIONS engagements need --workers (checked before
    anything is computed; nothing written)."""
    from shieldlab.output.uncertaintyfiles import MAX_SERIAL_EVALUATIONS

    # one threat: the most samples a file may ask for (a million) and Saltelli's 16 x (3 + 2) more
    path = toml_file(THREATS + VARY_ELEVATION.format(samples=MAX_SERIAL_EVALUATIONS, sens=16))
    r = shieldlab_cli("report", path, "--out", tmp_path / "rep")
    assert r.returncode == 2 and "--workers N" in r.stderr
    assert not (tmp_path / "rep").exists()


def test_sensitivity_chart_draws_the_documents_indices_most_decisive_first():
    """Each panel of a battery's chart: per varied value (ranked by total index, as the document ranks them) a bar
    of its total and of its first-order Sobol index, error bars the 95 % bootstrap half-widths."""
    from shieldlab.report.uncertainty import MAX_SENSITIVITY_PANELS, sensitivity_figure, sensitivity_records

    doc = uncertainty(load_scenario_text(COVERAGE + VARY.format(samples=20, sens=16), "s.toml")).to_document()
    chosen = sensitivity_records(doc["pairs"], 0)
    assert 0 < len(chosen) <= MAX_SENSITIVITY_PANELS
    fig = sensitivity_figure(chosen, 0, "romania")
    axes = [ax for ax in fig.axes if ax.get_label().startswith("sensitivity: romania | ")]
    assert [ax.get_label().split(" | ")[1] for ax in axes] == [name for name, _ in chosen]
    for ax, (_, ranked) in zip(axes, chosen):
        totals = [r["total"] for r in ranked]
        assert totals[0] == max(t for t in totals if t is not None)
        labels = sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])  # top first
        assert [t.get_text() for t in labels] == [r["key"] for r in ranked]
        bars = sorted(ax.patches, key=lambda b: -b.get_y())  # top first: total, first-order, next value, ...
        widths = [b.get_width() for b in bars]
        want = [x for r in ranked for x in (r["total"] or 0.0, r["first"] or 0.0)]
        np.testing.assert_allclose(widths, want, rtol=0, atol=1e-12)
