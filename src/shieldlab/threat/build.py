"""From threat specifications to flown threats: aim every aimed threat, then fly them all at once."""

from __future__ import annotations

import numpy as np

from shieldlab.earth.model import Earth
from shieldlab.threat import aim
from shieldlab.threat.trajectory import ThreatBatch, fly


def build_threats(earth: Earth, missiles: dict, missile_names, launch_lat_deg, launch_lon_deg, launch_alt_m,
                  aim_lat_deg, aim_lon_deg, launch_time_s, modes, gamma_deg, azimuth_deg, warm=False) -> ThreatBatch:
    """Aim and fly n threats. Per threat: missile name, launch point, aim point (NaN: unaimed, then
    azimuth_deg and gamma_deg fly it), launch time, trajectory mode and the fixed gamma (mode
    'gamma' or unaimed). Threats that cannot be aimed get an `error` and NaN results. `warm`: the
    threats come in a spatial order (coverage pairs), so neighbours warm-start each other."""
    n = len(missile_names)
    f = lambda x: np.broadcast_to(np.asarray(x, float), (n,)).copy()  # noqa: E731
    launch_lat_deg, launch_lon_deg, launch_alt_m = f(launch_lat_deg), f(launch_lon_deg), f(launch_alt_m)
    aim_lat_deg, aim_lon_deg, launch_time_s = f(aim_lat_deg), f(aim_lon_deg), f(launch_time_s)
    gamma_deg, azimuth_deg = f(gamma_deg), f(azimuth_deg)
    modes = list(modes) if not isinstance(modes, str) else [modes] * n
    mis = [missiles[m] for m in missile_names]
    t_bo = np.array([m.burn_time_s for m in mis], float)
    d_bo = np.array([m.burnout_range_m for m in mis], float)
    h_bo = np.array([m.burnout_altitude_m for m in mis], float)
    v_type = np.array([np.nan if m.burnout_speed_m_s is None else m.burnout_speed_m_s for m in mis], float)
    az0 = azimuth_deg.copy()
    gam = np.radians(gamma_deg)
    spd = v_type.copy()
    error: list = [None] * n
    aimed = np.isfinite(aim_lat_deg)
    groups: dict = {}
    for i in np.flatnonzero(aimed):
        groups.setdefault(modes[i], []).append(i)
    for mode, members in groups.items():
        ix = np.array(members)
        prob = aim.AimProblem(launch_lat_deg[ix], launch_lon_deg[ix], aim_lat_deg[ix], aim_lon_deg[ix], d_bo[ix],
                              h_bo[ix], speed_m_s=v_type[ix], gamma_rad=np.radians(gamma_deg[ix]))
        sol = aim.solve_warm(earth, prob, mode) if warm else aim.solve(earth, prob, mode)
        az0[ix], gam[ix], spd[ix] = sol.azimuth0_deg, sol.gamma_rad, sol.speed_m_s
        for j, i in enumerate(ix):
            if not sol.ok[j]:
                error[i] = _aim_error(mis[i], mode, gamma_deg[i], sol.miss_m[j])
    batch = ThreatBatch(earth, launch_time_s, launch_lat_deg, launch_lon_deg, launch_alt_m, az0, t_bo, d_bo, h_bo,
                        spd, gam, error=error)
    return fly(batch)


def _aim_error(missile, mode: str, gamma_deg: float, miss_m: float) -> str:
    how = f"with gamma = {gamma_deg:g} deg" if mode == "gamma" else f"on a {mode} trajectory"
    speed = (f" (burnout speed {missile.burnout_speed_m_s / 1000:g} km/s)"
             if mode in ("lofted", "depressed") and missile.burnout_speed_m_s else "")
    miss = f"; the closest solution found misses it by {miss_m / 1000:.0f} km" if np.isfinite(miss_m) else ""
    return f"the aim point is out of reach of missile '{missile.name}'{speed} {how}{miss}"
