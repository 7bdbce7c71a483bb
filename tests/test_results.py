"""The typed results (shieldlab.engagement.results through shieldlab.api): the Reason vocabulary, what the
result types hold and say about themselves (reprs pinned, as Skyfield pins its reprs), immutability,
and the joins of coverage chunks.

The scenario is the `engagement-europe` validation geometry (an IRBM from Semnan, radar at Kürecik,
batteries at Deveselu and Redzikowo) plus a threat aimed beyond the missile's reach.
"""

from __future__ import annotations

import dataclasses
import json
import pickle

import numpy as np
import pytest
from scenarios import EUROPE_BATTERIES, FAST, IRBM, KURECIK_RADAR, SEMNAN_BERLIN, header, places, table, threat

from shieldlab.api import (NO_CODE, CoverageResult, Detections, EngageResult, Engagements, Flights, Intercepts,
                           Reason, coverage, engage, load_scenario_text)

TEXT = (header("results-check") + places("semnan", "tabriz", "berlin", "rome", "washington", "deveselu", "redzikowo",
                                        "kurecik")
        + IRBM + FAST + KURECIK_RADAR + EUROPE_BATTERIES + SEMNAN_BERLIN
        + threat("semnan-washington", "irbm", "semnan", "washington", trajectory="lofted")
        + table("coverage", missile="irbm", from_=["tabriz", "semnan"], to=["berlin", "rome", "washington"]))


@pytest.fixture(scope="module")
def sc():
    return load_scenario_text(TEXT, "results.toml")


@pytest.fixture(scope="module")
def res(sc):
    return engage(sc)


@pytest.fixture(scope="module")
def cov(sc):
    return coverage(sc, chunk_size=3)


# ------------------------------------------------------------------------------------------------ Reason
def test_reason_codes_are_stable_and_round_trip():
    # the NetCDF flag values of files already written (README "Coverage outputs"): never renumber
    assert [(r.value, r.code) for r in Reason] == [
        ("ok", 0), ("not-detected", 1), ("altitude", 2), ("out-of-reach", 3), ("timeline", 4)]
    for r in Reason:
        assert Reason.from_code(r.code) is r and Reason.from_code(np.int8(r.code)) is r
        assert Reason(r.value) is r
    assert NO_CODE == -1 and Reason.from_code(-1) is None
    with pytest.raises(ValueError, match="codes are -1"):
        Reason.from_code(5)


def test_reason_json_strings_and_texts():
    # docs/scenario.md, `shieldlab engage FILE --json`: reason is one of ok / not-detected / altitude /
    # out-of-reach / timeline
    assert json.dumps([r for r in Reason]) == '["ok", "not-detected", "altitude", "out-of-reach", "timeline"]'
    assert str(Reason.OUT_OF_REACH) == "out-of-reach" and f"{Reason.TIMELINE}" == "timeline"
    assert Reason.TIMELINE.explanation == "reachable, but not in time" and Reason.TIMELINE.label == "too late"
    assert len({r.label for r in Reason}) == len({r.explanation for r in Reason}) == len(Reason)


# ------------------------------------------------------------------------------------------------ engage
def test_engage_result_repr_and_parts(res):
    assert repr(res) == ("<EngageResult 'results-check': 2 threats x 1 sensor x 2 batteries, "
                         "2 of 4 engagements feasible, 1 error>")
    assert repr(res.flights) == "<Flights (2,): 1 computed, 1 error>"
    assert repr(res.detections) == "<Detections (2, 1): 1 seen>"
    assert repr(res.engagements) == "<Engagements (2, 2): ok 2, no reason (error) 2>"
    assert repr(res.engagements.first) == "<Intercepts (2, 2): 2 found>"
    assert isinstance(res, EngageResult) and res.names == ("semnan-berlin", "semnan-washington")
    assert isinstance(res.flights, Flights) and isinstance(res.detections, Detections)
    assert isinstance(res.engagements, Engagements) and isinstance(res.engagements.last, Intercepts)


def test_engage_result_agrees_with_its_document(res):
    doc = res.to_document()
    eng = res.engagements
    for i, t in enumerate(doc["threats"]):
        assert (t["error"] is None) == bool(res.flights.valid[i])
        for j, e in enumerate(t["engagements"]):
            r = eng.reason(i, j)
            assert e["reason"] == (None if r is None else r.value)
            assert e["feasible"] == bool(eng.feasible[i, j]) == (r is Reason.OK)
            if e["feasible"]:
                assert e["first_intercept"]["time_s"] == eng.first.time_s[i, j]
                assert e["last_intercept"]["altitude_km"] == eng.last.altitude_m[i, j] * 1e-3
    assert eng.count(Reason.OK) == 2 and eng.count(Reason.OK, axis=0).tolist() == [1, 1]
    # the unaimable threat: an error sentence, no figures, no reason
    assert "out of reach" in res.flights.error[1] and np.isnan(res.flights.impact_time_s[1])
    assert np.all(eng.reason_code[1] == NO_CODE)


