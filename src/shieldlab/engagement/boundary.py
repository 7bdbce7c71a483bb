"""Locating the first and last intercept of a battery's window exactly, from the scan's first and last
feasible samples (engagement/scan.py). With a table, first by its root and Newton/secant steps on exact
g(t) = t - t_I0 - T(P(t)), accepted where |g| <= FAST_TOL_S (the fast path); otherwise, and wherever
the fast path cannot confirm its answer, by confirming the samples exactly and locating the boundary
at a band crossing (bisection on altitude) or as the root of g by the Illinois variant of regula falsi,
to TIME_TOL_S. Exact solves near an exact one start from it by a chord step (Flyout.solve with
guess_point and guess_jac).
"""

from __future__ import annotations

import numpy as np

from shieldlab.earth import frames
from shieldlab.engagement.condition import Condition

TIME_TOL_S = 0.01  # boundaries located to this on exact flyout times
MAX_ROOT_ITER = 30
MAX_WALK = 400  # at most this many samples walked past a table misjudgement
FAST_BISECTIONS = 6  # on table times: 10 s / 2**6 ~ 0.16 s (table times: ~2 s; exact secant steps follow)
FAST_TOL_S = 0.01  # accept a fast-path boundary when exact g is within this of 0
FAST_SLOPE_DT_S = 0.5  # step of the table's finite-difference slope of g
FAST_SECANT_ITER = 4


class InterceptArrays:
    """First (or last) intercepts of one battery being located: arrays (n,) per field, NaN until found;
    also the exact fast arc (az, el, tau) (n, 3) found at each, with its Jacobian (n, 3, 3), from which the
    intercept geometry (engagement/geometry.py) restarts the solve."""

    FIELDS = ("time_s", "lat_deg", "lon_deg", "altitude_m", "interceptor_launch_s", "flyout_time_s",
              "closing_speed_m_s", "crossing_angle_deg")
    ARCS = ("arc", "jacobian")

    def __init__(self, n: int):
        for f in self.FIELDS:
            setattr(self, f, np.full(n, np.nan))
        self.arc = np.full((n, 3), np.nan)
        self.jacobian = np.full((n, 3, 3), np.nan)

    def put(self, rows, **values):
        for f, v in values.items():
            getattr(self, f)[rows] = v

    def clear(self, rows):
        for f in self.FIELDS + self.ARCS:
            getattr(self, f)[rows] = np.nan


def locate(cond: Condition, table, tr, times, sol, ok, kk, direction, out: InterceptArrays, edge_exact, g):
    """First/last feasible time: where the scan resolved the boundary's two samples exactly
    (`edge_exact`), root-find between them; else, with a table, try the fast path (root on the table,
    then Newton/secant on exact flyout times, confirmed exactly); the rest take the exact path."""
    if table is None:
        return _boundary(cond, tr, times, sol, ok, kk, direction, out, exact_scan=True)
    found = np.zeros(tr.size, bool)
    wk = np.flatnonzero(edge_exact)
    if wk.size:
        found[wk] = _boundary(cond, tr[wk], times[wk], sol[wk], ok[wk], kk[wk], direction, out, exact_scan=True,
                              g=g[wk])
    tw = np.flatnonzero(~edge_exact)
    if tw.size:
        fnd, rest = _fast_boundary(cond, table, tr[tw], times[tw], sol[tw], kk[tw], direction, out)
        if rest.size:
            r = tw[rest]
            fnd[rest] = _boundary(cond, tr[r], times[r], sol[r], ok[r], kk[r], direction, out, exact_scan=False)
        found[tw] = fnd
    return found


def locate_around(cond: Condition, tr, times, sol, t_in, arc_in, exact_scan: bool, first: InterceptArrays,
                  last: InterceptArrays):
    """First and last intercept of threats tr whose scan has no feasible sample (a window shorter than the
    samples' spacing) but a time t_in (k,) known to be exactly feasible, its arc arc_in (k, 3): t_in is put
    among the samples times (k, m) (arcs sol (k, m, 3)) and each boundary located from it as from a feasible
    sample, the neighbours of t_in exactly infeasible where `exact_scan`, else confirmed exactly first.
    Returns a mask of the threats whose two boundaries were found."""
    k, m = times.shape
    col = (times < t_in[:, None]).sum(axis=1)  # t_in's column among the samples (NaN padding compares False)
    j = np.arange(m + 1)[None, :]
    src = np.minimum(np.where(j > col[:, None], j - 1, j), m - 1)
    times = np.take_along_axis(times, src, axis=1)
    sol = np.take_along_axis(sol, src[:, :, None], axis=1)
    rows = np.arange(k)
    times[rows, col], sol[rows, col] = t_in, arc_in
    found = np.ones(k, bool)
    for direction, out in ((-1, first), (+1, last)):
        found &= _boundary(cond, tr, times, sol, None, col, direction, out, exact_scan=exact_scan)
    return found


