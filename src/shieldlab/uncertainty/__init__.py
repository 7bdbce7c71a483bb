"""Uncertainty runs (docs/models.md, Uncertainty): scenario values drawn from distributions, the scenario evaluated
for every sample in batches, and per threat (or coverage pair) and battery the probability of an intercept,
quantiles of the first intercept time and of the margin, and Sobol sensitivity indices of the margin."""
