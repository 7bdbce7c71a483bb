"""The one place that turns threat specifications into flown threats: a scenario's [[threats]] or
some of its [coverage] pairs become a `ThreatRequest` (arrays per threat), which `build` aims and flies.

    threats = threats_for_scenario(scenario, earth)          # every [[threats]] entry, in file order
    threats = threats_for_pairs(scenario, earth, pairs)      # coverage pairs by number (coverage/pairs.py)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab.coverage.pairs import layout
from shieldlab.earth.model import Earth
from shieldlab.scenario.model import Scenario
from shieldlab.threat import aim
from shieldlab.threat.trajectory import FlownThreats, ThreatBatch, fly

_ARRAYS = ("launch_lat_deg", "launch_lon_deg", "launch_alt_m", "aim_lat_deg", "aim_lon_deg", "launch_time_s",
           "gamma_deg", "azimuth_deg")


@dataclass(frozen=True, eq=False)
class ThreatRequest:
    """n threats to aim and fly. Per threat: the missile type's name, the launch point, the aim point
    (NaN: unaimed, then `azimuth_deg` and `gamma_deg` fly it), the launch time, the trajectory mode and
    the fixed flight-path angle (mode 'gamma', or unaimed; NaN otherwise). Scalars broadcast to n
    (the number of missile names); a single mode string applies to every threat. `warm`: the threats
    come in a spatial order (coverage pairs), so that neighbours warm-start each other's aiming."""

    missile: tuple
    launch_lat_deg: np.ndarray
    launch_lon_deg: np.ndarray
    launch_alt_m: np.ndarray
    aim_lat_deg: np.ndarray
    aim_lon_deg: np.ndarray
    launch_time_s: np.ndarray
    mode: tuple
    gamma_deg: np.ndarray
    azimuth_deg: np.ndarray
    warm: bool = False

    def __post_init__(self):
        n = len(self.missile)
        object.__setattr__(self, "missile", tuple(self.missile))
        object.__setattr__(self, "mode", (self.mode,) * n if isinstance(self.mode, str) else tuple(self.mode))
        for name in _ARRAYS:
            a = np.broadcast_to(np.asarray(getattr(self, name), float), (n,)).copy()
            a.flags.writeable = False
            object.__setattr__(self, name, a)

    @property
    def n(self) -> int:
        return len(self.missile)

    def __repr__(self) -> str:
        aimed = int(np.isfinite(self.aim_lat_deg).sum())
        return f"<ThreatRequest: {self.n} threats, {aimed} aimed, modes {sorted(set(self.mode))}>"


def request_for_scenario(scenario: Scenario) -> ThreatRequest:
    """The scenario's [[threats]], in file order."""
    specs = scenario.threats
    nan = float("nan")
    return ThreatRequest(
        missile=[t.missile for t in specs],
        launch_lat_deg=[t.launch.lat_deg for t in specs], launch_lon_deg=[t.launch.lon_deg for t in specs],
        launch_alt_m=[t.launch.alt_m for t in specs],
        aim_lat_deg=[t.aim.lat_deg if t.aim else nan for t in specs],
        aim_lon_deg=[t.aim.lon_deg if t.aim else nan for t in specs],
        launch_time_s=[t.launch_time_s for t in specs], mode=[t.trajectory.mode for t in specs],
        gamma_deg=[_or_nan(t.trajectory.gamma_deg if t.aim else t.gamma_deg) for t in specs],
        azimuth_deg=[t.azimuth_deg if t.azimuth_deg is not None else nan for t in specs],
    )


