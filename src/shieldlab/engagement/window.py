"""Intercept windows of one battery against many threats (docs/models.md, Engagements; Engagement windows:
numerical methods).

The battery can intercept at threat time t when burnout <= t <= impact, the threat's altitude is in
the interceptor's band, and t >= t_I0 + T(P(t)) (T within the flight-time limit; engagement/condition.py).
`evaluate` scans the free-flight samples (engagement/scan.py: exact flyout times, or a flyout table for
large batches), gives every threat its reason, locates the first and last intercept of the threats
with a feasible sample exactly (engagement/boundary.py) with the geometry there (engagement/geometry.py),
and finds every threat's latest launch from the same scan (engagement/latest.py), the threats that no
sensor cues included. A window shorter than the samples' spacing can hold no sample: where the latest launch
is at least t0, the window is located around the time where t - T peaks (`_missed`), so that a battery is
feasible exactly when its margin is >= 0 (docs/models.md, The latest launch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab.engagement import latest
from shieldlab.engagement.boundary import InterceptArrays, locate, locate_around
from shieldlab.engagement.condition import Condition
from shieldlab.engagement.geometry import intercept_geometry
from shieldlab.engagement.results import Reason
from shieldlab.engagement.scan import FreeFlightSamples, exact_scan, free_flight_samples, table_scan
from shieldlab.interceptor.flyout import Flyout, SpeedRowsFlyout

_NOT_DETECTED, _ALTITUDE, _OUT_OF_REACH, _TIMELINE, _OK = (
    Reason.NOT_DETECTED.code, Reason.ALTITUDE.code, Reason.OUT_OF_REACH.code, Reason.TIMELINE.code, Reason.OK.code)


@dataclass(frozen=True, eq=False)
class BatteryWindow:
    """One battery's windows, per threat (n,): earliest interceptor launch, feasibility, Reason code,
    first and last intercept (InterceptArrays) and latest launch (NaN: no time of the free flight inside
    the band can be reached). Gathered into results.Engagements."""

    earliest_launch_s: np.ndarray
    feasible: np.ndarray
    reason_code: np.ndarray
    first: InterceptArrays
    last: InterceptArrays
    latest_launch_s: np.ndarray


def evaluate(threats, flyout: Flyout, earliest_launch_s: np.ndarray, samples: FreeFlightSamples | None = None,
             table=None) -> BatteryWindow:
    """Windows of one battery (its flyout model) given each threat's earliest launch (NaN: no cue).
    `samples`: the threats' free-flight samples (scan.free_flight_samples; computed here when None).
    With `table` (a FlyoutTable of the same battery, or a SpeedTable of its threats' samples) the scan
    uses it; results are the same to the refinement tolerance. `flyout` may be a SpeedRowsFlyout (a burnout
    speed per threat, interceptor/flyout.py): every solve is then that threat's own."""
    n = threats.n
    first, last = InterceptArrays(n), InterceptArrays(n)
    feasible = np.zeros(n, bool)
    reason = np.full(n, _NOT_DETECTED, np.int8)
    latest_s = np.full(n, np.nan)
    t0 = np.asarray(earliest_launch_s, float)
    idx = np.flatnonzero(threats.valid & np.isfinite(t0))
    uncued = np.flatnonzero(threats.valid & ~np.isfinite(t0))
    if idx.size == 0 and uncued.size == 0:
        return BatteryWindow(t0, feasible, reason, first, last, latest_s)
    if samples is None:
        samples = free_flight_samples(threats)
    cond = Condition(threats, flyout, t0)
    if idx.size:
        scan = _window(cond, table, idx, samples, reason, feasible, first, last)
        # rows that share one flight's samples (one flight repeated, e.g. for the samples of an uncertainty
        # run) share its latest launch, which does not depend on t0: refined once per flight (exact scans)
        cond_l = latest.condition(threats, flyout)
        peak = _once_per_flight(lambda tr, *a: latest.peak(cond_l, tr, *a, exact=table is None, table=table),
                                samples, idx, table, flyout, *scan)
        latest_s[idx] = peak[0]
        _missed(cond, table, idx, scan, peak, reason, feasible, first, last)
    if uncued.size:
        latest_s[uncued] = _once_per_flight(lambda tr: _latest_uncued(threats, flyout, table, tr, samples),
                                            samples, uncued, table, flyout)
    # the intercepts are exact values of t - T at times of the window: the latest launch is at least theirs
    h = np.flatnonzero(feasible)
    for ic in (first, last):
        latest_s[h] = np.fmax(latest_s[h], ic.interceptor_launch_s[h])
        closing, crossing = intercept_geometry(threats, flyout, h, ic.time_s[h], ic.arc[h], ic.jacobian[h])
        ic.put(h, closing_speed_m_s=closing, crossing_angle_deg=crossing)
    return BatteryWindow(t0, feasible, reason, first, last, latest_s)


def _window(cond: Condition, table, idx, samples: FreeFlightSamples, reason, feasible, first, last):
    """The windows of the cued threats idx (reason, feasible, first, last filled in place); returns their
    scan (times, in_band, T, arcs) (k, m) for the latest launch."""
    flyout, t0 = cond.flyout, cond.t0
    times, pos, alt = samples.of(idx)
    k, m = times.shape
    tt = times.ravel()
    good = np.isfinite(tt)
    pos = pos.reshape(k * m, 3)
    alt = alt.ravel()
    in_band = good & cond.in_band(alt)
    edge_exact = (np.zeros(k, bool), np.zeros(k, bool))  # first, last boundary resolved on exact samples
    repeats = _flights(samples, idx, table, flyout)
    if (table is None or not in_band.any()) and repeats is not None:
        one, back = repeats
        # a flight repeated: its samples solved once
        T, sol = exact_scan(flyout, pos.reshape(k, m, 3)[one].reshape(-1, 3),
                            in_band.reshape(k, m)[one].ravel())
        T, sol = T.reshape(one.size, m)[back].ravel(), sol.reshape(one.size, m, 3)[back].reshape(k * m, 3)
    elif table is None or not in_band.any():
        T, sol = exact_scan(_per_sample(flyout, idx, m), pos, in_band)
    else:
        T, sol, edge_exact = table_scan(_per_sample(flyout, idx, m), table.rows(idx), times, t0[idx], pos, alt,
                                        in_band)
    T = T.reshape(k, m)
    sol = sol.reshape(k, m, 3)
    in_band = in_band.reshape(k, m)
    ok = in_band & np.isfinite(T) & (times - t0[idx][:, None] >= T)
    reason[idx] = np.where(~in_band.any(1), _ALTITUDE,
                           np.where(~(in_band & np.isfinite(T)).any(1), _OUT_OF_REACH, _TIMELINE))
    hit = np.flatnonzero(ok.any(1))
    if hit.size:
        f = np.argmax(ok[hit], axis=1)
        l = m - 1 - np.argmax(ok[hit, ::-1], axis=1)
        g = times - t0[idx][:, None] - T  # exact where `edge_exact` says so
        args = (cond, table, idx[hit], times[hit], sol[hit], ok[hit])
        good_f = locate(*args, f, -1, first, edge_exact[0][hit], g[hit])
        good_l = locate(*args, l, +1, last, edge_exact[1][hit], g[hit])
        h = idx[hit][good_f & good_l]
        reason[h] = _OK
        feasible[h] = True
        # a table-scan hit that exact solves reject: the pair is reachable but not in time
        rejected = idx[hit][~(good_f & good_l)]
        reason[rejected] = _TIMELINE
        first.clear(rejected)
        last.clear(rejected)
    return times, in_band, T, sol


def _missed(cond: Condition, table, idx, scan, peak, reason, feasible, first, last):
    """The windows that fall between two samples of the scan (shorter than their spacing, e.g. cut short by a
    band crossing): a threat of idx in 'timeline' whose latest launch L is at least t0 can intercept where f
    reaches L (an exact value: g = L - t0 >= 0 there, docs/models.md, The latest launch), so its window is
    located around that time (reason, feasible, first, last filled in place). `peak`: (L, its time, its arc)
    (k,) per threat of idx (latest.peak); `scan` as `_window` returns it."""
    L, t_L, arc_L = peak
    w = np.flatnonzero((reason[idx] == _TIMELINE) & (L >= cond.t0[idx]))
    if w.size == 0:
        return
    times, _, _, sol = scan
    found = locate_around(cond, idx[w], times[w], sol[w], t_L[w], arc_L[w], table is None, first, last)
    reason[idx[w[found]]] = _OK
    feasible[idx[w[found]]] = True
    first.clear(idx[w[~found]])
    last.clear(idx[w[~found]])


def _per_sample(flyout, idx, m):
    """The flyout of the flat samples (row * m + column) of threats idx: a Flyout is every sample's; a
    SpeedRowsFlyout gives each sample its threat's burnout speed."""
    return flyout.rows(np.repeat(idx, m)) if isinstance(flyout, SpeedRowsFlyout) else flyout


def _flights(samples: FreeFlightSamples, idx, table, flyout):
    """None when every threat of idx (k,) is its own flight (every engage and coverage run; and always with a
    flyout table, whose scan depends on t0, or a burnout speed per threat, SpeedRowsFlyout). Else (one, back):
    the positions of the first of each distinct flight (rows sharing one sample row of `samples` are one flight
    repeated, e.g. for the samples of an uncertainty run) and, per threat, its flight's place in `one`."""
    if table is not None or isinstance(flyout, SpeedRowsFlyout):
        return None
    _, one, back = np.unique(samples.row[idx], return_index=True, return_inverse=True)
    return None if one.size == idx.size else (one, back.reshape(-1))


def _once_per_flight(fn, samples: FreeFlightSamples, idx, table, flyout, *arrays) -> np.ndarray:
    """fn(threats, *arrays) (k,) (or a tuple of arrays (k, ...)) for threats idx and arrays (k, ...) of theirs,
    computed once per distinct flight (`_flights`) when flights repeat."""
    repeats = _flights(samples, idx, table, flyout)
    if repeats is None:
        return fn(idx, *arrays)
    one, back = repeats
    out = fn(idx[one], *(a[one] for a in arrays))
    return tuple(v[back] for v in out) if isinstance(out, tuple) else out[back]


def _latest_uncued(threats, flyout: Flyout, table, idx, samples: FreeFlightSamples) -> np.ndarray:
    """The latest launch of threats that no sensor cues (no window, so no scan yet): their samples scanned
    as the windows' are (with a table, its uncertain samples solved until one is reachable, as for a
    threat that is never in time)."""
    cond = latest.condition(threats, flyout)
    times, pos, alt = samples.of(idx)
    k, m = times.shape
    in_band = np.isfinite(times.ravel()) & cond.in_band(alt.ravel())
    pos = pos.reshape(k * m, 3)
    flat = _per_sample(flyout, idx, m)
    if table is None or not in_band.any():
        T, sol = exact_scan(flat, pos, in_band)
    else:
        never = np.full(k, np.inf)  # launched never: no sample is in time
        T, sol, _ = table_scan(flat, table.rows(idx), times, never, pos, alt.ravel(), in_band)
    return latest.refine(cond, idx, times, in_band.reshape(k, m), T.reshape(k, m), sol.reshape(k, m, 3),
                         exact=table is None)


# a reason's rank when the boost-phase and the free-flight windows of one threat are combined: the
# reason of the part that came closest to an intercept
_RANK = {_NOT_DETECTED: 0, _ALTITUDE: 1, _OUT_OF_REACH: 2, _TIMELINE: 3, _OK: 4}


def combine(free: BatteryWindow, ascent: BatteryWindow, rows) -> BatteryWindow:
    """One battery's windows over the whole flight (docs/models.md, Boost-phase intercepts) for the threats
    `rows` (the staged ones), from its windows in free flight and in the ascent (`ascent_view`); the
    other threats keep their free-flight windows. The first intercept is the ascent's when it has one,
    the last the free flight's when it has one; the latest launch the later of the two; the reason
    the one closest to an intercept."""
    rows = np.asarray(rows, dtype=np.int64)
    feasible = free.feasible.copy()
    feasible[rows] |= ascent.feasible[rows]
    reason = free.reason_code.copy()
    rank = np.vectorize(_RANK.get, otypes=[int])
    pick_ascent = rank(ascent.reason_code[rows]) > rank(free.reason_code[rows])
    reason[rows] = np.where(pick_ascent, ascent.reason_code[rows], free.reason_code[rows])
    latest_s = free.latest_launch_s.copy()
    latest_s[rows] = np.fmax(free.latest_launch_s[rows], ascent.latest_launch_s[rows])
    first, last = InterceptArrays(free.feasible.size), InterceptArrays(free.feasible.size)
    for out, a, b in ((first, free.first, free.first), (last, free.last, free.last)):
        for f in InterceptArrays.FIELDS + InterceptArrays.ARCS:
            getattr(out, f)[:] = getattr(a, f)
    use_a_first = rows[ascent.feasible[rows]]
    use_a_last = rows[ascent.feasible[rows] & ~free.feasible[rows]]
    for out, src, r in ((first, ascent.first, use_a_first), (last, ascent.last, use_a_last)):
        for f in InterceptArrays.FIELDS + InterceptArrays.ARCS:
            getattr(out, f)[r] = getattr(src, f)[r]
    return BatteryWindow(free.earliest_launch_s, feasible, reason, first, last, latest_s)
