"""Warm-started aiming of [coverage] pairs of a staged missile type (docs/models.md, The staged model), the
staged twin of threat/build.py `aim_pairs`.

The pairs are aimed in the warm-start blocks of build.py (`warm_block_size` pairs, fixed by the pair count), in
the levels of threat/aim.py `warm_levels`: level 0 (every 16th pair of a block and its last) from scratch, every
other pair from the solutions of its two *dependencies*, the nearest pairs of a lower level before and after it
in its block (interpolated between them when its aim point lies between theirs, else the nearer one's; only
those that hit and share its launch point). The dependencies are fixed by the layout alone, not by which pairs
hit, so a pair's aiming is a function of the scenario and its pair number: whatever pairs are evaluated with
it (how a run is split into chunks, or which worker runs them), its own dependencies, theirs, ... are aimed
too, the same way. A warm start that does not hit is aimed again from scratch (staged_aim.solve), so warm
starts change the work, not which aim points are reached.
"""

from __future__ import annotations

import numpy as np

from shieldlab.coverage.pairs import layout
from shieldlab.earth import geodesic
from shieldlab.earth.model import Earth
from shieldlab.scenario.model import Scenario
from shieldlab.threat import aim, staged_aim

BETWEEN_REL_TOL = aim.BETWEEN_REL_TOL  # an aim point is between two others if the detour through it is below 1 %
STRIDES = (64, 16, 4)  # aim.warm_levels' strides: a staged pair aimed from scratch costs ~4 warm ones
_FIELDS = staged_aim._AIM_FIELDS


def _dependencies(level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each offset of a block with these levels: the nearest offsets of a lower level before and after it
    (-1 where there is none, and for level 0)."""
    n = level.size
    before = np.full(n, -1, np.int64)
    after = np.full(n, -1, np.int64)
    for o in np.flatnonzero(level > 0):
        lower = np.flatnonzero(level < level[o])
        k = np.searchsorted(lower, o)
        if k > 0:
            before[o] = lower[k - 1]
        if k < lower.size:
            after[o] = lower[k]
    return before, after


def aim_staged_pairs(scenario: Scenario, earth: Earth, pairs) -> staged_aim.StagedAim:
    """Aim the [coverage] pairs numbered `pairs` (any order, repeats allowed; the coverage missile is a staged
    type) exactly as a whole run aims them (see the module's docstring): their dependencies are aimed with
    them, a few pairs more where the request does not cover whole blocks."""
    from shieldlab.threat.build import request_for_pairs, warm_block_size
    from shieldlab.threat.staged_build import aim_staged

    cov = scenario.coverage
    lay = layout(cov)
    n = lay.n_pairs
    size = warm_block_size(n)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1)
    want, back = np.unique(pairs, return_inverse=True)
    blocks: dict = {}  # block start -> (levels, before, after)

    def block_of(p):
        start = int(p) // size * size
        if start not in blocks:
            level = aim.warm_levels(min(size, n - start), STRIDES)
            blocks[start] = (level,) + _dependencies(level)
        return start, blocks[start]

    # every pair needed: the wanted ones and, recursively, their dependencies
    need: dict = {}  # pair -> (level, before pair or -1, after pair or -1)
    stack = [int(p) for p in want]
    while stack:
        p = stack.pop()
        if p in need:
            continue
        start, (level, before, after) = block_of(p)
        o = p - start
        deps = tuple(start + int(x) if x >= 0 else -1 for x in (before[o], after[o]))
        need[p] = (int(level[o]),) + deps
        stack += [d for d in deps if d >= 0 and d not in need]
    ks = np.array(sorted(need), np.int64)
    lv = np.array([need[int(k)][0] for k in ks], np.int64)
    dep = np.array([need[int(k)][1:] for k in ks], np.int64).reshape(-1, 2)
    q = request_for_pairs(scenario, ks, warm=False)
    out = {f: np.full(ks.size, np.nan) for f in _FIELDS}
    reason: list = [None] * ks.size
    solved = np.zeros(ks.size, bool)
    geo_az, _ = geodesic.inverse(earth, q.launch_lat_deg, q.launch_lon_deg, q.aim_lat_deg, q.aim_lon_deg)
    geo_az = np.atleast_1d(geo_az)
    for level in range(int(lv.max(initial=0)) + 1):
        ix = np.flatnonzero(lv == level)
        if ix.size == 0:
            continue
        guess = None
        if level > 0:
            guess = _guess(earth, q, out, reason, solved, ks, ix, dep[ix], geo_az)
        sol = aim_staged(earth, scenario.missiles, q.take(ix), guess)
        for f in _FIELDS:
            out[f][ix] = staged_aim._col(sol, f, ix.size)
        for j, i in enumerate(ix):
            reason[i] = sol.reason[j]
        solved[ix] = True
    rows = np.searchsorted(ks, want)[back]
    return staged_aim.StagedAim(*(out[f][rows] for f in _FIELDS[:5]), tuple(reason[i] for i in rows),
                                *(out[f][rows] for f in _FIELDS[5:]))


def _guess(earth, q, out, reason, solved, ks, ix, dep, geo_az) -> staged_aim.StagedGuess:
    """Starting values of rows ix from their dependencies (pair numbers dep (k, 2): before, after; -1: none): the
    solution of those that hit; the kick of the maximum range also from those beyond reach (it seeds the cold
    search of a pair that is out of reach too)."""
    pos = np.searchsorted(ks, np.maximum(dep, 0))
    exists = (dep >= 0) & solved[pos]
    hit = exists & np.array([reason[p] is None for p in pos.ravel()], bool).reshape(pos.shape)
    has_kmax = exists & np.isfinite(out["max_range_kick_deg"][pos])
    b, a = pos[:, 0], pos[:, 1]
    def same(j):
        return ((q.launch_lat_deg[j] == q.launch_lat_deg[ix]) & (q.launch_lon_deg[j] == q.launch_lon_deg[ix])
                & (q.launch_alt_m[j] == q.launch_alt_m[ix]))

    same_b, same_a = same(b), same(a)
    _, d_bi = geodesic.inverse(earth, q.aim_lat_deg[b], q.aim_lon_deg[b], q.aim_lat_deg[ix], q.aim_lon_deg[ix])
    _, d_ia = geodesic.inverse(earth, q.aim_lat_deg[ix], q.aim_lon_deg[ix], q.aim_lat_deg[a], q.aim_lon_deg[a])
    _, d_ba = geodesic.inverse(earth, q.aim_lat_deg[b], q.aim_lon_deg[b], q.aim_lat_deg[a], q.aim_lon_deg[a])
    w = d_bi / np.maximum(d_bi + d_ia, 1e-9)  # 0 at b, 1 at a
    off = (out["azimuth0_deg"] - geo_az + 180.0) % 360.0 - 180.0  # relative to the geodesic azimuth

    def interpolate(x, ok):
        has_b, has_a = ok[:, 0] & same_b, ok[:, 1] & same_a
        between = has_b & has_a & (d_bi + d_ia <= (1.0 + BETWEEN_REL_TOL) * d_ba)
        near = np.where(has_b & (~has_a | (d_bi <= d_ia)), b, a)
        x_ix = np.where(between, (1.0 - w) * x[b] + w * x[a], x[near])
        return np.where(has_b | has_a, x_ix, np.nan)

    return staged_aim.StagedGuess(*(interpolate(x, hit) for x in (off, out["kick_deg"], out["cutoff_s"])),
                                  interpolate(out["max_range_kick_deg"], has_kmax),
                                  *(interpolate(out[f], hit) for f in ("range_curvature", "range_rate_m_s")))