def test_latest_launch_margin_and_geometry_fields(res):
    """docs/models.md, Intercept geometry and The latest launch, in the typed results: per threat and battery,
    and per intercept; NaN for the threat that cannot be computed; the JSON document says the same (km/s at the
    edge)."""
    eng = res.engagements
    for a in (eng.latest_launch_s, eng.margin_s, eng.first.closing_speed_m_s, eng.last.crossing_angle_deg):
        assert a.shape == (2, 2) and a.dtype == np.float64 and not a.flags.writeable
    assert np.array_equal(eng.margin_s, eng.latest_launch_s - eng.earliest_launch_s, equal_nan=True)
    ok = eng.feasible[0]
    assert ok.all() and (eng.margin_s[0] >= 0).all()
    assert (eng.latest_launch_s[0] >= eng.last.interceptor_launch_s[0]).all()
    assert np.isnan(eng.latest_launch_s[1]).all() and np.isnan(eng.last.closing_speed_m_s[1]).all()
    # an IRBM against SM-3-class interceptors: closing speeds of several km/s, angles in [0, 180]
    for ic in (eng.first, eng.last):
        assert ((ic.closing_speed_m_s[0] > 3000) & (ic.closing_speed_m_s[0] < 15000)).all()
        assert ((ic.crossing_angle_deg[0] >= 0) & (ic.crossing_angle_deg[0] <= 180)).all()
    doc = res.to_document()["threats"]
    for j, e in enumerate(doc[0]["engagements"]):
        assert e["latest_launch_s"] == eng.latest_launch_s[0, j] and e["margin_s"] == eng.margin_s[0, j]
        for part in ("first", "last"):
            ic = getattr(eng, part)
            assert e[f"{part}_intercept"]["closing_speed_km_s"] == ic.closing_speed_m_s[0, j] * 1e-3
            assert e[f"{part}_intercept"]["crossing_angle_deg"] == ic.crossing_angle_deg[0, j]
    assert all(e["latest_launch_s"] is None and e["margin_s"] is None for e in doc[1]["engagements"])
    empty = Engagements.empty(3, 2)
    assert np.isnan(empty.margin_s).all() and np.isnan(empty.first.crossing_angle_deg).all()


def test_results_are_immutable(res):
    with pytest.raises(ValueError, match="read-only"):
        res.engagements.feasible[0, 0] = False
    with pytest.raises(ValueError, match="read-only"):
        res.flights.impact_time_s[0] = 0.0
    with pytest.raises(ValueError, match="read-only"):
        res.threats.nodes[0, 0, 0] = 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.engagements.feasible = None
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.names = ()
    back = pickle.loads(pickle.dumps(res.engagements))
    assert np.array_equal(back.first.time_s, res.engagements.first.time_s, equal_nan=True)
    with pytest.raises(ValueError, match="read-only"):
        back.first.time_s[0, 0] = 0.0


def test_engage_of_coverage_pairs(sc, res, cov):
    """engage(scenario, pairs=...): the pairs as [[threats]] entries, named like coverage pairs."""
    one = engage(sc, pairs=[5])  # semnan -> berlin: the first [[threats]] entry
    assert one.names == ("semnan -> berlin",) == tuple(cov.names[5:])
    assert np.array_equal(one.engagements.feasible[0], res.engagements.feasible[0])
    assert np.array_equal(one.engagements.first.time_s[0], res.engagements.first.time_s[0], equal_nan=True)
    with pytest.raises(ValueError, match="pair numbers from 0 to 5"):
        engage(sc, pairs=[6])


# ------------------------------------------------------------------------------------------------ coverage
def test_coverage_result_repr(cov):
    assert repr(cov) == ("<CoverageResult 'results-check': 6 pairs (2 launch points x 3 aim points) x 1 sensor x "
                         "2 batteries, 9 of 12 engagements feasible>")
    assert cov.complete and cov.names == ["tabriz -> washington", "tabriz -> rome", "tabriz -> berlin",
                                          "semnan -> washington", "semnan -> rome", "semnan -> berlin"]


def test_coverage_chunks_join_into_the_whole(sc, cov):
    from shieldlab.coverage.run import evaluate_chunk

    parts = [evaluate_chunk(sc, [0, 1, 2]), evaluate_chunk(sc, [3, 4, 5])]
    assert not parts[0].complete and repr(parts[1]) == (
        "<CoverageResult 'results-check': 3 pairs (of 6) x 1 sensor x 2 batteries, 4 of 6 engagements feasible>")
    whole = CoverageResult.concat(parts)
    assert whole.complete and whole.to_document() == cov.to_document()
    assert np.array_equal(whole.engagements.first.time_s, cov.engagements.first.time_s, equal_nan=True)
    with pytest.raises(ValueError, match="every pair"):
        parts[0].to_dataset()