def request_for_pairs(scenario: Scenario, pairs, warm: bool = True) -> ThreatRequest:
    """The [coverage] pairs numbered `pairs` (coverage/pairs.py: launch points in file order, then aim
    points by latitude, then longitude). `warm`: aim neighbours from each other (pairs in order)."""
    cov = scenario.coverage
    lay = layout(cov)
    li, ai = lay.pair(np.asarray(pairs, dtype=np.int64))
    n = li.size
    launch = lay.launch
    return ThreatRequest(
        missile=[cov.missile] * n, launch_lat_deg=[launch[i].lat_deg for i in li],
        launch_lon_deg=[launch[i].lon_deg for i in li], launch_alt_m=[launch[i].alt_m for i in li],
        aim_lat_deg=lay.aim_lat_deg[ai], aim_lon_deg=lay.aim_lon_deg[ai], launch_time_s=np.full(n, cov.launch_time_s),
        mode=cov.trajectory.mode, gamma_deg=_or_nan(cov.trajectory.gamma_deg), azimuth_deg=np.nan, warm=warm)


def threats_for_scenario(scenario: Scenario, earth: Earth) -> FlownThreats:
    """Aim and fly every [[threats]] entry."""
    return build(earth, scenario.missiles, request_for_scenario(scenario))


def threats_for_pairs(scenario: Scenario, earth: Earth, pairs, warm: bool = True) -> FlownThreats:
    """Aim and fly the [coverage] pairs numbered `pairs`."""
    return build(earth, scenario.missiles, request_for_pairs(scenario, pairs, warm))


def build(earth: Earth, missiles: dict, request: ThreatRequest) -> FlownThreats:
    """Aim every aimed threat of the request (by mode, all at once), then fly them all. `missiles`: the
    missile types by name. Threats that cannot be aimed get an `error` and NaN results."""
    q = request
    n = q.n
    mis = [missiles[m] for m in q.missile]
    t_bo = np.array([m.burn_time_s for m in mis], float)
    d_bo = np.array([m.burnout_range_m for m in mis], float)
    h_bo = np.array([m.burnout_altitude_m for m in mis], float)
    v_type = np.array([np.nan if m.burnout_speed_m_s is None else m.burnout_speed_m_s for m in mis], float)
    az0 = q.azimuth_deg.copy()
    gam = np.radians(q.gamma_deg)
    spd = v_type.copy()
    error: list = [None] * n
    aimed = np.isfinite(q.aim_lat_deg)
    groups: dict = {}
    for i in np.flatnonzero(aimed):
        groups.setdefault(q.mode[i], []).append(i)
    for mode, members in groups.items():
        ix = np.array(members)
        prob = aim.AimProblem(q.launch_lat_deg[ix], q.launch_lon_deg[ix], q.aim_lat_deg[ix], q.aim_lon_deg[ix],
                              d_bo[ix], h_bo[ix], speed_m_s=v_type[ix], gamma_rad=np.radians(q.gamma_deg[ix]))
        sol = aim.solve_warm(earth, prob, mode) if q.warm else aim.solve(earth, prob, mode)
        az0[ix], gam[ix], spd[ix] = sol.azimuth0_deg, sol.gamma_rad, sol.speed_m_s
        for j, i in enumerate(ix):
            if not sol.ok[j]:
                error[i] = _aim_error(mis[i], mode, q.gamma_deg[i], sol.miss_m[j])
    batch = ThreatBatch(earth, q.launch_time_s, q.launch_lat_deg, q.launch_lon_deg, q.launch_alt_m, az0, t_bo, d_bo,
                        h_bo, spd, gam, error=tuple(error), aim_lat_deg=q.aim_lat_deg, aim_lon_deg=q.aim_lon_deg)
    return fly(batch)


def _or_nan(x):
    return float("nan") if x is None else x


def _aim_error(missile, mode: str, gamma_deg: float, miss_m: float) -> str:
    how = f"with gamma = {gamma_deg:g} deg" if mode == "gamma" else f"on a {mode} trajectory"
    speed = (f" (burnout speed {missile.burnout_speed_m_s / 1000:g} km/s)"
             if mode in ("lofted", "depressed") and missile.burnout_speed_m_s else "")
    miss = f"; the closest solution found misses it by {miss_m / 1000:.0f} km" if np.isfinite(miss_m) else ""
    return f"the aim point is out of reach of missile '{missile.name}'{speed} {how}{miss}"


__all__ = ["ThreatRequest", "request_for_scenario", "request_for_pairs", "threats_for_scenario", "threats_for_pairs",
           "build"]
