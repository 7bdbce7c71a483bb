"""Aiming (docs/models.md, Aiming modes): solve launch azimuth, flight-path angle and burnout speed so
that the free flight impacts at the aim point, vectorised over many threats.

All threats of one call share the aiming mode. Newton iterations with finite-difference Jacobians
run on whole arrays; each iteration propagates every still-active threat (and its perturbed copies) in
one compiled batch. Initial guesses come from the closed-form Kepler solution on a non-rotating sphere
(Bate, Mueller & White 1971, ch. 6).

- fixed speed (lofted/depressed): unknowns (a0, g); two roots, started from the two Kepler roots.
- fixed g: unknowns (a0, v).
- min-energy: unknowns (a0, g, v), the least v that hits. At the optimum dv/dg = 0 along the
  solution curve of the impact constraint; dv/dg comes from the same Jacobian (implicit function
  theorem), corrected for the miss (Kepler), and g is updated by Newton steps on it with the Kepler
  curvature (secant steps once close).

Close to the solution a small Newton step is verified by one propagation of the new point (chord steps
on the same Jacobian if it still misses) rather than by a new Jacobian. `solve_warm` aims threats in a
spatial order in levels, each warm-started by interpolation between solved neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab import freeflight
from shieldlab.earth import frames, geodesic
from shieldlab.earth.model import Earth
from shieldlab.threat.burnout import burnout_point, burnout_state_ecef

HIT_TOLERANCE_M = 100.0  # docs/models.md, Aiming modes: "impacts at A" means within 100 m
CONVERGED_M = 0.5  # Newton stops below this miss distance (the model asks for 100 m)
GAMMA_CONVERGED_RAD = 2e-5  # 0.001 deg (tolerance 0.15 deg); the speed is flat there (d2v/dg2 ~ 5 km/s per rad^2)
MAX_ITER = 40
AIM_STEP_S = 40.0  # RK4 step while aiming: < 1 m at impact (tests/test_freeflight.py); the final flight uses 20 s
FD_AZ_RAD = 1e-6
FD_GAMMA_RAD = 1e-6
FD_SPEED_M_S = 1e-3
MAX_STEP_AZ_RAD = 0.15
MAX_STEP_GAMMA_RAD = 0.15
MAX_STEP_SPEED_M_S = 800.0
GAMMA_MIN_RAD = np.radians(0.5)
GAMMA_MAX_RAD = np.radians(89.5)
# Checks (see `solve`): a Newton step with |dg| < FINAL_STEP_GAMMA_RAD, undamped, from a point missing by
# < CHECK_MISS_M is verified by one propagation instead of a new Jacobian. In min-energy mode the gamma
# error it leaves is the curvature error (Kepler within 7 % of the true d2v/dg2 over 1000-13000 km with
# WGS84, J2 and rotation) times the step, < 7e-6 rad, plus the error of the miss correction in
# `_min_energy_step` (`kepler_optimum_shift`: < 1e-5 rad per km of miss, < 4e-6 beyond 6000 km),
# < 1e-5 rad: together inside GAMMA_CONVERGED_RAD, which the full iterations keep.
FINAL_STEP_GAMMA_RAD = 1e-4
CHECK_MISS_M = 1000.0
CHORD_RATE = 0.1  # a check's miss must shrink this much per chord step, or the Jacobian is recomputed
MAX_CHORD = 3  # chord steps on one Jacobian
SECANT_MISS_M = 100.0  # min-energy secant on dv/dg only through points this close (the miss correction errs)
WARM_STRIDES = (16, 4)  # solve_warm levels: cold every 16th threat, then every 4th, then the rest
BETWEEN_REL_TOL = 0.01  # an aim point is between two others if the detour through it is below 1 %
_PROBLEM_FIELDS = ("launch_lat_deg", "launch_lon_deg", "aim_lat_deg", "aim_lon_deg", "burnout_range_m",
                   "burnout_altitude_m", "speed_m_s", "gamma_rad")
_SOLUTION_FIELDS = ("azimuth0_deg", "gamma_rad", "speed_m_s", "miss_m", "ok")


@dataclass
class AimProblem:
    """Threats to aim, as arrays of equal length n (angles in degrees, SI otherwise)."""

    launch_lat_deg: np.ndarray
    launch_lon_deg: np.ndarray
    aim_lat_deg: np.ndarray
    aim_lon_deg: np.ndarray
    burnout_range_m: np.ndarray
    burnout_altitude_m: np.ndarray
    speed_m_s: np.ndarray | None = None  # fixed speed (lofted/depressed, gamma modes ignore)
    gamma_rad: np.ndarray | None = None  # fixed flight-path angle (gamma mode)

    def __post_init__(self):
        n = np.broadcast(self.launch_lat_deg, self.aim_lat_deg).shape
        for k in ("launch_lat_deg", "launch_lon_deg", "aim_lat_deg", "aim_lon_deg", "burnout_range_m",
                  "burnout_altitude_m", "speed_m_s", "gamma_rad"):
            v = getattr(self, k)
            if v is not None:
                setattr(self, k, np.broadcast_to(np.asarray(v, float), n).copy())

    @property
    def n(self) -> int:
        return self.launch_lat_deg.shape[0]


@dataclass
class AimSolution:
    azimuth0_deg: np.ndarray
    gamma_rad: np.ndarray
    speed_m_s: np.ndarray
    miss_m: np.ndarray
    ok: np.ndarray  # bool: impact within HIT_TOLERANCE_M of the aim point


class _Miss:
    """Impact-point miss (east, north metres at the aim point) as a function of (a0, g, v)."""

    def __init__(self, earth: Earth, p: AimProblem, step_s: float):
        self.earth, self.p, self.step_s = earth, p, step_s
        self.r_aim = frames.geodetic_to_ecef(earth, p.aim_lat_deg, p.aim_lon_deg, 0.0)
        e, n, _ = frames.enu_basis(p.aim_lat_deg, p.aim_lon_deg)
        self.e_aim, self.n_aim = e, n

    def __call__(self, idx, az_rad, gamma_rad, speed):
        """Miss vectors (k, 2) for threats idx (k,) at the given parameters (k,) each."""
        p, E = self.p, self.earth
        lat_b, lon_b, az_b = burnout_point(E, p.launch_lat_deg[idx], p.launch_lon_deg[idx], np.degrees(az_rad),
                                           p.burnout_range_m[idx])
        r, v = burnout_state_ecef(E, lat_b, lon_b, p.burnout_altitude_m[idx], az_b, gamma_rad, speed)
        status, _, r_imp = freeflight.impact_batch(np.ascontiguousarray(r), np.ascontiguousarray(v),
                                                   E.kernel_params, self.step_s, freeflight.MAX_FLIGHT_S)
        d = r_imp - self.r_aim[idx]
        return np.stack([(d * self.e_aim[idx]).sum(-1), (d * self.n_aim[idx]).sum(-1)], axis=-1)


@dataclass
class KeplerRange:
    """The launch-to-aim geodesic of each threat, as the Kepler formulas below use it."""

    azimuth_deg: np.ndarray  # at the launch point, towards the aim point
    back_azimuth_deg: np.ndarray  # at the aim point, back towards the launch point
    psi_rad: np.ndarray  # free-flight range angle: (geodesic distance - burnout range) / R

    @classmethod
    def of(cls, earth: Earth, p: AimProblem) -> "KeplerRange":
        az, back, dist = geodesic.inverse_both(earth, p.launch_lat_deg, p.launch_lon_deg, p.aim_lat_deg,
                                               p.aim_lon_deg)
        psi = np.clip((dist - p.burnout_range_m) / earth.mean_radius_m, 1e-3, 2 * np.pi - 1e-3)
        return cls(az, back, psi)


def kepler_guess(earth: Earth, p: AimProblem, mode: str, rng: KeplerRange | None = None):
    """Closed-form starting values on a non-rotating sphere (BMW ch. 6): (a0_rad, g_rad, v_m_s)."""
    rng = rng or KeplerRange.of(earth, p)
    R = earth.mean_radius_m
    az, psi = rng.azimuth_deg, rng.psi_rad
    rb = R + p.burnout_altitude_m
    rho = rb / R
    delta = np.arctan2(np.sin(psi), rho - np.cos(psi))  # = 2 g at minimum energy
    if mode == "min-energy":
        g = 0.5 * delta
    elif mode in ("lofted", "depressed"):
        q = p.speed_m_s**2 * rb / earth.gm_m3_s2
        k = 2.0 * (1.0 - np.cos(psi)) / q - rho + np.cos(psi)
        m = np.hypot(rho - np.cos(psi), np.sin(psi))
        c = np.arccos(np.clip(k / m, -1.0, 1.0))
        g = 0.5 * (delta + c) if mode == "lofted" else 0.5 * (delta - c)
    else:
        g = p.gamma_rad
    g = np.clip(g, GAMMA_MIN_RAD, GAMMA_MAX_RAD)
    d = rho * np.cos(g) ** 2 - np.cos(g) * np.cos(g + psi)
    q = (1.0 - np.cos(psi)) / np.maximum(d, 1e-3)
    v = np.sqrt(np.clip(q, 0.05, 1.95) * earth.gm_m3_s2 / rb)
    return np.radians(az), g, v


def kepler_speed_curvature(earth: Earth, p: AimProblem, gamma_rad, h=1e-3, rng: KeplerRange | None = None):
    """d2v/dg2 of the Kepler minimum-speed curve, m/s per rad^2 (positive near the optimum)."""
    R = earth.mean_radius_m
    psi = (rng or KeplerRange.of(earth, p)).psi_rad
    rb = R + p.burnout_altitude_m

    def v(g):
        d = rb / R * np.cos(g) ** 2 - np.cos(g) * np.cos(g + psi)
        return np.sqrt((1.0 - np.cos(psi)) / np.maximum(d, 1e-6) * earth.gm_m3_s2 / rb)

    return np.maximum((v(gamma_rad + h) - 2 * v(gamma_rad) + v(gamma_rad - h)) / h**2, 100.0)


def kepler_optimum_shift(earth: Earth, p: AimProblem, rng: KeplerRange | None = None):
    """d g_opt / d(impact east, north), rad per m (n, 2): how the min-energy flight-path angle moves
    with the impact point, from the Kepler optimum g = delta/2 (delta as in `kepler_guess`) and the
    along-range direction at the aim point. A cross-range shift leaves the range, and g, unchanged."""
    rng = rng or KeplerRange.of(earth, p)
    R = earth.mean_radius_m
    back_deg, psi = rng.back_azimuth_deg, rng.psi_rad
    rho = (R + p.burnout_altitude_m) / R
    dg_dpsi = 0.5 * (rho * np.cos(psi) - 1.0) / (rho**2 - 2.0 * rho * np.cos(psi) + 1.0)
    back = np.radians(back_deg)  # the along-range direction is opposite to the launch point
    return (dg_dpsi / R)[:, None] * np.stack([-np.sin(back), -np.cos(back)], axis=-1)


def solve(earth: Earth, p: AimProblem, mode: str, step_s: float = AIM_STEP_S,
          guess=None) -> AimSolution:
    """Aim every threat of `p` with one mode: 'min-energy', 'lofted', 'depressed' or 'gamma'.
    `guess` = (azimuth0_rad, gamma_rad, speed_m_s) arrays replaces the Kepler starting values where
    finite (warm starts from a neighbouring solution).

    A threat iterates in one of two states. Full: propagate the base point and the three
    finite-difference columns; converged if the miss is below CONVERGED_M and the gamma step below
    GAMMA_CONVERGED_RAD, else take a (damped) Newton step. Check, after a small undamped full step
    (FINAL_STEP_GAMMA_RAD, CHECK_MISS_M): propagate only the new point; converged if it misses by less
    than CONVERGED_M, else chord steps on the last Jacobian while the miss shrinks fast (CHORD_RATE, at
    most MAX_CHORD), else back to full iterations at the current parameters. Most warm-started threats
    take one full iteration and one check: 5 propagations instead of 8 or more."""
    miss = _Miss(earth, p, step_s)
    rng = KeplerRange.of(earth, p)  # one geodesic per threat for every Kepler formula
    az, g, v = _start(earth, p, mode, guess, rng)
    curv = kepler_speed_curvature(earth, p, g, rng=rng) if mode == "min-energy" else None
    shift = kepler_optimum_shift(earth, p, rng) if mode == "min-energy" else None
    n = p.n
    res = np.full((n, 2), np.nan)
    active = np.ones(n, bool)
    converged = np.zeros(n, bool)
    check = np.zeros(n, bool)  # next iteration: base point only, reusing `jac`
    jac = np.full((n, 3, 2), np.nan)  # d miss / d(a0, g, v) at the last full iteration
    last_miss_m = np.full(n, np.inf)
    n_chord = np.zeros(n, int)
    prev_g = np.full(n, np.nan)
    prev_s = np.full(n, np.nan)
    for _ in range(MAX_ITER):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        full, chk = idx[~check[idx]], idx[check[idx]]
        f0, jac[full], f1 = _evaluate(miss, full, chk, az, g, v)
        res[full], res[chk] = f0, f1

        # full iterations: Newton step on fresh finite differences
        ja, jg, jv = jac[full, 0], jac[full, 1], jac[full, 2]
        if mode == "min-energy":
            d_az, d_g, d_v = _min_energy_step(f0, ja, jg, jv, g, prev_g, prev_s, curv, shift, full)
        else:
            d_az, d_g, d_v = _fixed_step(mode, f0, ja, jg, jv)
        m0 = np.hypot(f0[:, 0], f0[:, 1])
        bad = ~np.isfinite(f0).all(-1)
        done = (m0 < CONVERGED_M) & (np.abs(d_g) < GAMMA_CONVERGED_RAD)
        scale = _step_scale(d_az, d_g, d_v)
        # converged threats keep the parameters their miss `res` was computed at
        scale = np.where(np.isfinite(scale) & ~done, scale, 0.0)
        _apply(full, scale, d_az, d_g, d_v, az, g, v)
        check[full] = (~done & ~bad & (scale == 1.0) & (np.abs(d_g) < FINAL_STEP_GAMMA_RAD)
                       & (m0 < CHECK_MISS_M))
        last_miss_m[full] = m0
        n_chord[full] = 0
        converged[full[done]] = True
        active[full[done | bad]] = False

        # checks: the miss after a small full step; chord steps on its Jacobian while they work
        ja, jg, jv = jac[chk, 0], jac[chk, 1], jac[chk, 2]
        if mode in ("lofted", "depressed"):
            d_az, d_g = _solve2(ja, jg, -f1)
            d_v = np.zeros(chk.size)
        else:  # gamma stays: in min-energy mode the last full step set it
            d_az, d_v = _solve2(ja, jv, -f1)
            d_g = np.zeros(chk.size)
        m1 = np.hypot(f1[:, 0], f1[:, 1])
        done = (m1 < CONVERGED_M) & (np.abs(d_g) < GAMMA_CONVERGED_RAD)
        go_on = ~done & (m1 < CHORD_RATE * last_miss_m[chk]) & (n_chord[chk] < MAX_CHORD)
        scale = _step_scale(d_az, d_g, d_v)
        scale = np.where(np.isfinite(scale) & go_on, scale, 0.0)
        _apply(chk, scale, d_az, d_g, d_v, az, g, v)
        check[chk] = go_on
        last_miss_m[chk] = m1
        n_chord[chk] += 1
        converged[chk[done]] = True
        active[chk[done]] = False
    # the miss at the final parameters: known for converged threats, computed for the others
    rest = np.flatnonzero(~converged)
    if rest.size:
        res[rest] = miss(rest, az[rest], g[rest], v[rest])
    miss_m = np.hypot(res[:, 0], res[:, 1])
    ok = np.isfinite(miss_m) & (miss_m <= HIT_TOLERANCE_M) & (g > GAMMA_MIN_RAD) & (g < GAMMA_MAX_RAD)
    return AimSolution(np.degrees(az) % 360.0, g, v, miss_m, ok)


def _start(earth: Earth, p: AimProblem, mode: str, guess, rng: KeplerRange):
    """Starting (a0_rad, g_rad, v_m_s): Kepler values, replaced by `guess` where finite; the mode's
    fixed speed or flight-path angle; gamma clipped to its bounds."""
    az, g, v = kepler_guess(earth, p, mode, rng)
    if guess is not None:
        for arr, gs in zip((az, g, v), guess):
            gs = np.asarray(gs, float)
            arr[np.isfinite(gs)] = gs[np.isfinite(gs)]
    if mode in ("lofted", "depressed"):
        v = p.speed_m_s.copy()
    elif mode == "gamma":
        g = p.gamma_rad.copy()
    return az, np.clip(g, GAMMA_MIN_RAD, GAMMA_MAX_RAD), v


def _evaluate(miss: _Miss, full, chk, az, g, v):
    """One propagation batch: for threats `full` the miss (k, 2) and its finite-difference Jacobian
    (k, 3, 2) columns d/d(a0, g, v); for threats `chk` the miss (m, 2) only."""
    k = full.size
    AZ = np.concatenate([az[full], az[full] + FD_AZ_RAD, az[full], az[full], az[chk]])
    G = np.concatenate([g[full], g[full], g[full] + FD_GAMMA_RAD, g[full], g[chk]])
    V = np.concatenate([v[full], v[full], v[full], v[full] + FD_SPEED_M_S, v[chk]])
    F = miss(np.concatenate([np.tile(full, 4), chk]), AZ, G, V)
    F4 = F[:4 * k].reshape(4, k, 2)
    f0 = F4[0]
    jac = np.stack([(F4[1] - f0) / FD_AZ_RAD, (F4[2] - f0) / FD_GAMMA_RAD, (F4[3] - f0) / FD_SPEED_M_S], axis=1)
    return f0, jac, F[4 * k:]


def _fixed_step(mode: str, f0, ja, jg, jv):
    """Newton step (d_a0, d_g, d_v) for the modes with two unknowns: fixed speed or fixed gamma."""
    k = f0.shape[0]
    if mode == "gamma":
        d_az, d_v = _solve2(ja, jv, -f0)
        return d_az, np.zeros(k), d_v
    d_az, d_g = _solve2(ja, jg, -f0)
    return d_az, d_g, np.zeros(k)


def _min_energy_step(f0, ja, jg, jv, g, prev_g, prev_s, curv, shift, idx):
    """Step (d_a0, d_g, d_v) towards the least-speed hit: gamma by a secant step on dv/dg along the
    impact constraint (implicit function theorem on the Jacobian), safeguarded by the Kepler
    curvature `curv`; then Newton on (a0, v) for the miss including the gamma step. Updates the
    secant memory prev_g, prev_s at `idx` (kept only for points missing by < SECANT_MISS_M).

    dv/dg at a point that misses by f is that of the impact point it reaches, whose optimal gamma
    differs from the aim point's by f . shift (Kepler, `kepler_optimum_shift`; ~4e-5 rad per km of
    range on the benchmark): corrected here, so that a start a few km off steps gamma the right way."""
    # dv/dg along the constraint surface: [ja jv][da dv] = -jg
    _, s = _solve2(ja, jv, -jg)
    c = curv[idx]
    s = s + c * (f0 * shift[idx]).sum(-1)  # as if on the aim point's constraint
    near = np.hypot(f0[:, 0], f0[:, 1]) < SECANT_MISS_M
    s_prev = np.where(near, prev_s[idx], np.nan)  # a secant through points far off the constraint misleads
    sec = (s - s_prev) / (g[idx] - prev_g[idx])
    use_sec = np.isfinite(sec) & (sec > 0.2 * c) & (sec < 5.0 * c)
    c = np.where(use_sec, sec, c)
    prev_g[idx], prev_s[idx] = g[idx], np.where(near, s, np.nan)
    d_g = -s / c
    d_az, d_v = _solve2(ja, jv, -f0 - jg * d_g[:, None])
    return d_az, d_g, d_v


def _step_scale(d_az, d_g, d_v):
    """Factor <= 1 that keeps every step within its limit (damping far from the solution)."""
    scale = np.ones(np.shape(d_az))
    for d, lim in ((d_az, MAX_STEP_AZ_RAD), (d_g, MAX_STEP_GAMMA_RAD), (d_v, MAX_STEP_SPEED_M_S)):
        scale = np.minimum(scale, lim / np.maximum(np.abs(d), 1e-300))
    return scale


def _apply(idx, scale, d_az, d_g, d_v, az, g, v):
    """Move threats `idx` by `scale` times the step, in place; gamma stays within its bounds. A step with a
    component that is not finite has scale 0 (`solve`) and moves nothing (np.where, not np.nan_to_num: the same
    values, ten times faster on these small arrays)."""
    az[idx] += np.where(scale != 0.0, scale * d_az, 0.0)
    g[idx] = np.clip(g[idx] + np.where(scale != 0.0, scale * d_g, 0.0), GAMMA_MIN_RAD, GAMMA_MAX_RAD)
    v[idx] = np.maximum(v[idx] + np.where(scale != 0.0, scale * d_v, 0.0), 100.0)


def warm_levels(n: int, strides=WARM_STRIDES) -> np.ndarray:
    """The level of each of n threats in a spatial order, as `solve_warm` aims them: 0 for every
    strides[0]-th one and the last (aimed from Kepler starting values), 1 for every strides[1]-th one
    not yet at level 0, and so on, the rest at the last level. Strides longer than half of n are left
    out (all threats at level 0 when none remains)."""
    strides = tuple(s for s in strides if n >= 2 * s)
    level = np.full(n, len(strides), dtype=np.int64)
    for lv in range(len(strides) - 1, -1, -1):
        level[::strides[lv]] = lv
    if strides:
        level[n - 1] = 0  # so that every other threat lies between two aimed ones
    return level


def solve_warm(earth: Earth, p: AimProblem, mode: str, strides=WARM_STRIDES, **kw) -> AimSolution:
    """Aim many threats that come in a spatial order (coverage pairs) in levels (`warm_levels`): every
    strides[0]-th one (and the last) from Kepler starting values, then every strides[1]-th one not yet
    aimed, and so on, then the rest; each warm-started from the aimed threats before and after it
    (`_neighbour_guess`). On the benchmark (0.5 deg grid) a start interpolated between threats 4 steps
    apart is within 3e-5 rad of the optimal gamma and 0.2 m/s of the speed (the previous neighbour:
    3e-3 rad, 23 m/s), so most threats take one full Newton iteration and one check."""
    return solve_levels(earth, p, mode, warm_levels(p.n, strides), **kw)


def solve_levels(earth: Earth, p: AimProblem, mode: str, level, block=None, presolved=None,
                 **kw) -> AimSolution:
    """Aim the threats of `p` (in a spatial order) level by level: level 0 from Kepler starting values,
    level k warm-started from the aimed threats of lower levels nearest before and after it in the
    order, within its `block` (an id per threat; None: one block). `presolved` = (mask, AimSolution of
    the masked threats): level-0 threats already aimed (from Kepler values, so with the same result).

    Each threat's result depends only on its own problem and its guess, and the guess only on the
    threats of lower levels of the same block between the nearest hits before and after it: the
    results for a stretch of threats are the same whatever else is solved with them, as long as every
    lower-level threat of its block between such hits is (threat/build.py `aim_pairs` relies on it)."""
    n = p.n
    level = np.asarray(level, dtype=np.int64)
    block = np.zeros(n, dtype=np.int64) if block is None else np.asarray(block, dtype=np.int64)
    out = AimSolution(np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan),
                      np.zeros(n, bool))
    solved = np.zeros(n, bool)
    if presolved is not None:
        mask, sol = presolved
        for f in _SOLUTION_FIELDS:
            getattr(out, f)[mask] = getattr(sol, f)
        solved[mask] = True
    geo_az_deg = None
    for lv in range(int(level.max(initial=0)) + 1):
        ix = np.flatnonzero((level == lv) & ~solved)
        if ix.size == 0:
            continue
        guess = None
        if lv > 0:
            if geo_az_deg is None:
                geo_az_deg, _ = geodesic.inverse(earth, p.launch_lat_deg, p.launch_lon_deg, p.aim_lat_deg,
                                                 p.aim_lon_deg)
            guess = _neighbour_guess(earth, p, out, solved, ix, geo_az_deg, block)
        sol = solve(earth, _subset(p, ix), mode, guess=guess, **kw)
        for f in _SOLUTION_FIELDS:
            getattr(out, f)[ix] = getattr(sol, f)
        solved[ix] = True
    return out


def take(sol: AimSolution, ix) -> AimSolution:
    """The solutions of threats ix."""
    return AimSolution(*(getattr(sol, f)[ix] for f in _SOLUTION_FIELDS))


def _neighbour_guess(earth: Earth, p: AimProblem, out: AimSolution, solved, ix, geo_az_deg, block):
    """Starting values (a0_rad, g_rad, v_m_s) for threats ix from the nearest aimed threats before
    (b) and after (a) each in the order, where they hit (`out.ok`) and share its block, launch point
    and missile. If the aim point lies between theirs (a grid row), gamma, speed and the azimuth
    relative to the geodesic azimuth are interpolated linearly in distance; otherwise the nearer one
    is carried over; NaN (Kepler values) without either."""
    good = np.flatnonzero(solved & out.ok)
    nan = np.full(ix.size, np.nan)
    if good.size == 0:
        return nan, nan, nan
    k = np.searchsorted(good, ix)
    b, a = good[np.maximum(k - 1, 0)], good[np.minimum(k, good.size - 1)]
    has_b = (k > 0) & (block[b] == block[ix]) & _same_threat_kind(p, ix, b)
    has_a = (k < good.size) & (block[a] == block[ix]) & _same_threat_kind(p, ix, a)
    _, d_bi = geodesic.inverse(earth, p.aim_lat_deg[b], p.aim_lon_deg[b], p.aim_lat_deg[ix], p.aim_lon_deg[ix])
    _, d_ia = geodesic.inverse(earth, p.aim_lat_deg[ix], p.aim_lon_deg[ix], p.aim_lat_deg[a], p.aim_lon_deg[a])
    _, d_ba = geodesic.inverse(earth, p.aim_lat_deg[b], p.aim_lon_deg[b], p.aim_lat_deg[a], p.aim_lon_deg[a])
    between = has_b & has_a & (d_bi + d_ia <= (1.0 + BETWEEN_REL_TOL) * d_ba)
    w = d_bi / np.maximum(d_bi + d_ia, 1e-9)  # 0 at b, 1 at a
    near = np.where(has_b & (~has_a | (d_bi <= d_ia)), b, a)
    off_deg = (out.azimuth0_deg - geo_az_deg + 180.0) % 360.0 - 180.0  # relative to the geodesic azimuth
    guess = []
    for x in (off_deg, out.gamma_rad, out.speed_m_s):
        x_ix = np.where(between, (1.0 - w) * x[b] + w * x[a], x[near])
        guess.append(np.where(has_b | has_a, x_ix, np.nan))
    off_ix, g_ix, v_ix = guess
    return np.radians(geo_az_deg[ix] + off_ix), g_ix, v_ix


def _same_threat_kind(p: AimProblem, i, j):
    """Threats i and j share the launch point and the missile's burnout (and fixed speed/gamma)."""
    same = np.ones(np.shape(i), bool)
    for f in _PROBLEM_FIELDS:
        x = getattr(p, f)
        if f not in ("aim_lat_deg", "aim_lon_deg") and x is not None:
            same &= (x[i] == x[j]) | (np.isnan(x[i]) & np.isnan(x[j]))
    return same


def _subset(p: AimProblem, ix) -> AimProblem:
    return AimProblem(*(None if getattr(p, f) is None else getattr(p, f)[ix] for f in _PROBLEM_FIELDS))


def _solve2(c1, c2, rhs):
    """Solve [c1 c2] x = rhs for (k, 2) columns, row-wise; returns the two components."""
    det = c1[:, 0] * c2[:, 1] - c1[:, 1] * c2[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        x1 = (rhs[:, 0] * c2[:, 1] - rhs[:, 1] * c2[:, 0]) / det
        x2 = (c1[:, 0] * rhs[:, 1] - c1[:, 1] * rhs[:, 0]) / det
    return x1, x2
