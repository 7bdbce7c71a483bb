"""An uncertainty run: draw the samples, evaluate them in tasks (here, on local worker processes or on a dask
cluster), and gather an UncertaintyResult.

The draws are made here, before any task, from the scenario's seed alone; tasks are fixed blocks of samples (and,
for a [coverage], of pairs) chosen from the counts alone. So the same file and seed give identical numbers
however the run is spread (serial, `workers`, a dask cluster).
"""

from __future__ import annotations

import numpy as np

from shieldlab.errors import Problem, ScenarioError, MISSING
from shieldlab.scenario.model import Scenario
from shieldlab.uncertainty import sampling
from shieldlab.uncertainty.evaluate import SampleResults, evaluate, speed_grids
from shieldlab.uncertainty.results import UncertaintyResult

SAMPLE_BLOCK = 256  # samples per task of a run over [[threats]], at least
MAX_SAMPLE_BLOCK = 2048
TASKS = 8  # tasks a run over [[threats]] is cut into, about (enough for a progress bar and a few workers)
ROWS_PER_TASK = 2048  # (pairs x samples) per task of a [coverage] uncertainty run, about: bounded memory
MAX_SERIAL_EVALUATIONS = 1_000_000  # more engagements than one process should run (about 20 min or more)


def runs_over_pairs(scenario) -> bool:
    """Whether an uncertainty run of the scenario goes over its [coverage] pairs (it has no [[threats]])."""
    return scenario.coverage is not None and not scenario.threats


def evaluations(scenario) -> int:
    """The engagements (samples x threats or pairs) an uncertainty run of the scenario evaluates, each against
    every battery: the random samples and Saltelli's N (D + 2)."""
    from shieldlab.coverage.run import count_pairs
    from shieldlab.uncertainty.sampling import saltelli_base

    u = scenario.uncertainty
    d = len(u.vary)
    n = u.samples + (saltelli_base(u.sensitivity_samples) * (d + 2) if d else 0)
    return n * (count_pairs(scenario) if runs_over_pairs(scenario) else len(scenario.threats))


def require_uncertainty(scenario: Scenario) -> None:
    """Raise ScenarioError (naming the file) when the scenario has no [uncertainty] table."""
    if scenario.uncertainty is None:
        raise ScenarioError([Problem(
            scenario.source or scenario.name, "", "uncertainty", MISSING,
            "an [uncertainty] table (samples, seed, vary = [{ key = ..., normal/uniform/triangular/choice = ... }])"
            " to run an uncertainty analysis")])


def draws(scenario: Scenario):
    """(values, sobol_values, base): per varied quantity its `samples` random draws, and its values at the
    rows of Saltelli's scheme with base N `base` (0 and empty when no sensitivity samples are asked for)."""
    spec = scenario.uncertainty
    vary = spec.vary
    values = sampling.sample_values(vary, sampling.unit_draws(len(vary), spec.samples, spec.seed))
    base = sampling.saltelli_base(spec.sensitivity_samples) if vary else 0
    if base:
        sobol_values = sampling.sample_values(vary, sampling.saltelli_draws(vary, base, spec.seed))
    else:
        sobol_values = [np.empty(0, dtype=v.dtype) for v in values]
    return values, sobol_values, base


def _task(item, scenario, values, grids=None):
    """One task: samples lo..hi of the concatenated draws against pairs (None: the [[threats]])."""
    (lo, hi), pairs = item
    return evaluate(scenario, scenario.uncertainty.vary, [v[lo:hi] for v in values], pairs, grids)


