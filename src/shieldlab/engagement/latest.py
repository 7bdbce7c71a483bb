"""The latest interceptor launch that still intercepts, and the margin (docs/models.md, The latest launch).

For a battery (an interceptor type at a site) and a threat, f(t) = t - T(P(t)) is the latest interceptor
launch that intercepts at threat time t, T the flyout time (interceptor/flyout.py). The latest launch is

    L = max f(t) over the set D of free-flight times at which every condition but the timeline holds
        (after burnout, inside the altitude band, reachable, within the flight-time limit: T finite)

and the margin is L - t0, t0 the battery's earliest launch: the battery intercepts exactly when t0 <= L.
L depends on the site and the interceptor type only, not on the cue or the delay.

How L is found, from the free-flight samples that the windows scan (engagement/scan.py):

1. Candidates: the samples that are local maxima of f over the samples, within CANDIDATE_MARGIN_S of the
   best (a maximum between samples, or at an edge of D between samples, exceeds its sample by less; with a
   flyout table, whose values are the samples' in coverage runs, the table's error is added).
2. Edges: where a candidate's neighbour is outside D, the edge of D between them is located: a band
   crossing by bisection on the altitude (then solved exactly), an edge of reach (or of the flight-time
   limit) by bisection on exact solves to EDGE_TOL_S. A neighbour whose f is lower by more than JUMP_S lies
   on another arc (the fast arc was lost in between, T jumped to the slow one): that jump is an edge too,
   located the same way. The burnout and the impact are edges.
3. Refinement by successive parabolic interpolation on exact values (Brent, "Algorithms for Minimization
   without Derivatives", 1973, ch. 5): the parabola through the best point and its neighbours (or, at an
   edge, the best point and the two next inside) gives the next point, kept strictly inside; it stops when
   the parabola promises less than GAIN_TOL_S more than the best value, or when the maximum lies at the
   edge (the parabola peaks beyond it, or is not concave). The stopping rule is on the value, which is
   what is reported: near a smooth maximum the value is second-order in the error of its time.
4. Family switches (energy management): where the fast arc changes family (full speed, the floor, burnout;
   FAMILY_* of interceptor/flyout.py) T has a kink, which no parabola follows. The parabolas of step 3 use
   only the points of the best point's family; while the best point lies next to a point of another family,
   the switch between them is bisected on exact solves to EDGE_TOL_S (SWITCH_STEPS at most), and once
   located it ends the family's points like an edge of D.

With a table the samples' values are the table's (within about 2 s of exact ones, too rough for a
curvature), so each candidate first takes one of two fast paths: where the table peaks between two
neighbours in D, exact solves at the table's vertex and PROBE_S either side of it start the refinement
(`_table_interior`); next to the burnout, the impact or a band crossing, exact solves at that end and
PROBE_S inside it show whether f falls inwards, and then the end holds the maximum (`_table_edge`). The
others (a table that misjudged the top, uncertain cells, an edge of reach, a jump, samples or exact points
of mixed arc families) take the general path:
the candidate and its neighbours solved exactly, a climb to an exact local maximum over the samples (steps
doubling while f rises, then bisection on the sample indices: a top may hide in a long run of uncertain
table cells), then steps 2 and 3.

L is the greatest f of all exact evaluations, so it is an exact value of f at a time of D, and every
refinement step can only raise it. An engagement that a window found feasible has exact f >= t0 at its
first and last intercepts, which count among the evaluations (window.py), so its margin is >= 0 (to the
windows' own tolerance, TIME_TOL_S). Conversely, where L >= t0 but no sample of the scan is feasible (a window
shorter than their spacing), window.py locates the window around the time of L (`peak`). tests/test_margins.py
checks L against a dense brute-force scan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab.engagement.scan import SAMPLE_S, FreeFlightSamples, exact_scan, free_flight_samples
from shieldlab.interceptor.flyout import (FAMILY_BURNOUT, FAMILY_FLOOR, FAMILY_FULL, FAMILY_NONE, Flyout,
                                         SpeedRowsFlyout)

JUMP_S = 60.0  # f falls by more than this between neighbouring points only where T jumps to another arc
CANDIDATE_MARGIN_S = 2.0 * SAMPLE_S  # a sample within this of the best may hold the maximum (|f'| <= ~2)
TABLE_ERROR_S = 3.0  # table flyout times are within this of exact ones in clear cells (scan.CLEAR_MARGIN_S)
EDGE_TOL_S = 0.002  # edges of reach located to this (band crossings to BAND_TOL_S)
BAND_TOL_S = 1e-6
GAIN_TOL_S = 1e-2  # refinement stops when the parabola promises less than this
PROBE_S = 1.0  # table runs: exact points this far either side of the table's peak, or inside an end
MIN_SEP_S = 1e-3  # a new point at least this far from the points already evaluated
MAX_STEPS = 12
SWITCH_STEPS = 14  # bisection steps on a switch between arc families: a 10 s bracket to EDGE_TOL_S
CLIMB_STEPS = 40  # probes of the climb over the samples: doubling steps, then bisection (2 x 12 for 4000 samples)
NPTS = 3 + MAX_STEPS + SWITCH_STEPS  # evaluated points kept per candidate


def latest_launch(threats, flyout: Flyout, idx=None, samples: FreeFlightSamples | None = None) -> np.ndarray:
    """L per threat (n,) in scenario seconds: the latest interceptor launch that still intercepts, -inf
    when no free-flight time inside the altitude band can be reached, NaN for a threat that could not be
    computed. With `idx`, only those threats are computed (the others are NaN). `samples`: the threats'
    free-flight samples (computed here when None). Exact flyout solves throughout."""
    n = threats.n
    out = np.full(n, np.nan)
    valid = np.flatnonzero(threats.valid)
    idx = valid if idx is None else np.intersect1d(np.asarray(idx, int), valid)
    if idx.size == 0:
        return out
    times, pos, alt = (samples if samples is not None else free_flight_samples(threats)).of(idx)
    cond = condition(threats, flyout)
    in_band = np.isfinite(times) & cond.in_band(alt)
    k, m = times.shape
    per_sample = flyout.rows(np.repeat(idx, m)) if isinstance(flyout, SpeedRowsFlyout) else flyout
    T, sol = exact_scan(per_sample, pos.reshape(k * m, 3), in_band.ravel())
    L = refine(cond, idx, times, in_band, T.reshape(k, m), sol.reshape(k, m, 3), exact=True)
    out[idx] = np.where(np.isnan(L), -np.inf, L)
    return out


@dataclass(frozen=True, eq=False, slots=True)
class _Value:
    """f = t - T(P(t)) at k free-flight times (-inf outside the band or out of reach), with the fast arcs
    found (k, 3), the points (k, 3) and the arcs' Jacobians (k, 3, 3), for warm starts (as ConditionResult)."""

    g_s: np.ndarray
    arc: np.ndarray
    position_ecef: np.ndarray
    jacobian: np.ndarray


