"""Flown staged threats (docs/models.md, The staged model): a request's staged threats aimed
(threat/staged_aim.py), flown with their ascents (threat/staged.py) and returned as `FlownThreats`, the
type every consumer of burnout threats reads, with the ascent's nodes for positions in powered flight.

Burnout figures of a staged threat are those of its flight: the burnout time is the end of the last
stage's burn (or its cut-off), the burnout point, altitude, speed (Earth-relative), flight-path angle and
azimuth are read off the burnout state, and the burnout range is the geodesic distance from the launch
point to the burnout point.
"""

from __future__ import annotations

import numpy as np

from shieldlab.earth import frames, geodesic
from shieldlab.earth.model import Earth
from shieldlab.threat import staged, staged_aim
from shieldlab.threat.trajectory import FlownThreats

# a placeholder flight for threats that cannot be computed (their results are NaN)
_DUMMY_AZ_DEG, _DUMMY_KICK_DEG = 0.0, 45.0


def _vehicles(missiles: dict, q):
    types = [missiles[m] for m in q.missile]
    names = sorted({t.name for t in types})
    table = staged.StagedVehicles.from_types([missiles[m] for m in names])
    return types, table.take(np.array([names.index(t.name) for t in types], np.int64))


def aim_staged(earth: Earth, missiles: dict, q, guess: staged_aim.StagedGuess | None = None) -> staged_aim.StagedAim:
    """Aim every threat of ThreatRequest q (all aimed, of staged types, in one trajectory mode) from `guess`
    (rows NaN: none; see staged_aim.solve)."""
    _, v = _vehicles(missiles, q)
    lat, lon, alt = q.launch_lat_deg, q.launch_lon_deg, q.launch_alt_m

    def impacts(rows, a, k, c):
        f = staged.fly(earth, v.take(rows), lat[rows], lon[rows], alt[rows], a, k, c, want_nodes=False)
        return f.impact_lat_deg, f.impact_lon_deg

    win = np.stack([v.last_ignition_s, v.full_burn_time_s], axis=1)
    return staged_aim.solve(earth, impacts, lat, lon, q.aim_lat_deg, q.aim_lon_deg, q.mode[0], kick_deg=q.kick_deg,
                            cutoff_window_s=win, guess=guess)


def build_staged(earth: Earth, missiles: dict, q, aimed: staged_aim.StagedAim | None = None) -> FlownThreats:
    """Aim and fly the threats of ThreatRequest q, all of staged missile types. `aimed`: the aiming of every
    threat of q, already computed (threat/staged_warm.py, coverage pairs)."""
    n = q.n
    types, veh = _vehicles(missiles, q)
    lat, lon, alt = q.launch_lat_deg, q.launch_lon_deg, q.launch_alt_m
    az = q.azimuth_deg.copy()
    kick = q.kick_deg.copy()
    cut = np.full(n, np.nan)
    rmax = np.full(n, np.nan)  # along the launch azimuth, full burn (the aiming finds it for aimed threats)
    error: list = [None] * n
    groups: dict = {}
    for i in np.flatnonzero(np.isfinite(q.aim_lat_deg)):
        groups.setdefault(q.mode[i], []).append(i)
    for mode, members in groups.items():
        ix = np.array(members, np.int64)
        if aimed is not None:
            sol = staged_aim.StagedAim(*(getattr(aimed, f)[ix] for f in ("azimuth0_deg", "kick_deg", "cutoff_s",
                                                                         "max_range_m", "miss_m")),
                                       tuple(aimed.reason[i] for i in ix))
        else:
            sol = aim_staged(earth, missiles, q.take(ix))
        az[ix], kick[ix], cut[ix], rmax[ix] = sol.azimuth0_deg, sol.kick_deg, sol.cutoff_s, sol.max_range_m
        for i, why in zip(ix, sol.reason):
            if why is not None:
                error[i] = f"the aim point is out of reach of missile '{types[i].name}': {why}"
    bad = np.array([e is not None for e in error], bool)
    fa = np.where(bad, _DUMMY_AZ_DEG, az)
    fk = np.where(bad, _DUMMY_KICK_DEG, kick)
    fl = staged.fly(earth, veh, lat, lon, alt, fa, fk, np.where(bad, np.nan, cut))
    for i in np.flatnonzero(~bad & (fl.status != staged.OK)):
        error[i] = f"missile '{types[i].name}': {staged.STATUS_TEXT[int(fl.status[i])]}"
    ok = np.array([e is None for e in error], bool)
    todo = np.flatnonzero(ok & ~np.isfinite(rmax))
    if todo.size:
        rmax[todo] = staged.max_range(earth, veh.take(todo), lat[todo], lon[todo], alt[todo], fa[todo])[0]
    return _flown(earth, q, types, fl, ok, error, np.where(ok, rmax, np.nan))


