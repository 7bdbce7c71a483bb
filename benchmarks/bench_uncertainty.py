"""Speed of uncertainty runs (docs/models.md, Uncertainty): samples carried through the batch path, against the
same samples run one scenario at a time (`engage` of the scenario with each sample's values), in the same run.

    python benchmarks/bench_uncertainty.py                 # 2,000 samples (+ Saltelli's) of one threat, 3 batteries
    python benchmarks/bench_uncertainty.py --map --workers 2   # 1,000 coverage pairs x 500 samples on 2 processes

The batch time is that of shieldlab.api.uncertainty on bench_uncertainty.toml (or bench_uncertainty_map.toml with
--map), kernels compiled and loaded (a small warm-up run first), process start-up not included. The baseline
evaluates --baseline samples one at a time, each as its own scenario (shieldlab.uncertainty.keys.apply, then
shieldlab.api.engage; for --map, engage of --baseline-pairs pairs), and scales its time per evaluation to the
run's evaluations. Prints both, their ratio and the load average.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from shieldlab import api
from shieldlab.uncertainty import keys, run as urun

HERE = Path(__file__).resolve().parent


def _baseline_per_evaluation(sc, values, samples: int, pairs=None) -> float:
    """Seconds per (sample, threat or pair) of evaluating samples one scenario at a time."""
    vary = sc.uncertainty.vary
    t = time.perf_counter()
    for s in range(samples):
        one = keys.apply(sc, vary, [v[s] for v in values])
        api.engage(one) if pairs is None else api.engage(one, pairs=pairs)
    k = len(sc.threats) if pairs is None else len(pairs)
    return (time.perf_counter() - t) / (samples * k)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--map", action="store_true", help="the coverage probability map (1,000 pairs x 500 samples)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--baseline", type=int, default=10, help="samples run one at a time for the baseline")
    ap.add_argument("--baseline-pairs", type=int, default=16, help="pairs per baseline sample (--map)")
    ap.add_argument("--samples", type=int, default=None, help="override the file's samples")
    args = ap.parse_args()

    sc = api.load_scenario(HERE / ("bench_uncertainty_map.toml" if args.map else "bench_uncertainty.toml"))
    if args.samples:
        sc = replace(sc, uncertainty=replace(sc.uncertainty, samples=args.samples))
    warm = replace(sc, uncertainty=replace(sc.uncertainty, samples=8, sensitivity_samples=0))
    if args.map:
        warm = replace(warm, coverage=replace(warm.coverage, aim=replace(warm.coverage.aim, lat_max_deg=30.5,
                                                                           lon_max_deg=-109.0)))
    api.uncertainty(warm)  # kernels loaded (or compiled)
    n_eval = urun.evaluations(sc)
    t = time.perf_counter()
    res = api.uncertainty(sc, workers=args.workers)
    batch_s = time.perf_counter() - t
    values = urun.draws(sc)[0]
    pairs = np.arange(args.baseline_pairs) if args.map else None
    per = _baseline_per_evaluation(sc, values, args.baseline, pairs)
    base_s = per * n_eval
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{res!r}")
    print(f"evaluations (samples x {'pairs' if args.map else 'threats'}, each against {len(sc.batteries)} batteries): "
          f"{n_eval:,}; workers {args.workers}; load average {load}")
    print(f"batch path:         {batch_s:8.1f} s  ({n_eval / batch_s:,.0f} evaluations/s)")
    print(f"one at a time:      {base_s:8.1f} s  (extrapolated from {args.baseline} samples: {1e3 * per:.1f} ms each)")
    print(f"ratio:              {base_s / batch_s:8.1f} x")


if __name__ == "__main__":
    main()
