"""The whole engagement of a scenario: threats, detections, track times and every battery's window."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab.earth.model import Earth
from shieldlab.engagement import window
from shieldlab.engagement.records import flatten
from shieldlab.interceptor.flyout import Flyout
from shieldlab.scenario.model import Scenario
from shieldlab.sensors.radar import RadarGeometry, detection_times
from shieldlab.threat.build import build_threats
from shieldlab.threat.trajectory import ThreatBatch


@dataclass
class EngageResult:
    scenario: Scenario
    earth: Earth
    names: list
    aims: list  # per threat: (lat_deg, lon_deg) or None
    threats: ThreatBatch
    detections_s: np.ndarray  # (n_threats, n_sensors), NaN: never seen
    track_time_s: np.ndarray  # (n_threats,)
    windows: list  # one window.Window per battery, in file order
    records: dict  # the same results as flat arrays (engagement/records.py)


def evaluate_threats(scenario: Scenario, earth: Earth, threats: ThreatBatch, tables=None):
    """Detections, track times and battery windows for already flown threats. `tables` (one
    FlyoutTable per battery, or None) speeds up the scan of large batches."""
    radars = [RadarGeometry(earth, s) for s in scenario.sensors]
    det = detection_times(threats, radars)
    track = np.fmin.reduce(det, axis=1) if det.shape[1] else np.full(threats.n, np.nan)  # NaN: never seen
    wins = []
    for j, b in enumerate(scenario.batteries):
        cue = track if b.cue == "track" else threats.launch_time_s
        t0 = np.where(threats.valid, cue + b.launch_delay_s, np.nan)
        table = None if tables is None else tables[j]
        wins.append(window.evaluate(threats, battery_flyout(scenario, earth, b), t0, table=table))
    return det, track, wins


def battery_flyout(scenario: Scenario, earth: Earth, battery) -> Flyout:
    return Flyout(earth, battery.at, scenario.interceptors[battery.interceptor])


def _or_nan(x):
    return float("nan") if x is None else x


def engage(scenario: Scenario) -> EngageResult:
    """Fly every [[threats]] entry and evaluate every sensor and battery against it."""
    earth = Earth.from_spec(scenario.earth)
    specs = scenario.threats
    nan = float("nan")
    threats = build_threats(
        earth, scenario.missiles, [t.missile for t in specs],
        [t.launch.lat_deg for t in specs], [t.launch.lon_deg for t in specs], [t.launch.alt_m for t in specs],
        [t.aim.lat_deg if t.aim else nan for t in specs], [t.aim.lon_deg if t.aim else nan for t in specs],
        [t.launch_time_s for t in specs], [t.trajectory.mode for t in specs],
        [_or_nan(t.trajectory.gamma_deg if t.aim else t.gamma_deg) for t in specs],
        [t.azimuth_deg if t.azimuth_deg is not None else nan for t in specs],
    )
    det, track, wins = evaluate_threats(scenario, earth, threats)
    aims = [(t.aim.lat_deg, t.aim.lon_deg) if t.aim else None for t in specs]
    rec = flatten(threats, [a[0] if a else nan for a in aims], [a[1] if a else nan for a in aims], det, track, wins)
    return EngageResult(scenario, earth, [t.name for t in specs], aims, threats, det, track, wins, rec)
