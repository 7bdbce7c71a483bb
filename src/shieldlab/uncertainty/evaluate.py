"""The scenario evaluated for many samples of its varied values in batches (docs/models.md, Uncertainty).

Samples are not run one by one. They are grouped by what their values change:

- values of missiles, threats, coverage and the Earth change the flights: the threats are flown once per
  distinct combination of those values (`_fly`);
- sensor values change the detection and track times: computed once per distinct combination, on the flights
  that combination meets;
- a battery's launch delay and cue change only its earliest launch t0, an array over samples;
- its site, interceptor type and that type's values change the flyout: one window evaluation per distinct
  combination, over every (sample, threat) row that has it, in one batch. Rows that repeat one flight share
  its scan of flyout times and its latest launch (engagement/window.py), so varying only t0 costs one scan.
  A sampled burnout speed is the exception (every sample its own interceptor): the samples of one flyout
  family (same site and interceptor values but the burnout speed) are one window evaluation, each row
  solved at its own speed (SpeedRowsFlyout, interceptor/flyout.py), its scan from a table over burnout
  speed at the flights' samples (interceptor/speed_table.py) when there are enough distinct speeds; the
  table only screens (boundaries and latest launches are refined with exact solves at the row's speed),
  so results are the per-sample exact evaluation's to the refinement tolerance (engagement/boundary.py
  TIME_TOL_S). Other varied interceptor values (burn time, altitude band, launch floor, energy management,
  flight-time limit, site, interceptor choice) take the exact path: one exact scan per distinct
  combination (correct, slower).

A combination of values equal to the scenario's gives exactly the engage (or coverage) result of the scenario.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from shieldlab.earth.model import Earth
from shieldlab.engagement import window
from shieldlab.engagement.results import NO_CODE
from shieldlab.engagement.scan import FreeFlightSamples, free_flight_samples
from shieldlab.interceptor import speed_table
from shieldlab.interceptor.flyout import Flyout, SpeedRowsFlyout
from shieldlab.scenario.model import Scenario, VarySpec
from shieldlab.sensors.radar import RadarGeometry, RowRangeGeometry, detection_times, track_times
from shieldlab.threat.build import threats_for_pairs, threats_for_scenario
from shieldlab.threat.trajectory import ascent_view, merge, take
from shieldlab.uncertainty.keys import apply

FLIGHT_TABLES = ("missiles", "threats", "coverage", "earth")
RANGE_FIELDS = ("max_range_m", "reference_range_m", "reference_rcs_m2")  # a radar's values that set only its range
CHUNK_ROWS = 4096  # (sample, threat) rows per window evaluation of a sampled burnout speed


@dataclass(frozen=True, eq=False)
class SampleResults:
    """Per sample, threat (or pair) and battery (S, K, B): whether it can engage, why (Reason codes, NO_CODE
    for a threat that cannot be computed), the earliest and latest launch, the margin and the first
    intercept time (scenario s, NaN where none); per sample and threat (S, K): the threat's error or None."""

    feasible: np.ndarray
    reason_code: np.ndarray
    earliest_launch_s: np.ndarray
    latest_launch_s: np.ndarray
    margin_s: np.ndarray
    first_intercept_s: np.ndarray
    error: np.ndarray

    @classmethod
    def gather(cls, lead: tuple, parts) -> SampleResults:
        """One result whose leading axes have the shape `lead`, from parts [(index, SampleResults)], each placed
        at `index` of those axes (samples; samples and threats or pairs)."""
        first = parts[0][1]
        out = {f: np.empty(lead + getattr(first, f).shape[len(lead):], getattr(first, f).dtype)
               for f in cls.__dataclass_fields__}
        for index, res in parts:
            for f, a in out.items():
                a[index] = getattr(res, f)
        return cls(**out)

    def __getitem__(self, samples) -> SampleResults:
        """The results of some samples (an index of the leading axis)."""
        return SampleResults(*(getattr(self, f)[samples] for f in self.__dataclass_fields__))


def _groups(values, which, n) -> dict:
    """Samples grouped by their values of the varied quantities `which`: {values tuple: sample indices}."""
    out: dict = {}
    for s in range(n):
        out.setdefault(tuple(values[i][s] for i in which), []).append(s)
    return {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}


