"""Threat trajectories for many threats at once: burnout, free flight to impact, apogee, and the
position at any time (powered flight by the burnout model's rule, free flight by cubic Hermite
interpolation between integrator nodes, whose error is far below a metre at the default step).

`ThreatBatch` holds aimed threats before flight; `fly` returns a new `FlownThreats` (both frozen, their
arrays read-only). The compiled kernels are in threat/_kernels.py.

Frames: every stored vector is ECEF (`r_ecef`, `v_ecef`); times are scenario times in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cached_property

import numpy as np

from shieldlab import freeflight
from shieldlab.earth import frames, geodesic
from shieldlab.earth.model import Earth
from shieldlab.threat._kernels import hermite_batch
from shieldlab.threat.burnout import burnout_point, burnout_state_ecef, powered_position_ecef


def _frozen(obj) -> None:
    """Make the dataclass's numpy arrays read-only (shared by every consumer, changed by none)."""
    for f in fields(obj):
        v = getattr(obj, f.name)
        if isinstance(v, np.ndarray):
            v.flags.writeable = False


@dataclass(frozen=True, eq=False, repr=False)
class ThreatBatch:
    """n aimed threats before flight (arrays (n,)). `error[i]` is None, or why threat i cannot be
    computed (then its computed fields are NaN)."""

    earth: Earth
    launch_time_s: np.ndarray
    launch_lat_deg: np.ndarray
    launch_lon_deg: np.ndarray
    launch_alt_m: np.ndarray
    azimuth0_deg: np.ndarray
    burn_time_s: np.ndarray
    burnout_range_m: np.ndarray
    burnout_altitude_m: np.ndarray
    burnout_speed_m_s: np.ndarray
    gamma_rad: np.ndarray
    error: tuple = ()  # () : no errors
    step_s: float = freeflight.DEFAULT_STEP_S
    aim_lat_deg: np.ndarray = None  # the aim points (NaN: unaimed; None: all unaimed)
    aim_lon_deg: np.ndarray = None
    # radar cross-sections in free flight (None: all 1 m2): docs/models.md, Sensitivity: range against a cross-section
    rcs_m2: np.ndarray = None
    rcs_boost_m2: np.ndarray = None  # powered flight (None: rcs_m2)

    def __post_init__(self):
        n = self.launch_time_s.shape[0]
        err = tuple(self.error) if len(self.error) == n else (None,) * n
        object.__setattr__(self, "error", err)
        for name in ("aim_lat_deg", "aim_lon_deg"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.full(n, np.nan))
        if self.rcs_m2 is None:
            object.__setattr__(self, "rcs_m2", np.ones(n))
        if self.rcs_boost_m2 is None:
            object.__setattr__(self, "rcs_boost_m2", np.array(self.rcs_m2, float))
        _frozen(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.n} threats, {self.n - int(self.valid.sum())} with an error>"

    @property
    def n(self) -> int:
        return self.launch_time_s.shape[0]

    @property
    def burnout_time_s(self) -> np.ndarray:
        return self.launch_time_s + self.burn_time_s

    @cached_property
    def valid(self) -> np.ndarray:
        """(n,) True for the threats without an error."""
        v = np.array([e is None for e in self.error], bool)
        v.flags.writeable = False
        return v


