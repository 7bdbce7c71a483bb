"""The staged threat model (docs/models.md, The staged model): powered flight of the stages through the atmosphere,
then the payload's free flight with drag to impact, for many threats at once; and the maximum range over the kick.

`StagedVehicles` holds the missile types as arrays (stages padded to the longest); `fly` flies threats (arrays (n,),
broadcast) and returns a `StagedFlights`; `max_range` searches the kick of the longest full-burn flight.

Conventions of the results (the compiled kernels are in threat/_staged_kernels.py):
- every time is a flight time tau: seconds since the threat's launch (add the launch time for scenario times);
- every state is ECEF (`r_ecef` m, `v_ecef` m/s) at its own flight time;
- `powered_nodes` (n, P, 7): (tau, r_ecef, v_ecef) at tau = 0, node_step_s, 2 node_step_s, ... and the burnout
  state as the last node (`powered_node_count` rows valid); `nodes` (n, F, 7): the free flight at
  tau = t_bo, t_bo + step_s, ... and the impact as the last node (`node_count` rows valid). Both are uniform grids
  from their first node, the form `threat._kernels.hermite_batch` interpolates; the velocity has a jump at the
  kick (tau = vertical rise), so the powered interval containing it is interpolated less well (about |delta w| *
  node_step_s / 8, well under a metre for kicks of a few degrees).
- `status`: OK, NO_IMPACT (no impact within max_flight_s after burnout) or CRASHED (back on the ground before
  burnout: its burnout, impact and apogee are NaN). Burnout fields are valid for OK and NO_IMPACT.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from shieldlab import freeflight
from shieldlab.earth import frames, geodesic
from shieldlab.earth.model import Earth
from shieldlab.scenario.model import StagedMissileType
from shieldlab.threat import _staged_kernels as K
from shieldlab.threat._kernels import hermite_batch

OK, NO_IMPACT, CRASHED = K.OK, K.NO_IMPACT, K.CRASHED
STATUS_TEXT = {OK: "ok", NO_IMPACT: "no impact within the time limit",
               CRASHED: "crashed: back on the ground before burnout (kick too large for its thrust?)"}
# RK4 steps (s): powered flight (at most; events are met exactly), and the free flight's substeps inside the
# atmosphere (below 86 km). Their error against a DOP853 integration is in tests/test_staged.py.
POWERED_STEP_S = 0.5
REENTRY_STEP_S = 0.5
POWERED_NODE_STEP_S = 1.0
FREE_NODES_GUESS_S = 5400.0  # free-flight node capacity first tried (longer flights are flown again with room)
# max_range: the kicks tried first (deg), then golden-section refinement around the best to this width
# (geometric: a weak booster's gravity turn is so sensitive that its best kick can be well under 1 deg)
KICK_GRID_DEG = np.geomspace(0.05, 89.0, 48)
KICK_TOL_DEG = 1e-3


def _frozen(obj) -> None:
    for f in fields(obj):
        v = getattr(obj, f.name)
        if isinstance(v, np.ndarray):
            v.flags.writeable = False


@dataclass(frozen=True, eq=False)
class StagedVehicles:
    """n staged missile types as arrays. stages (n, S, 5): propellant mass (kg), dry mass (kg), burn time (s),
    isp (s), coast before ignition (s), in firing order, rows past stage_count zero. ballistic_coefficient_kg_m2
    NaN: the default payload / (C_D A); inf: no drag after burnout."""

    payload_mass_kg: np.ndarray
    reference_area_m2: np.ndarray
    drag_coefficient: np.ndarray
    vertical_rise_s: np.ndarray
    ballistic_coefficient_kg_m2: np.ndarray
    stages: np.ndarray
    stage_count: np.ndarray

    def __post_init__(self):
        n = self.stage_count.shape[0]
        for f in fields(self):
            v = np.asarray(getattr(self, f.name))
            if v.shape[:1] != (n,):
                raise ValueError(f"StagedVehicles.{f.name}: {v.shape[0] if v.ndim else 'a scalar'} rows, expected {n}")
        st, cnt = self.stages, self.stage_count
        if st.ndim != 3 or st.shape[2] != 5:
            raise ValueError(f"StagedVehicles.stages: shape {st.shape}, expected (n, S, 5)")
        if np.any(cnt < 1) or np.any(cnt > st.shape[1]):
            raise ValueError("StagedVehicles.stage_count: every vehicle needs 1 to S stages")
        used = np.arange(st.shape[1])[None, :] < cnt[:, None]
        checks = [
            (self.payload_mass_kg > 0, "payload mass must be > 0 kg"),
            (self.reference_area_m2 > 0, "the diameter must be > 0 m"),
            (self.drag_coefficient >= 0, "the drag coefficient must be >= 0"),
            (self.vertical_rise_s > 0, "the vertical rise must be > 0 s"),
            (~(self.ballistic_coefficient_kg_m2 <= 0), "the re-entry ballistic coefficient must be > 0 kg/m2"),
            (np.where(used, st[:, :, 0] > 0, True).all(1), "every stage's propellant mass must be > 0 kg"),
            (np.where(used, st[:, :, 1] >= 0, True).all(1), "every stage's dry mass must be >= 0 kg"),
            (np.where(used, st[:, :, 2] > 0, True).all(1), "every stage's burn time must be > 0 s"),
            (np.where(used, st[:, :, 3] > 0, True).all(1), "every stage's isp must be > 0 s"),
            (np.where(used, st[:, :, 4] >= 0, True).all(1), "every stage's coast must be >= 0 s"),
            (st[:, 0, 4] == 0, "the first stage cannot coast (it would fall back on the pad)"),
        ]
        for ok, msg in checks:
            bad = np.flatnonzero(~np.asarray(ok, bool))
            if bad.size:
                raise ValueError(f"staged vehicle {int(bad[0])}: {msg}")
        _frozen(self)

    @property
    def n(self) -> int:
        return int(self.stage_count.shape[0])

    @classmethod
    def from_types(cls, types: Sequence[StagedMissileType]) -> "StagedVehicles":
        """One row per missile type (the same type may repeat)."""
        s = max(len(t.stages) for t in types)
        stages = np.zeros((len(types), s, 5))
        for i, t in enumerate(types):
            for k, st in enumerate(t.stages):
                stages[i, k] = (st.propellant_mass_kg, st.dry_mass_kg, st.burn_time_s, st.isp_s, st.coast_s)
        beta = [math.nan if t.reentry_ballistic_coefficient_kg_m2 is None else t.reentry_ballistic_coefficient_kg_m2
                for t in types]
        return cls(np.array([t.payload_mass_kg for t in types], float),
                   np.array([t.reference_area_m2 for t in types], float),
                   np.array([t.drag_coefficient for t in types], float),
                   np.array([t.vertical_rise_s for t in types], float), np.array(beta, float), stages,
                   np.array([len(t.stages) for t in types], np.int64))

    def take(self, idx) -> "StagedVehicles":
        """The rows idx (any int array), e.g. one type repeated for many threats."""
        idx = np.asarray(idx, np.int64)
        return StagedVehicles(*(getattr(self, f.name)[idx] for f in fields(self)))

    def with_payload(self, payload_mass_kg) -> "StagedVehicles":
        """The same vehicles with other payload masses (n,) (a default ballistic coefficient follows the payload)."""
        p = np.broadcast_to(np.asarray(payload_mass_kg, float), (self.n,)).copy()
        return StagedVehicles(p, self.reference_area_m2.copy(), self.drag_coefficient.copy(),
                              self.vertical_rise_s.copy(), self.ballistic_coefficient_kg_m2.copy(),
                              self.stages.copy(), self.stage_count.copy())

    @property
    def effective_ballistic_coefficient_kg_m2(self) -> np.ndarray:
        """beta after burnout: the given one, or payload / (C_D A)."""
        with np.errstate(divide="ignore"):
            default = self.payload_mass_kg / (self.drag_coefficient * self.reference_area_m2)
        return np.where(np.isnan(self.ballistic_coefficient_kg_m2), default, self.ballistic_coefficient_kg_m2)

    @property
    def full_burn_time_s(self) -> np.ndarray:
        """Launch to the end of the last stage's full burn, coasts included (s)."""
        return (self.stages[:, :, 2] + self.stages[:, :, 4]).sum(axis=1)

    @property
    def last_ignition_s(self) -> np.ndarray:
        """Flight time at which the last stage ignites (s)."""
        return self.full_burn_time_s - self.stages[np.arange(self.n), self.stage_count - 1, 2]

    def kernel_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(veh (n, 4), stages (n, S, 5), stage_count (n,)) as the kernels take them."""
        beta = self.effective_ballistic_coefficient_kg_m2
        veh = np.stack([self.payload_mass_kg, self.drag_coefficient * self.reference_area_m2, self.vertical_rise_s,
                        np.where(np.isfinite(beta), 0.5 / beta, 0.0)], axis=-1)
        return (np.ascontiguousarray(veh), np.ascontiguousarray(self.stages, dtype=float),
                np.ascontiguousarray(self.stage_count, dtype=np.int64))


@dataclass(frozen=True, eq=False, repr=False)
class StagedFlights:
    """n staged flights (see the module's conventions). Angles in degrees, times since launch (s)."""

    earth: Earth
    launch_lat_deg: np.ndarray
    launch_lon_deg: np.ndarray
    launch_alt_m: np.ndarray
    azimuth0_deg: np.ndarray
    kick_deg: np.ndarray
    cutoff_s: np.ndarray  # NaN: full burn
    status: np.ndarray
    burnout_time_s: np.ndarray
    burnout_r_ecef: np.ndarray  # (n, 3)
    burnout_v_ecef: np.ndarray  # (n, 3)
    powered_nodes: np.ndarray  # (n, P, 7)
    powered_node_count: np.ndarray
    node_step_s: float
    nodes: np.ndarray  # (n, F, 7): free flight
    node_count: np.ndarray
    step_s: float
    impact_time_s: np.ndarray
    impact_r_ecef: np.ndarray  # (n, 3)
    impact_lat_deg: np.ndarray
    impact_lon_deg: np.ndarray
    apogee_time_s: np.ndarray
    apogee_altitude_m: np.ndarray
    apogee_lat_deg: np.ndarray
    apogee_lon_deg: np.ndarray
    ground_range_m: np.ndarray

    def __post_init__(self):
        _frozen(self)

    def __repr__(self) -> str:
        return f"<StagedFlights: {self.n} flights, {int((self.status == OK).sum())} ok>"

    @property
    def n(self) -> int:
        return int(self.status.shape[0])

    @property
    def burnout_speed_m_s(self) -> np.ndarray:
        """Earth-relative speed at burnout (m/s)."""
        return np.linalg.norm(self.burnout_v_ecef, axis=-1)

    def position_ecef(self, idx, tau_s) -> np.ndarray:
        """ECEF positions (k, 3) of flights idx (k,) at flight times tau_s (k,), by cubic Hermite interpolation
        of the powered nodes (0 <= tau <= burnout) or the free-flight nodes (burnout < tau <= impact); NaN
        elsewhere and for crashed flights. Needs the nodes (fly(..., want_nodes=True))."""
        idx = np.asarray(idx, np.int64)
        tau = np.asarray(tau_s, float)
        out = np.full(idx.shape + (3,), np.nan)
        p = self.earth.kernel_params
        powered = (tau >= 0) & (tau <= self.burnout_time_s[idx]) & (self.status[idx] != CRASHED)
        if powered.any():
            out[powered] = hermite_batch(self.powered_nodes, self.powered_node_count, self.node_step_s,
                                         np.ascontiguousarray(idx[powered]), np.ascontiguousarray(tau[powered]), p)[0]
        free = (tau > self.burnout_time_s[idx]) & (tau <= self.impact_time_s[idx])
        if free.any():
            out[free] = hermite_batch(self.nodes, self.node_count, self.step_s, np.ascontiguousarray(idx[free]),
                                      np.ascontiguousarray(tau[free]), p)[0]
        return out


def _launch_arrays(earth, lat, lon, alt, az, kick, cutoff):
    r = np.ascontiguousarray(frames.geodetic_to_ecef(earth, lat, lon, alt))
    up = np.ascontiguousarray(frames.enu_basis(lat, lon)[2])
    aim = np.ascontiguousarray(np.stack([np.radians(az), np.radians(kick), cutoff, np.minimum(alt, 0.0)], axis=-1))
    return r, up, aim


def fly(earth: Earth, vehicles: StagedVehicles, launch_lat_deg, launch_lon_deg, launch_alt_m, azimuth_deg, kick_deg,
        cutoff_s=None, *, want_nodes: bool = True, step_s: float = freeflight.DEFAULT_STEP_S,
        powered_step_s: float = POWERED_STEP_S, reentry_step_s: float = REENTRY_STEP_S,
        node_step_s: float = POWERED_NODE_STEP_S, max_flight_s: float = freeflight.MAX_FLIGHT_S,
        uniform_gravity_m_s2: float = 0.0) -> StagedFlights:
    """Fly n staged threats: launch points, azimuths alpha0 and kicks delta (deg), cut-off times of the last stage
    (s after launch; None or NaN: full burn), all broadcast to (n,) with the vehicles' rows (a single vehicle row is
    repeated). want_nodes=False skips the node arrays (shape (n, 0, 7)) for searches. uniform_gravity_m_s2 > 0 is a
    test hook: gravity replaced by that constant field along the launch point's down (use with rotation off)."""
    cut = np.nan if cutoff_s is None else cutoff_s
    arrays = np.broadcast_arrays(*(np.asarray(v, float) for v in (
        launch_lat_deg, launch_lon_deg, launch_alt_m, azimuth_deg, kick_deg, cut)))
    n = max(arrays[0].size, vehicles.n)
    lat, lon, alt, az, kick, cut = (np.broadcast_to(a.ravel() if a.ndim else a, (n,)).astype(float) for a in arrays)
    if vehicles.n == 1 and n > 1:
        vehicles = vehicles.take(np.zeros(n, np.int64))
    if vehicles.n != n:
        raise ValueError(f"{vehicles.n} vehicles for {n} threats")
    for name, v in (("launch latitude", lat), ("launch longitude", lon), ("launch altitude", alt),
                    ("azimuth", az), ("kick", kick)):
        if not np.isfinite(v).all():
            raise ValueError(f"staged flight: a {name} is not a finite number")
    if np.any((kick < 0) | (kick > 90)):
        raise ValueError("staged flight: the kick must be within 0..90 deg")
    if np.any(cut <= 0) or np.any(np.isinf(cut)):
        raise ValueError("staged flight: a cut-off time must be > 0 s after launch (NaN: full burn)")
    r, up, aim = _launch_arrays(earth, lat, lon, alt, az, kick, cut)
    veh, stages, cnt = vehicles.kernel_arrays()
    params = earth.kernel_params
    p_cap = int(np.max(vehicles.full_burn_time_s) // node_step_s) + 2 if want_nodes else 0
    f_cap = int(FREE_NODES_GUESS_S // step_s) + 3 if want_nodes else 0
    pnodes = np.full((n, p_cap, 7), np.nan)
    fnodes = np.full((n, f_cap, 7), np.nan)
    args = (params, float(uniform_gravity_m_s2), float(powered_step_s), float(node_step_s), float(step_s),
            float(reentry_step_s), float(max_flight_s))
    out = K.fly_batch(r, up, aim, veh, stages, cnt, *args, pnodes, fnodes)
    status, t_bo, bo, npn, nfn, t_imp, imp, t_apo, alt_apo, apo = out
    if want_nodes and np.any(nfn > f_cap):  # long flights: again with room for all their nodes
        rows = np.flatnonzero(nfn > f_cap)
        more = np.full((rows.size, int(nfn.max()), 7), np.nan)
        K.fly_batch(r[rows], up[rows], aim[rows], veh[rows], stages[rows], cnt[rows], *args,
                    np.full((rows.size, p_cap, 7), np.nan), more)
        grown = np.full((n, more.shape[1], 7), np.nan)
        grown[:, :f_cap] = fnodes
        grown[rows] = more
        fnodes = grown
    if want_nodes:
        fnodes = fnodes[:, :max(int(nfn.max(initial=0)), 0)]
        npn = np.minimum(npn, p_cap)
    else:
        npn = np.zeros(n, np.int64)
        nfn = np.zeros(n, np.int64)
    ok = status == OK
    crashed = status == CRASHED
    t_bo = np.where(crashed, np.nan, t_bo)
    ilat, ilon, _ = frames.ecef_to_geodetic(earth, imp[:, :3])
    alat, alon, _ = frames.ecef_to_geodetic(earth, apo[:, :3])
    _, rng = geodesic.inverse(earth, lat, lon, np.where(ok, ilat, 0.0), np.where(ok, ilon, 0.0))
    return StagedFlights(
        earth=earth, launch_lat_deg=lat, launch_lon_deg=lon, launch_alt_m=alt, azimuth0_deg=az, kick_deg=kick,
        cutoff_s=cut, status=status, burnout_time_s=t_bo, burnout_r_ecef=bo[:, :3].copy(),
        burnout_v_ecef=bo[:, 3:].copy(), powered_nodes=pnodes, powered_node_count=npn, node_step_s=float(node_step_s),
        nodes=fnodes, node_count=np.where(crashed, 0, nfn), step_s=float(step_s),
        impact_time_s=np.where(ok, t_imp, np.nan), impact_r_ecef=np.where(ok[:, None], imp[:, :3], np.nan),
        impact_lat_deg=np.where(ok, ilat, np.nan), impact_lon_deg=np.where(ok, ilon, np.nan),
        apogee_time_s=np.where(ok, t_apo, np.nan), apogee_altitude_m=np.where(ok, alt_apo, np.nan),
        apogee_lat_deg=np.where(ok, alat, np.nan), apogee_lon_deg=np.where(ok, alon, np.nan),
        ground_range_m=np.where(ok, rng, np.nan))


def _ranges(earth, vehicles, lat, lon, alt, az, kick, **kw) -> np.ndarray:
    """Ground ranges (m) of full-burn flights; -inf where the flight crashes or does not come down."""
    f = fly(earth, vehicles, lat, lon, alt, az, kick, want_nodes=False, **kw)
    return np.where(f.status == OK, f.ground_range_m, -np.inf)


def max_range(earth: Earth, vehicles: StagedVehicles, launch_lat_deg, launch_lon_deg, launch_alt_m, azimuth_deg, *,
              kick_grid_deg=KICK_GRID_DEG, tol_deg: float = KICK_TOL_DEG, **fly_kw) -> tuple[np.ndarray, np.ndarray]:
    """The greatest ground range (m) over the kick with full burn, and that kick (deg), for n launches (arrays
    broadcast to (n,) with the vehicles' rows: several azimuths of one vehicle, or several vehicles). The kicks of
    `kick_grid_deg` are flown first; around the best (a crash is no candidate) a golden-section search narrows the
    kick to tol_deg. NaN where every kick of the grid crashes or never comes down."""
    arrays = np.broadcast_arrays(*(np.asarray(v, float) for v in (launch_lat_deg, launch_lon_deg, launch_alt_m,
                                                                  azimuth_deg)))
    n = max(arrays[0].size, vehicles.n)
    lat, lon, alt, az = (np.broadcast_to(a.ravel() if a.ndim else a, (n,)).astype(float) for a in arrays)
    if vehicles.n == 1 and n > 1:
        vehicles = vehicles.take(np.zeros(n, np.int64))
    grid = np.asarray(kick_grid_deg, float)
    g = grid.size
    rows = np.repeat(np.arange(n), g)
    rng = _ranges(earth, vehicles.take(rows), lat[rows], lon[rows], alt[rows], az[rows], np.tile(grid, n),
                  **fly_kw).reshape(n, g)
    best = np.argmax(rng, axis=1)
    found = np.isfinite(rng[np.arange(n), best])
    lo = np.where(best > 0, grid[np.maximum(best - 1, 0)], 0.0)
    hi = np.where(best < g - 1, grid[np.minimum(best + 1, g - 1)], 90.0)
    invphi = (math.sqrt(5.0) - 1.0) / 2.0
    c = hi - invphi * (hi - lo)
    d = lo + invphi * (hi - lo)

    def f(k):
        return _ranges(earth, vehicles, lat, lon, alt, az, k, **fly_kw)

    fc, fd = f(c), f(d)
    while np.max(hi - lo) > tol_deg:
        left = fc >= fd  # the maximum is in [lo, d]
        hi = np.where(left, d, hi)
        lo = np.where(left, lo, c)
        new = np.where(left, hi - invphi * (hi - lo), lo + invphi * (hi - lo))
        fn = f(new)
        c, d, fc, fd = (np.where(left, new, d), np.where(left, c, new), np.where(left, fn, fd),
                        np.where(left, fc, fn))
    cand_k = np.stack([grid[best], c, d], axis=1)
    cand_r = np.stack([rng[np.arange(n), best], fc, fd], axis=1)
    j = np.argmax(cand_r, axis=1)
    r_best = cand_r[np.arange(n), j]
    k_best = cand_k[np.arange(n), j]
    return np.where(found, r_best, np.nan), np.where(found, k_best, np.nan)
