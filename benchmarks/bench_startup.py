"""Start-up time of the command line: wall time of `shieldlab engage` on a small scenario, in fresh processes.

    python benchmarks/bench_startup.py                   # 7 runs each, after one warm-up run
    python benchmarks/bench_startup.py --runs 15 --json  # more runs; the engage command with --json
    python benchmarks/bench_startup.py --compare ../old/src   # also another version's sources, in the same run

Each command runs as a new process of this interpreter (`python -m shieldlab ...`), in turn with the
baseline `python -c pass` (the interpreter's own start-up), so that all see the same load on a shared
machine. One warm-up run of each comes first and is not timed: it fills the OS file cache and, in a fresh
environment, compiles the numba kernels (about a minute, once; the compiled kernels are cached on disk).
Prints the median and the range of the wall time, and the median CPU time (user + system) of each, which
varies less than the wall time when other processes compete for the cores. The commands run with Python's
bytecode cache enabled (PYTHONDONTWRITEBYTECODE removed from their environment), as an installed package
runs. With --compare SRC, `shieldlab engage` is also timed with PYTHONPATH=SRC (e.g. a checkout of an
earlier version's src/ folder; it keeps its own compiled kernels).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "examples" / "kozelsk-washington.toml"
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall s, CPU s) of one run of cmd, which must succeed; its output is discarded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stderr.decode(errors='replace')}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="timed runs of each command (default 7)")
    ap.add_argument("--json", action="store_true", help="time `engage --json` instead of the table output")
    ap.add_argument("--scenario", type=Path, default=SCENARIO, help="scenario file (default: %(default)s)")
    ap.add_argument("--compare", type=Path, action="append", default=[], metavar="SRC",
                    help="also time `shieldlab engage` from these sources (PYTHONPATH=SRC); repeatable")
    args = ap.parse_args()

    engage = [sys.executable, "-m", "shieldlab", "engage", str(args.scenario)] + (["--json"] if args.json else [])
    label = "shieldlab engage " + args.scenario.name + (" --json" if args.json else "")
    # name: (command, environment)
    commands = {"python -c pass": ([sys.executable, "-c", "pass"], ENV), label: (engage, ENV)}
    for src in args.compare:
        commands[f"{label}  [{src}]"] = (engage, {**ENV, "PYTHONPATH": str(src.resolve())})
    for cmd, env in commands.values():  # warm-up: file cache, and the kernels' compile in a fresh environment
        _timed(cmd, env)
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
    for _ in range(args.runs):
        for name, (cmd, env) in commands.items():
            times[name].append(_timed(cmd, env))

    print(f"{args.runs} runs each after a warm-up, {os.cpu_count()} CPUs, load average "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    for name, ts in times.items():
        wall = [w for w, _ in ts]
        cpu = [c for _, c in ts]
        print(f"  {name:45s} wall median {statistics.median(wall):6.3f} s  (min {min(wall):.3f}, "
              f"max {max(wall):.3f})   CPU median {statistics.median(cpu):6.3f} s")


if __name__ == "__main__":
    main()
