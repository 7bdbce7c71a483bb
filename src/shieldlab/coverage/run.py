"""Run a coverage: pairs in chunks, optionally on local worker processes or a dask cluster.

`evaluate_chunk` is a pure function of (scenario, pair numbers) returning flat records, so chunks
can run anywhere and results do not depend on where or in what order they ran.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from shieldlab.coverage.pairs import PairLayout, layout
from shieldlab.earth.model import Earth
from shieldlab.engagement.engage import evaluate_threats
from shieldlab.engagement.records import concat, flatten
from shieldlab.scenario.model import Scenario
from shieldlab.threat.build import build_threats

DEFAULT_CHUNK = 1024  # pairs per task: large enough that per-call overheads vanish (~10-30 MB of samples)
TABLE_MIN_PAIRS = 64  # below this, exact scans cost less than building flyout tables


@dataclass
class CoverageResult:
    scenario: Scenario
    layout: PairLayout
    records: dict  # flat records, one row per pair, in pair order


def build_tables(scenario: Scenario) -> list:
    """One flyout table per battery (interceptor/table.py), shared by every chunk."""
    from shieldlab.engagement.engage import battery_flyout
    from shieldlab.interceptor.table import build

    earth = Earth.from_spec(scenario.earth)
    return [build(battery_flyout(scenario, earth, b)) for b in scenario.batteries]


def evaluate_chunk(scenario: Scenario, pairs: np.ndarray, tables=None) -> dict:
    """Flat records of the given pair numbers (with `tables`, scans use them; same results to the
    refinement tolerance)."""
    cov = scenario.coverage
    lay = layout(cov)
    li, ai = lay.pair(pairs)
    earth = Earth.from_spec(scenario.earth)
    n = li.size
    launch = lay.launch
    mode = cov.trajectory.mode
    g = cov.trajectory.gamma_deg if cov.trajectory.gamma_deg is not None else np.nan
    threats = build_threats(
        earth, scenario.missiles, [cov.missile] * n, [launch[i].lat_deg for i in li], [launch[i].lon_deg for i in li],
        [launch[i].alt_m for i in li], lay.aim_lat_deg[ai], lay.aim_lon_deg[ai], np.full(n, cov.launch_time_s),
        mode, np.full(n, g), np.full(n, np.nan), warm=True)
    det, track, wins = evaluate_threats(scenario, earth, threats, tables)
    return flatten(threats, lay.aim_lat_deg[ai], lay.aim_lon_deg[ai], det, track, wins)


def _chunks(n: int, size: int):
    return [np.arange(s, min(s + size, n)) for s in range(0, n, size)]


def run(scenario: Scenario, *, workers: int = 1, scheduler: str | None = None, chunk_size: int = DEFAULT_CHUNK,
        progress=None) -> CoverageResult:
    """Evaluate every pair. `progress(done_pairs, total_pairs)` is called as chunks finish."""
    lay = layout(scenario.coverage)
    n = lay.n_pairs
    chunks = _chunks(n, chunk_size)
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
    return CoverageResult(scenario, lay, concat(parts) if parts else {})


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
