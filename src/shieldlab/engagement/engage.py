"""The whole engagement of a scenario: threats, detections, track times and every battery's window.

The `track` cue (docs/models.md, Engagements) runs from the threat's track time: the earliest track time over
all sensors (docs/models.md, Track formation; the earliest detection when no sensor has a track formation
time).

`evaluate_threats` is the one place that turns flown threats into typed results (engagement/results.py),
for `engage` (a scenario's [[threats]]) and for coverage chunks alike.
"""

from __future__ import annotations

import numpy as np

from shieldlab.earth.model import Earth
from shieldlab.engagement import window
from shieldlab.engagement.results import Detections, EngageResult, Engagements, Flights
from shieldlab.engagement.scan import free_flight_samples
from shieldlab.interceptor.flyout import Flyout
from shieldlab.scenario.model import Scenario
from shieldlab.sensors.radar import RadarGeometry, detection_times, track_times
from shieldlab.threat.build import threats_for_pairs, threats_for_scenario
from shieldlab.threat.trajectory import ascent_view


def evaluate_threats(scenario: Scenario, earth: Earth, threats, tables=None, samples=None) -> dict:
    """Flights, detections and engagements (the keyword arguments of EngageResult and CoverageResult)
    of flown threats against the scenario's sensors and batteries. `tables` (one FlyoutTable per
    battery, or None) speeds up the scan of large batches; `samples` (scan.free_flight_samples of these
    threats) are computed when a battery needs them and None is given."""
    radars = [RadarGeometry(earth, s) for s in scenario.sensors]
    det = detection_times(threats, radars)
    # docs/models.md, Track formation: the detection times where track_formation = 0
    tracks = track_times(threats, radars, det)
    track = np.fmin.reduce(tracks, axis=1) if tracks.shape[1] else np.full(threats.n, np.nan)  # NaN: no track
    wins = []
    for j, b in enumerate(scenario.batteries):
        cue = track if b.cue == "track" else threats.launch_time_s
        t0 = np.where(threats.valid, cue + b.launch_delay_s, np.nan)
        if samples is None and (threats.valid & np.isfinite(t0)).any():
            samples = free_flight_samples(threats)  # once, for every battery
        table = None if tables is None else tables[j]
        fo = battery_flyout(scenario, earth, b)
        win = window.evaluate(threats, fo, t0, samples, table=table)
        if b.boost_phase and threats.staged.any():
            # docs/models.md, Boost-phase intercepts: the staged threats' ascents too (exact flyout times)
            win = window.combine(win, window.evaluate(ascent_view(threats), fo, t0), np.flatnonzero(threats.staged))
        wins.append(win)
    return {"flights": Flights.of(threats), "detections": Detections.of(threats.valid, det, track, tracks),
            "engagements": Engagements.of(wins, threats.valid)}


def battery_flyout(scenario: Scenario, earth: Earth, battery) -> Flyout:
    return Flyout(earth, battery.at, scenario.interceptors[battery.interceptor])


def engage(scenario: Scenario, pairs=None) -> EngageResult:
    """Fly every [[threats]] entry and evaluate every sensor and battery against it. With `pairs`
    (coverage pair numbers), those [coverage] pairs instead, aimed one by one as [[threats]] entries
    are, and named like coverage pairs (`launch -> aim`)."""
    earth = Earth.from_spec(scenario.earth)
    if pairs is None:
        threats = threats_for_scenario(scenario, earth)
        names = tuple(t.name for t in scenario.threats)
    else:
        from shieldlab.coverage.pairs import layout, pair_names

        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1)
        threats = threats_for_pairs(scenario, earth, pairs, warm=False)
        every = pair_names(scenario, layout(scenario.coverage))
        names = tuple(every[k] for k in pairs)
    samples = free_flight_samples(threats)
    parts = evaluate_threats(scenario, earth, threats, samples=samples)
    return EngageResult(scenario, earth, names, **parts, threats=threats, samples=samples)