@dataclass(frozen=True, eq=False, kw_only=True, repr=False)
class FlownThreats(ThreatBatch):
    """A ThreatBatch flown: burnout point, free-flight nodes, impact, apogee and ground range (NaN for
    threats with an error)."""

    burnout_lat_deg: np.ndarray
    burnout_lon_deg: np.ndarray
    burnout_azimuth_deg: np.ndarray
    nodes: np.ndarray  # (n, m, 7): t_s, r_ecef (3), v_ecef (3); free flight only
    node_count: np.ndarray
    impact_time_s: np.ndarray
    impact_lat_deg: np.ndarray
    impact_lon_deg: np.ndarray
    apogee_time_s: np.ndarray
    apogee_altitude_m: np.ndarray
    apogee_lat_deg: np.ndarray
    apogee_lon_deg: np.ndarray
    ground_range_m: np.ndarray
    # staged threats (docs/models.md, The staged model): their integrated ascent as nodes (n, mp, 7) in
    # scenario times, every `powered_step_s` from launch, the burnout state last (None: no staged threat);
    # `staged` (n,) marks them; kick, thrust cut-off (s after launch) and maximum range along the launch
    # azimuth, NaN for burnout threats (and a full burn's cut-off)
    powered_nodes: np.ndarray = None
    powered_count: np.ndarray = None
    powered_step_s: float = 1.0
    staged: np.ndarray = None
    kick_deg: np.ndarray = None
    cutoff_s: np.ndarray = None
    max_range_m: np.ndarray = None

    def __post_init__(self):
        n = self.launch_time_s.shape[0]
        if self.staged is None:
            object.__setattr__(self, "staged", np.zeros(n, bool))
        for name in ("kick_deg", "cutoff_s", "max_range_m"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.full(n, np.nan))
        super().__post_init__()

    def position_ecef(self, idx, t_s) -> np.ndarray:
        """Positions (k, 3) of threats idx (k,) at scenario times t_s (k,); NaN outside launch..impact.
        Powered flight: the burnout model's rule, or a staged threat's integrated ascent."""
        idx = np.asarray(idx, int)
        t = np.asarray(t_s, float)
        out = np.full(idx.shape + (3,), np.nan)
        tau = t - self.launch_time_s[idx]
        powered = (tau >= 0) & (tau <= self.burn_time_s[idx])
        ascent = powered & self.staged[idx]
        powered &= ~ascent
        if powered.any():
            i = idx[powered]
            out[powered] = powered_position_ecef(
                self.earth, self.launch_lat_deg[i], self.launch_lon_deg[i], self.launch_alt_m[i],
                self.azimuth0_deg[i], self.burn_time_s[i], self.burnout_range_m[i], self.burnout_altitude_m[i],
                tau[powered])
        if ascent.any():
            out[ascent] = hermite_batch(self.powered_nodes, self.powered_count, self.powered_step_s,
                                        np.ascontiguousarray(idx[ascent], dtype=np.int64),
                                        np.ascontiguousarray(t[ascent]), self.earth.kernel_params)[0]
        free = self.in_free_flight(idx, t)
        if free.any():
            out[free] = self.free_flight_positions(idx[free], t[free])[0]
        return out

    def in_free_flight(self, idx, t_s) -> np.ndarray:
        """(k,) whether scenario times t_s (k,) of threats idx (k,) lie in the free flight: after burnout, up to
        the impact (where `free_flight_positions` serves them)."""
        idx = np.asarray(idx, int)
        t = np.asarray(t_s, float)
        return (t - self.launch_time_s[idx] > self.burn_time_s[idx]) & (t <= self.impact_time_s[idx])

    def free_flight_positions(self, idx, t_s):
        """Free-flight positions (k, 3) and geodetic altitudes (k,) at times t_s (compiled)."""
        return hermite_batch(self.nodes, self.node_count, self.step_s, np.ascontiguousarray(idx, dtype=np.int64),
                             np.ascontiguousarray(t_s, dtype=float), self.earth.kernel_params)


