"""Summaries of an uncertainty run (docs/models.md, Uncertainty): probabilities with Wilson intervals, quantiles,
and Sobol sensitivity indices (SALib's estimators over Saltelli's samples)."""

from __future__ import annotations

import math
import warnings

import numpy as np

Z95 = 1.959963984540054  # the standard normal's 97.5 % point: two-sided 95 % intervals
QUANTILES = (0.05, 0.50, 0.95)
BOOTSTRAP_RESAMPLES = 200  # SALib's bootstrap of the indices' confidence intervals
# margins spread over no more than this are the latest launch's refinement noise (two refinements of one latest
# launch differ by up to 2 GAIN_TOL_S = 0.02 s, engagement/latest.py), not the inputs': no index to give
MARGIN_RESOLUTION_S = 0.05


def wilson(k, n, z: float = Z95):
    """The probability k / n and its Wilson score interval (low, high) at z standard normal deviations
    (Wilson 1927; Brown, Cai & DasGupta 2001, Statist. Sci. 16, 101). Arrays broadcast; NaN where n = 0."""
    k = np.asarray(k, float)
    n = np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        d = 1 + z * z / n
        c = (p + z * z / (2 * n)) / d
        h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return p, np.clip(c - h, 0.0, 1.0), np.clip(c + h, 0.0, 1.0)


def quantiles(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """The QUANTILES of x along `axis` over its finite values (linear interpolation, numpy's default); NaN where
    there are none. The quantile axis comes last."""
    x = np.where(np.isfinite(x), x, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: NaN
        q = np.nanquantile(x, QUANTILES, axis=axis)
    return np.moveaxis(q, 0, -1)


def censored_margin(margin_s: np.ndarray) -> np.ndarray | None:
    """The margins of one threat and battery over Saltelli's samples, for the sensitivity analysis: a sample
    without a margin (never cued, or no point in the band within reach: no latest launch) counts as the
    least margin of the run's samples, so that whatever takes the margin away is credited like whatever
    makes it least. None when no sample has a margin."""
    m = np.asarray(margin_s, float)
    fin = np.isfinite(m)
    if not fin.any():
        return None
    return np.where(fin, m, m[fin].min()) if not fin.all() else m


def sobol_indices(problem: dict, y: np.ndarray, seed: int) -> dict | None:
    """First-order and total Sobol indices of y (Saltelli's sample order) with their 95 % bootstrap
    half-widths: SALib.analyze.sobol (Saltelli et al. 2010, Comput. Phys. Commun. 181, 259; Jansen 1999). None
    when y (a margin, s) does not vary beyond MARGIN_RESOLUTION_S (the indices would rank refinement noise)."""
    from SALib.analyze import sobol

    y = np.asarray(y, float)
    if not np.isfinite(y).all() or np.ptp(y) <= MARGIN_RESOLUTION_S:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        r = sobol.analyze(problem, y, calc_second_order=False, num_resamples=BOOTSTRAP_RESAMPLES,
                          conf_level=0.95, print_to_console=False, seed=seed)
    return {k: np.asarray(r[k], float) for k in ("S1", "S1_conf", "ST", "ST_conf")}


def binomial_sd(p: float, n: int) -> float:
    """The standard deviation of a share of n independent trials of probability p."""
    return math.sqrt(p * (1 - p) / n)
