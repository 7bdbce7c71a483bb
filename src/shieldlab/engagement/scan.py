"""Scanning the free flight for one battery: the samples (every SAMPLE_S from burnout to impact, plus
the apogee) and the flyout times T at them, exact (Flyout.solve) or, for large batches, from a flyout
table (interceptor/table.py). Table cells that are uncertain (edge of reach, steep or mixed arcs) are
solved exactly only where they can move a result: the run of uncertain samples next to the first or
last table-feasible sample is bisected exactly; a threat without table-feasible samples gets its
uncertain samples solved, then enough of the rest to tell out-of-reach from timeline. The boundaries
found here are then located exactly by engagement/boundary.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab.threat._kernels import sample_free_flights

SAMPLE_S = 10.0  # scan step of the free flight (the apogee is always one of the samples)
TABLE_MARGIN_S = 12.0  # below the fastest corner of a mixed cell by more than this: no arc in time (test_table.py)
CLEAR_MARGIN_S = 3.0  # table times in clear cells: within 2 s of exact ones, or their error bound (tests/test_table.py)
REACH_PROBES = 4  # uncertain samples solved per threat and round to tell out-of-reach from timeline


@dataclass(frozen=True, eq=False)
class FreeFlightSamples:
    """The free flights of a batch of threats sampled every SAMPLE_S or less from burnout to impact
    (plus the apogee), NaN padded: `times_s` (k, m), `r_ecef` (k, m, 3), `altitude_m` (k, m) for the
    k threats without an error; `row` (n,) is each threat's row (-1: not sampled). Computed once per
    evaluation and scanned by every battery (read-only)."""

    row: np.ndarray
    times_s: np.ndarray
    r_ecef: np.ndarray
    altitude_m: np.ndarray

    def __repr__(self) -> str:
        return f"<FreeFlightSamples: {self.times_s.shape[0]} threats x up to {self.times_s.shape[1]} samples>"

    def of(self, idx):
        """(times (k, m), positions (k, m, 3), altitudes (k, m)) of threats idx (all sampled)."""
        r = self.row[idx]
        if r.size == self.times_s.shape[0] and np.array_equal(r, np.arange(r.size)):
            return self.times_s, self.r_ecef, self.altitude_m  # every sampled threat: no copies (read-only)
        return self.times_s[r], self.r_ecef[r], self.altitude_m[r]


def free_flight_samples(threats) -> FreeFlightSamples:
    """The samples of every threat without an error (FlownThreats)."""
    ok = np.flatnonzero(threats.valid)
    tb = threats.burnout_time_s[ok]
    ti = threats.impact_time_s[ok]
    ns = np.maximum(np.ceil((ti - tb) / SAMPLE_S).astype(int), 1)
    m = int(ns.max()) + 2 if ok.size else 2  # + the apogee
    times, pos, alt = sample_free_flights(threats.nodes, threats.node_count, threats.step_s, ok.astype(np.int64),
                                          tb, ti, threats.apogee_time_s[ok], SAMPLE_S, m, threats.earth.kernel_params)
    row = np.full(threats.n, -1)
    row[ok] = np.arange(ok.size)
    for a in (row, times, pos, alt):
        a.flags.writeable = False  # shared by every battery's scan
    return FreeFlightSamples(row, times, pos, alt)


def exact_scan(flyout, pos, in_band):
    """T and arcs (flat) of the in-band samples, every one solved exactly (small batches). `flyout`: as
    in `table_scan`."""
    T = np.full(in_band.size, np.inf)
    sol = np.full((in_band.size, 3), np.nan)
    if in_band.any():
        fs = flyout.rows(in_band).solve(pos[in_band])
        T[in_band], sol[in_band] = fs.time_s, fs.arc
    return T, sol


def table_scan(flyout, table, times, t0, pos, alt, in_band):
    """T and sol (flat, k*m) of the in-band samples from the flyout table, solving exactly only
    the uncertain samples (edge of reach, a jump between arcs, or within the table's error of
    feasible) that can decide a result:

    - a threat with table-feasible samples: the uncertain runs beyond its first and last one
      (`_edge_runs`); uncertain samples between the two cannot move the first or last intercept;
    - a threat without: every uncertain sample, then `_settle_reach` for out-of-reach against
      timeline.

    Also returns, per threat, whether its first and its last boundary are exact: that boundary's
    sample and its outer neighbour are both known exactly (the neighbour infeasible, out of the band,
    or past the path's end).

    `flyout` gives the flyout of flat samples: `flyout.rows(flat indices).solve(points)` (a Flyout is the
    same for every sample; a SpeedRowsFlyout bound to the samples' threats has each one's burnout speed).
    `table` gives the TableLookup of the flat samples (`lookup_where`): a FlyoutTable, or a SpeedTable
    bound to these threats (`rows`)."""
    k, m = times.shape
    flat_in = in_band.ravel()
    avail = (times - t0[:, None]).ravel()
    tl = table.lookup_where(pos, flat_in, alt)
    T, mix, low, sol = tl.time_s, tl.mixed, tl.lower_s, tl.arc
    tab_ok = (flat_in & np.isfinite(T) & (avail >= T)).reshape(k, m)
    has = tab_ok.any(1)
    # uncertain: cells that straddle the edge of reach or two arcs, where the time available could
    # cover the fastest corner; and, for a threat with no table-feasible sample, clear cells within
    # the table's error (CLEAR_MARGIN_S, or the cell's error bound when larger: TableLookup.error_s)
    # of being feasible (a short window the table misses). Next to a threat's table-feasible samples
    # such clear cells are the boundary search's business (`_locate`).
    # where T is inf, T - margin is inf (or NaN, an inf error bound): not near, as it must be
    with np.errstate(invalid="ignore"):
        near = (avail >= T - np.maximum(CLEAR_MARGIN_S, tl.error_s)).reshape(k, m) & ~has[:, None]
    need = (mix & (avail >= low - TABLE_MARGIN_S)).reshape(k, m) | near
    need &= ~tab_ok
    # threats with no table-feasible sample: every needed uncertain sample, then settle the reason
    sel = (need & ~has[:, None]).ravel()
    if sel.any():
        fs = flyout.rows(sel).solve(pos[sel], guess=sol[sel])
        T[sel], sol[sel] = fs.time_s, fs.arc
    rest = np.flatnonzero((mix.reshape(k, m) & ~need & ~has[:, None]).ravel())
    if rest.size:
        reached = np.isfinite(T.reshape(k, m)).any(1)
        _settle_reach(flyout, pos, T, sol, rest, m, reached)
    first = np.argmax(tab_ok, axis=1)
    last = m - 1 - np.argmax(tab_ok[:, ::-1], axis=1)
    band2 = in_band.reshape(k, m)
    # the runs of uncertain samples end where the path enters or leaves a hole in the reach (Flyout.inside_hole)
    hole = np.zeros(k * m, bool)
    q = np.flatnonzero(need.ravel() & has.repeat(m))
    if q.size:
        hole[q] = flyout.rows(q).inside_hole(pos[q])
    hole = hole.reshape(k, m)
    # the table's guess of g in uncertain cells whose corners are all reachable (TableLookup.interpolated_s):
    # which uncertain samples the run search solves first
    with np.errstate(invalid="ignore"):
        g_guess = (avail - tl.interpolated_s).reshape(k, m)
    starts = _StartGuess(table, times, pos, alt)
    edge_exact = tuple(_edge_runs(flyout, times, avail.reshape(k, m), band2, need, pos, T, sol, s, has, d, hole,
                                  g_guess, starts) for s, d in ((first, -1), (last, +1)))
    return T, sol, edge_exact


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
        fs = flyout.rows(q).solve(P[q], guess=guess[q])
        T[q], guess[q] = fs.time_s, fs.arc
        reached[own[pick][np.isfinite(T[q])]] = True
        pend = pend[~pick & ~reached[own]]


def _guessed_probe(g_guess, r, c0, direction, lo, hi):
    """For runs of threats r that start at samples c0 and run in `direction`, with offset lo known feasible
    and hi (> lo + 1) the first known infeasible one or one past the run: the offset to solve next by the
    table's guess of g (k, m): the offset before the first one in (lo, hi) whose guess is negative (that one
    when it is lo + 1). 0 where no guess in (lo, hi) is negative (the guess does not say where the run turns
    infeasible: not even that it does, when the guess is missing)."""
    m = g_guess.shape[1]
    offs = np.arange(1, int(hi.max()))[None, :]
    cols = c0[:, None] + direction * offs
    inside = (offs > lo[:, None]) & (offs < hi[:, None]) & (cols >= 0) & (cols < m)
    with np.errstate(invalid="ignore"):
        neg = inside & (g_guess[r[:, None], np.clip(cols, 0, m - 1)] < 0)
    j = offs[0, np.argmax(neg, axis=1)]
    return np.where(neg.any(1), np.where(j - 1 > lo, j - 1, j), 0)


class _StartGuess:
    """Warm starts for exact solves at samples the table decides: the table's arc there and, where the table has
    one (a FlyoutTable's clear cells whose corners are all one kind of arc), its Jacobian, for chord steps from
    the start (Flyout.solve)."""

    def __init__(self, table, times, pos, alt):
        self.table, self.times, self.pos, self.alt = table, times, pos, alt

    def at(self, r, c, sol):
        """(arc (q, 3), Jacobian (q, 3, 3) or None) at samples (r, c); `sol` (q, 3): the scan's arcs there."""
        m = self.times.shape[1]
        q = r * m + c
        return self.table.lookup_path(r, self.times[r, c], self.pos[q], self.alt[q], jacobian=True).warm_start(sol)


def _edge_runs(flyout, times, avail, band, need, pos, T, sol, start, has, direction, hole, g_guess, starts):
    """Resolve the uncertain samples beyond a threat's first (direction -1) or last (+1)
    table-feasible sample `start`, exactly, as far as they can move that boundary. They come in runs
    (consecutive uncertain samples, a run ending where the path enters or leaves a hole in the reach:
    `hole` (k, m), Flyout.inside_hole, where feasibility can stop and come back). Runs further out
    than the one next to `start` are tried from the outermost inwards: the first whose inner end is
    exactly feasible holds the boundary (e.g. a threat that leaves the band and comes back into it,
    or one that crosses the hole). Otherwise the run next to `start` is tried (after confirming
    `start` itself). Within a run the last feasible sample is found by bisection, assuming that
    feasibility does not come back inside one run. T and sol (flat) get the exact values solved; `g_guess`
    (k, m) is the table's guess of g = t - t0 - T at the samples (-inf or NaN: none), which chooses the
    probes until an infeasible one is known (a guess only: the last feasible sample found is the same);
    `starts` (_StartGuess) gives the warm starts at `start`.
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

    def g_at(r, c):
        return avail[r, c] - T[flat(r, c)]

    def bisect(r, c0, n):
        """Threats r with sample c0 exactly feasible and n uncertain samples beyond it: the last
        feasible offset lo (0..n) and whether offset lo + 1 was solved infeasible. Once an infeasible
        offset with a finite g is known, the next probe is where the line through g at the two ends of
        the bracket crosses 0 (regula falsi on the offsets: g = t - t0 - T changes smoothly along a run;
        1,687 probes instead of 2,019 on 2,000 benchmark pairs); a probe that did not halve the bracket
        is followed by a halving. Before an infeasible offset is known, the probe is where the table's
        guess of g turns negative beyond lo (`_guessed_probe`; 5,834 probes instead of 8,624 on 8,000
        benchmark pairs, 36 % fewer arcs); where no guess is negative, the middle of the bracket.
        Feasibility does not come back inside a run (above), so the last feasible offset is the same
        whichever offsets are probed."""
        lo = np.zeros(r.size, int)
        hi = n + 1
        hi_known = np.zeros(r.size, bool)
        lo_prev = np.full(r.size, -1)
        halve = np.zeros(r.size, bool)  # the last probe was on the line and did not halve the bracket
        while True:
            a = np.flatnonzero(hi - lo > 1)
            if a.size == 0:
                return lo, hi_known
            ra, ca = r[a], c0[a]
            probe = (lo[a] + hi[a]) // 2
            u = np.flatnonzero(~hi_known[a])  # the guess chooses only until an infeasible probe is known
            if u.size:
                guessed = _guessed_probe(g_guess, ra[u], ca[u], direction, lo[a][u], hi[a][u])
                probe[u] = np.where(guessed > 0, guessed, probe[u])
            g_lo = g_at(ra, ca + direction * lo[a])
            g_hi = g_at(ra, ca + direction * np.where(hi_known[a], hi[a], lo[a]))  # (used where hi is known)
            line = hi_known[a] & ~halve[a] & (g_lo >= 0) & (g_hi < 0) & np.isfinite(g_hi)
            if line.any():
                with np.errstate(all="ignore"):
                    x = lo[a] + g_lo / (g_lo - g_hi) * (hi[a] - lo[a])
                on_line = np.clip(np.floor(np.where(line, x, 0.0)).astype(int), lo[a] + 1, hi[a] - 1)
                probe = np.where(line, on_line, probe)
            width = hi[a] - lo[a]
            q = flat(ra, ca + direction * probe)
            # warm start: the exact arc at lo, extrapolated along the path once two are known
            s_lo = sol[flat(ra, ca + direction * lo[a])]
            s_pv = sol[flat(ra, ca + direction * np.maximum(lo_prev[a], 0))]
            span = np.where(lo_prev[a] >= 0, lo[a] - lo_prev[a], 0)
            d = s_lo - s_pv
            d[:, 0] = (d[:, 0] + np.pi) % (2 * np.pi) - np.pi
            f = np.where(span > 0, (probe - lo[a]) / np.maximum(span, 1), 0.0)[:, None]
            guess = np.where(np.isfinite(d), s_lo + f * d, s_lo)
            fs = flyout.rows(q).solve(pos[q], guess=np.where(np.isfinite(guess), guess, sol[q]))
            T[q], sol[q] = fs.time_s, fs.arc
            feas = feasible(ra, ca + direction * probe)
            lo_prev[a[feas]] = lo[a[feas]]
            lo[a[feas]] = probe[feas]
            hi[a[~feas]] = probe[~feas]
            hi_known[a[~feas]] = True
            halve[a] = line & (2 * (hi[a] - lo[a]) > width)

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
    hw = hole[w]
    if direction < 0:
        nd = nd[:, ::-1]  # walk outwards = increasing column in this view
        hw = hw[:, ::-1]
    # a sample continues the run of the one before it when both are uncertain and on the same side of a hole's edge
    same = hw[:, 1:] == hw[:, :-1]
    prev = np.concatenate([np.zeros((w.size, 1), bool), nd[:, :-1] & same], axis=1)
    nxt = np.concatenate([nd[:, 1:] & same, np.zeros((w.size, 1), bool)], axis=1)
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
            # warm start from the inner neighbour's arc (a table-decided cell: interpolated there), with its
            # Jacobian where the table has one
            g_in, j_in = starts.at(r, c0 - direction, sol[flat(r, c0 - direction)])
            fin = np.isfinite(g_in).all(1)
            fs = flyout.rows(q).solve(pos[q], guess=np.where(fin[:, None], g_in, sol[q]),
                                      guess_jac=None if j_in is None else np.where(fin[:, None, None], j_in, np.nan))
            T[q], sol[q] = fs.time_s, fs.arc
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
        guess, guess_jac = starts.at(r, c0, sol[q])
        fs = flyout.rows(q).solve(pos[q], guess=guess, guess_jac=guess_jac)
        T[q], sol[q] = fs.time_s, fs.arc
        ok = feasible(r, c0)
        settle(r[ok], c0[ok], re_c[adj[ok]] - rs_c[adj[ok]] + 1)
    return exact
