"""The result of an uncertainty run (docs/models.md, Uncertainty): the samples drawn, every sample's outcome, and
per threat (or coverage pair) and battery the probability of an intercept with its 95 % Wilson interval, the
5/50/95 % quantiles of the first intercept time and of the margin, and the Sobol indices of the margin."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from shieldlab.scenario.model import Point, Scenario, VarySpec
from shieldlab.uncertainty import stats
from shieldlab.uncertainty.evaluate import SampleResults


def display_factor(v: VarySpec) -> float:
    """How many SI units (degrees for angles) one of the entry's display unit is (1 without a unit)."""
    from shieldlab.units import unit_dimension, unit_factor

    if not v.unit:
        return 1.0
    dim = unit_dimension(v.unit)
    try:
        return unit_factor(dim, v.unit) if dim else 1.0
    except ValueError:  # logarithmic (dBsm): shown in m2
        return 1.0


def value_text(x) -> str | float | bool:
    """A choice value as a document shows it: a place by its name, others as they are."""
    if isinstance(x, Point):
        return x.name or f"{x.lat_deg:g}, {x.lon_deg:g}"
    return x


@dataclass(frozen=True, eq=False, repr=False)
class UncertaintyResult:
    """An uncertainty run of `scenario`: `values` (per varied quantity, its `samples` random draws, SI or as the
    model holds choices), `outcome` (SampleResults (samples, threats or pairs, batteries)); for the sensitivity
    analysis, `sobol_values` and `sobol_margin_s` (Saltelli's rows, SALib's order) and `sensitivity_base` (its N,
    0: none). `names` are the threats' (or pairs') names; `pairs` the coverage pair numbers (None: [[threats]])."""

    scenario: Scenario
    vary: tuple[VarySpec, ...]
    names: tuple[str, ...]
    seed: int
    values: tuple
    outcome: SampleResults
    sensitivity_base: int
    sobol_values: tuple
    sobol_margin_s: np.ndarray
    pairs: np.ndarray | None = None

    # ---- sizes
    @property
    def samples(self) -> int:
        return self.outcome.feasible.shape[0]

    @property
    def battery_names(self) -> list[str]:
        return [b.name for b in self.scenario.batteries]

    def __repr__(self) -> str:
        k, nb = len(self.names), len(self.battery_names)
        what = "pairs" if self.pairs is not None else "threats"
        sens = f", Sobol indices from {self.sobol_margin_s.shape[0]} more" if self.sensitivity_base else ""
        return (f"<UncertaintyResult {self.scenario.name!r}: {len(self.vary)} varied values, {self.samples} samples "
                f"x {k} {what} x {nb} batteries{sens}>")

    # ---- summaries (threats or pairs, batteries)
    @cached_property
    def computed(self) -> np.ndarray:
        """(K, B) the samples in which the threat could be computed (the probabilities' denominators)."""
        ok = np.array([[e is None for e in row] for row in self.outcome.error], bool)  # (S, K)
        return np.repeat(ok.sum(0)[:, None], len(self.battery_names), axis=1)

    @cached_property
    def intercepts(self) -> np.ndarray:
        """(K, B) the samples with an intercept."""
        return self.outcome.feasible.sum(0)

    @cached_property
    def probability(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(p, low, high) (K, B): the probability of an intercept and its 95 % Wilson interval."""
        return stats.wilson(self.intercepts, self.computed)

    @cached_property
    def first_intercept_quantiles_s(self) -> np.ndarray:
        """(K, B, 3) 5/50/95 % quantiles of the first intercept time over the samples with one (NaN: none)."""
        return stats.quantiles(self.outcome.first_intercept_s, axis=0)

    @cached_property
    def margin_quantiles_s(self) -> np.ndarray:
        """(K, B, 3) 5/50/95 % quantiles of the margin over the samples that have one (NaN: none)."""
        return stats.quantiles(self.outcome.margin_s, axis=0)

    @cached_property
    def with_margin(self) -> np.ndarray:
        """(K, B) the samples that have a margin (cued, and some point of the band within reach)."""
        return np.isfinite(self.outcome.margin_s).sum(0)

    @cached_property
    def sensitivity(self) -> dict[str, np.ndarray]:
        """Sobol indices of the margin, each (K, B, D): "S1", "S1_conf", "ST", "ST_conf" (NaN where the margin
        does not vary, no sample has one, or no sensitivity samples were drawn)."""
        from shieldlab.uncertainty.sampling import sobol_problem

        k, nb, d = len(self.names), len(self.battery_names), len(self.vary)
        out = {key: np.full((k, nb, d), np.nan) for key in ("S1", "S1_conf", "ST", "ST_conf")}
        if not self.sensitivity_base or d == 0:
            return out
        problem = sobol_problem(self.vary)
        for i in range(k):
            for j in range(nb):
                y = stats.censored_margin(self.sobol_margin_s[:, i, j])
                r = None if y is None else stats.sobol_indices(problem, y, self.seed)
                if r is not None:
                    for key in out:
                        out[key][i, j] = r[key]
        return out

    def ranking(self, i: int, j: int) -> list[int]:
        """The varied quantities of threat i and battery j, most decisive first (by total index; NaN last)."""
        st = self.sensitivity["ST"][i, j]
        return sorted(range(len(self.vary)), key=lambda d: (np.isnan(st[d]), -np.nan_to_num(st[d])))

    # ---- outputs
    def to_document(self) -> dict:
        """The `uncertainty --json` document (docs/scenario.md, `shieldlab uncertainty FILE --json`)."""
        from shieldlab.output.uncertaintyjson import uncertainty_document

        return uncertainty_document(self)

    def to_dataset(self):
        """The samples and results as an xarray Dataset (what `--out F.nc` writes)."""
        from shieldlab.output.uncertaintyds import uncertainty_dataset

        return uncertainty_dataset(self)