def _table_g(cond: Condition, table, tr, t):
    """(in band, g on table times, mixed) at times t in free flight."""
    p, alt = cond.threats.free_flight_positions(tr, t)
    tl = table.lookup_path(tr, t, p, alt)
    return cond.in_band(alt), t - cond.t0[tr] - tl.time_s, tl.mixed


def _fast_boundary(cond: Condition, table, tr, times, sol, kk, direction, out: InterceptArrays):
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
        band, g, mixed = _table_g(cond, table, tr[w], mid)
        suspect[w[mixed]] = True
        okm = band & (g >= 0)
        b[w[okm]] = mid[okm]
        a[w[~okm]] = mid[~okm]
    # band-bound boundary: the infeasible end lies outside the band
    band_a, _, _ = _table_g(cond, table, tr, a)
    band_bound = has_nb & ~band_a
    # 2) exact check at the table boundary, one Newton correction where g binds (not where the
    # bisection met an uncertain cell: those go the exact path anyway)
    t_fin, T_fin = b.copy(), np.full(k, np.nan)
    p_fin, alt_fin = np.full((k, 3), np.nan), np.full(k, np.nan)
    arc_fin, jac_fin = np.full((k, 3), np.nan), np.full((k, 3, 3), np.nan)
    accept = np.zeros(k, bool)
    gx = np.full(k, np.nan)
    sx = np.full((k, 3), np.nan)
    jx = np.full((k, 3, 3), np.nan)
    c = np.flatnonzero(~suspect)
    if c.size:
        pb, altb = cond.threats.free_flight_positions(tr[c], b[c])
        tl = table.lookup_path(tr[c], b[c], pb, altb, jacobian=True)  # the table's arc at the boundary itself
        # and its Jacobian, for chord steps from the start (a FlyoutTable's, where it has one)
        gb, jb = tl.warm_start(np.where(np.isfinite(tl.arc[:, :1]), tl.arc, sol[c, kk[c]]))
        x = cond.at(tr[c], b[c], gb, guess_jac=jb, slack_s=FAST_TOL_S)
        gx[c], T_fin[c], sx[c], p_fin[c], alt_fin[c], jx[c] = (x.g_s, x.flyout_time_s, x.arc, x.position_ecef,
                                                               x.altitude_m, x.jacobian)
        accept[c] = x.feasible & (band_bound[c] | ~has_nb[c] | (np.abs(gx[c]) <= FAST_TOL_S))
        arc_fin[c], jac_fin[c] = x.arc, x.jacobian
    corr = np.flatnonzero(~accept & ~suspect & np.isfinite(gx) & has_nb & ~band_bound)
    if corr.size:
        d = FAST_SLOPE_DT_S
        _, g1, _ = _table_g(cond, table, tr[corr], b[corr] + d)
        _, g0, _ = _table_g(cond, table, tr[corr], b[corr] - d)
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
            x = cond.at(tr[corr[L]], t1, s_prev[L], pt_prev[L], j_prev[L], slack_s=FAST_TOL_S)
            ok1, g1x, T1, s1, p1, alt1, j1 = (x.feasible, x.g_s, x.flyout_time_s, x.arc, x.position_ecef,
                                              x.altitude_m, x.jacobian)
            fine = ok1 & (np.abs(g1x) <= FAST_TOL_S)
            cc = corr[L[fine]]
            accept[cc] = True
            t_fin[cc], T_fin[cc], p_fin[cc], alt_fin[cc] = t1[fine], T1[fine], p1[fine], alt1[fine]
            arc_fin[cc], jac_fin[cc] = s1[fine], j1[fine]
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
    lat, lon, _ = frames.ecef_to_geodetic(cond.threats.earth, p_fin)
    acc = np.flatnonzero(accept)
    out.put(tr[acc], time_s=t_fin[acc], lat_deg=lat[acc], lon_deg=lon[acc], altitude_m=alt_fin[acc],
            flyout_time_s=T_fin[acc], interceptor_launch_s=(t_fin - T_fin)[acc], arc=arc_fin[acc],
            jacobian=jac_fin[acc])
    return accept.copy(), np.flatnonzero(~accept)