def _flown(earth, q, types, fl, ok, error, max_range_m) -> FlownThreats:
    nan = np.nan
    w = lambda a: np.where(ok, a, nan)  # noqa: E731
    t_l = q.launch_time_s
    r_b, v_b = fl.burnout_r_ecef, fl.burnout_v_ecef
    blat, blon, balt = frames.ecef_to_geodetic(earth, np.nan_to_num(r_b))
    e, nrt, up = frames.enu_basis(blat, blon)
    vu = (v_b * up).sum(-1)
    ve, vn = (v_b * e).sum(-1), (v_b * nrt).sum(-1)
    speed = np.linalg.norm(v_b, axis=-1)
    gamma = np.arcsin(np.clip(vu / np.where(speed > 0, speed, 1.0), -1.0, 1.0))
    _, d_bo = geodesic.inverse(earth, q.launch_lat_deg, q.launch_lon_deg, np.nan_to_num(blat), np.nan_to_num(blon))
    nodes = fl.nodes.copy()
    nodes[:, :, 0] += t_l[:, None]
    pnodes = fl.powered_nodes.copy()
    pnodes[:, :, 0] += t_l[:, None]
    count = np.where(ok, fl.node_count, 0)
    pcount = np.where(ok, fl.powered_node_count, 0)
    burn = np.where(ok, fl.burnout_time_s, np.array([t.burn_time_s for t in types], float))
    return FlownThreats(
        earth, t_l, q.launch_lat_deg, q.launch_lon_deg, q.launch_alt_m, w(fl.azimuth0_deg), burn, w(np.atleast_1d(d_bo)),
        w(balt), w(speed), w(gamma), error=tuple(error), step_s=fl.step_s, aim_lat_deg=q.aim_lat_deg,
        aim_lon_deg=q.aim_lon_deg, rcs_m2=np.array([t.rcs_m2 for t in types], float),
        rcs_boost_m2=np.array([t.boost_rcs_m2 for t in types], float),
        burnout_lat_deg=w(blat), burnout_lon_deg=w(blon), burnout_azimuth_deg=w(np.degrees(np.arctan2(ve, vn)) % 360.0),
        nodes=nodes, node_count=count, impact_time_s=w(t_l + fl.impact_time_s), impact_lat_deg=w(fl.impact_lat_deg),
        impact_lon_deg=w(fl.impact_lon_deg), apogee_time_s=w(t_l + fl.apogee_time_s),
        apogee_altitude_m=w(fl.apogee_altitude_m), apogee_lat_deg=w(fl.apogee_lat_deg),
        apogee_lon_deg=w(fl.apogee_lon_deg), ground_range_m=w(fl.ground_range_m), powered_nodes=pnodes,
        powered_count=pcount, powered_step_s=fl.node_step_s, staged=np.ones(q.n, bool), kick_deg=w(fl.kick_deg),
        cutoff_s=w(fl.cutoff_s), max_range_m=max_range_m)