class FreeFlightValue:
    """Exact f = t - T(P(t)) of one battery (its Flyout) for threats in free flight: the engagement
    condition (engagement/condition.py) with t0 = 0, positions and altitudes from the compiled free-flight
    interpolation in one call."""

    def __init__(self, threats, flyout: Flyout):
        self.threats, self.flyout = threats, flyout
        it = flyout.interceptor
        self.lo, self.hi = it.min_altitude_m, it.max_altitude_m
        self.em, self.floor = bool(it.energy_management), flyout.floor_rad

    def family(self, arc) -> np.ndarray:
        """The family (FAMILY_*, interceptor/flyout.py) of fast arcs (k, 3) as the solver encodes them (x below
        the floor: a floor arc; tau = 0 with energy management: at burnout); FAMILY_NONE where there is none.
        Without energy management every arc is a full-speed one."""
        arc = np.asarray(arc, float)
        fam = np.where(np.isfinite(arc[..., 0]), FAMILY_FULL, FAMILY_NONE).astype(np.int8)
        if self.em:
            with np.errstate(invalid="ignore"):
                fam[(fam == FAMILY_FULL) & (arc[..., 1] < self.floor)] = FAMILY_FLOOR
                fam[(fam == FAMILY_FULL) & (arc[..., 2] == 0.0)] = FAMILY_BURNOUT
        return fam

    def position(self, tr, t):
        """Positions (k, 3) and geodetic altitudes (k,) of threats tr at free-flight times t."""
        return self.threats.free_flight_positions(tr, t)

    def in_band(self, alt):
        return np.isfinite(alt) & (alt >= self.lo) & (alt <= self.hi)

    def at(self, tr, t, guess=None, guess_point=None, guess_jac=None) -> _Value:
        """f at threats tr, times t; the solves start from `guess` arcs (with a chord step where they are
        exact for `guess_point` with Jacobian `guess_jac`), as Condition.at."""
        t = np.asarray(t, float)
        p, alt = self.position(tr, t)
        band = self.in_band(alt)
        k = t.size
        f = np.full(k, -np.inf)
        arc, jac = np.full((k, 3), np.nan), np.full((k, 3, 3), np.nan)
        if band.any():
            sel = lambda a: None if a is None else a[band]  # noqa: E731
            fo = self.flyout.rows(np.broadcast_to(tr, band.shape)[band])  # the rows' own flyout (SpeedRowsFlyout)
            fs = fo.solve(p[band], guess=sel(guess), guess_point=sel(guess_point), guess_jac=sel(guess_jac))
            f[band] = t[band] - fs.time_s
            # every arc comes with the Jacobian at it (one borrowed for a chord step, or computed, also for a
            # warm start that is already the solution and converges on its first arc): a chord step from it
            # depends on nothing but the arc (not on the other points solved with it, nor on the run)
            arc[band] = fs.arc
            jac[band] = fs.jacobian
        return _Value(f, arc, p, jac)


def condition(threats, flyout: Flyout) -> FreeFlightValue:
    """The evaluator of f of a battery (what `refine` takes)."""
    return FreeFlightValue(threats, flyout)


def refine(cond: FreeFlightValue, tr, times, in_band, T, sol, exact: bool) -> np.ndarray:
    """L (k,) of threats tr (k,) from their samples: times (k, m), in_band (k, m), flyout times T (k, m)
    (inf: no arc) and arcs sol (k, m, 3) at the samples, exact or (exact=False) from a flyout table. NaN
    where no time of D is found. `cond` evaluates f exactly (its t0 is 0)."""
    return peak(cond, tr, times, in_band, T, sol, exact)[0]


