"""Speed of staged threats (docs/models.md, The staged model): one staged threat's `engage` computation, and
coverage pairs of a staged min-energy missile beside the burnout model's, measured in one run.

    python benchmarks/bench_staged.py                         # 1,000 pairs of each, 2 worker processes
    python benchmarks/bench_staged.py --pairs 2000 --workers 2 --repeat 3   # the README's figures

The engage time is that of shieldlab.api.engage on the one [[threats]] entry of bench_staged.toml (kernels
compiled and loaded, process start-up not included), the median of --engage-runs runs. The coverage times are
those of `--pairs` contiguous pairs (as a coverage run evaluates them: neighbours warm-start each other),
evaluated in chunks as a coverage run cuts them, on --workers processes started and warmed up before the clock
starts; the staged scenario is bench.toml with the catalog's staged ss-27-class as the coverage missile. Since
timings on a shared machine vary, both are also counted in work: staged flights (the compiled ascent + free
flight of one trajectory) and the workers' CPU time per pair (the pairs/min that CPU time gives on free cores);
the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

from shieldlab import api
from shieldlab.api import load_scenario
from shieldlab.coverage import run as cov
from shieldlab.coverage.pairs import layout
from shieldlab.threat import _staged_kernels as K

from bench_coverage import warm_up  # (this folder is on the path when the script runs)

HERE = Path(__file__).resolve().parent
STAGED = HERE / "bench_staged.toml"
BURNOUT = HERE / "bench.toml"

_COUNT = {"flights": 0}
_fly_batch = K.fly_batch


def _counted(*args):
    _COUNT["flights"] += args[0].shape[0]
    return _fly_batch(*args)


def _warm_worker(sc, tables):
    cov._worker_init()
    K.fly_batch = _counted
    warm_up(sc, tables)  # pairs spread over the coverage: every kernel the timed pairs call, loaded
    cov.freeze_worker()  # as a coverage run's worker does after its first task


def _noop(_):
    time.sleep(0.2)  # long enough that every worker takes one


def _evaluate(sc, chunk, tables):
    """evaluate_chunk, with the staged flights it took and the CPU time of its process (s)."""
    _COUNT["flights"] = 0
    t = time.process_time()
    res = cov.evaluate_chunk(sc, chunk, tables)
    return res, _COUNT["flights"], time.process_time() - t


def _pairs_per_min(sc, n, workers, start):
    """Pairs per minute of n contiguous pairs from `start` on `workers` processes (wall clock), staged flights per
    pair, and CPU seconds per pair (summed over the workers: on a loaded machine, 60 * workers / CPU per pair is
    what the workers would do on free cores)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    tables = cov.build_tables(sc)
    idx = np.arange(start, start + n)
    size = cov.choose_chunk_size(n, workers)  # as a coverage run of n pairs cuts them
    chunks = np.array_split(idx, max(1, -(-n // size)))
    with ProcessPoolExecutor(workers, initializer=_warm_worker, initargs=(sc, tables),
                             mp_context=multiprocessing.get_context("spawn")) as ex:
        list(ex.map(_noop, range(workers)))  # wait until the workers are up
        t = time.perf_counter()
        out = list(ex.map(_evaluate, [sc] * len(chunks), chunks, [tables] * len(chunks)))
        dt = time.perf_counter() - t
    return 60.0 * n / dt, sum(f for _, f, _ in out) / n, sum(c for _, _, c in out) / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=1000, help="contiguous pairs of each scenario")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1, help="coverage measurements of each (alternating)")
    ap.add_argument("--engage-runs", type=int, default=7)
    a = ap.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    sc = load_scenario(STAGED)
    api.engage(sc)  # compile / load the kernels
    K.fly_batch = _counted
    times = []
    for _ in range(a.engage_runs):
        _COUNT["flights"] = 0
        t = time.perf_counter()
        res = api.engage(sc)
        times.append(time.perf_counter() - t)
    fl = res.flights
    print(f"staged engage ({sc.threats[0].missile}, {fl.cutoff_s[0]:.1f} s cut-off, "
          f"{fl.ground_range_m[0] / 1e3:.0f} km): "
          f"{statistics.median(times):.3f} s median ({min(times):.3f}-{max(times):.3f} s, {a.engage_runs} runs), "
          f"{_COUNT['flights']} staged flights")
    K.fly_batch = _fly_batch

    burn = load_scenario(BURNOUT)
    n_all = layout(sc.coverage).n_pairs
    start = n_all // 4  # kozelsk towards the middle of the grid: every pair within the staged missile's reach
    n = min(a.pairs, n_all - start)
    for _ in range(a.repeat):
        for name, s in (("staged min-energy", sc), ("burnout min-energy", burn)):
            ppm, fpp, cpu = _pairs_per_min(s, n, a.workers, start)
            work = f", {fpp:.1f} staged flights per pair" if fpp else ""
            print(f"coverage, {name}: {ppm:,.0f} pairs/min wall ({n} contiguous pairs, {a.workers} worker(s){work}); "
                  f"CPU {cpu * 1e3:.2f} ms per pair, i.e. {60.0 * a.workers / cpu:,.0f} pairs/min on {a.workers} free "
                  "cores")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
