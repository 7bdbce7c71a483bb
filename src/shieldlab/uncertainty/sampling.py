"""Draws of the varied values (docs/models.md, Uncertainty): independent random samples from a seeded generator
for the probabilities and quantiles, and Saltelli's scheme (SALib) for the Sobol indices. Both draw points of the
unit cube and map each coordinate through its distribution's inverse cumulative distribution function, so one
code path serves both and a distribution of zero width gives its value exactly."""

from __future__ import annotations

import numpy as np

from shieldlab.scenario.model import VarySpec


def unit_draws(n_vary: int, samples: int, seed: int) -> np.ndarray:
    """(samples, n_vary) independent uniform draws in [0, 1) from numpy's default generator seeded with `seed`."""
    return np.random.default_rng(seed).random((samples, n_vary))


def sobol_problem(vary) -> dict:
    """SALib's problem description of the unit cube of the varied values."""
    return {"num_vars": len(vary), "names": [v.key for v in vary], "bounds": [[0.0, 1.0]] * len(vary)}


def saltelli_base(n: int) -> int:
    """The base size Saltelli's scheme is run with: n rounded up to a power of two (Sobol' sequences balance
    only at powers of two)."""
    return 1 << max(0, int(n - 1).bit_length()) if n > 0 else 0


def saltelli_draws(vary, base: int, seed: int) -> np.ndarray:
    """(base * (D + 2), D) points of the unit cube in Saltelli's scheme (first-order and total indices): SALib's
    scrambled Sobol' sequence, seeded with `seed`."""
    from SALib.sample import sobol

    return sobol.sample(sobol_problem(vary), saltelli_base(base), calc_second_order=False, scramble=True, seed=seed)


def values(v: VarySpec, u: np.ndarray) -> np.ndarray:
    """The values of one varied quantity at unit-cube coordinates u (k,): float (SI) for numeric distributions,
    an object array of the choices for a choice."""
    u = np.asarray(u, float)
    if v.kind == "choice":
        cum = np.cumsum(np.asarray(v.weights, float))
        cum /= cum[-1]
        k = np.minimum(np.searchsorted(cum, u, side="right"), len(v.choices) - 1)
        out = np.empty(u.shape, dtype=object)
        for i, c in enumerate(v.choices):
            out[k == i] = [c] * int(np.count_nonzero(k == i))
        return out
    from scipy import stats

    p = v.params
    if v.kind == "uniform":
        lo, hi = p
        return lo + (hi - lo) * u if hi > lo else np.full(u.shape, float(lo))
    if v.kind == "triangular":
        lo, mode, hi = p
        if hi <= lo:
            return np.full(u.shape, float(lo))
        return stats.triang.ppf(u, (mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
    if v.kind == "normal":
        mean, sd = p
        if sd <= 0:
            return np.full(u.shape, float(mean))
        # truncated to the key's allowed range (docs/models.md, Uncertainty): the normal conditioned on it
        a, b = (v.low - mean) / sd, (v.high - mean) / sd
        x = stats.truncnorm.ppf(np.clip(u, 1e-15, 1 - 1e-15), a, b, loc=mean, scale=sd)
        return np.clip(x, v.low, v.high)
    raise ValueError(f"unknown distribution {v.kind!r}")


def sample_values(vary, u: np.ndarray) -> list[np.ndarray]:
    """Per varied quantity, its values at the rows of u (k, D)."""
    return [values(v, u[:, i]) for i, v in enumerate(vary)]