def peak(cond: FreeFlightValue, tr, times, in_band, T, sol, exact: bool, table=None):
    """As `refine`, with where L is reached: (L (k,), its time (k,), the exact fast arc there (k, 3)), NaN where
    no time of D is found. f = L at that time exactly, so a battery whose earliest launch is at most L can
    intercept there (engagement/window.py). `table`: the flyout table the samples' values come from (exact=False),
    whose arcs and Jacobians start the exact solves at the table's peaks (`_table_interior`)."""
    k, m = times.shape
    F = np.full((k, m + 2), -np.inf)  # padded by -inf at both ends
    with np.errstate(invalid="ignore"):
        np.subtract(times, T, out=F[:, 1:-1], where=in_band & (T < np.inf))
    best = F.max(axis=1)
    if not np.isfinite(best).any():
        return np.full(k, np.nan), np.full(k, np.nan), np.full((k, 3), np.nan)
    margin = CANDIDATE_MARGIN_S + (0.0 if exact else 2 * TABLE_ERROR_S)
    mid = F[:, 1:-1]
    cand = (mid > F[:, :-2]) & (mid >= F[:, 2:]) & (mid >= (best - margin)[:, None])
    F = mid
    rows, cols = np.nonzero(cand)
    found = []  # (threat rows, f, time, arc) of the refined candidates
    if not exact:
        for fast in (_table_interior, _table_edge):
            done, *best_q = fast(cond, tr, times, in_band, F, sol, rows, cols, table)
            found.append((rows[done], *(v[done] for v in best_q)))
            rows, cols = rows[~done], cols[~done]
    smp = _Samples(cond, tr, times, in_band, F, sol, exact, rows)
    pts = _points(smp, *_climb(smp, cols))
    pts.refine()
    found.append((rows[pts.which], *pts.best()))
    return _best_of(k, found)


def _best_of(k: int, found):
    """Per threat (k,): the greatest f of its candidates, with the time and arc where it was found."""
    rows, f, t, arc = (np.concatenate(v) for v in zip(*found))
    L = np.full(k, np.nan)
    np.fmax.at(L, rows, f)
    top = f == L[rows]  # False where f is NaN
    t_L, arc_L = np.full(k, np.nan), np.full((k, 3), np.nan)
    t_L[rows[top]], arc_L[rows[top]] = t[top], arc[top]
    return L, t_L, arc_L


