"""Least squares from many starts (docs/models.md, Assessing a missile from a flight test: the fit).

The residuals are (model - observed) / sigma, one per observation; `model` flies a batch of parameter vectors at
once, so each Jacobian (forward differences) costs one batch. Every start is minimised by scipy's trust-region
least squares within the bounds; the minima found are then merged (the same within `same_tol`) and kept when they
are interior (not on a bound) and every trial flight of theirs came down.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

FAILED_RESIDUAL = 1e3  # the residual (in sigmas) of an observation whose flight crashed or never came down
REPRODUCE_SIGMAS = 3.0  # a minimum reproduces the test when every residual is within this many sigmas
MAX_EVALUATIONS = 200


@dataclass(frozen=True)
class Minimum:
    """One minimum of the fit: the parameters, the model's values of the observations, the residuals in sigmas
    and the cost (the sum of their squares)."""

    x: tuple[float, ...]
    model: tuple[float, ...]
    residuals_sigma: tuple[float, ...]
    cost: float

    @property
    def reproduces(self) -> bool:
        """Every residual within REPRODUCE_SIGMAS."""
        return bool(np.all(np.abs(self.residuals_sigma) <= REPRODUCE_SIGMAS))


@dataclass(frozen=True)
class Outcome:
    """The distinct interior minima found (least cost first), how many starts were tried, and the closest point
    any start reached (None when every start failed), for the message when no minimum reproduces the test."""

    minima: tuple[Minimum, ...]
    starts: int
    closest: Minimum | None


def minimize(model: Callable[[np.ndarray], np.ndarray], observed, sigma, lower, upper, starts, step,
             same_tol) -> Outcome:
    """Fit parameters x (p,) so that model(X (k, p)) -> (k, m) matches `observed` (m,) within `sigma` (m,).

    `starts` (s, p); `lower`, `upper` the bounds (p,); `step` the forward-difference steps (p,); two minima are
    the same when every parameter differs by at most `same_tol` (p,)."""
    obs = np.asarray(observed, float)
    sig = np.asarray(sigma, float)
    lo, hi = np.asarray(lower, float), np.asarray(upper, float)
    h = np.asarray(step, float)
    cache: dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def residuals(values):
        r = (values - obs) / sig
        return np.where(np.isfinite(r), r, FAILED_RESIDUAL)

    def evaluate(x):
        key = x.tobytes()
        if key not in cache:
            hs = np.where(x + h <= hi, h, -h)
            pts = np.vstack([x, x + np.diag(hs)])
            vals = np.asarray(model(pts), float)
            r = residuals(vals)
            cache[key] = (r[0], (r[1:] - r[0]).T / hs, vals[0])
        return cache[key]

    found: list[tuple[Minimum, bool]] = []
    for x0 in np.atleast_2d(np.asarray(starts, float)):
        x0 = np.clip(x0, lo, hi)
        try:
            sol = least_squares(lambda x: evaluate(x)[0], x0, jac=lambda x: evaluate(x)[1], bounds=(lo, hi),
                                x_scale=h * 1e3, method="trf", xtol=1e-10, ftol=1e-12, gtol=1e-10,
                                max_nfev=MAX_EVALUATIONS)
        except ValueError:  # e.g. a residual that is not finite: this start fails
            continue
        r, _, vals = evaluate(sol.x)
        flew = bool(np.all(np.isfinite(vals)))
        interior = bool(np.all(sol.active_mask == 0)) and sol.status > 0
        m = Minimum(tuple(float(v) for v in sol.x), tuple(float(v) for v in vals), tuple(float(v) for v in r),
                    float(np.sum(r * r)))
        found.append((m, flew and interior))
        if len(cache) > 4096:
            cache.clear()
    closest = min((m for m, _ in found if np.all(np.isfinite(m.model))), key=lambda m: m.cost, default=None)
    distinct: list[Minimum] = []
    tol = np.asarray(same_tol, float)
    for m, good in sorted(found, key=lambda t: t[0].cost):
        if not good:
            continue
        if any(np.all(np.abs(np.subtract(m.x, d.x)) <= tol) for d in distinct):
            continue
        distinct.append(m)
    return Outcome(tuple(distinct), len(np.atleast_2d(starts)), closest)
