"""The two paths of every compiled kernel: numba-compiled (the default) and plain Python (SHIELDLAB_JIT=0, where
shieldlab/_jit.py makes `njit` the identity and `prange` = `range`).

1. The tests marked `kernels` (pyproject.toml) run again in a subprocess with SHIELDLAB_JIT=0: all must pass,
   none may be skipped, and between them they must call every kernel (each function under @njit in the
   package's sources; tests/conftest.py records the calls).
2. A small engagement (the engagement-europe geometry of tests/scenarios.py), its threat's trajectory sampled
   every second, and the look-ups of a small flyout table are computed in this process (compiled) and in a
   SHIELDLAB_JIT=0 subprocess, and compared number by number.

numba compiles here without fastmath (kwargs.setdefault("fastmath", False) in _jit.py) and calls the same libm,
so the two paths should agree to rounding. Measured (numba 0.68.1, numpy 2.4.6, Python 3.11, x86-64): every
number bit for bit identical, the largest difference 0 in all 45 float arrays. The tolerances below are far
looser than that, and tight enough to catch a kernel that computes something else: times to a microsecond,
positions to a millimetre. Plain Python is slow: the subset takes ~20 s of CPU (31 tests; 35-55 s on the busy
2-core machine, most of it collecting the suite and two tests' fast-arc solves), the comparison ~10 s.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scenarios import EUROPE

import shieldlab

TESTS = Path(__file__).resolve().parent
PACKAGE = Path(shieldlab.__file__).resolve().parent
SUBPROCESS_GUARD_S = 600  # only a guard against a hung process; the subset takes ~20 s of CPU

# both paths, by the unit at the end of the name (longest suffix first)
TOLERANCE = {
    "_m_s": 1e-6,  # m/s
    "_rad": 1e-9,  # rad
    "_deg": 1e-8,  # deg (1e-8 deg of latitude ~ 1 mm)
    "_s": 1e-6,    # s
    "_m": 1e-3,    # m
}


def _plain_python_env(**more: str) -> dict[str, str]:
    env = dict(os.environ, SHIELDLAB_JIT="0", **more)
    env.pop("NUMBA_DISABLE_JIT", None)
    return env


def _compiled() -> bool:
    from shieldlab import _jit

    return _jit.ENABLED


def _kernels_in_sources() -> set[str]:
    """module.function of every function decorated with @njit or @njit(...) in the package's sources."""
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "_jit.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = ".".join(("shieldlab",) + path.relative_to(PACKAGE).with_suffix("").parts)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                for d in node.decorator_list:
                    target = d.func if isinstance(d, ast.Call) else d
                    if isinstance(target, ast.Name) and target.id == "njit":
                        found.add(f"{module}.{node.name}")
    return found


def test_the_kernel_list_is_found():
    """The source scan below sees the kernel families: free flight and its events, Hermite sampling, radar
    visibility, the fast-arc flyout solver, the flyout table look-up and the geodetic kernels."""
    kernels = _kernels_in_sources()
    for name in ("shieldlab.freeflight.fly", "shieldlab.freeflight._refine_event",
                 "shieldlab.threat._kernels.hermite_batch", "shieldlab.sensors.radar._first_visible_free",
                 "shieldlab.interceptor._fastarc.solve_batch", "shieldlab.interceptor.table._lookup",
                 "shieldlab.earth._kernels.geodetic_lat_alt"):
        assert name in kernels, f"{name} not found among the kernels {sorted(kernels)}"


def test_kernel_tests_pass_without_jit(tmp_path):
    calls = tmp_path / "kernel-calls.json"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "kernels",
                           str(TESTS)], capture_output=True, text=True, cwd=TESTS.parent, timeout=SUBPROCESS_GUARD_S,
                          env=_plain_python_env(SHIELDLAB_KERNEL_CALLS=str(calls)))
    assert proc.returncode == 0, f"the kernels subset with SHIELDLAB_JIT=0:\n{proc.stdout[-3000:]}\n{proc.stderr}"
    doc = json.loads(calls.read_text(encoding="utf-8"))
    assert doc["jit"] is False, "the subprocess ran the compiled kernels"
    outcomes = doc["outcomes"]
    assert len(outcomes) >= 20, f"too few tests marked `kernels` ran: {sorted(outcomes)}"
    not_passed = {test: outcome for test, outcome in outcomes.items() if outcome != "passed"}
    assert not not_passed, f"with SHIELDLAB_JIT=0 these did not pass (a skip counts): {not_passed}"
    kernels = _kernels_in_sources()
    missed = sorted(kernels - set(doc["called"]))
    assert not missed, f"no test marked `kernels` calls {missed}: mark one that does"