# --------------------------------------------------------------------------- table runs: interior maxima
def _table_interior(cond: FreeFlightValue, tr, times, in_band, F, sol, rows, cols, table=None):
    """Table runs, candidates whose table values peak between two neighbours in D: exact f at the vertex u0
    of the table's parabola and PROBE_S either side of it (chord steps from it), then parabolic steps on
    the exact values until the parabola promises less than GAIN_TOL_S, inside the interval of the samples
    two either side (the table may misjudge the top by a sample; its values are too rough for more than
    a start: their second differences are no curvature). Returns (done, L, its time, its arc) per candidate;
    the others (an edge or a jump to another arc next to them, a vertex outside the interval, a point outside
    D) take the general path."""
    q = rows.size
    m = times.shape[1]
    done = np.zeros(q, bool)
    L, t_L, arc_L = np.full(q, np.nan), np.full(q, np.nan), np.full((q, 3), np.nan)
    jm, jp = cols - 1, cols + 1
    ok = (jm >= 0) & (jp < m)
    rr, jm, jc, jp = rows, np.clip(jm, 0, m - 1), cols, np.clip(jp, 0, m - 1)
    x1, x2, x3 = times[rr, jm], times[rr, jc], times[rr, jp]
    y1, y2, y3 = F[rr, jm], F[rr, jc], F[rr, jp]
    with np.errstate(all="ignore"):
        s12 = (y2 - y1) / (x2 - x1)
        a = ((y3 - y2) / (x3 - x2) - s12) / (x3 - x1)
        u0 = 0.5 * (x1 + x2) - s12 / (2 * a)
        ok &= np.isfinite(y1) & np.isfinite(y3) & (a < 0) & (u0 > x1 + PROBE_S) & (u0 < x3 - PROBE_S)
        ok &= (y1 > y2 - JUMP_S) & (y3 > y2 - JUMP_S)  # T jumps to another arc there: the general path
    # neighbours of mixed arc families (energy management): f has a kink between them, which a parabola does not
    # follow: the general path
    fam = cond.family
    ok &= (fam(sol[rr, jm]) == fam(sol[rr, jc])) & (fam(sol[rr, jp]) == fam(sol[rr, jc]))
    jmm, jpp = np.clip(cols - 2, 0, m - 1), np.clip(cols + 2, 0, m - 1)
    wide_lo = np.where((cols >= 2) & np.isfinite(F[rr, jmm]), times[rr, jmm], x1)
    wide_hi = np.where((cols + 2 < m) & np.isfinite(F[rr, jpp]), times[rr, jpp], x3)
    w = np.flatnonzero(ok)
    if w.size == 0:
        return done, L, t_L, arc_L
    lo, hi = wide_lo[w], wide_hi[w]
    k = w.size
    npts = 3 + MAX_STEPS
    t = np.full((k, npts), np.nan)
    f = np.full((k, npts), -np.inf)
    arc, pt, jac = np.full((k, npts, 3), np.nan), np.full((k, npts, 3), np.nan), np.full((k, npts, 3, 3), np.nan)
    kind = np.zeros((k, npts), np.int8)
    thr = tr[rr[w]]

    def put(sel, col, tt, x):
        t[sel, col], f[sel, col] = tt, np.where(np.isfinite(x.g_s), x.g_s, -np.inf)
        arc[sel, col], pt[sel, col], jac[sel, col] = x.arc, x.position_ecef, x.jacobian
        kind[sel, col] = fam(x.arc)

    every = np.arange(k)
    # the first solve starts from the table's arcs interpolated to u0 (the azimuth unwrapped), or where the table
    # gives one, from its arc at u0 with the arc's Jacobian (chord steps from the start)
    right = u0[w] > x2[w]
    jn = np.where(right, jp[w], jm[w])
    s_b, s_n = sol[rr[w], jc[w]], sol[rr[w], jn]
    d = s_n - s_b
    d[:, 0] = (d[:, 0] + np.pi) % (2 * np.pi) - np.pi
    frac = ((u0[w] - x2[w]) / (times[rr[w], jn] - x2[w]))[:, None]
    guess, guess_jac = _table_start(cond, table, thr, u0[w], np.where(np.isfinite(d), s_b + frac * d, s_b))
    put(every, 0, u0[w], cond.at(thr, u0[w], guess, guess_jac=guess_jac))
    for col, sign in ((1, -1.0), (2, +1.0)):
        put(every, col, u0[w] + sign * PROBE_S, cond.at(thr, u0[w] + sign * PROBE_S, arc[:, 0], pt[:, 0], jac[:, 0]))
    n = np.full(k, 3)
    live = np.isfinite(f[:, :3]).all(1) & (np.ptp(f[:, :3], axis=1) < JUMP_S)
    live &= (kind[:, 1] == kind[:, 0]) & (kind[:, 2] == kind[:, 0])  # a family switch between: the general path
    fail = ~live
    for _ in range(MAX_STEPS):
        g = np.flatnonzero(live)
        if g.size == 0:
            break
        order = np.argsort(t[g], axis=1)
        ts = np.take_along_axis(t[g], order, axis=1)
        fs = np.take_along_axis(f[g], order, axis=1)
        r = np.arange(g.size)
        best = np.argmax(fs, axis=1)
        fbest = fs[r, best]
        # the parabola through the best point and its neighbours in time (the two nearest at an end)
        i0 = np.clip(best - 1, 0, n[g] - 3)
        xa, xb, xc = (ts[r, i0 + dd] for dd in range(3))
        ya, yb, yc = (fs[r, i0 + dd] for dd in range(3))
        with np.errstate(all="ignore"):
            sab = (yb - ya) / (xb - xa)
            a3 = ((yc - yb) / (xc - xb) - sab) / (xc - xa)
            u = 0.5 * (xa + xb) - sab / (2 * a3)
            gain = ya + sab * (u - xa) + a3 * (u - xa) * (u - xb) - fbest
            near = np.nanmin(np.abs(ts - u[:, None]), axis=1) < MIN_SEP_S
        bad = ~(a3 < 0)
        conv = ~bad & (gain <= GAIN_TOL_S)
        outside = ~(u > lo[g]) | ~(u < hi[g])
        fail[g[bad | (~conv & outside)]] = True
        stop = bad | conv | outside | near | (n[g] >= npts)
        live[g[stop]] = False
        go = np.flatnonzero(~stop)
        if go.size == 0:
            break
        sel, src = g[go], order[go, best[go]]
        x = cond.at(thr[sel], u[go], arc[sel, src], pt[sel, src], jac[sel, src])
        put(sel, n[sel], u[go], x)
        n[sel] += 1
        off = ~(x.g_s > fbest[go] - JUMP_S) | (fam(x.arc) != kind[sel, 0])  # outside D, on another arc or family
        fail[sel[off]] = True
        live[sel[off]] = False
    good = ~fail
    done[w[good]] = True
    top = np.argmax(f[good], axis=1)
    r = np.arange(top.size)
    L[w[good]], t_L[w[good]], arc_L[w[good]] = f[good][r, top], t[good][r, top], arc[good][r, top]
    return done, L, t_L, arc_L


def _table_start(cond: FreeFlightValue, table, tr, t, arc):
    """(guess (k, 3), Jacobian (k, 3, 3) or None) for exact solves at threats tr, times t: the table's arc there
    with its Jacobian where the table has one (FlyoutTable.lookup: Newton starts with chord steps on it), else
    `arc` (k, 3) without one."""
    if table is None:
        return arc, None
    return table.lookup_path(tr, t, *cond.position(tr, t), jacobian=True).warm_start(arc)


