"""Run a coverage: pairs in chunks, optionally on local worker processes or a dask cluster.

`evaluate_chunk` is a pure function of (scenario, pair numbers) returning a CoverageResult of those
pairs, so chunks can run anywhere and results do not depend on where or in what order they ran;
`CoverageResult.concat` joins them. Each pair's records are also the same whatever other pairs are
evaluated with it: pairs are aimed in warm-start blocks fixed by the pair layout (threat/build.py
`aim_pairs`), so any split into chunks (serial, N workers, a dask cluster, any `chunk_size`) gives
identical records.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import signal
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

import numpy as np

from shieldlab.coverage.pairs import layout
from shieldlab.earth.model import Earth
from shieldlab.engagement.engage import evaluate_threats
from shieldlab.engagement.results import CoverageResult
from shieldlab.errors import ShieldlabError
from shieldlab.scenario.model import Scenario
from shieldlab.threat.build import WARM_BLOCKS_PER_RUN, threats_for_pairs

DEFAULT_CHUNK = 1024  # pairs per task at most (~10-30 MB of samples)
MIN_CHUNK = 16
# A chunk has a fixed cost of ~30 ms on top of its pairs' (the vectorised steps' Python bookkeeping, the aiming's
# levels): on benchmarks/bench.toml, 8,000 pairs on two workers took 7 % longer in 500-pair chunks than in
# 1,000-pair ones (13 % longer than in 2,000-pair ones). So few tasks per worker, enough to balance them and
# move a progress bar; and at least as many as a run has warm-start blocks (threat/build.py
# WARM_BLOCKS_PER_RUN), so that the chunks of a serial or a two-worker run are whole blocks, each aimed once.
TASKS_PER_WORKER = 4
CLUSTER_WORKERS = 8  # what chunk_size assumes of a dask cluster (its size is not known in advance)
TABLE_MIN_PAIRS = 64  # below this, exact scans cost less than building flyout tables
CONNECT_TIMEOUT_S = 10.0  # a dask scheduler must connect, answer the handshake and have a worker within this
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")  # dask's network transports (not inproc://)


class SchedulerError(ShieldlabError, ConnectionError):
    """A dask scheduler that cannot be used: a malformed address, nothing answering in time, something
    other than a dask scheduler answering, or a scheduler without workers."""


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the system has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def count_pairs(scenario: Scenario) -> int:
    """The number of (launch, aim) pairs of the scenario's [coverage] (0 without one)."""
    return 0 if scenario.coverage is None else layout(scenario.coverage).n_pairs


def choose_chunk_size(n_pairs: int, workers: int = 1, scheduler: str | None = None) -> int:
    """Pairs per task for a run of n_pairs: about TASKS_PER_WORKER tasks per worker (CLUSTER_WORKERS
    for a dask scheduler) and at least WARM_BLOCKS_PER_RUN tasks, at least MIN_CHUNK and at most
    DEFAULT_CHUNK pairs. With one or two workers, a chunk is a warm-start block (threat/build.py
    `warm_block_size`): the run aims each block once."""
    parallel = CLUSTER_WORKERS if scheduler else max(int(workers), 1)
    tasks = max(TASKS_PER_WORKER * parallel, WARM_BLOCKS_PER_RUN)
    return min(DEFAULT_CHUNK, max(MIN_CHUNK, math.ceil(n_pairs / tasks)))


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


def check_scheduler_address(address: str) -> str:
    """Check a dask scheduler address without connecting: one of dask's network schemes
    (SCHEDULER_SCHEMES; none means tcp://), a host and a port. Returns it; SchedulerError otherwise."""
    expected = "expected an address like tcp://host:8786 (schemes: " + ", ".join(
        f"{s}://" for s in SCHEDULER_SCHEMES) + ")"
    if "://" in address:
        scheme, where = address.split("://", 1)
        if scheme.lower() not in SCHEDULER_SCHEMES:
            raise SchedulerError(f"--scheduler {address!r}: {scheme}:// is not a dask scheduler scheme; {expected}")
    else:
        where = address
    host, sep, port = where.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SchedulerError(f"--scheduler {address!r}: no host and port (1-65535); {expected}")
    return address


def connect(address: str, timeout_s: float | None = None):
    """A dask Client of the scheduler at `address`, each step bounded by `timeout_s`: checked first
    (`check_scheduler_address`), then probed (a connection and dask's handshake: dask's own connect
    timeout does not cover the handshake, which waits for ever on a server that does not speak dask's
    protocol), then connected, then waited on for one worker (default timeout: CONNECT_TIMEOUT_S).
    SchedulerError on any failure."""
    timeout_s = CONNECT_TIMEOUT_S if timeout_s is None else timeout_s
    check_scheduler_address(address)
    try:
        from dask.distributed import Client
    except ImportError as e:
        raise SchedulerError(f"--scheduler needs dask.distributed: pip install 'shieldlab[dask]' ({e})") from None
    with _quiet_dask():
        _probe(address, timeout_s)
        try:
            client = Client(address, timeout=timeout_s)
        except Exception as e:  # noqa: BLE001 - whatever dask raises, one clear message
            raise SchedulerError(f"cannot use the dask scheduler at {address}: {_describe(e)}") from None
        try:
            client.wait_for_workers(1, timeout=timeout_s)
        except Exception as e:  # noqa: BLE001
            client.close()
            raise SchedulerError(f"the dask scheduler at {address} has no workers (waited {timeout_s:g} s): "
                                 f"{_describe(e)}") from None
    return client


