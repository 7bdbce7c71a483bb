"""A precomputed flyout-time table for one battery (interceptor type at a site), for coverage runs.

T(P) is tabulated on a grid of (azimuth from the site, central angle from the site, geodetic
altitude) with exact fast-arc solutions at every node (Flyout.solve, continued layer by layer in
altitude so most nodes converge in two or three Newton steps). Rotation, J2 and the ellipsoid are in
the node solutions, so the table is exact at its nodes; between nodes it is trilinear. The table
serves only to scan threat paths quickly; engagement windows are refined with exact solves
(engagement/boundary.py), so table error moves no reported number beyond the refinement tolerance.
Each look-up also gives a bound of its interpolation error (`node_error_s`), which the scan uses to
choose the clear cells it checks exactly. Slow interceptors get finer steps (`table_steps_m`).

Coordinates: for a point P, its geocentric unit vector d = P / |P|; theta = angle between d and the
site's geocentric unit vector s; azimuth = direction of d seen from s in the geocentric east/north
plane at the site; and P's geodetic altitude (given by the caller when it already has it). No
trigonometry of latitude or longitude is needed for a look-up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from shieldlab._jit import njit, prange
from shieldlab.earth import frames
from shieldlab.earth._kernels import geodetic_lat_alt
from shieldlab.interceptor.flyout import Flyout

AZ_STEP_DEG = 15.0
THETA_STEP_M = 100e3
ALT_STEP_M = 100e3
# A slower interceptor reaches less far (its reach scales as v_b^2): below STEP_SPEED_M_S its table's
# steps in central angle and altitude shrink as (v_b / STEP_SPEED_M_S)^2, keeping about as many nodes
# across its reach as a table of that speed has (tables of faster interceptors are unchanged).
STEP_SPEED_M_S = 4500.0
MIN_STEP_M = 10e3
ALT_CAP_M = 4000e3  # threats of interest stay below this


@dataclass(frozen=True, eq=False, slots=True)
class TableLookup:
    """Table look-ups at k points: `time_s` (k,) the interpolated flyout time (inf where not all of the
    cell's corners agree), `mixed` (k,) where the cell straddles the edge of reach or a jump between
    arcs, `lower_s` (k,) the least finite corner time (a bound for mixed cells), `arc` (k, 3) a fast
    arc (az, x, tau) to warm-start an exact solve (FlyoutSolution.arc), `error_s` (k,) a bound of
    the interpolation error of `time_s` where it is finite (inf elsewhere): the largest of the cell's
    corners' `FlyoutTable.error_s`; and `interpolated_s` (k,): the interpolation wherever every corner
    is reachable, mixed cells too (inf elsewhere). In a mixed cell it is no flyout time, only a guess of
    one: where the corners' times differ by more than a jump between arcs would (`max_cell_spread_s`)
    T is often just steep and smooth (near the top of the reach, e.g.), and the guess is then within a
    few seconds (the scan uses it to choose which uncertain samples to solve first)."""

    time_s: np.ndarray
    mixed: np.ndarray
    lower_s: np.ndarray
    arc: np.ndarray
    error_s: np.ndarray
    interpolated_s: np.ndarray
    jacobian: np.ndarray | None = None  # (k, 3, 3) when asked for (FlyoutTable.lookup_where)

    def warm_start(self, arc):
        """(guess (k, 3), Jacobian (k, 3, 3) or None) to start exact solves at the looked-up points (Flyout.solve's
        `guess` and `guess_jac`): the table's arc with its Jacobian where the look-up has one, else `arc` (k, 3)
        without one; `arc` everywhere when the look-up has no Jacobians."""
        if self.jacobian is None:
            return arc, None
        has = np.isfinite(self.jacobian).all(axis=(1, 2)) & np.isfinite(self.arc).all(1)
        return np.where(has[:, None], self.arc, arc), np.where(has[:, None, None], self.jacobian, np.nan)


@dataclass
class FlyoutTable:
    s_hat: np.ndarray  # site geocentric unit vector
    e_hat: np.ndarray  # geocentric east at the site
    n_hat: np.ndarray  # geocentric north at the site
    az_rad: np.ndarray  # (A,) 0 .. 2 pi - step (periodic)
    theta_rad: np.ndarray  # (K,)
    alt_m: np.ndarray  # (L,)
    T_s: np.ndarray  # (A, K, L) flyout time, inf where no arc
    sol: np.ndarray  # (A, K, L, 3) fast arc (az, x, tau) for warm starts (FlyoutSolution.arc)
    params: np.ndarray  # earth kernel params
    max_cell_spread_s: float  # a cell whose corner times differ more than this mixes two arcs
    error_s: np.ndarray  # (A, K, L) interpolation error bound of cells with this corner (`node_error_s`)
    jac: np.ndarray | None = None  # (A, K, L, 3, 3) the nodes' Jacobians d(arrival)/d(az, x, tau) (FlyoutSolution)
    kind: np.ndarray | None = None  # (A, K, L) int8: which arcs a node's Jacobian can stand for (`node_kind`)

    @cached_property
    def k_last(self) -> np.ndarray:
        """(A, L): the last theta index with a finite T in each (azimuth, altitude) column (-1: none);
        a look-up beyond it in all four columns of its cell needs no corner."""
        fin = np.isfinite(self.T_s)
        return np.where(fin.any(1), fin.shape[1] - 1 - np.argmax(fin[:, ::-1, :], axis=1), -1)

    def rows(self, which) -> FlyoutTable:
        """The table of the samples of threats `which` (as a SpeedTable's `rows`): this one, which serves
        any point."""
        return self

    def lookup_path(self, tr, t, p_ecef, alt_m=None, jacobian=False) -> TableLookup:
        """`lookup` of the points p_ecef of threats tr at free-flight times t (a SpeedTable interpolates
        along the threats' paths)."""
        return self.lookup(p_ecef, alt_m, jacobian)

    def lookup(self, p_ecef, alt_m=None, jacobian=False) -> TableLookup:
        """The TableLookup of points (k, 3): T interpolated (inf where not all of the cell's corners
        agree), whether the cell is mixed, the least finite corner time, and a fast arc for a warm
        start: interpolated like T where T is, over the finite corners at the edge of reach, else the
        nearest corner's (two arcs). `alt_m`: the points' geodetic altitudes when known (else
        computed here). With `jacobian`, also the Jacobian of that arc, interpolated like it, where
        the cell is clear and its corners' arcs are all of one kind, on the front of the reach or floor
        arcs (`node_kind`; NaN elsewhere): with it an exact solve from the arc starts with chord steps
        (Flyout.solve)."""
        return self.lookup_where(p_ecef, None, alt_m, jacobian)

    def lookup_where(self, p_ecef, use, alt_m=None, jacobian=False) -> TableLookup:
        """`lookup` of the points where the mask `use` is True (None: all); elsewhere T = inf, not
        mixed, lower = inf, guess NaN. Saves gathering and scattering large sample arrays."""
        p = np.ascontiguousarray(np.atleast_2d(p_ecef), dtype=float)
        has_alt = alt_m is not None
        h = np.ascontiguousarray(alt_m, dtype=float).reshape(-1) if has_alt else np.empty(0)
        u = np.ones(0, bool) if use is None else np.ascontiguousarray(use, dtype=bool).reshape(-1)
        want = bool(jacobian) and self.jac is not None
        jac = self.jac if want else _NO_JAC
        kind = self.kind if want else _NO_KIND
        *fields, J = _lookup(p, h, has_alt, u, self.s_hat, self.e_hat, self.n_hat, self.az_rad, self.theta_rad,
                             self.alt_m, self.T_s, self.sol, self.k_last, self.params, self.max_cell_spread_s,
                             self.error_s, want, jac, kind)
        return TableLookup(*fields, jacobian=J if want else None)


_NO_JAC = np.empty((1, 1, 1, 3, 3))
_NO_KIND = np.zeros((1, 1, 1), np.int8)
KIND_NONE, KIND_FRONT, KIND_FLOOR, KIND_OTHER = 0, 1, 2, 3


def node_kind(flyout: Flyout, T, sol, jac) -> np.ndarray:
    """(A, K, L) int8 per node, the kind of its fast arc: KIND_FRONT for a full-speed arc on the front of the
    reach, KIND_FLOOR for a floor arc (energy management; the arcs an exact solve accepts at once,
    `_fastarc.front_arc`), KIND_OTHER for any other arc (on the back, inside the burnout sphere, or reached at
    burnout) and KIND_NONE where there is none. A cell's Jacobians are interpolated only where all its corners
    are KIND_FRONT or all are KIND_FLOOR: one family (the launch parameter x means an elevation in one and a
    speed in the other), and no fold between them."""
    it = flyout.interceptor
    em, floor = bool(it.energy_management), flyout.floor_rad
    x, tau = sol[..., 1], sol[..., 2]
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(T) & np.isfinite(jac).all(axis=(-2, -1)) & (tau > 0.0)
        det = np.linalg.det(np.where(ok[..., None, None], jac, 0.0))
        on_floor = em & (x < floor)
        front = ~(det * np.cos(x) > 0.0)  # `_fastarc.front_arc` of a full-speed arc
    kind = np.where(np.isfinite(T), KIND_OTHER, KIND_NONE).astype(np.int8)
    kind[ok & on_floor] = KIND_FLOOR
    kind[ok & ~on_floor & front] = KIND_FRONT
    return kind


def _surface_dir_basis(earth, lat_deg, lon_deg):
    s = frames.geodetic_to_ecef(earth, lat_deg, lon_deg, 0.0)
    s = s / np.linalg.norm(s)
    z = np.array([0.0, 0.0, 1.0])
    e = np.cross(z, s)
    if np.linalg.norm(e) < 1e-12:  # site at a pole: any east will do
        e = np.array([0.0, 1.0, 0.0])
    e /= np.linalg.norm(e)
    n = np.cross(s, e)
    return s, e, n


def _node_points(earth, s, e, n, az, theta, alt):
    """ECEF nodes (A, K, L, 3): along the geocentric direction of (az, theta), at geodetic altitude
    alt (the radius found by Newton on the exact altitude; d altitude / d radius is ~1)."""
    A, K, L = np.meshgrid(az, theta, alt, indexing="ij")
    d = (np.cos(K)[..., None] * s + np.sin(K)[..., None] * (np.sin(A)[..., None] * e + np.cos(A)[..., None] * n))
    a, b = earth.a_m, earth.b_m
    r = 1.0 / np.sqrt((d[..., 0] ** 2 + d[..., 1] ** 2) / a**2 + d[..., 2] ** 2 / b**2) + L  # surface + alt
    for _ in range(5):
        _, _, h = frames.ecef_to_geodetic(earth, d * r[..., None])
        r = r - (h - L)
    return d * r[..., None]


def reach_theta_rad(flyout: Flyout) -> float:
    """An upper bound of the central angle an interceptor can reach (Kepler maximum range for its
    burnout speed plus the boost leg, BMW ch. 6; the whole Earth at or above circular speed)."""
    it = flyout.interceptor
    R = flyout.earth.mean_radius_m
    r = R + 0.5 * it.burnout_speed_m_s * it.burn_time_s
    q = it.burnout_speed_m_s**2 * r / flyout.earth.gm_m3_s2
    psi = math.pi if q >= 1.0 else 2.0 * math.asin(q / (2.0 - q))
    # margin for rotation (Earth-relative speed plus up to ~0.5 km/s of the Earth's own)
    psi = min(math.pi, 1.25 * psi + (0.5 * it.burnout_speed_m_s * it.burn_time_s + 300e3) / R)
    if it.max_flight_time_s is not None:
        psi = min(psi, (it.burnout_speed_m_s * (it.max_flight_time_s + it.burn_time_s)) / R)
    return psi


def table_steps_m(interceptor) -> tuple[float, float]:
    """(central-angle step as a distance on the mean sphere, altitude step), in m, of an interceptor's
    table (STEP_SPEED_M_S)."""
    f = min(1.0, (interceptor.burnout_speed_m_s / STEP_SPEED_M_S) ** 2)
    return max(THETA_STEP_M * f, MIN_STEP_M), max(ALT_STEP_M * f, MIN_STEP_M)


def node_error_s(T: np.ndarray) -> np.ndarray:
    """(A, K, L) a bound of the trilinear interpolation error of T in the cells next to each node: per
    axis |second difference| / 2, summed over the axes. Linear interpolation of a smooth f over a
    step h errs by at most max|f''| h^2 / 8 (a quarter of this), but T has kinks, where the fast arc
    changes family (energy management: the floor arcs take over from the full-speed ones) and where
    a cell straddles one, linear interpolation errs by up to a quarter of the slope's jump times h,
    which is at most half the larger second difference of the cell's two nodes. Where a neighbour is
    missing (the edge of reach or of the table), the one-sided second difference / 2: near the edge
    of reach T behaves like a square root of the distance to it (the fast and slow arcs merge) and a
    linear interpolant errs by up to a quarter of the step's rise there. inf where T is inf, and where
    a node has too few finite neighbours. A cell's bound is the largest of its corners'."""
    err = np.zeros(T.shape)
    fin = np.isfinite(T)
    for axis, periodic in ((0, True), (1, False), (2, False)):
        n = T.shape[axis]
        if n < 3:
            continue
        Tm = np.roll(T, 1, axis)
        Tp = np.roll(T, -1, axis)
        fm = np.roll(fin, 1, axis)
        fp = np.roll(fin, -1, axis)
        if not periodic:  # no neighbour beyond the table's ends
            first = [slice(None)] * 3
            last = [slice(None)] * 3
            first[axis], last[axis] = 0, n - 1
            fm[tuple(first)] = False
            fp[tuple(last)] = False
        with np.errstate(invalid="ignore"):
            central = np.abs(Tm - 2.0 * T + Tp) / 2.0
            # one-sided: the two nodes inwards of a node with one missing neighbour
            Tmm, fmm = np.roll(T, 2, axis), np.roll(fm, 1, axis)
            Tpp, fpp = np.roll(T, -2, axis), np.roll(fp, -1, axis)
            back = np.abs(T - 2.0 * Tm + Tmm) / 2.0
            ahead = np.abs(T - 2.0 * Tp + Tpp) / 2.0
        e_ax = np.where(fm & fp, central, np.where(fm & fmm, back, np.where(fp & fpp, ahead, np.inf)))
        err += e_ax
    err[~fin] = np.inf
    return err


def build(flyout: Flyout, alt_hi_m: float | None = None, *, theta_max_rad: float | None = None,
          steps_m: tuple[float, float] | None = None) -> FlyoutTable:
    """Tabulate T for one battery over its whole reach and altitude band. `theta_max_rad` and `steps_m`
    (central-angle and altitude steps) replace the interceptor's own (`reach_theta_rad`, `table_steps_m`):
    tables of one interceptor at several burnout speeds on one grid (interceptor/speed_table.py)."""
    earth, it = flyout.earth, flyout.interceptor
    s, e, n = _surface_dir_basis(earth, flyout.site.lat_deg, flyout.site.lon_deg)
    az = np.radians(np.arange(0.0, 360.0, AZ_STEP_DEG))
    th_max = reach_theta_rad(flyout) if theta_max_rad is None else float(theta_max_rad)
    theta_step_m, alt_step_m = table_steps_m(it) if steps_m is None else steps_m
    k = int(math.ceil(th_max * earth.mean_radius_m / theta_step_m)) + 1
    theta = np.linspace(0.0, th_max, k)
    lo = it.min_altitude_m
    hi = min(it.max_altitude_m, ALT_CAP_M if alt_hi_m is None else alt_hi_m)
    nl = max(int(math.ceil((hi - lo) / alt_step_m)) + 1, 2)
    alt = np.linspace(lo, max(hi, lo + 1.0), nl)
    P = _node_points(earth, s, e, n, az, theta, alt)  # (A, K, L, 3)
    A, L = az.size, alt.size
    T = np.full(P.shape[:3], np.inf)
    sol = np.full(P.shape[:3] + (3,), np.nan)
    jac = np.full(P.shape[:3] + (3, 3), np.nan)
    # Sweep outwards in central angle, warm-starting each node from its inner neighbour. At a given
    # azimuth and altitude the reachable angles form one interval: once a node that had a reachable
    # inner neighbour fails, everything beyond it is out of reach and is not tried.
    seen = np.zeros((A, L), bool)
    alive = np.ones((A, L), bool)
    for kk in range(theta.size):
        ia, il = np.nonzero(alive)
        if ia.size == 0:
            break
        guess = sol[ia, kk - 1, il] if kk > 0 else None
        fs = flyout.solve(P[ia, kk, il], guess=guess)
        Tk, sk = fs.time_s, fs.arc
        T[ia, kk, il] = Tk
        sol[ia, kk, il] = sk
        jac[ia, kk, il] = fs.jacobian
        ok = np.isfinite(Tk)
        alive[ia[~ok & seen[ia, il]], il[~ok & seen[ia, il]]] = False
        seen[ia[ok], il[ok]] = True
    diag = math.hypot(theta_step_m, alt_step_m) + earth.mean_radius_m * math.radians(AZ_STEP_DEG) * theta[1]
    spread = 2.0 * math.hypot(diag, theta_step_m * 0) / it.burnout_speed_m_s + 20.0
    return FlyoutTable(s, e, n, az, theta, alt, T, sol, earth.kernel_params, spread, node_error_s(T), jac,
                       node_kind(flyout, T, sol, jac))


@njit(parallel=True)
def _lookup(p, alt_in, has_alt, use, s, e, n, az, theta, alt, T, sol, k_last, params, spread_s, node_err, want_jac,
            jac, kind):
    m = p.shape[0]
    A = az.shape[0]
    K = theta.shape[0]
    L = alt.shape[0]
    daz = 2.0 * math.pi / A
    dth = theta[1] - theta[0]
    dal = alt[1] - alt[0]
    out = np.empty(m)
    mixed = np.zeros(m, dtype=np.bool_)
    lower = np.full(m, math.inf)
    guess = np.empty((m, 3))
    err = np.full(m, math.inf)
    interp = np.full(m, math.inf)
    J = np.full((m if want_jac else 0, 3, 3), math.nan)
    spread_max = spread_s
    # beyond the last reachable node of every column (plus a cell) nothing is reachable
    k_far = min(k_last.max() + 1, K - 1)
    cos_far = math.cos(min(theta[k_far] + 1e-9, math.pi))
    masked = use.shape[0] > 0
    for i in prange(m):
        if masked and not use[i]:
            out[i] = math.inf
            guess[i, :] = math.nan
            continue
        x, y, z = p[i, 0], p[i, 1], p[i, 2]
        rp = math.sqrt(x * x + y * y + z * z)
        c = (x * s[0] + y * s[1] + z * s[2]) / rp
        if not (c >= cos_far):  # beyond every column's reach (or NaN): no arc
            out[i] = math.inf
            guess[i, :] = math.nan
            continue
        if has_alt:
            h = alt_in[i]
        else:
            _, h = geodetic_lat_alt(x, y, z, params, 1)
        de = (x * e[0] + y * e[1] + z * e[2]) / rp
        dn = (x * n[0] + y * n[1] + z * n[2]) / rp
        th = math.atan2(math.sqrt(de * de + dn * dn), c)
        a = math.atan2(de, dn)
        if a < 0.0:
            a += 2.0 * math.pi
        fa = a / daz
        ia = int(fa)
        wa = fa - ia
        ia = ia % A
        ib = (ia + 1) % A
        fk = th / dth
        fl = (h - alt[0]) / dal
        if fk < 0.0 or fk > K - 1 or fl < -1e-9 or fl > L - 1 + 1e-9:
            out[i] = math.inf
            mixed[i] = False
            guess[i, :] = math.nan
            continue
        ik = min(int(fk), K - 2)
        wk = fk - ik
        il = min(max(int(fl), 0), L - 2)
        wl = min(max(fl - il, 0.0), 1.0)
        if ik > max(max(k_last[ia, il], k_last[ia, il + 1]), max(k_last[ib, il], k_last[ib, il + 1])):
            out[i] = math.inf  # every corner lies beyond its column's reach
            guess[i, :] = math.nan
            continue
        acc = 0.0
        n_inf = 0
        best_w = -1.0
        tmin = math.inf
        tmax = -math.inf
        emax = 0.0
        # the fast arc's (az, el, tau) interpolated too (az unwrapped about the first finite corner)
        az_ref = math.nan
        g_az = 0.0
        w_fin = 0.0
        g_el = 0.0
        g_tau = 0.0
        for ca in range(2):
            ja = ia if ca == 0 else ib
            w1 = (1.0 - wa) if ca == 0 else wa
            for ck in range(2):
                w2 = w1 * ((1.0 - wk) if ck == 0 else wk)
                for cl_ in range(2):
                    w = w2 * ((1.0 - wl) if cl_ == 0 else wl)
                    t = T[ja, ik + ck, il + cl_]
                    if math.isinf(t):
                        n_inf += 1
                    else:
                        acc += w * t
                        emax = max(emax, node_err[ja, ik + ck, il + cl_])
                        tmin = min(tmin, t)
                        tmax = max(tmax, t)
                        c_az = sol[ja, ik + ck, il + cl_, 0]
                        if math.isnan(az_ref):
                            az_ref = c_az
                        d_az = c_az - az_ref  # unwrapped about az_ref (branches: a float % is slow)
                        if d_az > math.pi:
                            d_az -= 2.0 * math.pi
                        elif d_az < -math.pi:
                            d_az += 2.0 * math.pi
                        g_az += w * (az_ref + d_az)
                        w_fin += w
                        g_el += w * sol[ja, ik + ck, il + cl_, 1]
                        g_tau += w * sol[ja, ik + ck, il + cl_, 2]
                        if w > best_w:
                            best_w = w
                            guess[i, 0] = c_az
                            guess[i, 1] = sol[ja, ik + ck, il + cl_, 1]
                            guess[i, 2] = sol[ja, ik + ck, il + cl_, 2]
        lower[i] = tmin
        if n_inf == 0:
            interp[i] = acc
        if n_inf == 0 and tmax - tmin <= spread_max:
            out[i] = acc
            err[i] = emax
            guess[i, 0] = g_az
            guess[i, 1] = g_el
            guess[i, 2] = g_tau
            if want_jac:
                _cell_jacobian(jac, kind, ia, ib, ik, il, wa, wk, wl, J[i])
        elif n_inf == 0:  # the cell straddles a jump between arcs: let an exact solve decide
            out[i] = math.inf
            mixed[i] = True
        else:
            out[i] = math.inf
            mixed[i] = n_inf < 8
            if n_inf == 8:
                guess[i, :] = math.nan
            elif w_fin > 0.0:  # the edge of reach: the finite corners' arcs, interpolated
                guess[i, 0] = g_az / w_fin
                guess[i, 1] = g_el / w_fin
                guess[i, 2] = g_tau / w_fin
    return out, mixed, lower, guess, err, interp, J


@njit
def _cell_jacobian(jac, kind, ia, ib, ik, il, wa, wk, wl, out):
    """The corners' Jacobians interpolated with the look-up's weights into out (3, 3); left NaN unless every
    corner is KIND_FRONT or every one KIND_FLOOR (`node_kind`)."""
    k0 = kind[ia, ik, il]
    if k0 != KIND_FRONT and k0 != KIND_FLOOR:
        return
    for ca in range(2):
        ja = ia if ca == 0 else ib
        for ck in range(2):
            for cl_ in range(2):
                if kind[ja, ik + ck, il + cl_] != k0:
                    return
    out[:, :] = 0.0
    for ca in range(2):
        ja = ia if ca == 0 else ib
        w1 = (1.0 - wa) if ca == 0 else wa
        for ck in range(2):
            w2 = w1 * ((1.0 - wk) if ck == 0 else wk)
            for cl_ in range(2):
                w = w2 * ((1.0 - wl) if cl_ == 0 else wl)
                for r in range(3):
                    for c in range(3):
                        out[r, c] += w * jac[ja, ik + ck, il + cl_, r, c]
