"""The coverage map (`shieldlab coverage FILE --out map.png`, shieldlab.output.covermap): the margin panels
per battery with their colour bar, and the radar rings at the range against the coverage missile.

Checked on the figure objects (the arrays the panels draw, the colour scale, the rings' geometry), not on
pixels. A tiny scenario keeps it fast: an IRBM from two launch points in Iran against a 3 x 3 aim grid over
Europe, a battery that can engage part of it and one that is late, a radar with a reference range
(docs/models.md, Sensitivity: range against a cross-section) and one without.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from scenarios import FAST, battery, header, interceptor, missile, places, radar, table

from shieldlab.api import coverage, load_scenario_text
from shieldlab.earth import geodesic
from shieldlab.output import covermap
from shieldlab.output import geometry as G

SCENARIO = (header("covermap check") + places("semnan", "tabriz", "deveselu", "redzikowo", "kurecik", "izmir")
            + missile("irbm", burnout_speed="4.6 km/s", rcs="0.1 m2", rcs_boost="10 m2") + FAST
            + interceptor("slow", "40 s", "2.5 km/s", "80 km", "600 km")
            + radar("kurecik", "kurecik", "1800 km", "1 deg", reference_range="1000 km",
                    azimuth={"center": "90 deg", "half_width": "60 deg"})
            + radar("izmir", "izmir", "1500 km")
            + battery("romania", "deveselu", "fast") + battery("poland", "redzikowo", "slow", "30 s", cue="launch")
            + table("coverage", missile="irbm", trajectory="lofted", from_=["tabriz", "semnan"],
                    to={"lat": [36, 52], "lon": [14, 30], "step": "8 deg"}))

# docs/models.md, Sensitivity: range against a cross-section: R = R_ref (sigma / sigma_ref)^(1/4), capped by
# max_range (1800 km here)
KURECIK_RANGE_KM = 1000.0 * 0.1 ** 0.25  # 562.3 km against the 0.1 m2 warhead
KURECIK_BOOST_KM = 1000.0 * 10.0 ** 0.25  # 1778.3 km against the 10 m2 booster
RANGE_TOL_KM = 1e-6  # the Dataset's ranges are the same formula
RING_TOL_M = 50.0  # the ring's points lie on the geodesic circle (docs/models.md; ring spacing 2 deg)


@pytest.fixture(scope="module")
def ds():
    return coverage(load_scenario_text(SCENARIO)).to_dataset()


@pytest.fixture(scope="module")
def fig(ds):
    return covermap.coverage_figure(ds, dpi=50.0, scale="110m")


def _margin_axes(fig) -> dict[tuple[str, str], object]:
    out = {}
    for ax in fig.axes:
        if ax.get_label().startswith(covermap.MARGIN_PANEL + ": "):
            launch, battery = ax.get_label()[len(covermap.MARGIN_PANEL) + 2:].split(" | ")
            out[(launch, battery)] = ax
    return out


def test_the_scenario_has_margins_of_both_signs_and_none(ds):
    m = ds["margin_s"].values
    assert np.nanmax(m) > 0.0 and np.nanmin(m) < 0.0
    err = np.array([bool(str(e)) for e in np.ravel(ds["error"].values)])
    assert err.any() and (~err).any()


def test_one_margin_panel_per_launch_point_and_battery_draws_its_margins(ds, fig):
    """Each margin panel's mesh is that (launch, battery)'s margin_s over the aim grid (NaN where there is no
    margin, masked where the missile cannot fly the pair)."""
    panels = _margin_axes(fig)
    launches, batteries = [str(x) for x in ds["launch"].values], [str(x) for x in ds["battery"].values]
    assert set(panels) == {(l, b) for l in launches for b in batteries}
    for (launch, battery), ax in panels.items():
        want = ds["margin_s"].sel(launch=launch, battery=battery).transpose("lat", "lon").values
        err = np.array([bool(str(e)) for e in np.ravel(ds["error"].sel(launch=launch).values)]).reshape(want.shape)
        meshes = [c for c in ax.collections if hasattr(c, "get_array") and c.get_array() is not None
                  and np.size(c.get_array()) == want.size]
        margin = [c for c in meshes if c.cmap.name.startswith(covermap.MARGIN_CMAP)]
        assert len(margin) == 1
        got = np.ma.asarray(margin[0].get_array()).reshape(want.shape)
        none = ~err & np.isnan(want)  # no margin: drawn grey by a layer of its own
        assert np.array_equal(np.ma.getmaskarray(got), err | none)
        fin = ~err & np.isfinite(want)
        assert np.array_equal(got.data[fin], want[fin])
        grey = [c for c in meshes if c is not margin[0]]
        if none.any():
            assert len(grey) == 1 and np.array_equal(~np.ma.getmaskarray(grey[0].get_array()).reshape(want.shape), none)
            assert grey[0].cmap(0.5) == pytest.approx(to_rgba(covermap.NO_MARGIN_COLOR))
        else:
            assert not grey
        assert battery in ax.get_title(loc="left") and launch in ax.get_title(loc="left")


def test_the_margin_colour_bar_is_in_seconds_and_diverges_at_zero(ds, fig):
    """One colour bar, labelled in seconds; 0 s is its centre (white), lateness red, time to spare blue, no
    margin grey; its ends cover every margin of the map."""
    cbars = [ax for ax in fig.axes if ax.get_label() == covermap.MARGIN_COLORBAR]
    assert len(cbars) == 1
    label = cbars[0].get_xlabel()
    assert "margin (s)" in label and "latest launch − earliest launch" in label and "late" in label
    norm, cmap = covermap.margin_scale(ds), covermap.margin_cmap()
    m = ds["margin_s"].values
    assert norm.vcenter == 0.0 and norm.vmin <= np.nanmin(m) and norm.vmax >= np.nanmax(m)
    assert norm.vmin % 10 == 0 and norm.vmax % 10 == 0
    late = cmap(norm(np.nanmin(m)))
    spare = cmap(norm(np.nanmax(m)))
    zero = cmap(norm(0.0))
    assert late[0] > late[2] + 0.3 and spare[2] > spare[0] + 0.3  # red, blue
    assert min(zero[:3]) > 0.9  # white at 0 s
    assert cmap(np.ma.masked_invalid([np.nan]))[0] == pytest.approx(to_rgba(covermap.NO_MARGIN_COLOR))
    # the panels share this scale
    for ax in _margin_axes(fig).values():
        mesh = next(c for c in ax.collections if getattr(c, "norm", None) is not None
                    and isinstance(c.norm, type(norm)))
        assert (mesh.norm.vmin, mesh.norm.vcenter, mesh.norm.vmax) == (norm.vmin, 0.0, norm.vmax)


def test_radar_rings_are_at_the_range_against_the_missiles_cross_section(ds, fig):
    """A radar with a reference range: its ring at R_ref (sigma/sigma_ref)^(1/4) against the missile's 0.1 m2,
    and a dotted one against its 10 m2 booster; a radar without: at its maximum range. Labelled with it."""
    rings = {str(ds["sensor"].values[s]): r for s, r in enumerate(covermap.radar_rings(ds))}
    k, i = rings["kurecik"], rings["izmir"]
    assert k[3] == pytest.approx(KURECIK_RANGE_KM, abs=RANGE_TOL_KM)
    assert k[4] == pytest.approx(KURECIK_BOOST_KM, abs=RANGE_TOL_KM)
    assert "562 km vs 0.1 m²" in k[5] and "booster 1,778 km" in k[5]
    assert i[3] == 1500.0 and i[4] is None and "max range 1,500 km" in i[5]
    ax = fig.axes[0]
    lines = [ln for ln in ax.lines if to_rgba(ln.get_color()) == to_rgba(covermap.RADAR_COLOR)]
    dashed = [ln for ln in lines if ln.get_linestyle() == "--"]
    dotted = [ln for ln in lines if ln.get_linestyle() == ":"]
    assert len(dashed) == 2 and len(dotted) == 1
    earth = covermap.dataset_earth(ds)
    n = G.RADIAL_POINTS  # a sector's outline: the radial edges' points, the arc, back along the other edge
    for ln, lat, lon, r_km, arc in ((dashed[0], k[0], k[1], KURECIK_RANGE_KM, slice(n, -n)),
                                    (dotted[0], k[0], k[1], KURECIK_BOOST_KM, slice(n, -n)),
                                    (dashed[1], i[0], i[1], 1500.0, slice(None))):
        lo, la = ln.get_data()
        d = np.asarray(geodesic.inverse(earth, lat, lon, np.asarray(la), np.asarray(lo))[1], float)[arc]
        assert d.size > 10 and np.max(np.abs(d - r_km * 1e3)) < RING_TOL_M
    texts = " ".join(t.get_text() for a in fig.axes for t in a.texts)
    assert "562 km vs 0.1 m²" in texts and "max range 1,500 km" in texts


def test_the_legend_says_the_battery_panels_are_margins(fig):
    assert "per battery, by its margin (colour bar)" in fig.legends[0].get_title().get_text()


def test_many_launch_points_give_one_least_margin_panel_per_battery(ds, monkeypatch):
    """Beyond MAX_MARGIN_PANELS (launch point, battery) pairs the map keeps one panel per battery: at each aim
    point the least margin over the launch points (NaN only where none of them gives a margin)."""
    monkeypatch.setattr(covermap, "MAX_MARGIN_PANELS", 3)  # 2 launch points x 2 batteries = 4 > 3
    fig = covermap.coverage_figure(ds, dpi=50.0, scale="110m")
    panels = _margin_axes(fig)
    assert set(panels) == {("all launch points", str(b)) for b in ds["battery"].values}
    m = ds["margin_s"].transpose("launch", "lat", "lon", "battery").values
    err = np.array([bool(str(e)) for e in np.ravel(ds["error"].transpose("launch", "lat", "lon").values)])
    err_all = err.reshape(m.shape[:-1]).all(axis=0)
    for j, b in enumerate(str(x) for x in ds["battery"].values):
        mesh = next(c for c in panels[("all launch points", b)].collections
                    if getattr(c, "cmap", None) is not None and c.cmap.name.startswith(covermap.MARGIN_CMAP))
        got = np.ma.asarray(mesh.get_array()).reshape(err_all.shape)
        for i, k in np.ndindex(err_all.shape):
            vals = m[:, i, k, j][np.isfinite(m[:, i, k, j])]
            if err_all[i, k] or not vals.size:
                assert got.mask[i, k]
            else:
                assert got[i, k] == vals.min()
    titles = [ax.get_title(loc="left") for ax in panels.values()]
    assert all("least margin over 2 launch points" in t for t in titles)
    # the category panels per launch point stay
    assert sum("launched from" in ax.get_title(loc="left") for ax in fig.axes) == ds.sizes["launch"]