def _probe(address: str, timeout_s: float) -> None:
    """Connect to `address` and complete dask's handshake within timeout_s, in a thread of its own (so
    that it works whether or not the caller runs an event loop); SchedulerError otherwise."""
    import asyncio

    from distributed.comm import connect as comm_connect
    from distributed.security import Security

    outcome: list = []

    async def handshake():
        comm = await comm_connect(address, timeout=timeout_s, **Security().get_connection_args("client"))
        await comm.close()

    def go():
        try:
            asyncio.run(asyncio.wait_for(handshake(), timeout_s))
            outcome.append(None)
        except BaseException as e:  # noqa: BLE001 - reported below
            outcome.append(e)

    worker = threading.Thread(target=go, name="shieldlab-scheduler-probe", daemon=True)
    worker.start()
    worker.join(timeout_s + 5.0)
    if not outcome:
        raise SchedulerError(f"the dask scheduler at {address} did not answer within {timeout_s:g} s")
    if outcome[0] is not None:
        e = outcome[0]
        if isinstance(e, (TimeoutError, asyncio.TimeoutError)):
            why = f"no dask handshake within {timeout_s:g} s (is it a dask scheduler?)"
        elif isinstance(e, (MemoryError, ValueError, TypeError, KeyError, IndexError, OverflowError)):
            why = f"it does not answer as a dask scheduler ({type(e).__name__}: {_describe(e)})"
        else:
            why = _describe(e)
        raise SchedulerError(f"cannot use the dask scheduler at {address}: {why}")


