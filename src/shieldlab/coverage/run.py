"""Run a coverage: pairs in chunks, optionally on local worker processes or a dask cluster.

`evaluate_chunk` is a pure function of (scenario, pair numbers) returning a CoverageResult of those
pairs, so chunks can run anywhere and results do not depend on where or in what order they ran;
`CoverageResult.concat` joins them.
"""

from __future__ import annotations

import math

import numpy as np

from shieldlab.coverage.pairs import layout
from shieldlab.earth.model import Earth
from shieldlab.engagement.engage import evaluate_threats
from shieldlab.engagement.results import CoverageResult
from shieldlab.scenario.model import Scenario
from shieldlab.threat.build import threats_for_pairs

DEFAULT_CHUNK = 1024  # pairs per task: large enough that per-call overheads vanish (~10-30 MB of samples)
MIN_CHUNK = 16
TASKS_PER_WORKER = 8  # balanced between workers, and a progress bar that moves
CLUSTER_WORKERS = 8  # what chunk_size assumes of a dask cluster (its size is not known in advance)
TABLE_MIN_PAIRS = 64  # below this, exact scans cost less than building flyout tables


def count_pairs(scenario: Scenario) -> int:
    """The number of (launch, aim) pairs of the scenario's [coverage] (0 without one)."""
    return 0 if scenario.coverage is None else layout(scenario.coverage).n_pairs


def choose_chunk_size(n_pairs: int, workers: int = 1, scheduler: str | None = None) -> int:
    """Pairs per task for a run of n_pairs: about TASKS_PER_WORKER tasks per worker (CLUSTER_WORKERS
    for a dask scheduler), at least MIN_CHUNK and at most DEFAULT_CHUNK pairs."""
    parallel = CLUSTER_WORKERS if scheduler else max(int(workers), 1)
    return min(DEFAULT_CHUNK, max(MIN_CHUNK, math.ceil(n_pairs / (TASKS_PER_WORKER * parallel))))


def build_tables(scenario: Scenario) -> list:
    """One flyout table per battery (interceptor/table.py), shared by every chunk."""
    from shieldlab.engagement.engage import battery_flyout
    from shieldlab.interceptor.table import build

    earth = Earth.from_spec(scenario.earth)
    return [build(battery_flyout(scenario, earth, b)) for b in scenario.batteries]


def evaluate_chunk(scenario: Scenario, pairs: np.ndarray, tables=None) -> CoverageResult:
    """The result of the given pair numbers (with `tables`, scans use them; same results to the
    refinement tolerance)."""
    pairs = np.array(pairs, dtype=np.int64)  # a copy: the result's is read-only
    earth = Earth.from_spec(scenario.earth)
    threats = threats_for_pairs(scenario, earth, pairs, warm=True)
    return CoverageResult(scenario, pairs, **evaluate_threats(scenario, earth, threats, tables))


def _chunks(n: int, size: int):
    return [np.arange(s, min(s + size, n)) for s in range(0, n, size)]


def run(scenario: Scenario, *, workers: int = 1, scheduler: str | None = None, chunk_size: int | None = None,
        progress=None) -> CoverageResult:
    """Evaluate every pair. `chunk_size`: pairs per task (None: :func:`choose_chunk_size` of the pair count and
    the workers). `progress(done_pairs, total_pairs)` is called as chunks finish."""
    n = count_pairs(scenario)
    size = choose_chunk_size(n, workers, scheduler) if chunk_size is None else chunk_size
    chunks = _chunks(n, size)
    tables = build_tables(scenario) if n >= TABLE_MIN_PAIRS else None
    parts: list = [None] * len(chunks)
    done = 0

    def finished(i, rec):
        nonlocal done
        parts[i] = rec
        done += len(chunks[i])
        if progress:
            progress(done, n)

    if scheduler:
        from dask.distributed import Client, as_completed

        with Client(scheduler) as client:
            sc = client.scatter(scenario, broadcast=True)
            tb = client.scatter(tables, broadcast=True) if tables is not None else None
            futs = {client.submit(evaluate_chunk, sc, c, tb, pure=False): i for i, c in enumerate(chunks)}
            for fut in as_completed(futs):
                finished(futs[fut], fut.result())
    elif workers > 1:
        import multiprocessing  # here, not at the top: `shieldlab engage` starts ~15 ms sooner
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: forking a process whose compiled kernels already started GNU OpenMP threads
        # kills the children ("fork() called from a process already using GNU OpenMP")
        with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init,
                                 mp_context=multiprocessing.get_context("spawn")) as ex:
            futs = {ex.submit(evaluate_chunk, scenario, c, tables): i for i, c in enumerate(chunks)}
            from concurrent.futures import as_completed as done_iter

            for fut in done_iter(futs):
                finished(futs[fut], fut.result())
    else:
        for i, c in enumerate(chunks):
            finished(i, evaluate_chunk(scenario, c, tables))
    return CoverageResult.concat(parts, scenario) if parts else CoverageResult.empty(scenario)


def _worker_init():
    """One compiled-kernel thread per worker process: the processes are the parallelism. (Setting
    NUMBA_NUM_THREADS here would be too late: numba has read it on import.) And the heap kept."""
    from shieldlab import _jit

    if _jit.ENABLED:
        import numba

        numba.set_num_threads(1)
    keep_heap()


def keep_heap():
    """Let glibc serve every chunk's large temporary arrays from a heap it keeps, instead of fresh
    memory mappings returned after each chunk: re-faulting tens of MB of pages per chunk cost ~10 %
    with two workers on the 2-core machines (benchmarks/bench_coverage.py). A worker's memory then
    stays at its largest chunk's (~100-300 MB). No effect off glibc."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 1 << 30)
        libc.mallopt(m_trim_threshold, 1 << 30)
    except (OSError, AttributeError):
        pass