def _table_edge(cond: FreeFlightValue, tr, times, in_band, F, sol, rows, cols, table=None):
    """Table runs, candidates next to an end of D that needs no exact solve to find (the burnout, the
    impact, or a band crossing, found by bisection on the altitude) on one side and a neighbour in D on the
    other: exact f at the end and PROBE_S inside it (a chord step). Where f falls inwards, the end holds
    the maximum (L = f there). Returns (done, L, its time, its arc); the others take the general path."""
    q = rows.size
    m = times.shape[1]
    done = np.zeros(q, bool)
    L, t_L, arc_L = np.full(q, np.nan), np.full(q, np.nan), np.full((q, 3), np.nan)
    nbs = []
    for side in (-1, +1):
        c = cols + side
        inside = (c >= 0) & (c < m)
        cc = np.clip(c, 0, m - 1)
        absent = ~inside | ~np.isfinite(times[rows, cc])
        band_out = ~absent & ~in_band[rows, cc]
        nbs.append((c, cc, absent, band_out, ~absent & np.isfinite(F[rows, cc])))
    (_, cl, abs_l, out_l, in_l), (_, cr, abs_r, out_r, in_r) = nbs
    ys = F[rows, cols]
    # the end on one side (towards which the table's values rise), the neighbour in D on the other
    left = (abs_l | out_l) & in_r & (F[rows, cr] <= ys) & (F[rows, cr] > ys - JUMP_S)
    right = (abs_r | out_r) & in_l & (F[rows, cl] <= ys) & (F[rows, cl] > ys - JUMP_S) & ~left
    w = np.flatnonzero(left | right)
    if w.size == 0:
        return done, L, t_L, arc_L
    side = np.where(left[w], -1, +1)
    rr, tb = rows[w], times[rows[w], cols[w]]
    t_out = np.where(side < 0, times[rr, cl[w]], times[rr, cr[w]])
    crossing = np.where(side < 0, out_l[w], out_r[w])
    e = tb.copy()
    g = np.flatnonzero(crossing)
    if g.size:
        e[g] = band_crossing(cond, tr[rr[g]], t_out[g], tb[g])
    thr = tr[rr]
    # (not from the table's Jacobian, as at interior peaks: it saved arcs here and cost as many at the probe, whose
    # chord step borrows the Jacobian of this solve)
    x0 = cond.at(thr, e, sol[rr, cols[w]])
    probe = e - side * PROBE_S
    x1 = cond.at(thr, probe, x0.arc, x0.position_ecef, x0.jacobian)
    ok = np.isfinite(x0.g_s) & (x1.g_s <= x0.g_s) & (x1.g_s > x0.g_s - JUMP_S)
    # arc families mixed between the end, the probe and the neighbour inside (energy management): f has a kink
    # there, which may hold the maximum: the general path
    fam = cond.family
    c_in = np.where(side < 0, cr[w], cl[w])
    ok &= (fam(x1.arc) == fam(x0.arc)) & (fam(sol[rr, c_in]) == fam(sol[rr, cols[w]]))
    done[w[ok]] = True
    L[w[ok]], t_L[w[ok]], arc_L[w[ok]] = x0.g_s[ok], e[ok], x0.arc[ok]
    return done, L, t_L, arc_L


# --------------------------------------------------------------------------- candidates: the best samples
class _Samples:
    """Exact f at sample columns of the candidates' threats: from the scan when it was exact, else solved
    (warm-started from a given exact solution with a chord step, or from the table's arc). -inf for a
    column outside the path, outside the band or unreachable."""

    def __init__(self, cond, tr, times, in_band, F, sol, exact, rows):
        self.cond, self.tr, self.times, self.in_band, self.F, self.sol = cond, tr, times, in_band, F, sol
        self.exact, self.rows, self.m = exact, rows, times.shape[1]

    def present(self, qs, c):
        inside = (c >= 0) & (c < self.m)
        return inside & np.isfinite(self.times[self.rows[qs], np.clip(c, 0, self.m - 1)])

    def time(self, qs, c):
        return self.times[self.rows[qs], c]

    def band(self, qs, c):
        return self.present(qs, c) & self.in_band[self.rows[qs], np.clip(c, 0, self.m - 1)]

    def value(self, qs, c, warm=None):
        """(f, arc, point, Jacobian) at columns c of candidates qs; `warm` = (arc, point, Jacobian) of an
        exact solution nearby, or None."""
        k = qs.size
        f = np.full(k, -np.inf)
        arc, pt, jac = np.full((k, 3), np.nan), np.full((k, 3), np.nan), np.full((k, 3, 3), np.nan)
        band = self.band(qs, c)
        w = np.flatnonzero(band)
        if w.size == 0:
            return f, arc, pt, jac
        r, cc = self.rows[qs[w]], c[w]
        if self.exact:
            f[w], arc[w] = self.F[r, cc], self.sol[r, cc]
            return f, arc, pt, jac
        guess, gpt, gjac = self.sol[r, cc], None, None
        if warm is not None:
            ok = np.isfinite(warm[0][w, 0])
            guess = np.where(ok[:, None], warm[0][w], guess)
            gpt = np.where(ok[:, None], warm[1][w], np.nan)
            gjac = np.where(ok[:, None, None], warm[2][w], np.nan)
        x = self.cond.at(self.tr[r], self.times[r, cc], guess, gpt, gjac)
        f[w], arc[w], pt[w], jac[w] = x.g_s, x.arc, x.position_ecef, x.jacobian
        return f, arc, pt, jac


