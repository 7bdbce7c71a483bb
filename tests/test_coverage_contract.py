"""Coverage results equal `engage` of the same pair alone, on every pair of case-study ranges where the
flyout-table scan is hardest (docs/models.md, Coverage: "Each pair's record is the one `engage` gives for that
pair alone, to the validation tolerances"):

- epaa-vs-iran, pairs 240-280: threats that leave the SM-3 IIA band (1,000 km) and come back into it
  on the way down, where the last intercept lies in the second stretch (pairs 252 and 266);
- east-coast-gbi-vs-iran, pairs 110-175: windows of ~20 s whose best margin is within the table's
  error of zero (pairs 121 and 167);
- epaa-phase4-vs-russia, every pair.
"""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from shieldlab.api import engage, load_scenario
from shieldlab.coverage import run as cov
from shieldlab.coverage.pairs import layout
from shieldlab.scenario.model import Point, ThreatSpec

CASES = Path(__file__).resolve().parents[1] / "examples" / "case-studies"
INTERCEPT_TIME_TOL_S = 3.0  # docs/models.md, Validation vectors: first intercept time (applied to the last one too)


@pytest.mark.parametrize("name, first, stop", [
    ("epaa-vs-iran", 240, 281),
    ("east-coast-gbi-vs-iran", 110, 176),
    ("epaa-phase4-vs-russia", 0, None),
])
def test_coverage_pairs_equal_engage(name, first, stop):
    sc = load_scenario(CASES / f"{name}.toml")
    lay = layout(sc.coverage)
    idx = np.arange(first, lay.n_pairs if stop is None else stop)
    rec = cov.evaluate_chunk(sc, idx, cov.build_tables(sc)).engagements  # the table scan, as in large runs
    c = sc.coverage
    threats = []
    for k in idx:
        li, ai = (int(v) for v in lay.pair(k))
        threats.append(ThreatSpec(name=f"pair {k}", missile=c.missile, launch=lay.launch[li],
                                  aim=Point(float(lay.aim_lat_deg[ai]), float(lay.aim_lon_deg[ai])),
                                  trajectory=c.trajectory, launch_time_s=c.launch_time_s))
    one = engage(dataclasses.replace(sc, threats=tuple(threats), coverage=None)).engagements
    assert np.array_equal(one.feasible, rec.feasible), [
        (int(idx[i]), sc.batteries[j].name) for i, j in zip(*np.nonzero(one.feasible != rec.feasible))]
    assert np.array_equal(one.reason_code, rec.reason_code)
    ok = one.feasible
    for f in ("first", "last"):
        d = np.abs(getattr(one, f).time_s[ok] - getattr(rec, f).time_s[ok])
        assert d.max(initial=0.0) <= INTERCEPT_TIME_TOL_S, (f, d.max())
