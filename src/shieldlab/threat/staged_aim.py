"""Aiming staged threats (docs/models.md, Trajectories of staged missiles; Staged flight: numerical methods), for
many threats at once.

The unknowns are the launch azimuth alpha0, the kick angle delta and, for `min-energy`, the cut-off time
t_c of the last stage. A flight is a call of `impacts(az_deg, kick_deg, cutoff_s)` (arrays over the k
threats, NaN cut-off: full burn) returning the impact latitude/longitude in degrees (NaN: no impact,
e.g. a crash before burnout). Each solver works on all k threats at once (one batch of flights per step):

- the azimuth: a fixed-point step alpha0 += (azimuth to the aim point) - (azimuth to the impact), at
  every evaluation; the Earth's rotation and J2 turn the path by a slowly varying angle, so this
  converges in a few steps alongside the other unknowns;
- the ground range against delta (full burn) rises from a vertical shot to its maximum at delta* and
  falls beyond it: `max_range` finds delta* on a grid of kicks, then by successive parabolic interpolation
  (`local_max_range` from a kick known to be near it); `lofted` solves range = d on (0, delta*],
  `depressed` on [delta*, 90) (regula falsi, Illinois variant);
- `min-energy`: at the least cut-off t_c with an impact at the aim point the kick maximises the range, so
  (delta, t_c) solve range = d and d range / d delta = 0: Newton rounds, then chord steps in t_c (`_min_energy`);
- a `StagedGuess` (a neighbouring coverage pair's solution, threat/staged_warm.py) starts min-energy threats
  there; those it does not bring to a hit are aimed again from scratch.

An aim point is hit when the impact lies within HIT_M of it (the models' 100 m). Threats beyond the
maximum range, or too close for the mode, get NaN results and a reason (see `StagedAim.reason`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from shieldlab.earth import geodesic

HIT_M = 100.0  # an impact within this of the aim point hits it (docs/models.md, Aiming modes)
RANGE_TOL_M = 10.0  # range roots to this (well inside HIT_M)
KICK_MIN_DEG, KICK_MAX_DEG = 0.05, 89.95  # the kick's search interval (a vertical shot has no range)
ROOT_ITER = 60
INVPHI = (math.sqrt(5.0) - 1.0) / 2.0


@dataclass(frozen=True, eq=False)
class StagedAim:
    """Solutions for k threats: launch azimuth, kick, cut-off (NaN: full burn), the maximum range
    along the final azimuth (full burn) and its kick, the miss distance and `reason` (None: hit; else why
    not)."""

    azimuth0_deg: np.ndarray
    kick_deg: np.ndarray
    cutoff_s: np.ndarray
    max_range_m: np.ndarray
    miss_m: np.ndarray
    reason: tuple
    max_range_kick_deg: np.ndarray = None  # the kick of max_range_m (a neighbour's starting value)
    # min-energy: d2R/d kick2 (m/deg^2) and dR/d cut-off (m/s) at the solution (a neighbour's starting values)
    range_curvature: np.ndarray = None
    range_rate_m_s: np.ndarray = None

    @property
    def ok(self) -> np.ndarray:
        return np.array([r is None for r in self.reason], bool)


class _Flights:
    """Flights of k threats towards their aim points: range along the aim direction and azimuth error."""

    def __init__(self, earth, impacts, launch_lat_deg, launch_lon_deg, aim_lat_deg, aim_lon_deg):
        self.earth, self.impacts = earth, impacts
        self.lat, self.lon = np.asarray(launch_lat_deg, float), np.asarray(launch_lon_deg, float)
        self.alat, self.alon = np.asarray(aim_lat_deg, float), np.asarray(aim_lon_deg, float)
        self.az_aim, self.distance_m = geodesic.inverse(earth, self.lat, self.lon, self.alat, self.alon)
        self.az_aim = np.atleast_1d(self.az_aim).astype(float)
        self.unwrap = True  # ranges of flights past the antipode counted along the way (for the searches)
        self.distance_m = np.atleast_1d(self.distance_m).astype(float)

    def miss_vector(self, rows, az, kick, cutoff):
        """(k, 2) east and north offsets (m) of the impacts from the aim points (geodesic distance along the
        azimuth from the aim point); NaN where there is no impact."""
        ilat, ilon = self.impacts(rows, az, kick, cutoff)
        ok = np.isfinite(ilat) & np.isfinite(ilon)
        b, s = geodesic.inverse(self.earth, self.alat[rows], self.alon[rows], np.where(ok, ilat, 0.0),
                                np.where(ok, ilon, 0.0))
        b, s = np.radians(np.atleast_1d(b)), np.atleast_1d(s)
        out = np.stack([s * np.sin(b), s * np.cos(b)], axis=-1)
        out[~ok] = np.nan
        return out

    def run(self, rows, az, kick, cutoff):
        """(ground range m, azimuth of the impact from the launch point deg, miss m) of threats rows;
        NaN where there is no impact."""
        ilat, ilon = self.impacts(rows, az, kick, cutoff)
        ok = np.isfinite(ilat) & np.isfinite(ilon)
        az_i, rng = geodesic.inverse(self.earth, self.lat[rows], self.lon[rows], np.where(ok, ilat, 0.0),
                                     np.where(ok, ilon, 0.0))
        _, miss = geodesic.inverse(self.earth, self.alat[rows], self.alon[rows], np.where(ok, ilat, 0.0),
                                   np.where(ok, ilon, 0.0))
        nan = np.full(rows.size, np.nan)
        rng, az_i = np.atleast_1d(rng), np.atleast_1d(az_i)
        # a flight past the antipode lands "behind" (its impact's azimuth turned by more than 90 deg): its
        # range along the way is about a circumference minus the ground range, more than any aim's distance
        # (a short flight may land behind too, e.g. a near-vertical shot drifting west: only ranges beyond a
        # quarter of the way round are taken for flights past the antipode)
        circ = 2.0 * math.pi * self.earth.mean_radius_m
        back = ((np.abs((az_i - np.asarray(az, float) + 180.0) % 360.0 - 180.0) > 90.0) & (rng > 0.25 * circ)
                & self.unwrap)
        rng = np.where(back, circ - rng, rng)
        return np.where(ok, rng, nan), np.where(ok, az_i, nan), np.where(ok, np.atleast_1d(miss), nan)


MAX_TURN_DEG = 30.0  # larger azimuth errors come from flights far from the aim (e.g. past the antipode): ignored


def _turn(az_aim, az_impact):
    """The signed angle (deg) to add to the launch azimuth to move the impact's azimuth onto the aim's;
    0 where it exceeds MAX_TURN_DEG (rotation and J2 turn a path by less; a larger error means a flight
    far from the aim point, e.g. one past the antipode, whose azimuth says nothing)."""
    t = (az_aim - az_impact + 180.0) % 360.0 - 180.0
    return np.where(np.abs(t) <= MAX_TURN_DEG, t, 0.0)


KICK_GRID_DEG = np.geomspace(KICK_MIN_DEG, KICK_MAX_DEG, 24)  # kicks tried first (a weak booster's best is small)
KICK_TOL_DEG = 5e-3  # the last parabolic step: the range is flat at its maximum (it costs under a metre)
PARABOLA_ITER = 40
# the vertex of the parabola through three flights at most VERTEX_SPAN_DEG apart, within VERTEX_TOL_DEG of the
# best of them, is taken with the parabola's value (no flight): on the range's smooth top, a parabola that close
# is within a metre of the range (tests/test_staged_aim_speed.py compares it with a tight search)
VERTEX_TOL_DEG = 0.02
VERTEX_SPAN_DEG = 0.25
# every kick step and tolerance above (and of the min-energy rounds) is for kicks of KICK_SCALE_DEG and more; below,
# they shrink with the kick (a weak booster's best kick can be under a degree, where its range is sharply peaked)
KICK_SCALE_DEG = 20.0


def _kscale(kick_deg):
    """The factor of the kick steps and tolerances at these kicks (see KICK_SCALE_DEG)."""
    return np.clip(np.nan_to_num(np.asarray(kick_deg, float), nan=KICK_SCALE_DEG) / KICK_SCALE_DEG, 1e-3, 1.0)
LOCAL_STEP_DEG = 0.1  # half-width of the first bracket of a local search from a nearby kick
LOCAL_EXPAND = 8  # doublings of a local bracket before falling back to the grid


def _ranges(flights, rows, az, kick, cutoff):
    """Ranges (m) of flights of threats rows; -1 for a flight that crashes or does not come down."""
    return np.nan_to_num(flights.run(rows, az, kick, cutoff)[0], nan=-1.0)


def max_range(flights: _Flights, rows, az, cutoff, grid=KICK_GRID_DEG, tol_deg=KICK_TOL_DEG):
    """The kick of the greatest ground range of threats rows at launch azimuths az (fixed) and cut-offs
    `cutoff`: the kicks of `grid` first, then successive parabolic interpolation in the bracket of the best
    one's neighbours (`_parabolic_max`). Returns (kick* deg, range* m); a crash counts as no range (range* -1
    where every kick crashes)."""
    k = rows.size
    g = grid.size
    rr = np.repeat(rows, g)
    rng = _ranges(flights, rr, np.repeat(az, g), np.tile(grid, k), np.repeat(cutoff, g)).reshape(k, g)
    best = np.argmax(rng, axis=1)
    ix = np.arange(k)
    a = np.where(best > 0, grid[np.maximum(best - 1, 0)], 0.0)
    c = np.where(best < g - 1, grid[np.minimum(best + 1, g - 1)], 90.0)
    fa = np.where(best > 0, rng[ix, np.maximum(best - 1, 0)], 0.0)  # a vertical shot: no range
    fc = np.where(best < g - 1, rng[ix, np.minimum(best + 1, g - 1)], -1.0)  # a flat one crashes
    return _parabolic_max(flights, rows, az, cutoff, a, grid[best], c, fa, rng[ix, best], fc, tol_deg)


def _parabolic_max(flights, rows, az, cutoff, a, b, c, fa, fb, fc, tol_deg=KICK_TOL_DEG):
    """The maximum of the range over the kick inside brackets a < b < c with f(b) >= f(a), f(c) (f: range):
    successive parabolic interpolation (a golden-section step where the vertex is unusable or the bracket
    shrinks slowly), one flight per round, until the vertex moves the best kick by less than tol_deg, or lies within
    VERTEX_TOL_DEG of it in a narrow bracket (then the vertex and the parabola's value are taken).
    Returns (kick*, range*)."""
    a, b, c, fa, fb, fc = (np.array(v, float) for v in (a, b, c, fa, fb, fc))
    done = ~(fb > -1.0)  # every kick crashes: nothing to refine
    slow = np.zeros(rows.size, np.int64)
    for _ in range(PARABOLA_ITER):
        todo = np.flatnonzero(~done)
        if todo.size == 0:
            break
        A, B, Cc, FA, FB, FC = a[todo], b[todo], c[todo], fa[todo], fb[todo], fc[todo]
        p = (B - A) ** 2 * (FB - FC) - (B - Cc) ** 2 * (FB - FA)
        q = (B - A) * (FB - FC) - (B - Cc) * (FB - FA)
        with np.errstate(divide="ignore", invalid="ignore"):
            u = B - 0.5 * p / q
        gold = np.where(B - A > Cc - B, B - (1.0 - INVPHI) * (B - A), B + (1.0 - INVPHI) * (Cc - B))
        use_gold = ~np.isfinite(u) | (u <= A) | (u >= Cc) | (slow[todo] >= 2)
        u = np.where(use_gold, gold, u)
        sc = _kscale(B)
        conv = ~use_gold & (np.abs(u - B) < tol_deg * sc)
        # a vertex within VERTEX_TOL_DEG of the best kick, of a parabola through flights at most VERTEX_SPAN_DEG
        # apart (real ones: no crash, not the vertical shot): taken with the parabola's value
        near = (~use_gold & ~conv & (np.abs(u - B) < VERTEX_TOL_DEG * sc) & (Cc - A <= VERTEX_SPAN_DEG * sc) & (FA > 0)
                & (FC > 0)
                & (A > 0))
        if near.any():
            j = todo[near]
            d1 = (FB - FA)[near] / (B - A)[near]
            a2 = ((FC - FB)[near] / (Cc - B)[near] - d1) / (Cc - A)[near]
            un = u[near]
            b[j], fb[j] = un, FB[near] + d1 * (un - B[near]) + a2 * (un - B[near]) * (un - A[near])
            conv |= near
        done[todo[conv]] = True
        go = ~conv
        todo, u = todo[go], u[go]
        if todo.size == 0:
            break
        fu = _ranges(flights, rows[todo], az[todo], u, cutoff[todo])
        A, B, Cc, FA, FB, FC = a[todo], b[todo], c[todo], fa[todo], fb[todo], fc[todo]
        width = Cc - A
        better = fu > FB
        left = u < B
        # the new bracket: around u where it is better, else u replaces the end on its side
        na = np.where(better, np.where(left, A, B), np.where(left, u, A))
        nc = np.where(better, np.where(left, B, Cc), np.where(left, Cc, u))
        nfa = np.where(better, np.where(left, FA, FB), np.where(left, fu, FA))
        nfc = np.where(better, np.where(left, FB, FC), np.where(left, FC, fu))
        nb = np.where(better, u, B)
        nfb = np.where(better, fu, FB)
        a[todo], b[todo], c[todo], fa[todo], fb[todo], fc[todo] = na, nb, nc, nfa, nfb, nfc
        slow[todo] = np.where(nc - na > 0.5 * width, slow[todo] + 1, 0)
        done[todo] |= (nc - na) < tol_deg * _kscale(nb)
    return b, fb


def local_max_range(flights: _Flights, rows, az, cutoff, k0, h=LOCAL_STEP_DEG, tol_deg=KICK_TOL_DEG):
    """`max_range` from a kick k0 near the maximum (a neighbour's, or the same threat's at a slightly other
    azimuth): the bracket k0 -+ h, moved uphill (its step doubled) until it holds the maximum, then parabolic
    interpolation; threats whose bracket is not found within LOCAL_EXPAND moves get the grid search."""
    k = rows.size
    hh = h * _kscale(k0)
    k0 = np.clip(np.asarray(k0, float), hh, 90.0 - hh)
    a, b, c = k0 - hh, k0, k0 + hh
    f = _ranges(flights, np.tile(rows, 3), np.tile(az, 3), np.concatenate([a, b, c]), np.tile(cutoff, 3))
    fa, fb, fc = f.reshape(3, k)
    for _ in range(LOCAL_EXPAND):
        up = (fc > fb) & (c < 90.0)  # uphill to the right
        down = (fa > fb) & ~up & (a > 0.0)  # uphill to the left
        move = np.flatnonzero(up | down)
        if move.size == 0:
            break
        r = up[move]
        step = 2.0 * hh[move]
        new = np.clip(np.where(r, c[move] + step, a[move] - step), 0.0, 90.0)
        fn = _ranges(flights, rows[move], az[move], new, cutoff[move])
        am, bm, cm, fam, fbm, fcm = a[move], b[move], c[move], fa[move], fb[move], fc[move]
        a[move], b[move], c[move] = np.where(r, bm, new), np.where(r, cm, am), np.where(r, new, bm)
        fa[move], fb[move], fc[move] = np.where(r, fbm, fn), np.where(r, fcm, fam), np.where(r, fn, fbm)
        hh[move] = step
    kx, rx = _parabolic_max(flights, rows, az, cutoff, a, b, c, fa, fb, fc, tol_deg)
    bad = np.flatnonzero(~((fb >= fa) & (fb >= fc)) | ~(fb > 0))
    if bad.size:
        kx[bad], rx[bad] = max_range(flights, rows[bad], az[bad], cutoff[bad], tol_deg=tol_deg)
    return kx, rx


CRASH_BISECTIONS = 40


def _crash_edge(fl, r, az, k_ok, cut, k_crash=None):
    """The flattest kick (deg) between k_ok (a flight that comes down) and k_crash (default 90 deg; a
    flight that crashes before burnout) whose flight still comes down (to 2^-40 of the interval), with
    its range (m)."""
    lo = np.asarray(k_ok, float).copy()
    hi = np.full(r.size, 90.0) if k_crash is None else np.asarray(k_crash, float).copy()
    for _ in range(CRASH_BISECTIONS):
        mid = 0.5 * (lo + hi)
        fin = np.isfinite(fl.run(r, az, mid, cut)[0])
        lo = np.where(fin, mid, lo)
        hi = np.where(fin, hi, mid)
    return lo, fl.run(r, az, lo, cut)[0]


def _kick_root(flights: _Flights, rows, az, lo, hi, f_lo, f_hi, target, cutoff, iters=ROOT_ITER):
    """Regula falsi (Illinois) for range(kick) = target on [lo, hi] where f = range - target changes sign;
    the launch azimuth is corrected at every evaluation. Returns (kick, az, f)."""
    side = np.zeros(rows.size)
    x = lo.copy()
    fx = f_lo.copy()
    done = np.zeros(rows.size, bool)
    for _ in range(iters):
        x = np.where(done, x, (lo * f_hi - hi * f_lo) / (f_hi - f_lo))
        bad = ~np.isfinite(x) | (x <= np.minimum(lo, hi)) | (x >= np.maximum(lo, hi))
        x = np.where(bad & ~done, 0.5 * (lo + hi), x)
        todo = np.flatnonzero(~done)
        if todo.size == 0:
            break
        rng, az_i, _ = flights.run(rows[todo], az[todo], x[todo], cutoff[todo])
        fx[todo] = np.nan_to_num(rng - target[todo], nan=-target[todo])
        az[todo] = az[todo] + np.nan_to_num(_turn(flights.az_aim[rows[todo]], az_i))
        done |= np.abs(fx) < RANGE_TOL_M
        same = np.sign(fx) == np.sign(f_hi)
        upd_hi = ~done & same
        upd_lo = ~done & ~same
        hi = np.where(upd_hi, x, hi)
        f_hi = np.where(upd_hi, fx, f_hi)
        f_lo = np.where(upd_hi & (side == 1), 0.5 * f_lo, f_lo)
        lo = np.where(upd_lo, x, lo)
        f_lo = np.where(upd_lo, fx, f_lo)
        f_hi = np.where(upd_lo & (side == -1), 0.5 * f_hi, f_hi)
        side = np.where(upd_hi, 1, np.where(upd_lo, -1, side))
    return x, az, fx


POLISH_ITER = 8  # final rounds of azimuth and range correction


@dataclass(frozen=True, eq=False)
class StagedGuess:
    """Starting values for k threats (a neighbour's solution; NaN rows: none): the launch azimuth's offset
    from the aim point's geodesic azimuth (deg), the kick (deg), the cut-off (s; min-energy) and the kick of
    the maximum range (deg)."""

    azimuth_offset_deg: np.ndarray
    kick_deg: np.ndarray
    cutoff_s: np.ndarray
    max_range_kick_deg: np.ndarray
    range_curvature: np.ndarray = None  # min-energy: d2R/d kick2 (m/deg^2) and dR/d cut-off (m/s)
    range_rate_m_s: np.ndarray = None


_AIM_FIELDS = ("azimuth0_deg", "kick_deg", "cutoff_s", "max_range_m", "miss_m", "max_range_kick_deg", "range_curvature",
               "range_rate_m_s")
_GUESS_FIELDS = ("azimuth_offset_deg", "kick_deg", "cutoff_s", "max_range_kick_deg", "range_curvature",
                 "range_rate_m_s")


def solve(earth, impacts, launch_lat_deg, launch_lon_deg, aim_lat_deg, aim_lon_deg, mode: str, kick_deg=None,
          cutoff_window_s=None, guess: StagedGuess | None = None) -> StagedAim:
    """Aim k staged threats (all with the same `mode`: 'lofted', 'depressed', 'min-energy' or 'kick').

    impacts(rows, az_deg, kick_deg, cutoff_s) -> (impact lat deg, impact lon deg), NaN for no impact, for
    threats `rows` (indices into these k). kick_deg (k,): mode 'kick'. cutoff_window_s (k, 2): for
    'min-energy', the last stage's ignition and the end of its full burn (s after launch). `guess`: starting
    values (min-energy: the Newton rounds start from them; other modes: the maximum range's search); a
    threat whose warm start does not hit is aimed again from scratch, so a guess changes the work, not
    which aim points are reached."""
    fl = _Flights(earth, impacts, launch_lat_deg, launch_lon_deg, aim_lat_deg, aim_lon_deg)
    k = fl.distance_m.size
    warm = np.zeros(k, bool)
    if guess is not None and mode == "min-energy":
        warm = (np.isfinite(guess.azimuth_offset_deg) & np.isfinite(guess.kick_deg) & np.isfinite(guess.cutoff_s)
                & np.isfinite(guess.max_range_kick_deg))
    if not warm.any():
        return _solve_cold(fl, mode, kick_deg, cutoff_window_s, guess)
    out = _solve_warm(fl, np.flatnonzero(warm), guess, cutoff_window_s)
    redo = np.flatnonzero(~warm | ~out.ok)
    if redo.size:
        sub = _Flights(earth, lambda r, a, kk, c: impacts(redo[r], a, kk, c), fl.lat[redo], fl.lon[redo],
                       fl.alat[redo], fl.alon[redo])
        g = None if guess is None else StagedGuess(*(_col(guess, f, k)[redo] for f in _GUESS_FIELDS))
        cold = _solve_cold(sub, mode, None if kick_deg is None else np.asarray(kick_deg, float)[redo],
                           np.asarray(cutoff_window_s, float).reshape(k, 2)[redo], g)
        out = _merge(out, redo, cold)
    return out


def _col(obj, f, k):
    v = getattr(obj, f)
    return np.full(k, np.nan) if v is None else np.asarray(v, float)


def _merge(out: StagedAim, rows, part: StagedAim) -> StagedAim:
    k = out.miss_m.size
    arrays = {f: _col(out, f, k).copy() for f in _AIM_FIELDS}
    for f, v in arrays.items():
        v[rows] = _col(part, f, rows.size)
    reason = list(out.reason)
    for j, i in enumerate(rows):
        reason[i] = part.reason[j]
    return StagedAim(*(arrays[f] for f in _AIM_FIELDS[:5]), tuple(reason), *(arrays[f] for f in _AIM_FIELDS[5:]))


def _solve_warm(fl, r, guess, cutoff_window_s) -> StagedAim:
    """Min-energy threats r from their guesses: the Newton rounds of `_min_energy` from the guess's (kick,
    cut-off, azimuth), then the maximum range (full burn) along the final azimuth from the guess's kick of
    it. Threats not hit are marked (reason) for the cold solution."""
    k = fl.distance_m.size
    win = np.asarray(cutoff_window_s, float).reshape(k, 2)[r]
    g = [_col(guess, f, k)[r] for f in _GUESS_FIELDS]
    az = fl.az_aim[r] + g[0]
    d = fl.distance_m[r]
    tc, kc, az, why, miss, curv, rate = _min_energy(fl, r, az, g[1], win, d, t0=np.clip(g[2], win[:, 0], win[:, 1]),
                                                    curv0=g[4], rate0=g[5])
    kmax, rmax = local_max_range(fl, r, az, np.full(r.size, np.nan), g[3], h=0.5 * LOCAL_STEP_DEG)
    nan = np.full(k, np.nan)
    out = [nan.copy() for _ in range(8)]
    for o, v in zip(out, (az, kc, tc, rmax, miss, kmax, curv, rate)):
        o[r] = v
    reason = ["not warm"] * k
    for j, i in enumerate(r):
        reason[i] = None if (why[j] == "" and miss[j] <= HIT_M) else "warm start failed"
    return _result(*out[:5], reason, *out[5:])


def _solve_cold(fl, mode, kick_deg, cutoff_window_s, guess) -> StagedAim:
    """`solve` without warm starts (a guess only seeds the maximum range's search)."""
    k = fl.distance_m.size
    rows = np.arange(k)
    d = fl.distance_m
    az = fl.az_aim.copy()
    full = np.full(k, np.nan)
    reason: list = [None] * k
    if mode == "kick":
        kick = np.asarray(kick_deg, float).copy()
        cut = full.copy()
        for _ in range(POLISH_ITER):
            rng, az_i, miss = fl.run(rows, az, kick, cut)
            az = az + np.nan_to_num(_turn(fl.az_aim, az_i))
        rng, az_i, miss = fl.run(rows, az, kick, cut)
        fl.unwrap = False
        kstar, rstar = max_range(fl, rows, az, cut)
        for i in np.flatnonzero(~(miss <= HIT_M)):
            reason[i] = (f"with a fixed kick of {kick[i]:g} deg and a full burn it comes down "
                         + (f"{rng[i] / 1e3:.0f} km from the launch point, the aim point is {d[i] / 1e3:.0f} km away"
                            if np.isfinite(rng[i]) else "nowhere (it crashes before burnout)"))
        return _result(az, kick, cut, rstar, miss, reason, kstar, full, full)
    # a first pass along the aim azimuth: delta* and the maximum range (grid, or from a guess's delta*); the
    # azimuth corrected at delta*; the maximum again (from the first delta*: the azimuth moved it little)
    if mode == "min-energy":
        win = np.asarray(cutoff_window_s, float).reshape(k, 2)
        cut = win[:, 1].copy()
    else:
        cut = full.copy()
    seeded = np.zeros(k, bool) if guess is None else np.isfinite(guess.max_range_kick_deg)
    if guess is not None:
        az = az + np.where(np.isfinite(guess.azimuth_offset_deg), guess.azimuth_offset_deg, 0.0)
    kstar, rstar = np.empty(k), np.empty(k)
    for part, seed in ((np.flatnonzero(~seeded), False), (np.flatnonzero(seeded), True)):
        if part.size:
            kstar[part], rstar[part] = (local_max_range(fl, part, az[part], cut[part], guess.max_range_kick_deg[part])
                                        if seed else max_range(fl, part, az[part], cut[part]))
    for _ in range(2):
        _, az_i, _ = fl.run(rows, az, kstar, cut)
        az = az + np.nan_to_num(_turn(fl.az_aim, az_i))
    kstar, rstar = local_max_range(fl, rows, az, cut, kstar, h=0.5 * LOCAL_STEP_DEG)
    beyond = ~(rstar >= d - RANGE_TOL_M)
    for i in np.flatnonzero(beyond):
        reason[i] = (f"the aim point ({d[i] / 1e3:.0f} km) is beyond the missile's maximum range along this azimuth"
                     f" ({rstar[i] / 1e3:.0f} km with a full burn)" if rstar[i] > 0 else
                     "no kick angle gives a flight that comes down (every one crashes before burnout)")
    live = np.flatnonzero(~beyond)
    kick = np.full(k, np.nan)
    miss = np.full(k, np.nan)
    curv, rate = np.full(k, np.nan), np.full(k, np.nan)
    if mode in ("lofted", "depressed") and live.size:
        r = live
        lo, hi, f_lo, f_hi, why = _branch_bracket(fl, r, az[r], cut[r], d[r], mode)
        for j in np.flatnonzero(why != ""):
            reason[r[j]] = why[j]
        keep = why == ""
        r, lo, hi, f_lo, f_hi = r[keep], lo[keep], hi[keep], f_lo[keep], f_hi[keep]
        if r.size:
            x, az_r, _ = _kick_root(fl, r, az[r].copy(), lo, hi, f_lo, f_hi, d[r], cut[r])
            kick[r], az[r] = x, az_r
            # Newton within the branch: between a vertical shot and delta* (lofted), or delta* and 90 deg
            branch = (np.zeros(r.size), kstar[r]) if mode == "lofted" else (kstar[r], np.full(r.size, 90.0))
            kick, az = _polish_kick(fl, r, kick, az, cut, d, *branch)
        _, _, miss = fl.run(rows, az, np.where(np.isfinite(kick), kick, 45.0), cut)
    elif mode == "min-energy" and live.size:
        r = live
        tc, kc, az_r, why, miss_r, curv[r], rate[r] = _min_energy(fl, r, az[r].copy(), kstar[r], win[r], d[r])
        cut[r], kick[r], az[r], miss[r] = tc, kc, az_r, miss_r
        for j in np.flatnonzero(why != ""):
            reason[r[j]] = why[j]
    miss = np.where(np.isfinite(kick), miss, np.nan)
    fl.unwrap = False  # the reported maximum range is a ground range (docs/models.md, Trajectories of staged missiles)
    # the maximum range along the final azimuth (full burn), from the first pass's delta* (for min-energy
    # threats that pass was a full burn too: the end of the window)
    kmax, rmax = local_max_range(fl, rows, az, full, kstar, h=0.5 * LOCAL_STEP_DEG)
    for i in range(k):
        if reason[i] is None and not (miss[i] <= HIT_M):
            reason[i] = (f"the aiming did not converge (the closest impact found is {miss[i] / 1e3:.1f} km from the "
                         "aim point)" if np.isfinite(miss[i]) else "the aiming did not converge")
    return _result(az, kick, cut, rmax, miss, reason, kmax, curv, rate)


def _result(az, kick, cut, rmax, miss, reason, kmax, curv, rate) -> StagedAim:
    bad = np.array([r is not None for r in reason], bool)
    nan = np.nan
    return StagedAim(np.where(bad, nan, az % 360.0), np.where(bad, nan, kick), np.where(bad, nan, cut), rmax,
                     miss, tuple(reason), kmax, np.where(bad, nan, curv), np.where(bad, nan, rate))


NEWTON_ITER = 15
AZ_H_DEG, KICK_H_DEG = 1e-4, 1e-5  # finite-difference steps of the 2-D Newton iterations


def _polish_kick(fl, r, kick, az, cut, d, lo, hi):
    """Newton iterations on (azimuth, kick) for the impact's east and north offsets from the aim point
    (a finite-difference Jacobian), until the impact lies within a tenth of HIT_M; the kick stays within
    its bracket [lo, hi] (either order). For steep lofted shots the Earth's turn under the flight moves
    the impact more than the launch azimuth does, which a fixed-point step on the azimuth cannot follow."""
    x = kick[r].copy()
    a = az[r].copy()
    k_min, k_max = np.minimum(lo, hi), np.maximum(lo, hi)
    for _ in range(NEWTON_ITER):
        m = fl.miss_vector(np.tile(r, 3), np.concatenate([a, a + AZ_H_DEG, a]),
                           np.concatenate([x, x, x + KICK_H_DEG]), np.tile(cut[r], 3)).reshape(3, r.size, 2)
        f0 = m[0]
        miss = np.hypot(f0[:, 0], f0[:, 1])
        if np.all(~(miss > 0.1 * HIT_M)):
            break
        ja = (m[1] - f0) / AZ_H_DEG
        jk = (m[2] - f0) / KICK_H_DEG
        det = ja[:, 0] * jk[:, 1] - ja[:, 1] * jk[:, 0]
        da = -(jk[:, 1] * f0[:, 0] - jk[:, 0] * f0[:, 1]) / det
        dk = -(-ja[:, 1] * f0[:, 0] + ja[:, 0] * f0[:, 1]) / det
        go = (miss > 0.1 * HIT_M) & np.isfinite(da) & np.isfinite(dk)
        a = np.where(go, a + np.clip(da, -10.0, 10.0), a)
        x = np.where(go, np.clip(x + dk, k_min, k_max), x)
    kick[r], az[r] = x, a
    return kick, az


ROOT_GRID_DEG = np.r_[0.0, KICK_GRID_DEG, 90.0]  # kicks where the lofted and depressed roots are bracketed


def _branch_bracket(fl, r, az, cut, d, mode):
    """Brackets [lo, hi] of the kick for range = d: for 'lofted' the first interval of ROOT_GRID_DEG
    (from the vertical) where the range rises through d, for 'depressed' the last where it falls
    through d (a flight that crashes before burnout counts as no range; where the range ends in a crash
    the bracket ends at the flattest kick that still comes down). Returns (lo, hi, f_lo, f_hi, why):
    f = range - d at the ends, why a reason where there is no such interval ('' otherwise)."""
    g = ROOT_GRID_DEG
    k, m = r.size, g.size
    rng = fl.run(np.repeat(r, m), np.repeat(az, m), np.tile(g, k), np.repeat(cut, m))[0].reshape(k, m) - d[:, None]
    lo = np.full(k, np.nan)
    hi = np.full(k, np.nan)
    f_lo = np.full(k, np.nan)
    f_hi = np.full(k, np.nan)
    a, b = rng[:, :-1], rng[:, 1:]
    if mode == "lofted":
        cell = (a < 0) & (b >= 0)
        has = cell.any(1)
        j = np.argmax(cell, axis=1)
    else:
        cell = (a >= 0) & ((b < 0) | np.isnan(b))
        crash = cell & np.isnan(b)
        if crash.any():  # bisect each crash edge inside its cell; it counts when its range is below d
            ri, ci = np.nonzero(crash)
            edge, r_edge = _crash_edge(fl, r[ri], az[ri], g[ci], cut[ri], g[ci + 1])
            b = b.copy()
            b[ri, ci] = r_edge - d[ri]
            g_hi = np.tile(g[1:], (k, 1))
            g_hi[ri, ci] = edge
            cell = (a >= 0) & (b < 0)
        else:
            g_hi = np.tile(g[1:], (k, 1))
        has = cell.any(1)
        j = m - 2 - np.argmax(cell[:, ::-1], axis=1)
    rows = np.arange(k)
    lo = np.where(has, g[j], np.nan)
    f_lo = np.where(has, a[rows, j], np.nan)
    hi = np.where(has, (np.tile(g[1:], (k, 1)) if mode == "lofted" else g_hi)[rows, j], np.nan)
    f_hi = np.where(has, b[rows, j], np.nan)
    why = np.array([""] * k, dtype=object)
    for i in np.flatnonzero(~has):
        why[i] = (f"no {mode} trajectory reaches the aim point ({d[i] / 1e3:.0f} km): with a full burn the range "
                  + ("never rises through it from a vertical shot" if mode == "lofted" else
                     "never falls to it before flatter kicks crash before burnout"))
    # the root finder wants f_lo < 0 < f_hi: swap where needed
    sw = f_lo > 0
    lo, hi, f_lo, f_hi = np.where(sw, hi, lo), np.where(sw, lo, hi), np.where(sw, f_hi, f_lo), np.where(sw, f_lo, f_hi)
    return lo, hi, f_lo, f_hi, why


ME_ITER = 25  # Newton rounds of the min-energy solution (most threats are done in 5-8)
ME_MAX_KICK_STEP_DEG = 5.0  # a solid ICBM's best kick moves by ~2 deg between a full burn and its cut-off
# finite-difference steps in the kick and the cut-off time (the kick's: a curvature of ~10 m of range over +-0.02 deg,
# well above the cm-level steps of the range as the integration's step pattern changes with the kick)
ME_KICK_H_DEG = 0.02
ME_CUT_H_S = 0.05
# the Newton rounds end once the kick's step is below ME_KICK_TOL_DEG (a Newton step on the range's nearly
# parabolic top: the kick after it is within ~1e-3 deg of the maximum, where the range is flat: well under a metre
# of range, i.e. microseconds of cut-off) and the range within ME_RANGE_TOL_M of the distance; then chord steps in
# t_c (the last round's dR/dt_c) until the impact is within POLISH_M
ME_KICK_TOL_DEG = 0.05
ME_RANGE_TOL_M = 20e3
ME_POLISH_ITER = 6
POLISH_M = 0.1 * HIT_M


def _min_energy(fl, r, az, k0, win, d, t0=None, curv0=None, rate0=None):
    """The least cut-off t_c with an impact at the aim point (docs/models.md, The staged model): at that t_c
    the kick maximises the range, so (delta, t_c) solve R(delta, t_c) = d and dR/d delta = 0. From the
    full burn's delta* (k0; or a neighbour's (delta, t_c) = (k0, t0)), Newton rounds alternate a step in delta
    to the range's maximum (central differences) and a step in t_c to the range d (backward difference), the
    azimuth's fixed point alongside; t_c stays in the last stage's burn `win` (ignition, end). Then chord
    steps in t_c (one flight each) until the impact lies within POLISH_M of the aim point. With a neighbour's
    d2R/d delta2 (curv0, m/deg^2) and dR/dt_c (rate0, m/s), the first round flies only delta -+ h (the range
    at delta and its derivatives from them and those). Returns (t_c, delta, az, why, miss, d2R/d delta2,
    dR/dt_c): why a reason where the aim point is nearer than the range with the last stage cut at ignition."""
    k = r.size
    t = win[:, 1].copy() if t0 is None else np.asarray(t0, float).copy()
    x = np.asarray(k0, float).copy()
    ht = ME_CUT_H_S
    why = np.array([""] * k, dtype=object)
    done = np.zeros(k, bool)
    slope_t = np.full(k, np.nan) if rate0 is None else np.asarray(rate0, float).copy()  # dR/dt_c, last round
    curv_k = np.full(k, np.nan) if curv0 is None else np.asarray(curv0, float).copy()  # d2R/d delta2
    carried = np.isfinite(slope_t) & (slope_t > 0) & np.isfinite(curv_k) & (curv_k < 0)
    for rnd in range(ME_ITER):
        todo = np.flatnonzero(~done)
        if todo.size == 0:
            break
        two = carried[todo] if rnd == 0 else np.zeros(todo.size, bool)
        rm, r_0, rp, rt, az_m = (np.empty(todo.size) for _ in range(5))
        sc = _kscale(x[todo])
        hk = ME_KICK_H_DEG * sc
        for sel, m in ((~two, 4), (two, 2)):
            j = np.flatnonzero(sel)
            if j.size == 0:
                continue
            rr, a, xt, tt, hj = r[todo[j]], az[todo[j]], x[todo[j]], t[todo[j]], hk[j]
            if m == 4:
                kicks = np.concatenate([xt - hj, xt, xt + hj, xt])
                cuts = np.concatenate([tt, tt, tt, tt - ht])  # a backward step: t_c may sit at the end of the burn
            else:
                kicks, cuts = np.concatenate([xt - hj, xt + hj]), np.concatenate([tt, tt])
            rng, az_i, _ = fl.run(np.tile(rr, m), np.tile(a, m), kicks, cuts)
            rng, az_i = rng.reshape(m, j.size), az_i.reshape(m, j.size)
            if m == 4:
                rm[j], r_0[j], rp[j], rt[j] = rng
                az_m[j] = az_i[1]
            else:
                cj = curv_k[todo[j]]
                rm[j], rp[j] = rng
                r_0[j] = 0.5 * (rng[0] + rng[1]) - 0.5 * cj * hj**2
                rt[j] = r_0[j] - slope_t[todo[j]] * ht
                az_m[j] = 0.5 * (az_i[0] + az_i[1])
        rr, a, xt, tt = r[todo], az[todo], x[todo], t[todo]
        az[todo] = a + np.nan_to_num(_turn(fl.az_aim[rr], az_m))
        curv = np.where(two, curv_k[todo], (rp - 2.0 * r_0 + rm) / hk**2)
        curv_k[todo] = curv
        slope = (rp - rm) / (2.0 * hk)
        dk = np.where(curv < 0, -slope / np.where(curv < 0, curv, -1.0), np.sign(slope) * hk)
        # a step of at most ME_MAX_KICK_STEP_DEG, and within half to twice the kick (small kicks)
        x[todo] = np.clip(xt + np.nan_to_num(dk), np.maximum(xt - ME_MAX_KICK_STEP_DEG, 0.5 * xt),
                          np.minimum(xt + ME_MAX_KICK_STEP_DEG, 2.0 * xt))
        x[todo] = np.clip(x[todo], 0.0, 90.0)
        r_t = (r_0 - rt) / ht
        slope_t[todo] = r_t
        dt = np.where(r_t > 0, (d[todo] - r_0) / np.where(r_t > 0, r_t, 1.0), 0.0)
        t[todo] = np.clip(tt + np.nan_to_num(dt), win[todo, 0], win[todo, 1])
        at_ignition = (tt <= win[todo, 0]) & (r_0 > d[todo] + RANGE_TOL_M) & (np.abs(dk) < 1e-3 * sc)
        for j in np.flatnonzero(at_ignition):
            why[todo[j]] = (f"the aim point ({d[todo[j]] / 1e3:.0f} km) is nearer than the missile's range with its "
                            f"last stage cut off at ignition ({r_0[j] / 1e3:.0f} km): no min-energy trajectory; give "
                            "trajectory = \"lofted\" or \"depressed\"")
        done[todo] = at_ignition | ((np.abs(r_0 - d[todo]) < ME_RANGE_TOL_M) & (np.abs(dk) < ME_KICK_TOL_DEG * sc))
    # the cut-off's last corrections: chord steps with the last round's dR/dt_c
    miss = np.full(k, np.nan)
    todo = np.flatnonzero(why == "")
    for _ in range(ME_POLISH_ITER):
        if todo.size == 0:
            break
        rr = r[todo]
        rng, az_i, miss[todo] = fl.run(rr, az[todo], x[todo], t[todo])
        go = ~(miss[todo] <= POLISH_M)
        todo, rng, az_i = todo[go], rng[go], az_i[go]
        if todo.size == 0:
            break
        az[todo] = az[todo] + np.nan_to_num(_turn(fl.az_aim[r[todo]], az_i))
        r_t = slope_t[todo]
        step = np.where(r_t > 0, (d[todo] - rng) / np.where(r_t > 0, r_t, 1.0), 0.0)
        t[todo] = np.clip(t[todo] + np.nan_to_num(step), win[todo, 0], win[todo, 1])
    if todo.size:  # the last correction's flight
        miss[todo] = fl.run(r[todo], az[todo], x[todo], t[todo])[2]
    return t, x, az, why, miss, curv_k, slope_t