def fly(batch: ThreatBatch) -> FlownThreats:
    """Compute burnout, free flight, apogee and impact for every threat without an error."""
    E, n = batch.earth, batch.n
    error = list(batch.error)
    lat_b, lon_b, az_b = burnout_point(E, batch.launch_lat_deg, batch.launch_lon_deg, batch.azimuth0_deg,
                                       batch.burnout_range_m)
    r, v = burnout_state_ecef(E, lat_b, lon_b, batch.burnout_altitude_m, az_b, batch.gamma_rad, batch.burnout_speed_m_s)
    finite = np.isfinite(r).all(-1) & np.isfinite(v).all(-1)
    for i in np.flatnonzero(batch.valid & ~finite):
        error[i] = "the burnout state is undefined (missing burnout speed, azimuth or flight-path angle)"
    valid = np.array([e is None for e in error], bool)
    r = np.ascontiguousarray(np.where(valid[:, None], r, 0.0))
    v = np.ascontiguousarray(np.where(valid[:, None], v, 0.0))
    r[~valid] = [E.a_m + 1e6, 0, 0]
    v[~valid] = [0, 0, 1.0]
    h = batch.step_s

    def flown(tau_max_s):
        """The flights with node arrays for flight times up to tau_max_s (NaN padded by trajectory_batch)."""
        nodes = np.empty((n, int(tau_max_s // h) + 3, 7))
        return (nodes, *freeflight.trajectory_batch(r, v, E.kernel_params, h, freeflight.MAX_FLIGHT_S, nodes))

    # the node arrays sized by a bound of the flight times (`flight_time_bound_s`); where it falls short (a node
    # array filled up) or bounds nothing, sized by the flights' impact times, flown once more
    bound = np.where(valid, flight_time_bound_s(E, r, v), 0.0)
    short = not np.isfinite(bound).all()
    if not short:
        nodes, status, count, tau_i, tau_a, alt_a, apo = flown(bound.max(initial=0.0))
        short = bool((count[valid] >= nodes.shape[1]).any())
    if short:
        status, tau_imp, _ = freeflight.impact_batch(r, v, E.kernel_params, h, freeflight.MAX_FLIGHT_S)
        nodes, status, count, tau_i, tau_a, alt_a, apo = flown(np.where(valid & (status == 0), tau_imp, 0.0)
                                                               .max(initial=0.0))
    t_bo = batch.burnout_time_s
    nodes[:, :, 0] += t_bo[:, None]
    for i in np.flatnonzero(valid & (status != 0)):
        error[i] = "the free flight does not come back to the ground (burnout speed too high?)"
    ok = np.array([e is None for e in error], bool)
    last = nodes[np.arange(n), np.maximum(count - 1, 0), 1:4]
    ilat, ilon, _ = frames.ecef_to_geodetic(E, last)
    impact_lat_deg = np.where(ok, ilat, np.nan)
    impact_lon_deg = np.where(ok, ilon, np.nan)
    alat, alon, _ = frames.ecef_to_geodetic(E, apo[:, :3])
    _, rng = geodesic.inverse(E, batch.launch_lat_deg, batch.launch_lon_deg,
                              np.nan_to_num(impact_lat_deg), np.nan_to_num(impact_lon_deg))
    base = {f.name: getattr(batch, f.name) for f in fields(ThreatBatch)}
    base["error"] = tuple(error)
    return FlownThreats(
        **base, burnout_lat_deg=lat_b, burnout_lon_deg=lon_b, burnout_azimuth_deg=az_b, nodes=nodes, node_count=count,
        impact_time_s=np.where(ok, t_bo + tau_i, np.nan), impact_lat_deg=impact_lat_deg, impact_lon_deg=impact_lon_deg,
        apogee_time_s=np.where(ok, t_bo + tau_a, np.nan), apogee_altitude_m=np.where(ok, alt_a, np.nan),
        apogee_lat_deg=np.where(ok, alat, np.nan), apogee_lon_deg=np.where(ok, alon, np.nan),
        ground_range_m=np.where(ok, rng, np.nan))


# `flight_time_bound_s`: the Kepler time to this far below the polar radius, times (1 + FLIGHT_BOUND_REL), plus
# FLIGHT_BOUND_S: J2 and the ellipsoid change a flight's time by far less (a bound that falls short only costs
# flying the batch once more, `fly`)
FLIGHT_BOUND_DEPTH_M = 20e3
FLIGHT_BOUND_REL = 0.02
FLIGHT_BOUND_S = 60.0


def flight_time_bound_s(earth: Earth, r_ecef, v_ecef) -> np.ndarray:
    """A generous upper estimate of the free-flight time (s) from ECEF burnout states (k, 3) to the ground, used to
    size node arrays: the time of the Kepler orbit of the inertial state from there down to FLIGHT_BOUND_DEPTH_M
    below the polar radius, with the margins above; inf where that orbit is not an ellipse that gets there."""
    r = np.asarray(r_ecef, float)
    w = earth.omega_rad_s
    v = np.asarray(v_ecef, float) + np.stack([-w * r[:, 1], w * r[:, 0], np.zeros(len(r))], axis=-1)
    mu = earth.gm_m3_s2
    rn = np.linalg.norm(r, axis=1)
    energy = 0.5 * (v * v).sum(1) - mu / rn
    with np.errstate(all="ignore"):
        a = -mu / (2.0 * energy)
        e = np.sqrt(np.maximum(1.0 - (np.cross(r, v) ** 2).sum(1) / (mu * a), 0.0))
        c0 = np.clip((1.0 - rn / a) / e, -1.0, 1.0)
        e0 = np.where((r * v).sum(1) >= 0.0, np.arccos(c0), 2.0 * np.pi - np.arccos(c0))  # ascending: (0, pi)
        c1 = (1.0 - (earth.b_m - FLIGHT_BOUND_DEPTH_M) / a) / e
        e1 = 2.0 * np.pi - np.arccos(np.clip(c1, -1.0, 1.0))  # the descending crossing
        t = np.sqrt(a**3 / mu) * ((e1 - e * np.sin(e1)) - (e0 - e * np.sin(e0)))
    ok = (energy < 0.0) & (e > 1e-9) & (np.abs(c1) <= 1.0) & np.isfinite(t) & (t > 0.0)
    return np.where(ok, t * (1.0 + FLIGHT_BOUND_REL) + FLIGHT_BOUND_S, np.inf)


def merge(n: int, parts) -> FlownThreats:
    """One FlownThreats of n threats from parts [(rows (k,), FlownThreats of k threats), ...] that together
    cover rows 0..n-1 once (e.g. the burnout and the staged threats of a scenario, flown apart). Node
    arrays are NaN padded to the longest; all parts share the Earth and the free-flight step."""
    parts = [(np.asarray(r, dtype=np.int64), p) for r, p in parts if len(r)]
    if len(parts) == 1 and np.array_equal(parts[0][0], np.arange(n)):
        return parts[0][1]
    first = parts[0][1]
    out = {}
    for f in fields(FlownThreats):
        vals = [getattr(p, f.name) for _, p in parts]
        if f.name == "error":
            err = [None] * n
            for (rows, _), v in zip(parts, vals):
                for i, e in zip(rows, v):
                    err[i] = e
            out["error"] = tuple(err)
        elif f.name in ("nodes", "powered_nodes"):
            vals = [v if v is not None else np.full((p.n, 1, 7), np.nan) for (_, p), v in zip(parts, vals)]
            m = max(v.shape[1] for v in vals)
            a = np.full((n, m, 7), np.nan)
            for (rows, _), v in zip(parts, vals):
                a[rows, :v.shape[1]] = v
            out[f.name] = a
        elif f.name == "powered_count":
            a = np.zeros(n, dtype=np.int64)
            for (rows, p), v in zip(parts, vals):
                a[rows] = 0 if v is None else v
            out[f.name] = a
        elif all(isinstance(v, np.ndarray) for v in vals):
            a = np.empty((n,) + vals[0].shape[1:], dtype=np.result_type(*vals))
            for (rows, _), v in zip(parts, vals):
                a[rows] = v
            out[f.name] = a
        else:
            out[f.name] = getattr(first, f.name)
    steps = {p.powered_step_s for _, p in parts if p.powered_nodes is not None}
    out["powered_step_s"] = steps.pop() if steps else first.powered_step_s
    if all(p.powered_nodes is None for _, p in parts):
        out["powered_nodes"] = out["powered_count"] = None
    return FlownThreats(**out)


def take(threats: FlownThreats, rows) -> FlownThreats:
    """The threats at `rows` (k,) of a FlownThreats, in that order, repeats allowed (e.g. one flight for every
    sample of an uncertainty run whose varied values leave the flight alone)."""
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)
    n = threats.n
    kw = {}
    for f in fields(FlownThreats):
        v = getattr(threats, f.name)
        if f.name == "error":
            kw[f.name] = tuple(v[i] for i in rows)
        elif isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == n:
            kw[f.name] = v[rows]
        else:
            kw[f.name] = v
    return FlownThreats(**kw)


def ascent_view(threats: FlownThreats) -> FlownThreats:
    """The powered flights of the staged threats as if they were free flights (launch .. burnout), for the
    boost-phase windows (docs/models.md, Boost-phase intercepts): the same threats, with the ascent's nodes
    in place of the free flight's, `burnout_time_s` at launch and `impact_time_s` at burnout; every
    threat that is not staged (or has an error) carries an error here, so nothing evaluates it."""
    if threats.powered_nodes is None:
        raise ValueError("no staged threat: no ascent to view")
    err = tuple(e if e is not None else (None if s else "not a staged threat")
                for e, s in zip(threats.error, threats.staged))
    nan = np.full(threats.n, np.nan)
    return replace(threats, error=err, burn_time_s=np.zeros(threats.n), nodes=threats.powered_nodes,
                   node_count=threats.powered_count, step_s=threats.powered_step_s,
                   impact_time_s=threats.burnout_time_s.copy(), apogee_time_s=nan, apogee_altitude_m=nan,
                   staged=np.zeros(threats.n, bool), powered_nodes=None, powered_count=None)
