"""The one place that decides whether kernels are compiled with numba.

SHIELDLAB_JIT=0 runs every kernel as plain Python (slow, for debugging and for running the test suite
on both paths). Compiled kernels are cached on disk (NUMBA_CACHE_DIR, or numba's default beside the
sources) so only the first run in a fresh environment pays the compile time.
"""

from __future__ import annotations

import os

ENABLED = os.environ.get("SHIELDLAB_JIT", "1") not in ("0", "false", "no")

if ENABLED:
    # With OpenMP's default (active) wait policy every parallel call here paid ~15 ms of wake-up
    # (measured on the 2-core machines); passive waiting costs microseconds.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # numba caches compiled kernels beside the sources; for a read-only install use the user's cache
    if "NUMBA_CACHE_DIR" not in os.environ and not os.access(os.path.dirname(__file__), os.W_OK):
        os.environ["NUMBA_CACHE_DIR"] = os.path.join(os.path.expanduser("~"), ".cache", "shieldlab", "numba")
    import numba

    def njit(*args, **kwargs):
        kwargs.setdefault("cache", True)
        kwargs.setdefault("fastmath", False)
        return numba.njit(*args, **kwargs)

    prange = numba.prange
else:  # pragma: no cover - exercised by SHIELDLAB_JIT=0 runs

    def njit(*args, **kwargs):
        if args and callable(args[0]):
            return args[0]
        return lambda f: f

    prange = range