def _boundary(cond: Condition, tr, times, sol, ok, kk, direction, out: InterceptArrays, exact_scan: bool,
              g=None):
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
        x = cond.at(tr, t_in, guess)
        okx, s = x.feasible, x.arc
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
            x = cond.at(tr[w], times[w, kk[w]], None)
            okx, s = x.feasible, x.arc
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
            x = cond.at(tr[w], times[w, nb[w]], guess[w])
            okx, s = x.feasible, x.arc
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
        t_in[sub], guess[sub], g_pt, g_jac = _root(cond, tr[sub], t_out[sub], t_in[sub], guess[sub], g_known)
    # the final exact solve starts from the root search's last arc (a chord step away)
    pt = np.full((tr.size, 3), np.nan)
    jac = np.full((tr.size, 3, 3), np.nan)
    if sub.size:
        pt[sub], jac[sub] = g_pt, g_jac
    x = cond.at(tr, t_in, guess, pt, jac, slack_s=TIME_TOL_S)
    T, alt = x.flyout_time_s, x.altitude_m
    found &= x.feasible
    lat, lon, _ = frames.ecef_to_geodetic(cond.threats.earth, x.position_ecef)
    keep = lambda v: np.where(found, v, np.nan)  # noqa: E731
    out.put(tr, time_s=keep(t_in), lat_deg=keep(lat), lon_deg=keep(lon), altitude_m=keep(alt),
            flyout_time_s=keep(T), interceptor_launch_s=keep(t_in - T), arc=np.where(found[:, None], x.arc, np.nan),
            jacobian=np.where(found[:, None, None], x.jacobian, np.nan))
    return found


def _root(cond: Condition, tr, t_out, t_in, guess, g_known=None):
    """Boundary between an infeasible time t_out and a feasible time t_in (either order), to
    TIME_TOL_S: a band crossing by bisection on altitude, else the root of g by Illinois.
    `g_known` = (g at t_out, g at t_in) saves their exact solves. Returns the boundary times and,
    per threat, the last exact arc solved near it with its point and Jacobian (NaN: none) for a
    chord-step warm start."""
    t_out, t_in, guess = t_out.copy(), t_in.copy(), guess.copy()
    pt_all = np.full((tr.size, 3), np.nan)
    jac_all = np.full((tr.size, 3, 3), np.nan)
    # 1) the band: move t_out up to the band crossing when it lies outside the band
    _, alt_o = cond.position(tr, t_out)
    outside = ~cond.in_band(alt_o)
    w = np.flatnonzero(outside)
    if w.size:
        a, b = t_out[w], t_in[w]
        for _ in range(40):
            mid = 0.5 * (a + b)
            inb = cond.in_band(cond.position(tr[w], mid)[1])
            a = np.where(inb, a, mid)
            b = np.where(inb, mid, b)
            if np.all(np.abs(b - a) < 1e-6):
                break
        x = cond.at(tr[w], b, guess[w])
        okc, s, pc, jc = x.feasible, x.arc, x.position_ecef, x.jacobian
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
        g_in = cond.at(tr[act], t_in[act], guess[act]).g_s
        g_out = cond.at(tr[act], t_out[act], guess[act]).g_s
    else:
        # known at the samples; t_out moved to the band edge needs a fresh value
        g_out, g_in = g_known[0][act].astype(float), g_known[1][act].astype(float)
        moved = np.zeros(tr.size, bool)
        moved[w] = True
        mv = np.flatnonzero(moved[act])
        if mv.size:
            g_out[mv] = cond.at(tr[act[mv]], t_out[act[mv]], guess[act[mv]]).g_s
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
        x = cond.at(tr[act[L]], mid[L], guess[act[L]], g_pt[L], g_jac[L])
        okm, gm, s, pm, jm = x.feasible, x.g_s, x.arc, x.position_ecef, x.jacobian
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