def sample_block(n_samples: int) -> int:
    """Samples per task of a run over [[threats]]: about TASKS blocks, at least SAMPLE_BLOCK and at most
    MAX_SAMPLE_BLOCK samples (each block scans the threats' flights once per battery: fewer, larger blocks
    repeat that less). From the sample count alone, so every way of running a file splits it alike."""
    return min(MAX_SAMPLE_BLOCK, max(SAMPLE_BLOCK, -(-n_samples // TASKS)))


def tasks(n_samples: int, n_pairs: int | None) -> list:
    """The fixed split of a run into ((sample lo, hi), pairs or None) blocks. Over a [coverage], a task holds
    as many samples as it can (up to MAX_SAMPLE_BLOCK: a pair's flight is then flown, and its flyout times
    tabulated over the sampled speeds, once for all of them) and as many pairs as keep it near ROWS_PER_TASK
    (pair, sample) rows."""
    if n_pairs is None:
        b = sample_block(n_samples)
        return [((lo, min(lo + b, n_samples)), None) for lo in range(0, n_samples, b)]
    b = min(max(n_samples, 1), MAX_SAMPLE_BLOCK)
    per = max(1, ROWS_PER_TASK // b)
    out = []
    for p0 in range(0, n_pairs, per):
        pairs = np.arange(p0, min(p0 + per, n_pairs))
        out += [((lo, min(lo + b, n_samples)), pairs) for lo in range(0, n_samples, b)]
    return out


def run(scenario: Scenario, *, workers: int = 1, scheduler: str | None = None, progress=None,
        coverage: bool | None = None) -> UncertaintyResult:
    """The uncertainty run of the scenario's [uncertainty]: over its [[threats]], or over its [coverage] pairs
    (`coverage` True; default: the pairs when the scenario has a [coverage] and no [[threats]]).
    `progress(done, total)` is called as tasks finish (done/total in evaluations: samples x threats or pairs)."""
    from shieldlab.coverage.pairs import layout, pair_names
    from shieldlab.coverage.run import CONNECT_TIMEOUT_S, TABLE_MIN_PAIRS, connect, run_tasks, usable_cpus

    require_uncertainty(scenario)
    if not scenario.uncertainty.vary:
        raise ScenarioError([Problem(scenario.source or scenario.name, "uncertainty", "vary", MISSING,
                                     "at least one varied value")])
    if coverage is None:
        coverage = runs_over_pairs(scenario)
    values, sobol_values, base = draws(scenario)
    n_iid = scenario.uncertainty.samples
    every = [np.concatenate([a, b]) for a, b in zip(values, sobol_values)]
    n_all = n_iid + (len(sobol_values[0]) if sobol_values else 0)
    if coverage:
        lay = layout(scenario.coverage)
        n_pairs = lay.n_pairs
        names = tuple(pair_names(scenario, lay))
    else:
        n_pairs = None
        names = tuple(t.name for t in scenario.threats)
    items = tasks(n_all, n_pairs)
    # a coverage run's sampled burnout speeds: flyout tables over speed built once here for every task (each
    # task meets other flights); the choice depends on the counts alone, so every way of running agrees
    grids = speed_grids(scenario, scenario.uncertainty.vary, every) if coverage and n_pairs >= TABLE_MIN_PAIRS \
        else None
    k = n_pairs if coverage else len(scenario.threats)
    parts: list = [None] * len(items)
    done = 0
    total = n_all * k

    def finished(i, res):
        nonlocal done
        parts[i] = res
        (lo, hi), pairs = items[i]
        done += (hi - lo) * (k if pairs is None else len(pairs))
        if progress:
            progress(done, total)

    processes = 1 if scheduler else max(1, min(int(workers), usable_cpus(), len(items)))
    client = connect(scheduler, CONNECT_TIMEOUT_S) if scheduler else None
    try:
        run_tasks(_task, (scenario, every, grids), items, finished, processes=processes, client=client)
    finally:
        if client is not None:
            client.close()
    outcome = SampleResults.gather((n_all, k), [((slice(lo, hi), slice(None) if pairs is None else pairs), res)
                                                for ((lo, hi), pairs), res in zip(items, parts)])
    iid = outcome[:n_iid]
    return UncertaintyResult(
        scenario=scenario, vary=scenario.uncertainty.vary, names=names, seed=scenario.uncertainty.seed,
        values=tuple(values), outcome=iid, sensitivity_base=base, sobol_values=tuple(sobol_values),
        sobol_margin_s=outcome.margin_s[n_iid:], pairs=np.arange(n_pairs) if coverage else None)