def _climb(smp: _Samples, cols):
    """Move each candidate to an exact local maximum of f over the samples (table runs: the table may have
    misjudged the top, or left it in a run of uncertain cells): from the candidate, towards the higher
    neighbour with steps doubling while f keeps rising, then bisection on the sample indices of the
    bracket found. Returns the column b of each candidate, f at b - 1, b, b + 1 (-inf outside D or the
    path), the exact solution at b and the arc families at b - 1, b, b + 1 (FAMILY_*)."""
    q = np.arange(smp.rows.size)
    fam = smp.cond.family
    b = cols.copy()
    fb, *sb = smp.value(q, b)
    fa, *sa = smp.value(q, b - 1, sb)
    fc, *sc = smp.value(q, b + 1, sb)
    ka, kb, kc = fam(sa[0]), fam(sb[0]), fam(sc[0])
    a, c = b - 1, b + 1
    step = np.ones(q.size, int)
    # state: 0 done, +1 / -1 galloping right / left, 2 shrinking the bracket a < b < c
    up = fc > np.maximum(fb, fa)
    down = (fa > fb) & ~up
    state = np.where(up, 1, np.where(down, -1, 0))
    # galloping starts from the higher neighbour
    w = np.flatnonzero(up)
    a[w], fa[w], b[w], fb[w] = b[w], fb[w], c[w], fc[w]
    ka[w], kb[w] = kb[w], kc[w]
    w = np.flatnonzero(down)
    c[w], fc[w], b[w], fb[w] = b[w], fb[w], a[w], fa[w]
    kc[w], kb[w] = kb[w], ka[w]
    for v, va, vc in zip(sb, sa, sc):
        v[up], v[down] = vc[up], va[down]
    last = smp.m - 1 - np.argmax(np.isfinite(smp.times[smp.rows])[:, ::-1], axis=1)
    for _ in range(CLIMB_STEPS):
        live = np.flatnonzero(state != 0)
        if live.size == 0:
            break
        gal = live[np.abs(state[live]) == 1]
        shr = live[state[live] == 2]
        x = np.zeros(q.size, int)
        # galloping: the next probe `step` further on, within the path
        d = state[gal]
        x[gal] = np.clip(b[gal] + d * step[gal], 0, last[gal])
        step[gal] *= 2
        stuck = x[gal] == b[gal]  # at the end of the path: the end bounds the bracket
        g = gal[stuck]
        a[g] = np.where(state[g] < 0, b[g] - 1, a[g])
        c[g] = np.where(state[g] > 0, b[g] + 1, c[g])
        fa[g] = np.where(state[g] < 0, -np.inf, fa[g])
        fc[g] = np.where(state[g] > 0, -np.inf, fc[g])
        ka[g] = np.where(state[g] < 0, FAMILY_NONE, ka[g])
        kc[g] = np.where(state[g] > 0, FAMILY_NONE, kc[g])
        state[g] = 2
        gal = gal[~stuck]
        # shrinking: the midpoint of the wider side of the bracket
        fin = shr[((b[shr] - a[shr]) <= 1) & ((c[shr] - b[shr]) <= 1)]
        state[fin] = 0
        shr = shr[((b[shr] - a[shr]) > 1) | ((c[shr] - b[shr]) > 1)]
        right = (c[shr] - b[shr]) >= (b[shr] - a[shr])
        x[shr] = np.where(right, (b[shr] + c[shr]) // 2, (a[shr] + b[shr]) // 2)
        w = np.concatenate([gal, shr])
        if w.size == 0:
            continue
        fx, *sx = smp.value(w, x[w], [v[w] for v in sb])
        kx = fam(sx[0])
        better = fx > fb[w]
        go_right = x[w] > b[w]
        # a better probe becomes b, the old b the bracket's end behind it; a worse one closes the bracket
        for sel, lo_side in ((better & go_right, True), (better & ~go_right, False)):
            v = w[sel]
            if lo_side:
                a[v], fa[v], ka[v] = b[v], fb[v], kb[v]
            else:
                c[v], fc[v], kc[v] = b[v], fb[v], kb[v]
            b[v], fb[v], kb[v] = x[v], fx[sel], kx[sel]
            for arr, new in zip(sb, sx):
                arr[v] = new[sel]
        v = w[~better & go_right]
        c[v], fc[v], kc[v] = x[v], fx[~better & go_right], kx[~better & go_right]
        v = w[~better & ~go_right]
        a[v], fa[v], ka[v] = x[v], fx[~better & ~go_right], kx[~better & ~go_right]
        galw = np.abs(state[w]) == 1
        state[w[galw & ~better]] = 2
    # the bracket's ends are the neighbours b - 1 and b + 1 now (where a candidate ran out of steps, its
    # neighbours are solved)
    for side, ends, fe, ke in ((-1, a, fa, ka), (+1, c, fc, kc)):
        off = np.flatnonzero(ends != b + side)
        if off.size:
            fo, ao, _, _ = smp.value(off, b[off] + side, [v[off] for v in sb])
            fe[off], ke[off] = fo, fam(ao)
    return b, fa, fb, fc, sb, (ka, kb, kc)


def _points(smp: _Samples, b, fa, fb, fc, sb, fams) -> _Points:
    """The evaluated points of every candidate for the refinement: the candidate, and on each side the
    neighbouring sample when it lies in D, else the located edge of D (the candidate itself at the burnout
    or the impact)."""
    q = np.flatnonzero(np.isfinite(fb))  # a candidate that no exact solve reaches is dropped
    pts = _Points(smp.cond, smp.tr[smp.rows[q]], q.size, q)
    tb = smp.time(q, b[q])
    k = np.arange(q.size)
    arc, pt, jac = (v[q] for v in sb)
    ka, kb, kc = fams
    pts.add(k, tb, fb[q], arc, pt, jac, kb[q])
    nan3, nan33 = np.full((q.size, 3), np.nan), np.full((q.size, 3, 3), np.nan)
    for side, fe, ke in ((-1, fa, ka), (+1, fc, kc)):
        c = b[q] + side
        pres = smp.present(q, c)
        inside = pres & (fe[q] > fb[q] - JUMP_S)  # in D, on the same arc
        w = np.flatnonzero(inside)
        pts.add(w, smp.time(q[w], c[w]), fe[q[w]], nan3[w], nan3[w], nan33[w], ke[q[w]])
        pts.set_edge(np.flatnonzero(~pres), side)  # the burnout or the impact: the candidate ends D
        w = np.flatnonzero(pres & ~inside)
        if w.size:
            e = locate_edge(smp.cond, pts.tr[w], tb[w], fb[q[w]], arc[w], pt[w], jac[w], smp.time(q[w], c[w]),
                            ~smp.band(q[w], c[w]), fb[q[w]] - JUMP_S)
            moved = e[5]
            pts.add(w[moved], *(v[moved] for v in e[:5]), smp.cond.family(e[2][moved]))
            pts.set_edge(w, side)
    return pts


def band_crossing(cond: FreeFlightValue, tr, t_out, t_in):
    """The band crossing between t_out (outside the band) and t_in (inside) by bisection on the altitude, each
    threat to BAND_TOL_S on its own (so that its result does not depend on the others): the last time found
    inside."""
    a, b = np.array(t_out, float), np.array(t_in, float)
    for _ in range(64):
        live = np.flatnonzero(np.abs(b - a) > BAND_TOL_S)
        if live.size == 0:
            break
        mid = 0.5 * (a[live] + b[live])
        inb = cond.in_band(cond.position(tr[live], mid)[1])
        b[live[inb]] = mid[inb]
        a[live[~inb]] = mid[~inb]
    return b


def locate_edge(cond: FreeFlightValue, tr, t_in, f_in, arc, pt, jac, t_out, band_out, floor):
    """The edge of D between t_in (in D: its exact f, arc, point and Jacobian given) and t_out (outside: out
    of the band where band_out, else in the band but unreachable, or reachable only on another arc, with
    f below `floor`): a band crossing by bisection on the altitude to BAND_TOL_S, then solved exactly;
    where the crossing is not in D, or the neighbour was in the band, the edge of reach (or the jump to the
    other arc) by bisection on exact solves to EDGE_TOL_S. Returns (t, f, arc, point, Jacobian) of the last
    point found in D and whether it moved from t_in."""
    t_in, f_in, t_out = t_in.copy(), f_in.copy(), t_out.copy()
    arc, pt, jac = arc.copy(), pt.copy(), jac.copy()
    moved = np.zeros(tr.size, bool)
    reach = ~band_out
    w = np.flatnonzero(band_out)
    if w.size:
        b = band_crossing(cond, tr[w], t_out[w], t_in[w])
        x = cond.at(tr[w], b, arc[w], pt[w], jac[w])
        ok = x.g_s > floor[w]
        g = w[ok]
        t_in[g], f_in[g], moved[g] = b[ok], x.g_s[ok], True
        arc[g], pt[g], jac[g] = x.arc[ok], x.position_ecef[ok], x.jacobian[ok]
        t_out[w[~ok]] = b[~ok]  # inside the band there, but out of reach: an edge of reach lies before it
        reach[w[~ok]] = True
    w = np.flatnonzero(reach)
    a, b = t_out[w], t_in[w]  # a unreachable, b in D
    for _ in range(64):
        live = np.flatnonzero(np.abs(b - a) > EDGE_TOL_S)
        if live.size == 0:
            break
        mid = 0.5 * (a[live] + b[live])
        g = w[live]
        x = cond.at(tr[g], mid, arc[g], pt[g], jac[g])
        ok = x.g_s > floor[g]
        b[live[ok]] = mid[ok]
        a[live[~ok]] = mid[~ok]
        g = g[ok]
        t_in[g], f_in[g], moved[g] = mid[ok], x.g_s[ok], True
        arc[g], pt[g], jac[g] = x.arc[ok], x.position_ecef[ok], x.jacobian[ok]
    return t_in, f_in, arc, pt, jac, moved


# --------------------------------------------------------------------------- refinement
class _Points:
    """Up to NPTS exact evaluations per candidate, in the order evaluated (t, f (-inf outside D), arc,
    point, Jacobian), and whether the earliest and the latest of them are edges of D (new points always
    lie between those two)."""

    def __init__(self, cond: FreeFlightValue, tr, q: int, which=None):
        self.cond, self.tr = cond, tr
        self.which = np.arange(q) if which is None else which  # the candidates these are
        self.t = np.full((q, NPTS), np.nan)
        self.f = np.full((q, NPTS), -np.inf)
        self.arc = np.full((q, NPTS, 3), np.nan)
        self.pt = np.full((q, NPTS, 3), np.nan)
        self.jac = np.full((q, NPTS, 3, 3), np.nan)
        self.fam = np.zeros((q, NPTS), np.int8)  # the arc's family (FAMILY_*)
        self.count = np.zeros(q, int)
        self.steps = np.zeros(q, int)  # parabolic steps taken (at most MAX_STEPS)
        self.switch_steps = np.zeros(q, int)  # bisection steps on a family switch (at most SWITCH_STEPS)
        self.left_edge = np.zeros(q, bool)
        self.right_edge = np.zeros(q, bool)
        self.done = np.zeros(q, bool)

    def set_edge(self, qs, side):
        (self.left_edge if side < 0 else self.right_edge)[qs] = True

    def add(self, qs, t, f, arc, pt, jac, fam):
        qs = np.asarray(qs)
        room = self.count[qs] < NPTS
        qs = qs[room]
        if qs.size == 0:
            return
        c = self.count[qs]
        self.t[qs, c], self.f[qs, c] = t[room], np.where(np.isfinite(f[room]), f[room], -np.inf)
        self.arc[qs, c], self.pt[qs, c], self.jac[qs, c] = arc[room], pt[room], jac[room]
        self.fam[qs, c] = np.where(np.isfinite(f[room]), fam[room], FAMILY_NONE)
        self.count[qs] += 1

    def refine(self):
        """Successive parabolic interpolation on exact values (see the module doc), on the points of the best
        point's arc family: a switch between families (energy management: full speed, the floor, burnout) is a
        kink of f, bracketed by the nearest points of another family and bisected to EDGE_TOL_S like an edge
        while the best point lies next to it; located, it ends the family's points like an edge of D."""
        for _ in range(MAX_STEPS + SWITCH_STEPS):
            live = np.flatnonzero(~self.done)
            if live.size == 0:
                return
            order = np.argsort(self.t[live], axis=1)  # by time, empty slots (NaN) last
            t = np.take_along_axis(self.t[live], order, axis=1)
            f = np.take_along_axis(self.f[live], order, axis=1)
            fam = np.take_along_axis(self.fam[live], order, axis=1)
            n = self.count[live]
            r = np.arange(live.size)
            b = np.argmax(f, axis=1)
            # the run of points of the best point's family around it: [lo, hi]; where another family lies
            # beyond an end (sw_lo, sw_hi), the switch is between them
            col = np.arange(NPTS)[None, :]
            other = (fam != FAMILY_NONE) & (fam != fam[r, b][:, None]) & (col < n[:, None])
            sw_lo = np.where(other & (col < b[:, None]), col, -1).max(axis=1)
            sw_hi = np.where(other & (col > b[:, None]), col, NPTS).min(axis=1)
            lo, hi = sw_lo + 1, np.minimum(sw_hi, n) - 1
            has_lo, has_hi = sw_lo >= 0, sw_hi < NPTS
            t_lo, t_hi = t[r, np.maximum(sw_lo, 0)], t[r, np.minimum(sw_hi, NPTS - 1)]
            open_lo = has_lo & (t[r, lo] - t_lo > EDGE_TOL_S)  # a switch not yet located
            open_hi = has_hi & (t_hi - t[r, hi] > EDGE_TOL_S)
            nseg = hi - lo + 1
            interior = (b > lo) & (b < hi)
            at_left = (b == lo) & (nseg >= 3) & np.where(has_lo, ~open_lo, self.left_edge[live])
            at_right = (b == hi) & (nseg >= 3) & np.where(has_hi, ~open_hi, self.right_edge[live])
            # three points: around the best, or the edge point and the next two inside
            i0 = np.clip(np.where(interior, b - 1, np.where(at_right, hi - 2, lo)), 0, NPTS - 3)
            x1, x2, x3 = (t[r, i0 + d] for d in range(3))
            y1, y2, y3 = (f[r, i0 + d] for d in range(3))
            with np.errstate(all="ignore"):
                s12 = (y2 - y1) / (x2 - x1)
                a = ((y3 - y2) / (x3 - x2) - s12) / (x3 - x1)  # the parabola's second divided difference
                u = 0.5 * (x1 + x2) - s12 / (2 * a)  # its vertex
                gain = y1 + s12 * (u - x1) + a * (u - x1) * (u - x2) - f[r, b]
                step = ((interior | at_left | at_right) & (a < 0) & (gain > GAIN_TOL_S) & (u > x1) & (u < x3))
            step &= self.steps[live] < MAX_STEPS
            # two points (a candidate at the burnout or the impact and one neighbour): probe between them
            two = (n == 2) & ((t[r, 1] - t[r, 0]) > 2 * MIN_SEP_S) & ~has_lo & ~has_hi
            u = np.where(two, 0.5 * (t[r, 0] + t[r, 1]), u)
            step |= two & (self.steps[live] < MAX_STEPS)
            # the best point next to a switch not yet located: bisect the bracket (on the side of the higher
            # neighbour of the other family when both are open)
            sw_l = (b == lo) & open_lo
            sw_r = (b == hi) & open_hi
            right = sw_r & ~(sw_l & (f[r, np.maximum(sw_lo, 0)] > f[r, np.minimum(sw_hi, NPTS - 1)]))
            switch = (sw_l | sw_r) & (self.switch_steps[live] < SWITCH_STEPS)
            u = np.where(switch, np.where(right, 0.5 * (t[r, hi] + t_hi), 0.5 * (t_lo + t[r, lo])), u)
            step = np.where(switch, True, step)
            with np.errstate(invalid="ignore"):  # fmin: NaN (no step) where u or every point is NaN, no warning
                step &= np.fmin.reduce(np.abs(t - u[:, None]), axis=1) >= MIN_SEP_S  # away from the points there
            self.done[live[~step]] = True
            go = np.flatnonzero(step)
            if go.size == 0:
                return
            qs, near = live[go], order[go, b[go]]
            self.switch_steps[qs[switch[go]]] += 1
            self.steps[qs[~switch[go]]] += 1
            x = self.cond.at(self.tr[qs], u[go], self.arc[qs, near], self.pt[qs, near], self.jac[qs, near])
            self.add(qs, u[go], x.g_s, x.arc, x.position_ecef, x.jacobian, self.cond.family(x.arc))
            self.done[qs[self.count[qs] >= NPTS]] = True

    def best(self):
        """The greatest f evaluated per candidate (NaN: none in D), with its time and arc."""
        j = np.argmax(self.f, axis=1)
        r = np.arange(j.size)
        f = self.f[r, j]
        got = np.isfinite(f)
        return (np.where(got, f, np.nan), np.where(got, self.t[r, j], np.nan),
                np.where(got[:, None], self.arc[r, j], np.nan))