# ---- the same numbers both ways -------------------------------------------------------------------------------


def _arrays(obj, prefix: str) -> dict[str, np.ndarray]:
    out = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if dataclasses.is_dataclass(v):
            out.update(_arrays(v, f"{prefix}.{f.name}"))
        elif isinstance(v, np.ndarray):
            out[f"{prefix}.{f.name}"] = v
    return out


def numbers() -> dict[str, np.ndarray]:
    """Every number of engage(EUROPE), the threat's positions every second from launch to impact (the Hermite
    kernels), and the look-ups of a small flyout table at 200 points of its battery's reach."""
    from shieldlab.api import engage, load_scenario_text
    from shieldlab.earth import frames, geodesic
    from shieldlab.interceptor import table as tablemod
    from shieldlab.interceptor.flyout import Flyout
    from shieldlab.scenario.model import InterceptorType, Point

    res = engage(load_scenario_text(EUROPE, "europe.toml"))
    out = {}
    for part in ("flights", "detections", "engagements"):
        out.update(_arrays(getattr(res, part), part))
    th = res.threats
    n = int(th.node_count[0])
    out["nodes.time_s"] = th.nodes[0, :n, 0]
    out["nodes.r_ecef_m"] = th.nodes[0, :n, 1:4]
    out["nodes.v_ecef_m_s"] = th.nodes[0, :n, 4:7]
    t = np.arange(th.launch_time_s[0], th.impact_time_s[0], 1.0)
    out["track.r_ecef_m"] = th.position_ecef(np.zeros(t.size, int), t)

    fly = Flyout(res.earth, Point(44.05, 24.41), InterceptorType("slow", 40.0, 2500.0, 100e3, 300e3))
    table = tablemod.build(fly)
    rng = np.random.default_rng(5)
    lat, lon, _ = geodesic.direct(res.earth, 44.05, 24.41, rng.uniform(0, 360, 200), rng.uniform(50e3, 900e3, 200))
    tl = table.lookup(frames.geodetic_to_ecef(res.earth, lat, lon, rng.uniform(100e3, 300e3, 200)))
    out["table.time_s"], out["table.lower_s"], out["table.mixed"] = tl.time_s, tl.lower_s, tl.mixed
    out["table.arc_az_rad"], out["table.arc_el_rad"], out["table.arc_tau_s"] = tl.arc[:, 0], tl.arc[:, 1], tl.arc[:, 2]
    return {k: np.asarray(v) for k, v in out.items()}


def save_numbers(path: str) -> None:
    """numbers() into an .npz file (run by the test below in a SHIELDLAB_JIT=0 subprocess)."""
    np.savez(path, **{k: (v.astype(str) if v.dtype == object else v) for k, v in numbers().items()})


def _tolerance(key: str) -> float | None:
    return next((tol for suffix, tol in TOLERANCE.items() if key.endswith(suffix)), None)


def test_compiled_and_plain_python_give_the_same_numbers(tmp_path):
    if not _compiled():
        pytest.skip("this process runs with SHIELDLAB_JIT=0: there is no compiled path to compare")
    out = tmp_path / "plain.npz"
    code = (f"import sys; sys.path.insert(0, {str(TESTS)!r}); import test_jit_paths; "
            "test_jit_paths.save_numbers(sys.argv[1])")
    proc = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True,
                          timeout=SUBPROCESS_GUARD_S, env=_plain_python_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    compiled = numbers()
    with np.load(out) as f:
        plain = {k: f[k] for k in f.files}
    assert plain.keys() == compiled.keys()
    assert compiled["engagements.feasible"].all(), "test set-up: both batteries should engage"
    worst = {}
    for key, a in compiled.items():
        b = plain[key]
        assert a.shape == b.shape, key
        if a.dtype == object:
            assert a.astype(str).tolist() == b.tolist(), key
            continue
        if a.dtype.kind in "biu":
            assert np.array_equal(a, b), key
            continue
        tol = _tolerance(key)
        assert tol is not None, f"{key}: no tolerance for its unit"
        assert np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(np.isinf(a), np.isinf(b)), key
        finite = np.isfinite(a)
        worst[key] = float(np.abs(a[finite] - b[finite]).max(initial=0.0))
        assert worst[key] <= tol, f"{key}: compiled and plain Python differ by {worst[key]:.3g} (tolerance {tol})"
    print("largest differences, compiled vs SHIELDLAB_JIT=0:", json.dumps(worst, indent=1))
