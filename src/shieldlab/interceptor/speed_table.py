"""A flyout table over burnout speed at the free-flight samples of given flights, for uncertainty runs whose
interceptor burnout speed is sampled (docs/models.md, Uncertainty).

Every sample of such a run is its own interceptor, and an exact scan per sample solves every in-band
free-flight sample again. This table solves them exactly for a few burnout speeds instead (`SPEED_NODES`
nodes spanning the sampled speeds, all in one batch), and gives each threat row (a sample's flight with
that sample's speed) a TableLookup at its samples by linear interpolation in speed between the two
neighbouring nodes. As with the coverage runs' FlyoutTable (interceptor/table.py), the table only screens:
the scan (engagement/scan.py `table_scan`) solves its uncertain samples exactly, and boundaries and latest
launches are refined with exact solves at each row's own speed (SpeedRowsFlyout, interceptor/flyout.py), so
the results are those of a per-sample exact evaluation to the refinement tolerance.

A sample is uncertain ("mixed") where the two nodes disagree on reachability, on the arc family (full
speed or floor arc), or where the interpolation error bound exceeds MAX_CLEAR_ERROR_S. The bound follows
`table.node_error_s` along the speed axis: |T''| h^2 / 2 over the interval's width h, with |T''| estimated
by the second divided difference at each of the interval's two nodes (the larger; one-sided at the end
nodes): 4 times the bound h^2 max|T''| / 8 of a smooth T, which also covers a kink between the nodes. The
nodes are evenly spaced over the sampled speeds (`speed_nodes`). As for a FlyoutTable cell whose corners
are all out of reach, a sample out of reach at both nodes counts as out of reach (not uncertain), and the
lower bound of an uncertain sample is the lesser node time (T falls as the burnout speed grows).

Between two samples of a path (the boundary search's look-ups, engagement/boundary.py) the look-up is
interpolated in time from the two samples' values (`lookup_path`); a time not between two samples of the
row is uncertain.

Coverage runs meet many flights (one per pair), and exact node solves at every sample of every flight
cost more than the rest of the run. There the node values come from a `SpeedGrid` instead: one
FlyoutTable (interceptor/table.py) per node speed, all on one grid (the reach of the fastest node, the
steps of the slowest), built once for the run and looked up at each flight's samples. A sample is then
also uncertain where either node's table look-up is (the edge of reach, a jump between arcs), its
interpolation error bound adds the tables' own (tests/test_uncertainty_speed.py: clear values within 1 s of
exact ones in the test's coverage, within latest.TABLE_ERROR_S = 3 s everywhere it looks).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from shieldlab.interceptor import table as flyout_table
from shieldlab.interceptor.flyout import Flyout, SpeedRowsFlyout
from shieldlab.interceptor.table import FlyoutTable, TableLookup

SPEED_NODES = 13  # burnout speeds tabulated, evenly over the sampled range (9 left ~10x more uncertain samples)
# clear samples: interpolation error bound at most this (the scan takes clear table values to be within
# scan.CLEAR_MARGIN_S = 3 s of exact ones, the latest launch within latest.TABLE_ERROR_S = 3 s)
MAX_CLEAR_ERROR_S = 2.0
MIN_SPEEDS_PER_NODE = 2  # fewer distinct sampled speeds than this per node: exact scans cost less


def worthwhile(n_speeds: int) -> bool:
    """Whether a table pays for `n_speeds` distinct sampled burnout speeds (else solve each exactly)."""
    return n_speeds >= MIN_SPEEDS_PER_NODE * SPEED_NODES


@dataclass(frozen=True, eq=False)
class SpeedTable:
    """Per threat row (n, m) of one window evaluation: the samples' times `times_s` and the TableLookup
    fields at them (`time_s`, `mixed`, `lower_s`, `arc` (n, m, 3), `error_s`). `rows(idx)` binds it to the
    threats idx of a scan, whose flat samples `lookup_where` then serves."""

    times_s: np.ndarray
    time_s: np.ndarray
    mixed: np.ndarray
    lower_s: np.ndarray
    arc: np.ndarray
    error_s: np.ndarray
    bound: bool = False

    def rows(self, which) -> SpeedTable:
        """The table of threats `which`, in that order (for a scan of those threats' samples)."""
        return SpeedTable(self.times_s[which], self.time_s[which], self.mixed[which], self.lower_s[which],
                          self.arc[which], self.error_s[which], bound=True)

    def lookup_where(self, p_ecef, use, alt_m=None) -> TableLookup:
        """The look-ups of a bound table's flat samples (row * m + column; `p_ecef` only gives their count)
        where `use` (None: all); elsewhere T = inf, not mixed, lower = inf, arc NaN, error inf."""
        if not self.bound:
            raise ValueError("a SpeedTable serves the samples of its rows: look up through rows(idx)")
        k = np.asarray(p_ecef).reshape(-1, 3).shape[0]
        if k != self.time_s.size:
            raise ValueError(f"{k} points for a table of {self.time_s.size} samples")
        T, mixed, low = self.time_s.ravel(), self.mixed.ravel(), self.lower_s.ravel()
        arc, err = self.arc.reshape(-1, 3), self.error_s.ravel()
        if use is None:
            return TableLookup(T.copy(), mixed.copy(), low.copy(), arc.copy(), err.copy(), T.copy())
        u = np.asarray(use, bool).ravel()
        T = np.where(u, T, np.inf)
        return TableLookup(T, mixed & u, np.where(u, low, np.inf), np.where(u[:, None], arc, np.nan),
                           np.where(u, err, np.inf), T)

    def lookup(self, p_ecef, alt_m=None) -> TableLookup:
        """Points off the samples, of unknown rows: uncertain (exact solves decide)."""
        k = np.atleast_2d(np.asarray(p_ecef, float)).shape[0]
        return TableLookup(np.full(k, np.inf), np.ones(k, bool), np.full(k, -np.inf), np.full((k, 3), np.nan),
                           np.full(k, np.inf), np.full(k, np.inf))

    def lookup_path(self, tr, t, p_ecef=None, alt_m=None, jacobian=False) -> TableLookup:
        """Look-ups at free-flight times t of threats tr (of the whole table): linear in time between the
        two samples around t (clear where both are clear and agree on reachability); uncertain elsewhere.
        No Jacobians (`jacobian` is ignored: the look-up's `jacobian` is None)."""
        tr = np.asarray(tr, np.int64).ravel()
        t = np.asarray(t, float).ravel()
        k = tr.size
        times = self.times_s[tr]
        m = times.shape[1]
        with np.errstate(invalid="ignore"):
            c = (times <= t[:, None]).sum(1) - 1
        a = np.clip(c, 0, m - 1)
        b = np.clip(c + 1, 0, m - 1)
        r = np.arange(k)
        ta, tb = times[r, a], times[r, b]
        inside = (c >= 0) & (c + 1 < m) & np.isfinite(ta) & np.isfinite(tb) & (tb > ta)
        with np.errstate(invalid="ignore", divide="ignore"):
            w = np.where(inside, (t - ta) / (tb - ta), 0.0)
        Ta, Tb = self.time_s[tr, a], self.time_s[tr, b]
        fa, fb = np.isfinite(Ta), np.isfinite(Tb)
        ma, mb = self.mixed[tr, a], self.mixed[tr, b]
        clear = inside & fa & fb & ~ma & ~mb
        with np.errstate(invalid="ignore"):
            T = np.where(clear, (1.0 - w) * Ta + w * Tb, np.inf)
        # uncertain unless both samples are clearly out of reach (or out of the band)
        mixed = ~clear & ~(inside & ~fa & ~fb & ~ma & ~mb)
        low = np.where(inside, np.fmin(self.lower_s[tr, a], self.lower_s[tr, b]), -np.inf)
        arc = _lerp_arc(self.arc[tr, a], self.arc[tr, b], w)
        err = np.where(clear, np.fmax(self.error_s[tr, a], self.error_s[tr, b]), np.inf)
        return TableLookup(T, mixed, low, arc, err, T)


def _lerp_arc(a, b, w):
    """Arcs (az, x, tau) (k, 3) interpolated with weight w towards b (the azimuth unwrapped); the finite one
    where only one is."""
    out = b - a
    d = out[:, 0]
    d += np.pi  # the azimuth step unwrapped to [-pi, pi)
    np.mod(d, 2.0 * np.pi, out=d)
    d -= np.pi
    out *= np.asarray(w, float)[:, None]
    out += a
    np.mod(out[:, 0], 2.0 * np.pi, out=out[:, 0])
    fa, fb = np.isfinite(a).all(1), np.isfinite(b).all(1)
    only = fa != fb
    if only.any():
        out[only] = np.where(fa[only][:, None], a[only], b[only])
    return out


def speed_nodes(speeds_m_s) -> np.ndarray:
    """SPEED_NODES burnout speeds evenly from the least to the greatest sampled one. (Nodes at quantiles of
    the samples, densest in a normal's middle, were tried: the wide intervals of the tails leave wide bands
    at the edge of reach uncertain, and their exact solves cost more than the middle saves.)"""
    v = np.asarray(speeds_m_s, float)
    return np.linspace(v.min(), v.max(), SPEED_NODES)


@dataclass(frozen=True, eq=False)
class SpeedNodes:
    """Flyout times `T_s` (J, U, m), arcs `arc` (J, U, m, 3), arc families `family` (J, U, m) and
    |second divided differences| `curvature` (J, U, m) (s / (m/s)^2) at the node speeds `speeds_m_s` (J,)
    for the samples of the flights `rows` (U,) (rows of a FreeFlightSamples) at times `times_s` (U, m).
    Exact (`build`), or from a SpeedGrid's tables (`SpeedGrid.nodes`), which also give where a node's value
    is uncertain `mixed` (J, U, m), a lower bound `lower_s` of its time there and its own interpolation
    error bound `node_error_s` (J, U, m). `table` gives the SpeedTable of any threat rows of those flights at
    any speeds in the nodes' range."""

    speeds_m_s: np.ndarray
    rows: np.ndarray
    times_s: np.ndarray
    T_s: np.ndarray
    arc: np.ndarray
    family: np.ndarray
    curvature: np.ndarray
    mixed: np.ndarray | None = None
    lower_s: np.ndarray | None = None
    node_error_s: np.ndarray | None = None

    def table(self, sample_row, speeds_m_s) -> SpeedTable:
        """The SpeedTable of threat rows flying `sample_row` (n,) (-1: a threat that could not be computed,
        never looked up: out of reach) with burnout speeds `speeds_m_s` (n,)."""
        sample_row = np.asarray(sample_row, np.int64)
        v = np.asarray(speeds_m_s, float)
        none = sample_row < 0
        u = np.searchsorted(self.rows, np.where(none, self.rows[0], sample_row))
        nodes = self.speeds_m_s
        J = nodes.size
        m = self.times_s.shape[1]
        n = v.size
        # each row between its two nodes j, j + 1
        j = np.clip(np.searchsorted(nodes, v, side="right") - 1, 0, J - 2)
        w = np.clip((v - nodes[j]) / (nodes[j + 1] - nodes[j]), 0.0, 1.0)[:, None]
        Ta, Tb = self.T_s[j, u], self.T_s[j + 1, u]  # (n, m)
        fa, fb = np.isfinite(Ta), np.isfinite(Tb)
        h = (nodes[j + 1] - nodes[j])[:, None]
        err = np.fmax(self.curvature[j, u], self.curvature[j + 1, u]) * h * h
        clear = fa & fb & (self.family[j, u] == self.family[j + 1, u]) & (err <= MAX_CLEAR_ERROR_S)
        clear &= ~none[:, None]
        known = fa | fb
        if self.mixed is None:
            lower = np.fmin(Ta, Tb)
        else:  # node values from tables: their uncertain samples, lower bounds and error bounds too
            ma, mb = self.mixed[j, u], self.mixed[j + 1, u]
            clear &= ~ma & ~mb
            known |= ma | mb
            lower = np.fmin(self.lower_s[j, u], self.lower_s[j + 1, u])
            err = err + np.fmax(self.node_error_s[j, u], self.node_error_s[j + 1, u])
        with np.errstate(invalid="ignore"):
            time = np.where(clear, (1.0 - w) * Ta + w * Tb, np.inf)
        mixed = known & ~clear & ~none[:, None]
        lower = np.where(none[:, None], np.inf, lower)
        a, b = self.arc[j, u], self.arc[j + 1, u]
        g = _lerp_arc(a.reshape(-1, 3), b.reshape(-1, 3), np.repeat(w[:, 0], m)).reshape(n, m, 3)
        # where the nodes disagree on the family, the nearer node's arc (as FlyoutTable's mixed cells)
        jump = ~clear & fa & fb
        if jump.any():
            g[jump] = np.where((np.broadcast_to(w, jump.shape)[jump] < 0.5)[:, None], a[jump], b[jump])
        g[none] = np.nan
        return SpeedTable(self.times_s[u], time, mixed, lower, g, np.where(clear, err, np.inf))


def build(flyout: Flyout, samples, sample_rows, speeds_m_s, in_band) -> SpeedNodes:
    """The SpeedNodes of the flights `sample_rows` (rows of `samples`, a FreeFlightSamples: times_s (R, m),
    r_ecef (R, m, 3); -1 ignored) against `flyout`'s interceptor at SPEED_NODES burnout speeds spanning
    `speeds_m_s`. `in_band` (R, m): the samples inside the interceptor's altitude band (the others are out
    of reach). Exact solves at every in-band sample of those flights for every node speed, in one batch."""
    rows = np.unique(np.asarray(sample_rows, np.int64))
    rows = rows[rows >= 0]
    nodes = speed_nodes(speeds_m_s)
    J = nodes.size
    times = samples.times_s[rows]
    U, m = times.shape
    band = np.asarray(in_band)[rows] & np.isfinite(times)
    pts = samples.r_ecef[rows][band]  # (q, 3)
    q = pts.shape[0]
    T = np.full((J, U, m), np.inf)
    arc = np.full((J, U, m, 3), np.nan)
    fam = np.zeros((J, U, m), np.int8)
    if q:
        batch = SpeedRowsFlyout(flyout.earth, flyout.site, flyout.interceptor, speeds_m_s=np.repeat(nodes, q))
        fs = batch.solve(np.tile(pts, (J, 1)))
        T[:, band] = fs.time_s.reshape(J, q)
        arc[:, band] = fs.arc.reshape(J, q, 3)
        fam[:, band] = fs.family.reshape(J, q)
    return SpeedNodes(nodes, rows, times, T, arc, fam, _curvature(T, nodes))


@dataclass(frozen=True, eq=False)
class SpeedGrid:
    """Flyout tables (interceptor/table.py) of one interceptor at one site at the node burnout speeds
    `speeds_m_s` (J,), all on one grid: the node values of a coverage run's speed tables (`nodes`)."""

    speeds_m_s: np.ndarray
    tables: tuple[FlyoutTable, ...]

    def nodes(self, samples, sample_rows, in_band) -> SpeedNodes:
        """The SpeedNodes of the flights `sample_rows` (rows of `samples`, a FreeFlightSamples; -1 ignored)
        from the tables' look-ups at their in-band samples (`in_band` (R, m))."""
        rows = np.unique(np.asarray(sample_rows, np.int64))
        rows = rows[rows >= 0]
        times = samples.times_s[rows]
        U, m = times.shape
        use = (np.asarray(in_band)[rows] & np.isfinite(times)).ravel()
        pts = samples.r_ecef[rows].reshape(-1, 3)
        alt = samples.altitude_m[rows].ravel()
        J = self.speeds_m_s.size
        T, low, err = (np.empty((J, U * m)) for _ in range(3))
        mixed = np.empty((J, U * m), bool)
        arc = np.empty((J, U * m, 3))
        for j, tab in enumerate(self.tables):
            tl = tab.lookup_where(pts, use, alt)
            T[j], mixed[j], low[j], arc[j], err[j] = tl.time_s, tl.mixed, tl.lower_s, tl.arc, tl.error_s
        T = T.reshape(J, U, m)
        return SpeedNodes(self.speeds_m_s, rows, times, T, arc.reshape(J, U, m, 3), np.zeros((J, U, m), np.int8),
                          _curvature(T, self.speeds_m_s), mixed.reshape(J, U, m), low.reshape(J, U, m),
                          err.reshape(J, U, m))


def build_grid(flyout: Flyout, speeds_m_s) -> SpeedGrid:
    """The SpeedGrid of `flyout`'s interceptor at SPEED_NODES burnout speeds spanning `speeds_m_s`: a
    FlyoutTable per node speed, on the grid of the fastest node's reach with the slowest node's steps
    (interceptor/table.py `reach_theta_rad`, `table_steps_m`)."""
    nodes = speed_nodes(speeds_m_s)
    it = flyout.interceptor
    at = [replace(it, burnout_speed_m_s=float(v)) for v in nodes]
    theta_max = flyout_table.reach_theta_rad(Flyout(flyout.earth, flyout.site, at[-1]))
    steps = flyout_table.table_steps_m(at[0])
    tables = tuple(flyout_table.build(Flyout(flyout.earth, flyout.site, a), theta_max_rad=theta_max, steps_m=steps)
                   for a in at)
    return SpeedGrid(nodes, tables)


def _curvature(T, x) -> np.ndarray:
    """(J, ...) |second divided difference| of T along the node axis at nodes x (J,) (half the estimated
    |T''|): central where both neighbours are finite, else one-sided from the next two nodes inwards; inf
    where T is, and where neither side has two finite neighbours."""
    J = T.shape[0]
    out = np.full(T.shape, np.inf)
    fin = np.isfinite(T)

    def dd(a, b, c):
        with np.errstate(invalid="ignore"):
            return np.abs(((T[c] - T[b]) / (x[c] - x[b]) - (T[b] - T[a]) / (x[b] - x[a])) / (x[c] - x[a]))

    for j in range(J):
        cand = []
        if 0 < j < J - 1:
            cand.append((fin[j - 1] & fin[j + 1], lambda j=j: dd(j - 1, j, j + 1)))
        if j >= 2:
            cand.append((fin[j - 1] & fin[j - 2], lambda j=j: dd(j - 2, j - 1, j)))
        if j <= J - 3:
            cand.append((fin[j + 1] & fin[j + 2], lambda j=j: dd(j, j + 1, j + 2)))
        for ok, val in reversed(cand):  # the central difference first where it exists
            out[j] = np.where(ok & fin[j], val(), out[j])
    return out
