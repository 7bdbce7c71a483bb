"""The one place that decides whether kernels are compiled with numba.

SHIELDLAB_JIT=0 runs every kernel as plain Python (slow, for debugging and for running the test suite
on both paths). Compiled kernels are cached on disk so only the first run in a fresh environment pays
the compile time: under NUMBA_CACHE_DIR, or the package's __pycache__, or (read-only installs) the
user's cache, in a folder named by a hash of the kernel sources (every module that compiles kernels,
and constants.py). numba checks only the file of each cached function, not the kernels it inlines
from other files; keying the folder on all kernel sources means an edited or upgraded shieldlab
never runs a stale compiled kernel, while editing the CLI or the output modules recompiles nothing.
CACHE_DIR is that folder; `on_first_compile` lets the command line say when a run compiles.

Start-up (benchmarks/bench_startup.py): a run that loads every kernel from the cache still pays for
importing numba and, at the first kernel call, for numba's set-up of its compiler (~0.3 s); see
`_defer_blas_probe` for the part of it avoided here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

ENABLED = os.environ.get("SHIELDLAB_JIT", "1") not in ("0", "false", "no")

if ENABLED:
    # With OpenMP's default (active) wait policy every parallel call here paid ~15 ms of wake-up
    # (measured on the 2-core machines); passive waiting costs microseconds.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import numba

    def _kernel_sources(pkg: Path) -> list[tuple[Path, bytes]]:
        """The sources a compiled kernel can depend on, with their contents: every module that compiles
        kernels (a kernel calls only other compiled kernels and reads module constants) and constants.py.
        Editing any other module (the CLI, output, reports) keeps the compiled cache."""
        files = [(f, f.read_bytes()) for f in sorted(pkg.rglob("*.py"))]
        files = [(f, text) for f, text in files if f.name == "constants.py" or b"njit" in text]
        return [x for x in files if x[0].name != "_jit.py"] + [x for x in files if x[0].name == "_jit.py"]

    def _cache_dir() -> str:
        pkg = Path(__file__).resolve().parent
        h = hashlib.sha1()
        for f, text in _kernel_sources(pkg):
            h.update(str(f.relative_to(pkg)).encode())
            h.update(text)
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

    CACHE_DIR = numba.config.CACHE_DIR = _cache_dir()
    _CACHE_IS_NEW = not os.path.isdir(CACHE_DIR)  # checked before this process compiles anything

    def _defer_blas_probe() -> None:
        """Import numba's array support without the scipy.linalg it probes for, and say that BLAS is there.

        numba's target set-up imports numba.np.arraymath, which imports scipy.linalg.cython_blas only to
        find out whether BLAS is available (for np.dot and np.linalg in kernels; shieldlab's kernels use
        neither). Importing scipy.linalg costs 0.2-0.3 s, most of it scipy's array-API layer importing
        numpy.f2py, in every run. Here that probe fails for the duration of this one import and the answer
        it would have given is recorded, so numba behaves exactly as before; a kernel that calls BLAS has
        scipy.linalg imported when it is compiled or first called, as numba does anyway. Nothing is done
        when numba's array support or scipy.linalg is already imported (no time to save)."""
        blas = "scipy.linalg.cython_blas"
        if "numba.np.arraymath" in sys.modules or blas in sys.modules:
            return
        import importlib.util

        try:
            available = importlib.util.find_spec("scipy.linalg") is not None
        except ImportError:  # no scipy at all: numba finds no BLAS either
            available = False
        sys.modules[blas] = None  # makes `import scipy.linalg.cython_blas` raise ImportError
        try:
            import numba.np.arraymath as arraymath
        finally:
            del sys.modules[blas]
        arraymath._HAVE_BLAS = available

    _defer_blas_probe()

    def njit(*args, **kwargs):
        kwargs.setdefault("cache", True)
        kwargs.setdefault("fastmath", False)
        # no check of every divisor before a division (numba's default "python" model tests each one, to raise
        # ZeroDivisionError): about 12 % less time per coverage pair, results bit-identical (benchmarks/bench.toml),
        # as no kernel divides by zero; one that did would get inf or NaN, as numpy does
        kwargs.setdefault("error_model", "numpy")
        return numba.njit(*args, **kwargs)

    prange = numba.prange

    def on_first_compile(callback) -> None:
        """Call callback(CACHE_DIR) once: now if the kernel cache folder for these sources did not exist when
        this process started, else just before the process first compiles a kernel (one not in the cache)."""
        from numba.core import event

        class _Once(event.Listener):
            called = False

            def on_start(self, ev):
                if not self.called:
                    self.called = True
                    callback(CACHE_DIR)

            def on_end(self, ev):
                pass

        listener = _Once()
        if _CACHE_IS_NEW:
            listener.on_start(None)
        event.register("numba:compile", listener)
else:  # pragma: no cover - exercised by SHIELDLAB_JIT=0 runs
    CACHE_DIR = None

    def njit(*args, **kwargs):
        if args and callable(args[0]):
            return args[0]
        return lambda f: f

    prange = range

    def on_first_compile(callback) -> None:
        """Never calls back: nothing is compiled with SHIELDLAB_JIT=0."""
