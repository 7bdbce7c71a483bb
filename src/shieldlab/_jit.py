"""The one place that decides whether kernels are compiled with numba.

SHIELDLAB_JIT=0 runs every kernel as plain Python (slow, for debugging and for running the test suite
on both paths). Compiled kernels are cached on disk so only the first run in a fresh environment pays
the compile time: under NUMBA_CACHE_DIR, or the package's __pycache__, or (read-only installs) the
user's cache, in a folder named by a hash of the kernel sources (every module that compiles kernels,
and constants.py). numba checks only the file of each cached function, not the kernels it inlines
from other files; keying the folder on all kernel sources means an edited or upgraded shieldlab
never runs a stale compiled kernel, while editing the CLI or the output modules recompiles nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

ENABLED = os.environ.get("SHIELDLAB_JIT", "1") not in ("0", "false", "no")

if ENABLED:
    # With OpenMP's default (active) wait policy every parallel call here paid ~15 ms of wake-up
    # (measured on the 2-core machines); passive waiting costs microseconds.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import numba

    def _kernel_sources(pkg: Path) -> list[Path]:
        """The sources a compiled kernel can depend on: every module that compiles kernels (a kernel
        calls only other compiled kernels and reads module constants) and constants.py. Editing any
        other module (the CLI, output, reports) keeps the compiled cache."""
        files = [f for f in sorted(pkg.rglob("*.py")) if f.name == "constants.py" or "njit" in f.read_text("utf-8")]
        return [f for f in files if f.name != "_jit.py"] + [pkg / "_jit.py"]

    def _cache_dir() -> str:
        pkg = Path(__file__).resolve().parent
        h = hashlib.sha1()
        for f in _kernel_sources(pkg):
            h.update(str(f.relative_to(pkg)).encode())
            h.update(f.read_bytes())
        name = "src-" + h.hexdigest()[:16]
        if os.environ.get("NUMBA_CACHE_DIR"):
            return os.path.join(os.environ["NUMBA_CACHE_DIR"], name)
        if os.access(pkg, os.W_OK):
            base = pkg / "__pycache__" / "numba"
            if base.is_dir():  # this checkout's kernels compiled from older sources: not needed again
                for old in base.glob("src-*"):
                    if old.name != name:
                        shutil.rmtree(old, ignore_errors=True)
            return str(base / name)
        return os.path.join(os.path.expanduser("~"), ".cache", "shieldlab", "numba", name)

    numba.config.CACHE_DIR = _cache_dir()

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
