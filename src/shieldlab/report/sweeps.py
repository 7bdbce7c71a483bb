"""Sensitivity sweeps for the report: interceptor burnout speed and launch delay.

A battery engages a threat exactly when its earliest launch t0 (cue time + launch delay) is no later than L,
the latest interceptor launch that still intercepts (docs/models.md, The latest launch:
`Engagements.latest_launch_s` at the scenario's own interceptors, `shieldlab.api.latest_launch` for others). L
depends on the site and interceptor type only, not on the cue or the delay; one L per (site, interceptor)
gives every battery's answer for every delay, and its margin L - t0. For the speed sweep, every interceptor
type's burnout speed is replaced (dataclasses.replace) by each speed in turn, everything else unchanged, and L
recomputed; the least speed that engages is then refined by bisection per threat and battery.

Everything here runs on an EngageResult: the scenario's [[threats]], or (when it has none) an evenly
spread subset of its [coverage] pairs (:func:`sample_pairs`, then ``engage(scenario, pairs=...)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from shieldlab.api import Point, Scenario, count_pairs, latest_launch
from shieldlab.output.geometry import point_label

DEFAULT_SPEEDS_KM_S = (3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0)
DEFAULT_DELAYS_S = (0.0, 30.0, 60.0, 90.0, 120.0, 180.0, 240.0, 300.0)
DEFAULT_BISECTIONS = 4  # a 0.5 km/s grid interval refined to 1/32 km/s
MAX_SAMPLE_PAIRS = 60


# --------------------------------------------------------------------------- groups
@dataclass(frozen=True)
class Group:
    """Batteries with the same site and interceptor type (they differ only in cue and delay)."""

    label: str
    site: Point
    interceptor: str
    batteries: tuple[int, ...]


def groups(scenario: Scenario) -> list[Group]:
    """The (site, interceptor type) groups of the scenario's batteries, in order of first appearance."""
    found: dict[tuple, list[int]] = {}
    for j, b in enumerate(scenario.batteries):
        key = (round(b.at.lat_deg, 6), round(b.at.lon_deg, 6), round(b.at.alt_m, 1), b.interceptor)
        found.setdefault(key, []).append(j)
    out = []
    for key, js in found.items():
        b = scenario.batteries[js[0]]
        site = point_label(b.at, 2)
        out.append(Group(f"{site} / {b.interceptor}", b.at, b.interceptor, tuple(js)))
    return out


def battery_group(scenario: Scenario) -> list[int]:
    """For each battery, the index of its group in :func:`groups`."""
    g = groups(scenario)
    out = [0] * len(scenario.batteries)
    for k, grp in enumerate(g):
        for j in grp.batteries:
            out[j] = k
    return out


# --------------------------------------------------------------------------- the latest launch
def _latest(res, group: Group, speed_m_s: float | None = None, threats=None) -> np.ndarray:
    """L per threat for the group's site and interceptor type (its burnout speed replaced when given)."""
    it = res.scenario.interceptors[group.interceptor]
    if speed_m_s is not None:
        it = replace(it, burnout_speed_m_s=float(speed_m_s))
    return latest_launch(res, group.site, it, threats=threats)


# --------------------------------------------------------------------------- the sweeps
@dataclass
class Sensitivity:
    """Everything the report's sensitivity section shows. Arrays are indexed [threat, battery] unless said."""

    sample: str  # what the shares are shares of, in words
    threat_names: list[str]
    battery_names: list[str]
    groups: list[Group]
    battery_group: list[int]
    t0_s: np.ndarray  # earliest launch per threat and battery (NaN: not detected)
    latest_s: np.ndarray  # L at the scenario's own speeds, per threat and battery
    speeds_km_s: np.ndarray
    speed_latest_s: np.ndarray  # [speed, threat, group]
    delays_s: np.ndarray
    cue_lines: list[tuple[str, int, str]] = field(default_factory=list)  # (label, group, cue) of the delay plot
    threshold_km_s: np.ndarray | None = None  # least burnout speed that engages; -inf: <= the lowest, inf: none
    valid: np.ndarray | None = None  # threats that could be computed
    cue_times_s: dict[str, np.ndarray] = field(default_factory=dict)  # "track" / "launch": per threat

    @property
    def n_valid(self) -> int:
        return int(np.count_nonzero(self.valid))

    def margin_s(self) -> np.ndarray:
        """L - t0: how much later the interceptor could launch (negative: how much too late it is)."""
        with np.errstate(invalid="ignore"):
            return self.latest_s - self.t0_s

    def speed_feasible(self) -> np.ndarray:
        """[speed, threat, battery] booleans."""
        L = self.speed_latest_s[:, :, self.battery_group]
        with np.errstate(invalid="ignore"):
            return np.isfinite(self.t0_s)[None] & (self.t0_s[None] <= L)

    def speed_share(self) -> tuple[np.ndarray, np.ndarray]:
        """Share (0..1) of computable threats engageable, per [speed, battery] and per speed by any battery."""
        f = self.speed_feasible()[:, self.valid, :]
        n = max(self.n_valid, 1)
        return f.sum(axis=1) / n, f.any(axis=2).sum(axis=1) / n

    def delay_feasible(self) -> np.ndarray:
        """[delay, threat, line] booleans, at the scenario's own speeds."""
        out = np.zeros((self.delays_s.size, len(self.threat_names), len(self.cue_lines)), bool)
        for k, (_, g, cue) in enumerate(self.cue_lines):
            L = self.latest_s[:, self.groups[g].batteries[0]]
            t0 = self.cue_times_s[cue][None, :] + self.delays_s[:, None]
            with np.errstate(invalid="ignore"):
                out[:, :, k] = np.isfinite(t0) & (t0 <= L[None, :])
        return out

    def delay_share(self) -> tuple[np.ndarray, np.ndarray]:
        """Share (0..1) of computable threats engageable, per [delay, line] and per delay by any line."""
        f = self.delay_feasible()[:, self.valid, :]
        n = max(self.n_valid, 1)
        return f.sum(axis=1) / n, f.any(axis=2).sum(axis=1) / n

    def max_delay_s(self) -> np.ndarray:
        """[threat, line]: the longest launch delay that still engages (L - cue time); NaN when never cued,
        -inf when unreachable."""
        out = np.full((len(self.threat_names), len(self.cue_lines)), np.nan)
        for k, (_, g, cue) in enumerate(self.cue_lines):
            with np.errstate(invalid="ignore"):
                out[:, k] = self.latest_s[:, self.groups[g].batteries[0]] - self.cue_times_s[cue]
        return out


