"""Intercept windows of one battery against many threats (MODELS.md section 5).

The battery can intercept at threat time t when burnout <= t <= impact, the threat's altitude is in
the interceptor's band, and t >= t_I0 + T(P(t)) (T within the flight-time limit). The free flight is
scanned every SAMPLE_S: with exact flyout times (Flyout.solve) or, for large batches, with a flyout
table (interceptor/table.py). Table cells that are uncertain (edge of reach, steep or mixed arcs) are
solved exactly only where they can move a result: the run of uncertain samples next to the first or
last table-feasible sample is bisected exactly; a threat without table-feasible samples gets its
uncertain samples solved, then enough of the rest to tell out-of-reach from timeline.

The boundaries of the first and last feasible samples are then located on exact flyout times: with a
table, first by its root and Newton/secant steps on exact g(t) = t - t_I0 - T(P(t)), accepted where
|g| <= FAST_TOL_S (the fast path); otherwise, and wherever the fast path cannot confirm its answer,
by confirming the samples exactly and locating the boundary at a band crossing (bisection on
altitude) or as the root of g by the Illinois variant of regula falsi, to TIME_TOL_S. Exact solves
near an exact one start from it by a chord step (Flyout.solve with guess_point and guess_jac).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab.earth import frames
from shieldlab.interceptor.flyout import Flyout
from shieldlab.threat.trajectory import sample_free_flights

SAMPLE_S = 5.0  # scan step of the free flight (the apogee is always one of the samples)
TIME_TOL_S = 0.01  # boundaries located to this on exact flyout times
MAX_ROOT_ITER = 30
MAX_WALK = 400  # at most this many samples walked past a table misjudgement
FAST_BISECTIONS = 5  # on table times: 5 s / 2**5 ~ 0.16 s (table times: ~2 s; exact secant steps follow)
FAST_TOL_S = 0.01  # accept a fast-path boundary when exact g is within this of 0
FAST_SLOPE_DT_S = 0.5  # step of the table's finite-difference slope of g
FAST_SECANT_ITER = 4
TABLE_MARGIN_S = 10.0  # below the fastest corner of an uncertain cell by more than this: no arc in time
CLEAR_MARGIN_S = 3.0  # table times in clear cells are within 2 s of exact ones (tests/test_table.py)
REACH_PROBES = 4  # uncertain samples solved per threat and round to tell out-of-reach from timeline

REASONS = ("ok", "not-detected", "altitude", "out-of-reach", "timeline")


@dataclass
class Intercept:
    time_s: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    altitude_m: np.ndarray
    interceptor_launch_s: np.ndarray
    flyout_time_s: np.ndarray


@dataclass
class Window:
    """Per threat: earliest interceptor launch, feasibility, reason, first and last intercept."""

    earliest_launch_s: np.ndarray
    feasible: np.ndarray
    reason: np.ndarray  # object array of REASONS
    first: Intercept
    last: Intercept


def _empty_intercept(n):
    z = lambda: np.full(n, np.nan)  # noqa: E731
    return Intercept(z(), z(), z(), z(), z(), z())


class _Exact:
    """Exact evaluation of the engagement condition at given times for given threats."""

    def __init__(self, threats, flyout: Flyout, t0):
        self.threats, self.flyout, self.t0 = threats, flyout, t0
        it = flyout.interceptor
        self.lo, self.hi = it.min_altitude_m, it.max_altitude_m

    def alt(self, tr, t):
        p = self.threats.position_ecef(tr, t)
        return p, frames.ecef_to_geodetic(self.threats.earth, p)[2]

    def band(self, alt):
        return np.isfinite(alt) & (alt >= self.lo) & (alt <= self.hi)

    def __call__(self, tr, t, guess, slack_s=0.0):
        """(feasible, g = t - t0 - T, T, fast-arc solution, position, altitude) at times t; with
        slack_s, g >= -slack_s counts as feasible (for re-checking a boundary found to TIME_TOL_S)."""
        return self.near(tr, t, guess, None, None, slack_s)[:6]

    def near(self, tr, t, guess, guess_point, guess_jac, slack_s=0.0):
        """As __call__, warm-started from arcs `guess` that are exact for the points `guess_point`
        with Jacobians `guess_jac` (NaN rows: plain warm start; see Flyout.solve); also returns the
        Jacobians of the new arcs (k, 3, 3)."""
        p, alt = self.alt(tr, t)
        band = self.band(alt)
        T = np.full(tr.size, np.inf)
        sol = np.full((tr.size, 3), np.nan)
        jac = np.full((tr.size, 3, 3), np.nan)
        if band.any():
            sel = lambda a: None if a is None else a[band]  # noqa: E731
            T[band], sol[band], jac[band] = self.flyout.solve(p[band], guess=sel(guess), guess_point=sel(guess_point),
                                                              guess_jac=sel(guess_jac), return_jac=True)
        g = t - self.t0[tr] - T
        return band & (g >= -slack_s), g, T, sol, p, alt, jac


def free_flight_samples(threats, idx):
    """Sample times (k, m) of the free flight of threats idx, every SAMPLE_S or less from burnout to
    impact (NaN padded), with positions (k, m, 3) and altitudes (k, m). Cached on the batch: every
    battery scans the same samples."""
    cache = threats.__dict__.setdefault("_window_samples", {})
    if cache.get("key") is not threats.impact_time_s:
        ok = np.flatnonzero(threats.valid)
        tb = threats.burnout_time_s[ok]
        ti = threats.impact_time_s[ok]
        ns = np.maximum(np.ceil((ti - tb) / SAMPLE_S).astype(int), 1)
        m = int(ns.max()) + 2 if ok.size else 2  # + the apogee
        times, pos, alt = sample_free_flights(threats.nodes, threats.node_count, threats.step_s, ok.astype(np.int64),
                                              tb, ti, threats.apogee_time_s[ok], SAMPLE_S, m,
                                              threats.earth.kernel_params)
        row = np.full(threats.n, -1)
        row[ok] = np.arange(ok.size)
        for a in (times, pos, alt):
            a.flags.writeable = False  # shared by every battery's scan
        cache.update(key=threats.impact_time_s, row=row, times=times, pos=pos, alt=alt)
    r = cache["row"][idx]
    if r.size == cache["times"].shape[0] and np.array_equal(r, np.arange(r.size)):
        return cache["times"], cache["pos"], cache["alt"]  # every sampled threat: no copies (read-only use)
    return cache["times"][r], cache["pos"][r], cache["alt"][r]


def _settle_reach(flyout, P, T, guess, pending, m, reached, per_round=REACH_PROBES):
    """For threats with no reachable sample yet, solve their pending uncertain samples exactly, a few
    per threat at a time, until one is reachable (then the reason can only be 'timeline') or none is
    left ('out-of-reach'). P, T, guess: flat sample arrays (row * m + column), T and guess updated in
    place; pending: flat indices in increasing order; reached (k,): threats with a finite T already."""
    pend = pending[~reached[pending // m]]
    while pend.size:
        own = pend // m
        # the first `per_round` pending samples of each threat, spread over its path
        first_of = np.searchsorted(own, own, side="left")
        rank = np.arange(own.size) - first_of
        count = np.bincount(own, minlength=reached.size)[own]
        stride = np.maximum(count // per_round, 1)
        pick = (rank % stride == 0) & (rank // stride < per_round)
        q = pend[pick]
        T[q], guess[q] = flyout.solve(P[q], guess=guess[q])
        reached[own[pick][np.isfinite(T[q])]] = True
        pend = pend[~pick & ~reached[own]]


def _table_scan(flyout, table, times, t0, pos, alt, in_band):
    """T and sol (flat, k*m) of the in-band samples from the flyout table, solving exactly only
    the uncertain samples (edge of reach, a jump between arcs, or within the table's error of
    feasible) that can decide a result:

    - a threat with table-feasible samples: the uncertain runs beyond its first and last one
      (`_edge_runs`); uncertain samples between the two cannot move the first or last intercept;
    - a threat without: every uncertain sample, then `_settle_reach` for out-of-reach against
      timeline.

    Also returns, per threat, whether its first and its last boundary are exact: that boundary's
    sample and its outer neighbour are both known exactly (the neighbour infeasible, out of the band,
    or past the path's end)."""
    k, m = times.shape
    flat_in = in_band.ravel()
    avail = (times - t0[:, None]).ravel()
    T, mix, low, sol = table.lookup_where(pos, flat_in, alt)
    tab_ok = (flat_in & np.isfinite(T) & (avail >= T)).reshape(k, m)
    has = tab_ok.any(1)
    # uncertain: cells that straddle the edge of reach or two arcs, where the time available could
    # cover the fastest corner; and, for a threat with no table-feasible sample, clear cells within
    # the table's error of being feasible (a short window the table misses). Next to a threat's
    # table-feasible samples such clear cells are the boundary search's business (`_locate`).
    near = (np.isfinite(T) & (avail >= T - CLEAR_MARGIN_S)).reshape(k, m) & ~has[:, None]
    need = (mix & (avail >= low - TABLE_MARGIN_S)).reshape(k, m) | near
    need &= ~tab_ok
    # threats with no table-feasible sample: every needed uncertain sample, then settle the reason
    sel = (need & ~has[:, None]).ravel()
    if sel.any():
        T[sel], sol[sel] = flyout.solve(pos[sel], guess=sol[sel])
    rest = np.flatnonzero((mix.reshape(k, m) & ~need & ~has[:, None]).ravel())
    if rest.size:
        reached = np.isfinite(T.reshape(k, m)).any(1)
        _settle_reach(flyout, pos, T, sol, rest, m, reached)
    first = np.argmax(tab_ok, axis=1)
    last = m - 1 - np.argmax(tab_ok[:, ::-1], axis=1)
    band2 = in_band.reshape(k, m)
    edge_exact = (_edge_runs(flyout, times, avail.reshape(k, m), band2, need, pos, T, sol, first, has, -1),
                  _edge_runs(flyout, times, avail.reshape(k, m), band2, need, pos, T, sol, last, has, +1))
    return T, sol, edge_exact


def _edge_runs(flyout, times, avail, band, need, pos, T, sol, start, has, direction):
    """Resolve the uncertain samples beyond a threat's first (direction -1) or last (+1)
    table-feasible sample `start`, exactly, as far as they can move that boundary. They come in runs
    (consecutive uncertain samples). Runs further out than the one next to `start` are tried from the
    outermost inwards: the first whose inner end is exactly feasible holds the boundary (e.g. a threat
    that leaves the band and comes back into it). Otherwise the run next to `start` is tried (after
    confirming `start` itself). Within a run the last feasible sample is found by bisection, assuming
    that feasibility does not come back inside one run. T and sol (flat) get the exact values solved.
    Returns the threats whose boundary sample and outer neighbour are now both known exactly."""
    k, m = times.shape
    rows = np.arange(k)
    flat = lambda r, c: r * m + c  # noqa: E731
    exact = np.zeros(k, bool)

    def outer(r, c):
        """For threats r at samples c: 0 no neighbour (path end or out of band), 1 uncertain
        neighbour, 2 a neighbour the table decides."""
        nb = c + direction
        inside = (nb >= 0) & (nb < m)
        nbc = np.clip(nb, 0, m - 1)
        there = inside & np.isfinite(times[r, nbc]) & band[r, nbc]
        return np.where(~there, 0, np.where(need[r, nbc], 1, 2))

    def feasible(r, c):
        q = flat(r, c)
        return np.isfinite(T[q]) & (avail[r, c] >= T[q])

    def bisect(r, c0, n):
        """Threats r with sample c0 exactly feasible and n uncertain samples beyond it: the last
        feasible offset lo (0..n) and whether offset lo + 1 was solved infeasible."""
        lo = np.zeros(r.size, int)
        hi = n + 1
        hi_known = np.zeros(r.size, bool)
        lo_prev = np.full(r.size, -1)
        while True:
            a = np.flatnonzero(hi - lo > 1)
            if a.size == 0:
                return lo, hi_known
            probe = (lo[a] + hi[a]) // 2
            ra, ca = r[a], c0[a]
            q = flat(ra, ca + direction * probe)
            # warm start: the exact arc at lo, extrapolated along the path once two are known
            s_lo = sol[flat(ra, ca + direction * lo[a])]
            s_pv = sol[flat(ra, ca + direction * np.maximum(lo_prev[a], 0))]
            span = np.where(lo_prev[a] >= 0, lo[a] - lo_prev[a], 0)
            d = s_lo - s_pv
            d[:, 0] = (d[:, 0] + np.pi) % (2 * np.pi) - np.pi
            f = np.where(span > 0, (probe - lo[a]) / np.maximum(span, 1), 0.0)[:, None]
            guess = np.where(np.isfinite(d), s_lo + f * d, s_lo)
            T[q], sol[q] = flyout.solve(pos[q], guess=np.where(np.isfinite(guess), guess, sol[q]))
            feas = feasible(ra, ca + direction * probe)
            lo_prev[a[feas]] = lo[a[feas]]
            lo[a[feas]] = probe[feas]
            hi[a[~feas]] = probe[~feas]
            hi_known[a[~feas]] = True

    def settle(r, c0, n):
        """Bisect and mark the threats whose boundary and its outer neighbour are known exactly."""
        lo, hi_known = bisect(r, c0, n)
        end_out = (lo == n) & (outer(r, c0 + direction * lo) == 0)
        exact[r[hi_known | end_out]] = True

    w = np.flatnonzero(has)
    if w.size == 0:
        return exact
    # runs of uncertain samples beyond each start, in the scan direction
    j = np.arange(m)[None, :]
    ahead = (j > start[w, None]) if direction > 0 else (j < start[w, None])
    nd = need[w] & ahead
    if direction < 0:
        nd = nd[:, ::-1]  # walk outwards = increasing column in this view
    prev = np.concatenate([np.zeros((w.size, 1), bool), nd[:, :-1]], axis=1)
    nxt = np.concatenate([nd[:, 1:], np.zeros((w.size, 1), bool)], axis=1)
    rs_r, rs_c = np.nonzero(nd & ~prev)  # run starts (row, view column), rows ascending, columns ascending
    _, re_c = np.nonzero(nd & ~nxt)  # run ends, paired with the starts
    to_col = (lambda c: c) if direction > 0 else (lambda c: m - 1 - c)
    view_start = start[w] if direction > 0 else m - 1 - start[w]
    adjacent = rs_c == view_start[rs_r] + 1
    # further runs, outermost first: the first with an exactly feasible inner end holds the boundary
    far = np.flatnonzero(~adjacent)
    resolved = np.zeros(w.size, bool)
    if far.size:
        order = np.lexsort((-rs_c[far], rs_r[far]))  # by threat, outermost run first
        far = far[order]
        rank = np.arange(far.size) - np.searchsorted(rs_r[far], rs_r[far], side="left")
        for level in range(int(rank.max()) + 1):
            cand = far[(rank == level) & ~resolved[rs_r[far]]]
            if cand.size == 0:
                break
            r = w[rs_r[cand]]
            c0 = to_col(rs_c[cand])
            q = flat(r, c0)
            # warm start from the inner neighbour's arc (a table-decided cell: interpolated there)
            g_in = sol[flat(r, c0 - direction)]
            T[q], sol[q] = flyout.solve(pos[q], guess=np.where(np.isfinite(g_in), g_in, sol[q]))
            ok = feasible(r, c0)
            if ok.any():
                settle(r[ok], c0[ok], re_c[cand[ok]] - rs_c[cand[ok]])
                resolved[rs_r[cand[ok]]] = True
    # the run next to the start (after confirming the start exactly)
    adj = np.flatnonzero(adjacent & ~resolved[rs_r])
    if adj.size:
        r = w[rs_r[adj]]
        c0 = start[r]
        q = flat(r, c0)
        T[q], sol[q] = flyout.solve(pos[q], guess=sol[q])
        ok = feasible(r, c0)
        settle(r[ok], c0[ok], re_c[adj[ok]] - rs_c[adj[ok]] + 1)
    return exact


def evaluate(threats, flyout: Flyout, earliest_launch_s: np.ndarray, table=None) -> Window:
    """Windows of one battery (its flyout model) given each threat's earliest launch (NaN: no cue).
    With `table` (a FlyoutTable of the same battery) the scan uses it; results are the same to the
    refinement tolerance."""
    n = threats.n
    first, last = _empty_intercept(n), _empty_intercept(n)
    feasible = np.zeros(n, bool)
    reason = np.full(n, "not-detected", dtype=object)
    t0 = np.asarray(earliest_launch_s, float)
    idx = np.flatnonzero(threats.valid & np.isfinite(t0))
    if idx.size == 0:
        return Window(t0, feasible, reason, first, last)
    ex = _Exact(threats, flyout, t0)
    times, pos, alt = free_flight_samples(threats, idx)
    k, m = times.shape
    tt = times.ravel()
    good = np.isfinite(tt)
    pos = pos.reshape(k * m, 3)
    alt = alt.ravel()
    in_band = good & ex.band(alt)
    edge_exact = (np.zeros(k, bool), np.zeros(k, bool))  # first, last boundary resolved on exact samples
    if table is None or not in_band.any():
        T = np.full(k * m, np.inf)
        sol = np.full((k * m, 3), np.nan)
        if in_band.any():
            T[in_band], sol[in_band] = flyout.solve(pos[in_band])
    else:
        T, sol, edge_exact = _table_scan(flyout, table, times, t0[idx], pos, alt, in_band)
    T = T.reshape(k, m)
    sol = sol.reshape(k, m, 3)
    in_band = in_band.reshape(k, m)
    ok = in_band & np.isfinite(T) & (times - t0[idx][:, None] >= T)
    reason[idx] = np.where(~in_band.any(1), "altitude",
                           np.where(~(in_band & np.isfinite(T)).any(1), "out-of-reach", "timeline"))
    hit = np.flatnonzero(ok.any(1))
    if hit.size:
        f = np.argmax(ok[hit], axis=1)
        l = m - 1 - np.argmax(ok[hit, ::-1], axis=1)
        g = times - t0[idx][:, None] - T  # exact where `edge_exact` says so
        args = (ex, table, idx[hit], times[hit], sol[hit], ok[hit])
        good_f = _locate(*args, f, -1, first, edge_exact[0][hit], g[hit])
        good_l = _locate(*args, l, +1, last, edge_exact[1][hit], g[hit])
        h = idx[hit][good_f & good_l]
        reason[h] = "ok"
        feasible[h] = True
        # a table-scan hit that exact solves reject: the pair is reachable but not in time
        for i in idx[hit][~(good_f & good_l)]:
            reason[i] = "timeline"
            for ic in (first, last):
                for a in ic.__dict__.values():
                    a[i] = np.nan
    return Window(t0, feasible, reason, first, last)


def _locate(ex: _Exact, table, tr, times, sol, ok, kk, direction, out: Intercept, edge_exact, g):
    """First/last feasible time: where the scan resolved the boundary's two samples exactly
    (`edge_exact`), root-find between them; else, with a table, try the fast path (root on the table,
    then Newton/secant on exact flyout times, confirmed exactly); the rest take the exact path."""
    if table is None:
        return _boundary(ex, tr, times, sol, ok, kk, direction, out, exact_scan=True)
    found = np.zeros(tr.size, bool)
    wk = np.flatnonzero(edge_exact)
    if wk.size:
        found[wk] = _boundary(ex, tr[wk], times[wk], sol[wk], ok[wk], kk[wk], direction, out, exact_scan=True,
                              g=g[wk])
    tw = np.flatnonzero(~edge_exact)
    if tw.size:
        fnd, rest = _fast_boundary(ex, table, tr[tw], times[tw], sol[tw], kk[tw], direction, out)
        if rest.size:
            r = tw[rest]
            fnd[rest] = _boundary(ex, tr[r], times[r], sol[r], ok[r], kk[r], direction, out, exact_scan=False)
        found[tw] = fnd
    return found


def _table_g(ex: _Exact, table, tr, t):
    """(in band, g on table times, mixed) at times t in free flight."""
    p, alt = ex.threats.free_flight_positions(tr, t)
    T, mixed, _, _ = table.lookup(p, alt)
    return ex.band(alt), t - ex.t0[tr] - T, mixed


def _fast_boundary(ex: _Exact, table, tr, times, sol, kk, direction, out: Intercept):
    """Returns (found mask, indices that need the exact path)."""
    k = tr.size
    rows = np.arange(k)
    m = times.shape[1]
    t_in = times[rows, kk]
    nb = kk + direction
    has_nb = (nb >= 0) & (nb < m)
    t_out = np.where(has_nb, times[rows, np.clip(nb, 0, m - 1)], np.nan)
    has_nb &= np.isfinite(t_out)
    # 1) bisection on the table predicate between the infeasible and the feasible sample
    a = np.where(has_nb, t_out, t_in)
    b = t_in.copy()
    suspect = np.zeros(k, bool)
    w = np.flatnonzero(has_nb)
    for _ in range(FAST_BISECTIONS):
        if w.size == 0:
            break
        mid = 0.5 * (a[w] + b[w])
        band, g, mixed = _table_g(ex, table, tr[w], mid)
        suspect[w[mixed]] = True
        okm = band & (g >= 0)
        b[w[okm]] = mid[okm]
        a[w[~okm]] = mid[~okm]
    # band-bound boundary: the infeasible end lies outside the band
    band_a, _, _ = _table_g(ex, table, tr, a)
    band_bound = has_nb & ~band_a
    # 2) exact check at the table boundary, one Newton correction where g binds (not where the
    # bisection met an uncertain cell: those go the exact path anyway)
    t_fin, T_fin = b.copy(), np.full(k, np.nan)
    p_fin, alt_fin = np.full((k, 3), np.nan), np.full(k, np.nan)
    accept = np.zeros(k, bool)
    gx = np.full(k, np.nan)
    sx = np.full((k, 3), np.nan)
    jx = np.full((k, 3, 3), np.nan)
    c = np.flatnonzero(~suspect)
    if c.size:
        pb, altb = ex.threats.free_flight_positions(tr[c], b[c])
        _, _, _, gb = table.lookup(pb, altb)  # the table's arc at the boundary itself
        gb = np.where(np.isfinite(gb), gb, sol[c, kk[c]])
        okx, gx[c], T_fin[c], sx[c], p_fin[c], alt_fin[c], jx[c] = ex.near(tr[c], b[c], gb, None, None,
                                                                             slack_s=FAST_TOL_S)
        accept[c] = okx & (band_bound[c] | ~has_nb[c] | (np.abs(gx[c]) <= FAST_TOL_S))
    corr = np.flatnonzero(~accept & ~suspect & np.isfinite(gx) & has_nb & ~band_bound)
    if corr.size:
        d = FAST_SLOPE_DT_S
        _, g1, _ = _table_g(ex, table, tr[corr], b[corr] + d)
        _, g0, _ = _table_g(ex, table, tr[corr], b[corr] - d)
        with np.errstate(all="ignore"):
            slope = (g1 - g0) / (2 * d)
        lo = np.minimum(t_out[corr], t_in[corr])
        hi = np.maximum(t_out[corr], t_in[corr])
        t_prev, g_prev, s_prev = b[corr].copy(), gx[corr].copy(), sx[corr].copy()
        pt_prev, j_prev = p_fin[corr].copy(), jx[corr].copy()
        live = np.isfinite(slope) & (slope != 0)
        for _ in range(FAST_SECANT_ITER):  # Newton with the table's slope, then secant on exact g
            L = np.flatnonzero(live)
            if L.size == 0:
                break
            with np.errstate(all="ignore"):
                t1 = t_prev[L] - g_prev[L] / slope[L]
            inside = np.isfinite(t1) & (t1 >= lo[L]) & (t1 <= hi[L])
            live[L[~inside]] = False
            L, t1 = L[inside], t1[inside]
            if L.size == 0:
                break
            ok1, g1x, T1, s1, p1, alt1, j1 = ex.near(tr[corr[L]], t1, s_prev[L], pt_prev[L], j_prev[L],
                                                     slack_s=FAST_TOL_S)
            fine = ok1 & (np.abs(g1x) <= FAST_TOL_S)
            cc = corr[L[fine]]
            accept[cc] = True
            t_fin[cc], T_fin[cc], p_fin[cc], alt_fin[cc] = t1[fine], T1[fine], p1[fine], alt1[fine]
            live[L[fine]] = False
            cont = ~fine & np.isfinite(g1x)
            live[L[~cont & ~fine]] = False
            with np.errstate(all="ignore"):
                sec = (g1x - g_prev[L]) / (t1 - t_prev[L])
            upd = L[cont]
            slope[upd] = np.where(np.isfinite(sec[cont]) & (sec[cont] != 0), sec[cont], slope[upd])
            t_prev[upd], g_prev[upd] = t1[cont], g1x[cont]
            got = np.isfinite(s1[cont, 0])
            s_prev[upd[got]], pt_prev[upd[got]], j_prev[upd[got]] = s1[cont][got], p1[cont][got], j1[cont][got]
    accept &= ~suspect
    lat, lon, _ = frames.ecef_to_geodetic(ex.threats.earth, p_fin)
    acc = np.flatnonzero(accept)
    for name, val in (("time_s", t_fin), ("lat_deg", lat), ("lon_deg", lon), ("altitude_m", alt_fin),
                      ("flyout_time_s", T_fin), ("interceptor_launch_s", t_fin - T_fin)):
        getattr(out, name)[tr[acc]] = val[acc]
    return accept.copy(), np.flatnonzero(~accept)


def _boundary(ex: _Exact, tr, times, sol, ok, kk, direction, out: Intercept, exact_scan: bool, g=None):
    """Locate the first (direction -1) or last (+1) feasible time of each threat exactly, starting
    from the scan's first/last feasible sample kk; fill `out`. With exact_scan the samples kk and
    kk + direction are exactly known (their g = t - t0 - T in `g` (k, m) when given). Returns a
    mask of threats for which an exactly feasible time was found."""
    rows = np.arange(tr.size)
    m = times.shape[1]
    kk = kk.copy()
    t_in = times[rows, kk]
    guess = sol[rows, kk]
    found = np.ones(tr.size, bool)
    if not exact_scan:
        # confirm the feasible sample exactly; walk inwards while the table was too optimistic
        okx, _, _, s, _, _ = ex(tr, t_in, guess)
        guess = np.where(np.isfinite(s), s, guess)
        todo = ~okx
        for _ in range(MAX_WALK):
            if not todo.any():
                break
            kk[todo] -= direction
            valid = (kk >= 0) & (kk < m) & np.isfinite(times[rows, np.clip(kk, 0, m - 1)])
            found &= ~(todo & ~valid)
            todo &= valid
            w = np.flatnonzero(todo)
            okx, _, _, s, _, _ = ex(tr[w], times[w, kk[w]], None)
            todo[w[okx]] = False
            guess[w] = np.where(np.isfinite(s), s, guess[w])
        t_in = times[rows, np.clip(kk, 0, m - 1)]
        # and walk outwards while the neighbour sample is exactly feasible too (table too pessimistic)
        todo = found.copy()
        for _ in range(MAX_WALK):
            nb = kk + direction
            todo &= (nb >= 0) & (nb < m)
            todo &= np.isfinite(times[rows, np.clip(nb, 0, m - 1)])
            w = np.flatnonzero(todo)
            if w.size == 0:
                break
            okx, _, _, s, _, _ = ex(tr[w], times[w, nb[w]], guess[w])
            todo[w[~okx]] = False
            adv = w[okx]
            kk[adv] = nb[adv]
            guess[adv] = s[okx]
        t_in = times[rows, np.clip(kk, 0, m - 1)]
    nb = kk + direction
    has_nb = found & (nb >= 0) & (nb < m)
    t_out = np.where(has_nb, times[rows, np.clip(nb, 0, m - 1)], np.nan)
    has_nb &= np.isfinite(t_out)
    sub = np.flatnonzero(has_nb)
    if sub.size:
        g_known = None
        if g is not None:
            nbs = np.clip(nb[sub], 0, m - 1)
            g_known = (g[sub, nbs], g[sub, kk[sub]])
        t_in[sub], guess[sub], g_pt, g_jac = _root(ex, tr[sub], t_out[sub], t_in[sub], guess[sub], g_known)
    # the final exact solve starts from the root search's last arc (a chord step away)
    pt = np.full((tr.size, 3), np.nan)
    jac = np.full((tr.size, 3, 3), np.nan)
    if sub.size:
        pt[sub], jac[sub] = g_pt, g_jac
    okf, _, T, _, p, alt, _ = ex.near(tr, t_in, guess, pt, jac, slack_s=TIME_TOL_S)
    found &= okf
    lat, lon, _ = frames.ecef_to_geodetic(ex.threats.earth, p)
    for name, val in (("time_s", t_in), ("lat_deg", lat), ("lon_deg", lon), ("altitude_m", alt),
                      ("flyout_time_s", T), ("interceptor_launch_s", t_in - T)):
        getattr(out, name)[tr] = np.where(found, val, np.nan)
    return found


def _root(ex: _Exact, tr, t_out, t_in, guess, g_known=None):
    """Boundary between an infeasible time t_out and a feasible time t_in (either order), to
    TIME_TOL_S: a band crossing by bisection on altitude, else the root of g by Illinois.
    `g_known` = (g at t_out, g at t_in) saves their exact solves. Returns the boundary times and,
    per threat, the last exact arc solved near it with its point and Jacobian (NaN: none) for a
    chord-step warm start."""
    t_out, t_in, guess = t_out.copy(), t_in.copy(), guess.copy()
    pt_all = np.full((tr.size, 3), np.nan)
    jac_all = np.full((tr.size, 3, 3), np.nan)
    # 1) the band: move t_out up to the band crossing when it lies outside the band
    _, alt_o = ex.alt(tr, t_out)
    outside = ~ex.band(alt_o)
    w = np.flatnonzero(outside)
    if w.size:
        a, b = t_out[w], t_in[w]
        for _ in range(40):
            mid = 0.5 * (a + b)
            inb = ex.band(ex.alt(tr[w], mid)[1])
            a = np.where(inb, a, mid)
            b = np.where(inb, mid, b)
            if np.all(np.abs(b - a) < 1e-6):
                break
        okc, _, _, s, pc, _, jc = ex.near(tr[w], b, guess[w], None, None)
        # feasible right at the band edge: that is the boundary
        t_in[w[okc]] = b[okc]
        guess[w[okc]] = s[okc]
        pt_all[w[okc]], jac_all[w[okc]] = pc[okc], jc[okc]
        t_out[w] = np.where(okc, b, a)
        done = np.zeros(tr.size, bool)
        done[w[okc]] = True
        # not feasible at the band edge: the root of g lies between the edge and t_in
        t_out[w[~okc]] = b[~okc]
    else:
        done = np.zeros(tr.size, bool)
    # 2) Illinois regula falsi on g between t_out (g < 0 or T = inf) and t_in (g >= 0)
    act = np.flatnonzero(~done)
    if act.size == 0:
        return t_in, guess, pt_all, jac_all
    if g_known is None:
        _, g_in, _, _, _, _ = ex(tr[act], t_in[act], guess[act])
        _, g_out, _, _, _, _ = ex(tr[act], t_out[act], guess[act])
    else:
        # known at the samples; t_out moved to the band edge needs a fresh value
        g_out, g_in = g_known[0][act].astype(float), g_known[1][act].astype(float)
        moved = np.zeros(tr.size, bool)
        moved[w] = True
        mv = np.flatnonzero(moved[act])
        if mv.size:
            _, g_out[mv], _, _, _, _ = ex(tr[act[mv]], t_out[act[mv]], guess[act[mv]])
    lo, hi = t_out[act].copy(), t_in[act].copy()  # lo: infeasible end, hi: feasible end
    glo, ghi = g_out, g_in
    side = np.zeros(act.size, int)
    # the last exact arc of each root search, with its point and Jacobian, warm-starts the next
    g_pt = np.full((act.size, 3), np.nan)
    g_jac = np.full((act.size, 3, 3), np.nan)
    for _ in range(MAX_ROOT_ITER):
        live = np.abs(hi - lo) > TIME_TOL_S
        if not live.any():
            break
        fin = np.isfinite(glo) & np.isfinite(ghi) & (ghi - glo > 0)
        with np.errstate(all="ignore"):
            cand = hi - ghi * (hi - lo) / (ghi - glo)
        mid = np.where(fin, cand, 0.5 * (lo + hi))
        # stay strictly inside the bracket
        span = hi - lo
        frac = np.clip((mid - lo) / np.where(span == 0, 1, span), 0.02, 0.98)
        mid = lo + frac * span
        L = np.flatnonzero(live)
        okm, gm, _, s, pm, _, jm = ex.near(tr[act[L]], mid[L], guess[act[L]], g_pt[L], g_jac[L])
        got = np.isfinite(s[:, 0])
        guess[act[L]] = np.where(got[:, None], s, guess[act[L]])
        g_pt[L[got]], g_jac[L[got]] = pm[got], jm[got]
        # feasible: new feasible end; else new infeasible end (Illinois halves the stale end's g)
        fe = okm
        hi[L[fe]], ghi[L[fe]] = mid[L[fe]], gm[fe]
        lo[L[~fe]], glo[L[~fe]] = mid[L[~fe]], gm[~fe]
        stale_lo = L[fe][side[L[fe]] == 1]
        glo[stale_lo] *= 0.5
        stale_hi = L[~fe][side[L[~fe]] == -1]
        ghi[stale_hi] *= 0.5
        side[L[fe]] = 1
        side[L[~fe]] = -1
    t_in[act] = hi
    pt_all[act], jac_all[act] = g_pt, g_jac
    return t_in, guess, pt_all, jac_all
