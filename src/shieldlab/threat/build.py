"""The one place that turns threat specifications into flown threats: a scenario's [[threats]] or
some of its [coverage] pairs become a `ThreatRequest` (arrays per threat), which `build` aims and flies.

    threats = threats_for_scenario(scenario, earth)          # every [[threats]] entry, in file order
    threats = threats_for_pairs(scenario, earth, pairs)      # coverage pairs by number (coverage/pairs.py)

Coverage pairs are aimed in warm-start blocks fixed by the pair layout (`warm_block_size`): a pair's
aiming, and so every figure of it, depends only on the scenario and its pair number, not on the other
pairs evaluated with it (how a run is split into chunks, or which worker runs them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shieldlab.coverage.pairs import layout
from shieldlab.earth import geodesic
from shieldlab.earth.model import Earth
from shieldlab.scenario.model import Scenario, StagedMissileType
from shieldlab.threat import aim
from shieldlab.threat.trajectory import FlownThreats, ThreatBatch, fly, merge

_ARRAYS = ("launch_lat_deg", "launch_lon_deg", "launch_alt_m", "aim_lat_deg", "aim_lon_deg", "launch_time_s",
           "gamma_deg", "azimuth_deg", "kick_deg")


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
    kick_deg: np.ndarray = np.nan  # staged types: mode 'kick', or unaimed (NaN otherwise)
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

    def take(self, rows) -> ThreatRequest:
        """The threats `rows` (an index array) as a request of their own."""
        rows = np.asarray(rows, dtype=np.int64)
        return ThreatRequest([self.missile[i] for i in rows], *(getattr(self, a)[rows] for a in _ARRAYS[:6]),
                             mode=[self.mode[i] for i in rows], gamma_deg=self.gamma_deg[rows],
                             azimuth_deg=self.azimuth_deg[rows], kick_deg=self.kick_deg[rows], warm=self.warm)

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
        kick_deg=[_or_nan(t.trajectory.kick_deg if t.aim else t.kick_deg) for t in specs],
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
        mode=cov.trajectory.mode, gamma_deg=_or_nan(cov.trajectory.gamma_deg), azimuth_deg=np.nan,
        kick_deg=_or_nan(cov.trajectory.kick_deg), warm=warm)


def threats_for_scenario(scenario: Scenario, earth: Earth) -> FlownThreats:
    """Aim and fly every [[threats]] entry."""
    return build(earth, scenario.missiles, request_for_scenario(scenario))


def threats_for_pairs(scenario: Scenario, earth: Earth, pairs, warm: bool = True) -> FlownThreats:
    """Aim and fly the [coverage] pairs numbered `pairs`. `warm`: aimed in warm-start blocks
    (`aim_pairs`, the results of a coverage run); else each on its own (as a [[threats]] entry)."""
    request = request_for_pairs(scenario, pairs, warm=False)
    staged = isinstance(scenario.missiles[scenario.coverage.missile], StagedMissileType)
    if staged:  # warm starts of their own (threat/staged_warm.py)
        from shieldlab.threat.staged_warm import aim_staged_pairs

        aimed = aim_staged_pairs(scenario, earth, pairs) if warm else None
        return build(earth, scenario.missiles, request, staged_aimed=aimed)
    aimed = aim_pairs(scenario, earth, pairs) if warm else None
    return build(earth, scenario.missiles, request, aimed=aimed)


# Warm-start blocks of coverage pairs: pair numbers [k B, (k + 1) B), B chosen from the pair count
# alone. B is the chunk size of a serial run (coverage/run.py `choose_chunk_size`), so that a serial
# run aims whole blocks, each once.
WARM_BLOCK_MIN, WARM_BLOCK_MAX, WARM_BLOCKS_PER_RUN = 16, 1024, 8


def warm_block_size(n_pairs: int) -> int:
    """Pairs per warm-start block of a [coverage] of n_pairs pairs: about WARM_BLOCKS_PER_RUN blocks,
    at least WARM_BLOCK_MIN and at most WARM_BLOCK_MAX pairs."""
    return min(WARM_BLOCK_MAX, max(WARM_BLOCK_MIN, -(-int(n_pairs) // WARM_BLOCKS_PER_RUN)))


def aim_pairs(scenario: Scenario, earth: Earth, pairs) -> aim.AimSolution:
    """Aim the [coverage] pairs numbered `pairs` (any order, repeats allowed) exactly as a whole run
    aims them: in warm-start blocks of `warm_block_size` pairs, each aimed in levels (threat/aim.py
    `warm_levels`: Kepler starts at every 16th pair and the block's last, then starts interpolated
    between aimed neighbours of the block).

    A pair's start depends on the lower-level pairs of its block up to the nearest ones that hit,
    before and after it. So for the requested pairs of a block this aims, besides them, every
    lower-level pair between the nearest level-0 pairs around them that hit (or the block's ends):
    the results are those of the whole block, at a cost of a few pairs more when the request does
    not cover whole blocks (none when it does)."""
    cov = scenario.coverage
    n = layout(cov).n_pairs
    size = warm_block_size(n)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1)
    want, back = np.unique(pairs, return_inverse=True)
    mode = cov.trajectory.mode
    if want.size == 0:
        return aim.AimSolution(*(np.empty(0),) * 4, np.empty(0, bool))

    cache: dict = {}  # level-0 pair number -> its (cold) solution, as a 1-row AimSolution

    def cold(ks):
        ks = np.array(sorted({int(k) for k in ks} - cache.keys()), dtype=np.int64)
        if ks.size:
            sol = aim.solve(earth, _problem(scenario.missiles, request_for_pairs(scenario, ks, warm=False)), mode)
            for j, k in enumerate(ks):
                cache[int(k)] = aim.take(sol, slice(j, j + 1))

    def hits(k):
        return bool(cache[int(k)].ok[0])

    blocks = []  # (first pair, levels, level-0 offsets, window lo/hi as indices into them, wanted offsets)
    for b in np.unique(want // size):
        start = int(b) * size
        level = aim.warm_levels(min(size, n - start))
        t = want[(want >= start) & (want < start + size)] - start
        anchors = np.flatnonzero(level == 0) if level.max() > 0 else t  # all cold: only those wanted
        lo = int(np.searchsorted(anchors, t[0], "right")) - 1
        hi = int(np.searchsorted(anchors, t[-1], "left"))
        blocks.append([start, level, anchors, lo, hi, t])
    cold(k for start, _, anchors, lo, hi, _ in blocks for k in start + anchors[lo:hi + 1])
    step = 1
    while True:  # widen each window to level-0 pairs that hit (rarely needed: out-of-reach stretches)
        todo = []
        for bl in blocks:
            start, _, anchors, lo, hi, _ = bl
            if lo > 0 and not hits(start + anchors[lo]):
                todo += list(start + anchors[max(0, lo - step):lo])
            if hi < anchors.size - 1 and not hits(start + anchors[hi]):
                todo += list(start + anchors[hi + 1:hi + 1 + step])
        if not todo:
            break
        cold(todo)
        for bl in blocks:
            start, _, anchors, lo, hi, _ = bl
            while lo > 0 and not hits(start + anchors[lo]) and start + anchors[lo - 1] in cache:
                lo -= 1
            while hi < anchors.size - 1 and not hits(start + anchors[hi]) and start + anchors[hi + 1] in cache:
                hi += 1
            bl[3], bl[4] = lo, hi
        step *= 2

    ks, levels, ids = [], [], []
    for j, (start, level, anchors, lo, hi, t) in enumerate(blocks):
        w = np.arange(anchors[lo], anchors[hi] + 1)
        top = level.max()
        w = np.union1d(w[level[w] < top], t) if top > 0 else t
        ks.append(start + w)
        levels.append(level[w])
        ids.append(np.full(w.size, j))
    ks, levels, ids = np.concatenate(ks), np.concatenate(levels), np.concatenate(ids)
    known = levels == 0
    presolved = aim.AimSolution(*(np.concatenate([getattr(cache[int(k)], f) for k in ks[known]])
                                  for f in ("azimuth0_deg", "gamma_rad", "speed_m_s", "miss_m", "ok")))
    prob = _problem(scenario.missiles, request_for_pairs(scenario, ks, warm=False))
    sol = aim.solve_levels(earth, prob, mode, levels, ids, presolved=(known, presolved))
    return aim.take(sol, np.searchsorted(ks, want)[back])


def _problem(missiles: dict, q: ThreatRequest, ix=None) -> aim.AimProblem:
    """The aiming problem of threats ix (default: all) of a request; `missiles`: the types by name."""
    ix = np.arange(q.n) if ix is None else ix
    mis = [missiles[q.missile[i]] for i in ix]
    return aim.AimProblem(q.launch_lat_deg[ix], q.launch_lon_deg[ix], q.aim_lat_deg[ix], q.aim_lon_deg[ix],
                          np.array([m.burnout_range_m for m in mis], float),
                          np.array([m.burnout_altitude_m for m in mis], float),
                          speed_m_s=np.array([np.nan if m.burnout_speed_m_s is None else m.burnout_speed_m_s
                                              for m in mis], float),
                          gamma_rad=np.radians(q.gamma_deg[ix]))


def build(earth: Earth, missiles: dict, request: ThreatRequest,
          aimed: aim.AimSolution | None = None, staged_aimed=None) -> FlownThreats:
    """Aim every aimed threat of the request (by mode, all at once), then fly them all. `missiles`: the
    missile types by name. Threats that cannot be aimed get an `error` and NaN results. `aimed`: the
    aiming solution of every threat of the request, already computed (`aim_pairs`; burnout types).
    Threats of staged types are aimed and flown by threat/staged_build.py (`staged_aimed`: their aiming,
    threat/staged_warm.py `aim_staged_pairs`, when every threat of the request is of a staged type)."""
    q = request
    staged = np.array([isinstance(missiles[m], StagedMissileType) for m in q.missile], bool)
    if not staged.any():
        return _build_burnout(earth, missiles, q, aimed)
    from shieldlab.threat.staged_build import build_staged

    rows_b, rows_s = np.flatnonzero(~staged), np.flatnonzero(staged)
    if staged_aimed is not None and rows_s.size != q.n:
        raise ValueError("build: staged_aimed needs a request of staged threats only")
    parts = [(rows_s, build_staged(earth, missiles, q.take(rows_s), aimed=staged_aimed))]
    if rows_b.size:
        parts.append((rows_b, _build_burnout(earth, missiles, q.take(rows_b),
                                             None if aimed is None else aim.take(aimed, rows_b))))
    return merge(q.n, parts)


def _build_burnout(earth: Earth, missiles: dict, q: ThreatRequest, aimed) -> FlownThreats:
    """build() for threats of burnout types only."""
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
    groups: dict = {}
    for i in np.flatnonzero(np.isfinite(q.aim_lat_deg)):
        groups.setdefault(q.mode[i], []).append(i)
    for mode, members in groups.items():
        ix = np.array(members)
        if aimed is not None:
            sol = aim.take(aimed, ix)
        else:
            prob = _problem(missiles, q, ix)
            sol = aim.solve_warm(earth, prob, mode) if q.warm else aim.solve(earth, prob, mode)
        az0[ix], gam[ix], spd[ix] = sol.azimuth0_deg, sol.gamma_rad, sol.speed_m_s
        missed = ix[~sol.ok]
        if missed.size:
            _, dist_m = geodesic.inverse(earth, q.launch_lat_deg[missed], q.launch_lon_deg[missed],
                                         q.aim_lat_deg[missed], q.aim_lon_deg[missed])
            for i, d, miss_m in zip(missed, np.atleast_1d(dist_m), sol.miss_m[~sol.ok]):
                error[i] = _aim_error(mis[i], mode, q.gamma_deg[i], miss_m, d)
    batch = ThreatBatch(earth, q.launch_time_s, q.launch_lat_deg, q.launch_lon_deg, q.launch_alt_m, az0, t_bo, d_bo,
                        h_bo, spd, gam, error=tuple(error), aim_lat_deg=q.aim_lat_deg, aim_lon_deg=q.aim_lon_deg,
                        rcs_m2=np.array([m.rcs_m2 for m in mis], float),
                        rcs_boost_m2=np.array([m.boost_rcs_m2 for m in mis], float))
    return fly(batch)


def _or_nan(x):
    return float("nan") if x is None else x


def _aim_error(missile, mode: str, gamma_deg: float, miss_m: float, distance_m: float) -> str:
    if distance_m < missile.burnout_range_m:  # burnout lies beyond the aim point: no trajectory comes down there
        return (f"the aim point is too close for missile '{missile.name}': {distance_m / 1000:.0f} km from the "
                f"launch point, inside its burnout range ({missile.burnout_range_m / 1000:g} km)")
    how = f"with gamma = {gamma_deg:g} deg" if mode == "gamma" else f"on a {mode} trajectory"
    speed = (f" (burnout speed {missile.burnout_speed_m_s / 1000:g} km/s)"
             if mode in ("lofted", "depressed") and missile.burnout_speed_m_s else "")
    miss = f"; the closest solution found misses it by {miss_m / 1000:.0f} km" if np.isfinite(miss_m) else ""
    return f"the aim point is out of reach of missile '{missile.name}'{speed} {how}{miss}"


__all__ = ["ThreatRequest", "request_for_scenario", "request_for_pairs", "threats_for_scenario", "threats_for_pairs",
           "build", "aim_pairs", "warm_block_size"]