def run(res, *, speeds_km_s=DEFAULT_SPEEDS_KM_S, delays_s=DEFAULT_DELAYS_S, bisections: int = DEFAULT_BISECTIONS,
        sample: str = "threats", log=None) -> Sensitivity:
    """The speed and delay sweeps (and speed thresholds, unless `bisections` is 0) on an EngageResult."""
    sc = res.scenario
    grp = groups(sc)
    bg = battery_group(sc)
    n = len(res.names)
    speeds = np.asarray(sorted(set(float(s) for s in speeds_km_s)), float)
    delays = np.asarray(sorted(set(float(d) for d in delays_s)), float)
    t0 = np.array(res.engagements.earliest_launch_s, float)  # cue time + delay; NaN: never cued
    # L at the scenario's own interceptors: the engagements' (-inf where no time in the band is reachable)
    latest = np.array(res.engagements.latest_launch_s, float)
    latest[res.flights.valid[:, None] & np.isnan(latest)] = -np.inf
    speed_latest = np.full((speeds.size, n, len(grp)), np.nan)
    for k, v in enumerate(speeds):
        if log:
            log(f"sensitivity: burnout speed {v:g} km/s ({k + 1}/{speeds.size})")
        for gi, g in enumerate(grp):
            speed_latest[k, :, gi] = _latest(res, g, v * 1e3)
    lines = []
    for gi, g in enumerate(grp):
        for cue in ("track", "launch"):
            if any(sc.batteries[j].cue == cue for j in g.batteries):
                lines.append((f"{g.label}, cue {cue}", gi, cue))
    sens = Sensitivity(sample, list(res.names), [b.name for b in sc.batteries], grp, bg, t0, latest, speeds,
                       speed_latest, delays, lines, valid=res.flights.valid.copy(),
                       cue_times_s={"track": np.where(res.flights.valid, res.track_time_s, np.nan),
                                    "launch": np.where(res.flights.valid, res.flights.launch_time_s, np.nan)})
    if bisections > 0 and speeds.size:
        if log:
            log("sensitivity: least burnout speed per threat and battery (bisection)")
        sens.threshold_km_s = speed_thresholds(res, sens, bisections)
    return sens


def speed_thresholds(res, sens: Sensitivity, bisections: int) -> np.ndarray:
    """The least burnout speed (km/s) at which each battery engages each threat, from the sweep grid refined
    by `bisections` halvings of the bracketing interval; reported as the bracket's upper end (a speed
    verified to engage). -inf: engages at the lowest grid speed; inf: at no grid speed; NaN: not computable
    or never cued (not detected)."""
    feas = sens.speed_feasible()  # [speed, threat, battery]
    speeds = sens.speeds_km_s
    n, nb = sens.t0_s.shape
    out = np.full((n, nb), np.nan)
    cache: dict[tuple[int, int, float], float] = {}

    def L(i, g, v):
        key = (i, g, round(v, 9))
        if key not in cache:
            cache[key] = float(_latest(res, sens.groups[g], v * 1e3, [i])[i])
        return cache[key]

    for i in range(n):
        if not sens.valid[i]:
            continue
        for j in range(nb):
            t0 = sens.t0_s[i, j]
            if not math.isfinite(t0):
                continue
            ok = np.flatnonzero(feas[:, i, j])
            if ok.size == 0:
                out[i, j] = math.inf
                continue
            k = int(ok[0])
            if k == 0:
                out[i, j] = -math.inf
                continue
            lo, hi = float(speeds[k - 1]), float(speeds[k])
            g = sens.battery_group[j]
            for _ in range(bisections):
                mid = 0.5 * (lo + hi)
                if L(i, g, mid) >= t0:
                    hi = mid
                else:
                    lo = mid
            out[i, j] = hi
    return out


# --------------------------------------------------------------------------- a sample of coverage pairs
def sample_pairs(scenario: Scenario, max_pairs: int = MAX_SAMPLE_PAIRS) -> tuple[np.ndarray, str]:
    """Up to `max_pairs` evenly spread [coverage] pair numbers (for scenarios without threats: engage them
    with ``engage(scenario, pairs=...)``), and a sentence saying what the sample is."""
    total = count_pairs(scenario)
    k = min(max_pairs, total)
    picks = np.unique(np.linspace(0, total - 1, k).round().astype(int)) if k else np.array([], int)
    what = (f"all {total} [coverage] pairs" if picks.size == total
            else f"{picks.size} of the {total} [coverage] pairs, evenly spread")
    return picks, what
