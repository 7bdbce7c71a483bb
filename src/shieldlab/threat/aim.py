"""Aiming (MODELS.md section 2, "Aiming"): solve launch azimuth, flight-path angle and burnout speed so
that the free flight impacts at the aim point, vectorised over many threats.

All threats of one call share the aiming mode. Newton iterations with finite-difference Jacobians
run on whole arrays; each iteration propagates every still-active threat (and its perturbed copies) in
one compiled batch. Initial guesses come from the closed-form Kepler solution on a non-rotating sphere
(Bate, Mueller & White 1971, ch. 6).

- fixed speed (lofted/depressed): unknowns (a0, g); two roots, started from the two Kepler roots.
- fixed g: unknowns (a0, v).
- min-energy: unknowns (a0, g, v), the least v that hits. At the optimum dv/dg = 0 along the
  solution curve of the impact constraint; dv/dg comes from the same Jacobian (implicit function
  theorem) and g is updated by secant steps on it, safeguarded by the Kepler curvature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab import freeflight
from shieldlab.earth import frames, geodesic
from shieldlab.earth.model import Earth
from shieldlab.threat.burnout import burnout_point, burnout_state_ecef

HIT_TOLERANCE_M = 100.0  # MODELS.md: "impacts at A" means within 100 m
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


def kepler_guess(earth: Earth, p: AimProblem, mode: str):
    """Closed-form starting values on a non-rotating sphere (BMW ch. 6): (a0_rad, g_rad, v_m_s)."""
    R = earth.mean_radius_m
    az, dist = geodesic.inverse(earth, p.launch_lat_deg, p.launch_lon_deg, p.aim_lat_deg, p.aim_lon_deg)
    psi = np.clip((dist - p.burnout_range_m) / R, 1e-3, 2 * np.pi - 1e-3)
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


def kepler_speed_curvature(earth: Earth, p: AimProblem, gamma_rad, h=1e-3):
    """d2v/dg2 of the Kepler minimum-speed curve, m/s per rad^2 (positive near the optimum)."""
    R = earth.mean_radius_m
    _, dist = geodesic.inverse(earth, p.launch_lat_deg, p.launch_lon_deg, p.aim_lat_deg, p.aim_lon_deg)
    psi = np.clip((dist - p.burnout_range_m) / R, 1e-3, 2 * np.pi - 1e-3)
    rb = R + p.burnout_altitude_m

    def v(g):
        d = rb / R * np.cos(g) ** 2 - np.cos(g) * np.cos(g + psi)
        return np.sqrt((1.0 - np.cos(psi)) / np.maximum(d, 1e-6) * earth.gm_m3_s2 / rb)

    return np.maximum((v(gamma_rad + h) - 2 * v(gamma_rad) + v(gamma_rad - h)) / h**2, 100.0)


def solve(earth: Earth, p: AimProblem, mode: str, step_s: float = AIM_STEP_S,
          guess=None) -> AimSolution:
    """Aim every threat of `p` with one mode: 'min-energy', 'lofted', 'depressed' or 'gamma'.
    `guess` = (azimuth0_rad, gamma_rad, speed_m_s) arrays replaces the Kepler starting values where
    finite (warm starts from a neighbouring solution)."""
    miss = _Miss(earth, p, step_s)
    az, g, v = kepler_guess(earth, p, mode)
    if guess is not None:
        for arr, gs in zip((az, g, v), guess):
            gs = np.asarray(gs, float)
            arr[np.isfinite(gs)] = gs[np.isfinite(gs)]
    if mode in ("lofted", "depressed"):
        v = p.speed_m_s.copy()
    elif mode == "gamma":
        g = p.gamma_rad.copy()
    curv = kepler_speed_curvature(earth, p, g) if mode == "min-energy" else None
    g = np.clip(g, GAMMA_MIN_RAD, GAMMA_MAX_RAD)
    n = p.n
    res = np.full((n, 2), np.nan)
    active = np.ones(n, bool)
    converged = np.zeros(n, bool)
    prev_g = np.full(n, np.nan)
    prev_s = np.full(n, np.nan)
    for _ in range(MAX_ITER):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        k = idx.size
        # base point and finite-difference columns, all in one batch
        AZ = np.concatenate([az[idx], az[idx] + FD_AZ_RAD, az[idx], az[idx]])
        G = np.concatenate([g[idx], g[idx], g[idx] + FD_GAMMA_RAD, g[idx]])
        V = np.concatenate([v[idx], v[idx], v[idx], v[idx] + FD_SPEED_M_S])
        F = miss(np.tile(idx, 4), AZ, G, V).reshape(4, k, 2)
        f0 = F[0]
        ja = (F[1] - f0) / FD_AZ_RAD
        jg = (F[2] - f0) / FD_GAMMA_RAD
        jv = (F[3] - f0) / FD_SPEED_M_S
        res[idx] = f0
        bad = ~np.isfinite(f0).all(-1)
        if mode == "gamma":
            d_az, d_v = _solve2(ja, jv, -f0)
            d_g = np.zeros(k)
        elif mode in ("lofted", "depressed"):
            d_az, d_g = _solve2(ja, jg, -f0)
            d_v = np.zeros(k)
        else:
            # dv/dg along the constraint surface: [ja jv][da dv] = -jg
            _, s = _solve2(ja, jv, -jg)
            c = curv[idx]
            sec = (s - prev_s[idx]) / (g[idx] - prev_g[idx])
            use_sec = np.isfinite(sec) & (sec > 0.2 * c) & (sec < 5.0 * c)
            c = np.where(use_sec, sec, c)
            prev_g[idx], prev_s[idx] = g[idx], s
            d_g = -s / c
            d_az, d_v = _solve2(ja, jv, -f0 - jg * d_g[:, None])
        # limit steps (damping far from the solution)
        scale = np.ones(k)
        for d, lim in ((d_az, MAX_STEP_AZ_RAD), (d_g, MAX_STEP_GAMMA_RAD), (d_v, MAX_STEP_SPEED_M_S)):
            scale = np.minimum(scale, lim / np.maximum(np.abs(d), 1e-300))
        done = (np.hypot(f0[:, 0], f0[:, 1]) < CONVERGED_M) & (np.abs(d_g) < GAMMA_CONVERGED_RAD)
        # converged threats keep the parameters their miss `res` was computed at
        scale = np.where(np.isfinite(scale) & ~done, scale, 0.0)
        az[idx] += scale * np.nan_to_num(d_az)
        g[idx] = np.clip(g[idx] + scale * np.nan_to_num(d_g), GAMMA_MIN_RAD, GAMMA_MAX_RAD)
        v[idx] = np.maximum(v[idx] + scale * np.nan_to_num(d_v), 100.0)
        converged[idx[done]] = True
        active[idx[done | bad]] = False
    # the miss at the final parameters: known for converged threats, computed for the others
    rest = np.flatnonzero(~converged)
    if rest.size:
        res[rest] = miss(rest, az[rest], g[rest], v[rest])
    miss_m = np.hypot(res[:, 0], res[:, 1])
    ok = np.isfinite(miss_m) & (miss_m <= HIT_TOLERANCE_M) & (g > GAMMA_MIN_RAD) & (g < GAMMA_MAX_RAD)
    return AimSolution(np.degrees(az) % 360.0, g, v, miss_m, ok)


def solve_warm(earth: Earth, p: AimProblem, mode: str, stride: int = 4, **kw) -> AimSolution:
    """Aim many threats that come in a spatial order (coverage pairs): first every `stride`-th one
    from Kepler starting values, then the others warm-started from the solved one before them
    when it has the same launch point (azimuth carried over relative to the geodesic azimuth)."""
    n = p.n
    if n < 2 * stride:
        return solve(earth, p, mode, **kw)
    first = np.arange(0, n, stride)
    sub = lambda ix: AimProblem(*(None if getattr(p, f) is None else getattr(p, f)[ix]  # noqa: E731
                                  for f in ("launch_lat_deg", "launch_lon_deg", "aim_lat_deg", "aim_lon_deg",
                                            "burnout_range_m", "burnout_altitude_m", "speed_m_s", "gamma_rad")))
    s1 = solve(earth, sub(first), mode, **kw)
    rest = np.setdiff1d(np.arange(n), first)
    nb = (rest // stride) * stride  # the solved threat before each one
    j = nb // stride
    same = (p.launch_lat_deg[rest] == p.launch_lat_deg[nb]) & (p.launch_lon_deg[rest] == p.launch_lon_deg[nb]) & s1.ok[j]
    geo_r, _ = geodesic.inverse(earth, p.launch_lat_deg[rest], p.launch_lon_deg[rest], p.aim_lat_deg[rest],
                                p.aim_lon_deg[rest])
    geo_n, _ = geodesic.inverse(earth, p.launch_lat_deg[nb], p.launch_lon_deg[nb], p.aim_lat_deg[nb],
                                p.aim_lon_deg[nb])
    az = np.radians(s1.azimuth0_deg[j] + (geo_r - geo_n))
    guess = tuple(np.where(same, x, np.nan) for x in (az, s1.gamma_rad[j], s1.speed_m_s[j]))
    s2 = solve(earth, sub(rest), mode, guess=guess, **kw)
    out = AimSolution(*(np.empty(n, dtype=np.asarray(getattr(s1, f)).dtype) for f in
                        ("azimuth0_deg", "gamma_rad", "speed_m_s", "miss_m", "ok")))
    for f in ("azimuth0_deg", "gamma_rad", "speed_m_s", "miss_m", "ok"):
        getattr(out, f)[first] = getattr(s1, f)
        getattr(out, f)[rest] = getattr(s2, f)
    return out


def _solve2(c1, c2, rhs):
    """Solve [c1 c2] x = rhs for (k, 2) columns, row-wise; returns the two components."""
    det = c1[:, 0] * c2[:, 1] - c1[:, 1] * c2[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        x1 = (rhs[:, 0] * c2[:, 1] - rhs[:, 1] * c2[:, 0]) / det
        x2 = (c1[:, 0] * rhs[:, 1] - c1[:, 1] * rhs[:, 0]) / det
    return x1, x2