def evaluate(scenario: Scenario, vary: tuple[VarySpec, ...], values, pairs=None, speed_grids=None) -> SampleResults:
    """Every sample (values: per varied quantity an array over samples) against the scenario's [[threats]]
    (or, with `pairs`, those [coverage] pairs). `speed_grids` ({flyout family: SpeedGrid}, as `speed_grids`
    builds them): the node values of the speed tables of those families come from these flyout tables (a coverage run's,
    built once for all its tasks) instead of exact solves at each flight's samples."""
    n = len(values[0]) if vary else 1
    earth_i = [i for i, v in enumerate(vary) if v.path[0] == "earth"]
    if earth_i:  # another Earth is another frame for everything: each its own evaluation
        parts = []
        for key, samples in _groups(values, earth_i, n).items():
            sc = apply(scenario, [vary[i] for i in earth_i], key)
            parts.append((samples, evaluate(sc, vary, [np.asarray(v)[samples] for v in values], pairs)))
        return SampleResults.gather((n,), parts)
    return _evaluate(scenario, vary, values, n, pairs, speed_grids or {})


def _evaluate(scenario, vary, values, n, pairs, speed_grids) -> SampleResults:
    earth = Earth.from_spec(scenario.earth)
    fly_i = [i for i, v in enumerate(vary) if v.path[0] in FLIGHT_TABLES]
    sensor_i = [i for i, v in enumerate(vary) if v.path[0] == "sensors"]
    # flights: one batch per distinct combination of flight values; sample s flies group_of[s]
    flights, group_of = _fly(scenario, earth, vary, values, fly_i, n, pairs)
    k = flights.n // max(1, int(group_of.max()) + 1) if n else 0
    rows = group_of[:, None] * k + np.arange(k)[None, :]  # (S, K): each sample's flight rows
    samples = free_flight_samples(flights)
    nb = len(scenario.batteries)
    shape = (n, k, nb)
    feasible = np.zeros(shape, bool)
    code = np.full(shape, NO_CODE, np.int8)
    t0_all, latest, first = (np.full(shape, np.nan) for _ in range(3))
    error = np.array(flights.error, dtype=object)[rows]
    # detections: the earliest track time per (sample, threat); each sensor on its own (a sensor's detections
    # depend on nothing else of the sensors), once per distinct combination of its varied values other than
    # its range, its ranges per (sample, threat) row
    track = np.full((n, k), np.nan)
    for q, sensor in enumerate(scenario.sensors):
        mine = [i for i in sensor_i if vary[i].path[1] == sensor.name]
        ranged = [i for i in mine if len(vary[i].path) == 3 and vary[i].path[2] in RANGE_FIELDS]
        other = [i for i in mine if i not in ranged]
        for key, ss in _groups(values, other, n).items():
            radar = apply(scenario, [vary[i] for i in other], key).sensors[q]
            if not ranged:
                geo = [RadarGeometry(earth, radar)]
                need = np.unique(rows[ss].ravel())
                need = need[flights.valid[need]]
                det = detection_times(flights, geo, need)
                trk = track_times(flights, geo, det, need)[:, 0]
                track[ss] = np.fmin(track[ss], trk[rows[ss]])
                continue
            r = rows[ss].ravel()  # (sample, threat) rows of this group, each with its own ranges
            boost, free = np.full(r.size, np.nan), np.full(r.size, np.nan)
            for j, s in enumerate(ss):
                variant = replace(radar, **{vary[i].path[2]: values[i][s] for i in ranged})
                cols = slice(j * k, (j + 1) * k)
                boost[cols] = [variant.range_m(x) for x in flights.rcs_boost_m2[rows[s]]]
                free[cols] = [variant.range_m(x) for x in flights.rcs_m2[rows[s]]]
            expanded = take(flights, r)
            geo = [RowRangeGeometry(earth, radar, boost, free)]
            det = detection_times(expanded, geo)
            trk = track_times(expanded, geo, det)[:, 0]
            track[ss] = np.fmin(track[ss], trk.reshape(ss.size, k))
    # batteries
    battery_i = [i for i, v in enumerate(vary) if v.path[0] in ("batteries", "interceptors")]
    for j, b in enumerate(scenario.batteries):
        mine = [i for i in battery_i if _concerns(vary[i], b)]
        per_sample = _battery_per_sample(scenario, vary, values, mine, j, n)
        t0 = np.full((n, k), np.nan)
        for s, (bat, it) in enumerate(per_sample):
            cue = track[s] if bat.cue == "track" else flights.launch_time_s[rows[s]]
            t0[s] = cue + bat.launch_delay_s
        for family, fam_ss in flyout_families(per_sample).items():
            bat, it0 = family
            speed_all = np.array([per_sample[s][1].burnout_speed_m_s for s in fam_ss], float)
            it = replace(it0, burnout_speed_m_s=float(speed_all[0]))
            one_speed = bool(np.all(speed_all == speed_all[0]))
            nodes = None if one_speed else _speed_nodes(Flyout(earth, bat.at, it), rows[fam_ss].ravel(), samples,
                                                        speed_all, speed_grids.get(family))
            # one interceptor: one batch (repeated flights share their exact scan); sampled speeds: batches of
            # at most CHUNK_ROWS rows (the speed table's look-ups are (rows, samples) arrays)
            step = fam_ss.size if one_speed else max(1, CHUNK_ROWS // max(k, 1))
            for c0 in range(0, fam_ss.size, step):
                ss, speed = fam_ss[c0:c0 + step], speed_all[c0:c0 + step]
                r = rows[ss].ravel()
                threats = take(flights, r)
                smp = FreeFlightSamples(samples.row[r], samples.times_s, samples.r_ecef, samples.altitude_m)
                t0r = np.where(threats.valid, t0[ss].ravel(), np.nan)
                if one_speed:
                    fo, table = Flyout(earth, bat.at, it), None
                else:  # every row at its sample's speed (an exact scan each, or screened by the speed table)
                    fo = SpeedRowsFlyout(earth, bat.at, it, speeds_m_s=np.repeat(speed, k))
                    table = None if nodes is None else nodes.table(smp.row, fo.speeds_m_s)
                win = _windows(threats, fo, t0r, smp, table, bat)
                _put(win, threats, ss, k, j, feasible, code, t0_all, latest, first)
                if table is not None:
                    # the table screens the scan; the latest launch is refined exactly at each row's speed, and a
                    # battery engages exactly when t0 <= L (docs/models.md, The latest launch): rows where the
                    # screened window disagrees with their own margin are evaluated again with exact scans
                    with np.errstate(invalid="ignore"):
                        margin = win.latest_launch_s - t0r
                        odd = np.flatnonzero(threats.valid & np.isfinite(margin) & (win.feasible != (margin >= 0)))
                    if odd.size:
                        sub = take(threats, odd)
                        sub_smp = FreeFlightSamples(smp.row[odd], smp.times_s, smp.r_ecef, smp.altitude_m)
                        sub_fo = SpeedRowsFlyout(earth, bat.at, it, speeds_m_s=fo.speeds_m_s[odd])
                        exact = _windows(sub, sub_fo, t0r[odd], sub_smp, None, bat)
                        _put(exact, sub, ss[odd // k], 1, j, feasible, code, t0_all, latest, first,
                             threat=odd % k)
    return SampleResults(feasible, code, t0_all, latest, latest - t0_all, first, error)


def _windows(threats, fo, t0r, smp, table, bat):
    """One battery's windows of the rows (window.evaluate; with its boost-phase windows where it has them)."""
    win = window.evaluate(threats, fo, t0r, smp, table=table)
    if bat.boost_phase and threats.staged.any():
        win = window.combine(win, window.evaluate(ascent_view(threats), fo, t0r), np.flatnonzero(threats.staged))
    return win


def _put(win, threats, ss, k, j, feasible, code, t0_all, latest, first, threat=None):
    """Battery j's windows of samples ss (their k threats each; with `threat`, one row per sample, that
    threat) into the result arrays."""
    valid = threats.valid
    if threat is None:
        sh = (ss.size, k)
        at = (ss, slice(None), j)
        shape = lambda a: a.reshape(sh)  # noqa: E731
    else:
        at = (ss, threat, j)
        shape = lambda a: a  # noqa: E731
    feasible[at] = shape(win.feasible)
    code[at] = shape(np.where(valid, win.reason_code, NO_CODE))
    t0_all[at] = shape(win.earliest_launch_s)
    latest[at] = shape(np.where(valid, win.latest_launch_s, np.nan))
    first[at] = shape(np.where(win.feasible, win.first.time_s, np.nan))


def flyout_families(per_sample) -> dict:
    """Samples grouped by flyout family, from each sample's (Battery, InterceptorType): same site and
    interceptor values but the burnout speed (and the launch delay and cue, which set only t0).
    {(battery, interceptor type with burnout speed 0): sample indices}."""
    out: dict = {}
    seen: dict = {}  # samples share their (Battery, InterceptorType) objects where their values agree
    for s, pair in enumerate(per_sample):
        key = seen.get(id(pair))
        if key is None:
            bat, it = pair
            key = seen[id(pair)] = (replace(bat, launch_delay_s=0.0, cue="track"), replace(it, burnout_speed_m_s=0.0))
        out.setdefault(key, []).append(s)
    return {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}


def speed_grids(scenario: Scenario, vary: tuple[VarySpec, ...], values) -> dict:
    """{flyout family: SpeedGrid (interceptor/speed_table.py)} for every family of the samples `values` whose
    sampled burnout speeds are worth a speed table: flyout tables at node speeds spanning all of them, for a
    coverage run to build once and give every task. None (empty) for a varied Earth: each Earth is another frame."""
    if any(v.path[0] == "earth" for v in vary):
        return {}
    n = len(values[0]) if vary else 1
    earth = Earth.from_spec(scenario.earth)
    battery_i = [i for i, v in enumerate(vary) if v.path[0] in ("batteries", "interceptors")]
    out = {}
    for j, b in enumerate(scenario.batteries):
        per_sample = _battery_per_sample(scenario, vary, values, [i for i in battery_i if _concerns(vary[i], b)],
                                         j, n)
        for family, ss in flyout_families(per_sample).items():
            speed = np.array([per_sample[s][1].burnout_speed_m_s for s in ss], float)
            if family not in out and speed_table.worthwhile(np.unique(speed).size):
                bat, it0 = family
                fo = Flyout(earth, bat.at, replace(it0, burnout_speed_m_s=float(speed[0])))
                out[family] = speed_table.build_grid(fo, speed)
    return out


def _speed_nodes(fo: Flyout, r, samples: FreeFlightSamples, speed, grid=None):
    """The speed table's nodes (interceptor/speed_table.py) for a flyout family flying the flight rows r at
    the sampled speeds `speed`: its flights solved at node speeds spanning them, or looked up in `grid`
    (a SpeedGrid spanning them) (None: too few distinct speeds for a table to pay, or no flight to scan)."""
    if not speed_table.worthwhile(np.unique(speed).size):
        return None
    rows = samples.row[r]
    rows = rows[rows >= 0]
    if rows.size == 0:
        return None
    it = fo.interceptor
    alt = samples.altitude_m
    with np.errstate(invalid="ignore"):
        band = np.isfinite(alt) & (alt >= it.min_altitude_m) & (alt <= it.max_altitude_m)
    if grid is not None and grid.speeds_m_s[0] <= speed.min() and speed.max() <= grid.speeds_m_s[-1]:
        return grid.nodes(samples, rows, band)
    return speed_table.build(fo, samples, rows, speed, band)


def _concerns(v: VarySpec, battery) -> bool:
    """Whether a varied battery or interceptor value can change this battery."""
    if v.path[0] == "batteries":
        return v.path[1] == battery.name
    return True  # an interceptor type: checked per sample against the battery's (possibly varied) type


def _battery_per_sample(scenario, vary, values, mine, j, n) -> list:
    """(Battery, InterceptorType) of battery j for every sample."""
    if not mine:
        b = scenario.batteries[j]
        return [(b, scenario.interceptors[b.interceptor])] * n
    b0 = scenario.batteries[j]
    own = [i for i in mine if vary[i].path[0] == "batteries"]
    types = [i for i in mine if vary[i].path[0] == "interceptors"]
    if all(len(vary[i].path) == 3 for i in mine):
        # values of the battery's own fields and of interceptor types' fields: the battery's values first (its
        # type may be one of them), then those of its type; the others cannot change it (as `apply` would give)
        cache: dict = {}
        out = []
        for s in range(n):
            bat = replace(b0, **{vary[i].path[2]: values[i][s] for i in own}) if own else b0
            mine_t = [i for i in types if vary[i].path[1] == bat.interceptor]
            key = (bat, tuple(values[i][s] for i in mine_t))
            if key not in cache:
                it = scenario.interceptors[bat.interceptor]
                cache[key] = (bat, replace(it, **{vary[i].path[2]: values[i][s] for i in mine_t}) if mine_t else it)
            out.append(cache[key])
        return out
    cache = {}
    out = []
    for s in range(n):
        key = tuple(values[i][s] for i in mine)
        if key not in cache:
            sc = apply(scenario, [vary[i] for i in mine], key)
            b = sc.batteries[j]
            cache[key] = (b, sc.interceptors[b.interceptor])
        out.append(cache[key])
    return out


def _fly(scenario, earth, vary, values, fly_i, n, pairs):
    """The flights of every distinct combination of the flight values, one after another (K threats each),
    and each sample's combination number."""
    groups = _groups(values, fly_i, n) if n else {(): np.zeros(0, np.int64)}
    group_of = np.zeros(n, np.int64)
    parts = []
    for g, (key, ss) in enumerate(groups.items()):
        sc = apply(scenario, [vary[i] for i in fly_i], key)
        flown = threats_for_scenario(sc, earth) if pairs is None else threats_for_pairs(sc, earth, pairs, warm=True)
        parts.append(flown)
        group_of[ss] = g
    k = parts[0].n
    if len(parts) == 1:
        return parts[0], group_of
    return merge(k * len(parts), [(np.arange(g * k, (g + 1) * k), p) for g, p in enumerate(parts)]), group_of
