"""The latest interceptor launch that still intercepts (for sensitivity sweeps).

The engagement condition (MODELS.md section 5, engagement/condition.py) holds at some free-flight sample
time t of the threat, with the threat inside the interceptor's altitude band, when t - t0 >= T(P(t)),
t0 the battery's earliest launch and T the flyout time. So a battery engages a threat exactly when
t0 <= L, with

    L = max over in-band samples of (t - T(P(t)))

computed on the same samples (engagement/scan.py) and the same exact flyout solves as the windows. L
depends on the site and interceptor type only, not on the cue or the delay: one L per (site,
interceptor) gives every battery's answer for every delay, and its margin L - t0.
"""

from __future__ import annotations

import numpy as np

from shieldlab.engagement.scan import FreeFlightSamples, free_flight_samples
from shieldlab.interceptor.flyout import Flyout


def latest_launch(threats, flyout: Flyout, idx=None, samples: FreeFlightSamples | None = None) -> np.ndarray:
    """L per threat (n,) in scenario seconds: the latest interceptor launch that still intercepts, -inf
    when no free-flight sample in the altitude band can be reached, NaN for a threat that could not be
    computed. With `idx`, only those threats are computed (the others are NaN). `samples`: the
    threats' free-flight samples (computed here when None)."""
    n = threats.n
    out = np.full(n, np.nan)
    valid = np.flatnonzero(threats.valid)
    idx = valid if idx is None else np.intersect1d(np.asarray(idx, int), valid)
    if idx.size == 0:
        return out
    times, pos, alt = (samples if samples is not None else free_flight_samples(threats)).of(idx)
    it = flyout.interceptor
    with np.errstate(invalid="ignore"):
        band = np.isfinite(times) & np.isfinite(alt) & (alt >= it.min_altitude_m) & (alt <= it.max_altitude_m)
    T = np.full(times.shape, np.inf)
    if band.any():
        T[band] = flyout.solve(pos[band]).time_s
    slack = np.where(band & np.isfinite(T), times - T, -np.inf)
    out[idx] = slack.max(axis=1) if slack.shape[1] else -np.inf
    return out