def _describe(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return (text[:300] + "…") if len(text) > 300 else (text or type(e).__name__)


@contextmanager
def _quiet_dask():
    """dask.distributed logs failed connections (with tracebacks) on stderr: the caller reports them."""
    import logging

    loggers = [logging.getLogger(n) for n in ("distributed", "tornado", "asyncio")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, lv in zip(loggers, levels):
            lg.setLevel(lv)


def run(scenario: Scenario, *, workers: int = 1, scheduler: str | None = None, chunk_size: int | None = None,
        progress=None, connect_timeout_s: float | None = None) -> CoverageResult:
    """Evaluate every pair. `chunk_size`: pairs per task (None: :func:`choose_chunk_size` of the pair count and
    the workers). `progress(done_pairs, total_pairs)` is called as chunks finish. `workers`: local processes,
    at most :func:`usable_cpus` and the number of chunks are started. `scheduler`: a dask scheduler address
    instead (:func:`connect`, each step bounded by `connect_timeout_s`, default CONNECT_TIMEOUT_S;
    SchedulerError when it cannot be used).

    Interrupted (KeyboardInterrupt, or any exception), the worker processes are stopped and the pending
    tasks cancelled before the exception propagates."""
    n = count_pairs(scenario)
    processes = 1 if scheduler else max(1, min(int(workers), usable_cpus()))
    size = choose_chunk_size(n, processes, scheduler) if chunk_size is None else chunk_size
    chunks = _chunks(n, size)
    processes = min(processes, len(chunks))
    timeout_s = CONNECT_TIMEOUT_S if connect_timeout_s is None else connect_timeout_s
    client = connect(scheduler, timeout_s) if scheduler else None  # before any computing
    try:
        tables = build_tables(scenario) if n >= TABLE_MIN_PAIRS else None
        parts: list = [None] * len(chunks)
        done = 0

        def finished(i, rec):
            nonlocal done
            parts[i] = rec
            done += len(chunks[i])
            if progress:
                progress(done, n)

        if client is not None:
            _run_dask(client, scenario, tables, chunks, finished)
        elif processes > 1:
            _run_local(processes, scenario, tables, chunks, finished)
        else:
            for i, c in enumerate(chunks):
                finished(i, evaluate_chunk(scenario, c, tables))
    finally:
        if client is not None:
            with _quiet_dask():
                client.close()
    return CoverageResult.concat(parts, scenario) if parts else CoverageResult.empty(scenario)


def _chunk_task(pairs, scenario, tables) -> CoverageResult:
    return evaluate_chunk(scenario, pairs, tables)


def _run_dask(client, scenario, tables, chunks, finished) -> None:
    run_tasks(_chunk_task, (scenario, tables), chunks, finished, client=client)


def _run_local(processes: int, scenario, tables, chunks, finished) -> None:
    run_tasks(_chunk_task, (scenario, tables), chunks, finished, processes=processes)


def run_tasks(fn, shared: tuple, items, finished, processes: int = 1, client=None) -> None:
    """`fn(item, *shared)` for every item, calling `finished(i, result)` as each finishes (in any order): in
    this process, on `processes` local worker processes, or on a dask `client`'s cluster (the shared
    arguments sent once to every worker; local workers, too, load `fn` and the shared arguments once each,
    when they start, from a temporary file removed after the run). `fn` must be a module-level function (it
    is pickled).

    Local workers are spawned, not forked: forking a process whose compiled kernels already started GNU
    OpenMP threads kills the children ("fork() called from a process already using GNU OpenMP"). They never
    see Ctrl-C (a terminal sends SIGINT to the whole process group; each worker would print its own
    traceback): this process stops them when it is interrupted. Interrupted (or failing), pending tasks are
    cancelled and the workers stopped before the exception propagates."""
    if client is not None:
        from dask.distributed import as_completed as dask_completed

        shared = tuple(client.scatter(a, broadcast=True) if a is not None else None for a in shared)
        futs = {client.submit(fn, item, *shared, pure=False): i for i, item in enumerate(items)}
        try:
            for fut in dask_completed(futs):
                finished(futs[fut], fut.result())
        except BaseException:
            client.cancel(list(futs))
            raise
        return
    if processes <= 1:
        for i, item in enumerate(items):
            finished(i, fn(item, *shared))
        return
    from concurrent.futures import as_completed

    # the shared arguments (flyout tables: megabytes) go through a file, not the worker's start-up pipe, which a
    # process starting a worker would hold for as long as the worker takes to read them (then Ctrl-C could
    # interrupt the start of a worker the pool does not know yet, and that worker would outlive the run)
    with tempfile.NamedTemporaryFile(prefix="shieldlab-task-", suffix=".pickle", delete=False) as f:
        pickle.dump((fn, shared), f, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        pool = ProcessPoolExecutor(max_workers=processes, initializer=_worker_init, initargs=(f.name,),
                                   mp_context=multiprocessing.get_context("spawn"))
        try:
            with _sigint_blocked():  # inherited by the worker processes, which start during submit
                futs = {pool.submit(_worker_call, item): i for i, item in enumerate(items)}
            for fut in as_completed(futs):
                finished(futs[fut], fut.result())
        except BaseException:
            _stop(pool)
            raise
        pool.shutdown()
    finally:
        os.unlink(f.name)


@contextmanager
def _sigint_blocked():
    """SIGINT blocked in this thread meanwhile: processes started meanwhile inherit the blocked mask (through
    fork and exec), so they never see Ctrl-C; a Ctrl-C meanwhile is not lost: another thread takes it, or
    it is delivered when unblocked. Where signal masks do not exist, SIGINT ignored (main thread only)."""
    if hasattr(signal, "pthread_sigmask"):
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
    elif threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
    else:
        yield


def _stop(pool: ProcessPoolExecutor, timeout_s: float = 10.0) -> None:
    """Cancel a pool's pending tasks and terminate its worker processes (running tasks are abandoned)."""
    if hasattr(pool, "terminate_workers"):  # Python >= 3.14
        pool.shutdown(wait=False, cancel_futures=True)
        pool.terminate_workers()
        return
    procs = list((getattr(pool, "_processes", None) or {}).values())  # (shutdown forgets them)
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout_s)


_WORKER_TASK: tuple = ()  # a local worker process's (fn, shared arguments), loaded once when it starts


_TASKS_DONE = 0  # tasks this worker process has finished


def _worker_call(item):
    global _TASKS_DONE
    if _TASKS_DONE == 1:  # the second task: the first one's result has gone back to the parent by now
        freeze_worker()
    fn, shared = _WORKER_TASK
    out = fn(item, *shared)
    _TASKS_DONE += 1
    return out


def freeze_worker() -> None:
    """Called once in a worker process, after its first task: move every object that exists then (the
    imports, the compiled kernels the task loaded, the shared arguments) out of the garbage collector's
    sight (gc.freeze). Full collections otherwise went through those ~110,000 long-lived objects every
    chunk or two, 31-34 ms each time (timed with gc.callbacks: one per 2,000 pairs of
    benchmarks/bench.toml, about 5 % of their evaluation, below the benchmark's run-to-run spread); what
    later tasks make is collected as before. Worker processes only: a library user's own process is
    never frozen."""
    import gc

    gc.freeze()


def _worker_init(task_file: str | None = None) -> None:
    """A local worker's function and shared arguments (`_worker_call`), from the run's file (None: none, for a
    pool that submits its own functions, as the benchmarks' do); one compiled-kernel
    thread per worker process: the processes are the parallelism. (Setting NUMBA_NUM_THREADS here would be too
    late: numba has read it on import.) And the heap kept, and Ctrl-C ignored (the parent process stops the
    workers)."""
    global _WORKER_TASK
    if task_file is not None:
        with open(task_file, "rb") as f:
            _WORKER_TASK = pickle.load(f)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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
