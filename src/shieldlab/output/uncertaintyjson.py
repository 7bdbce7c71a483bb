"""The `uncertainty --json` document (docs/scenario.md, `shieldlab uncertainty FILE --json`): units in keys, null where a
value does not exist, built from an UncertaintyResult."""

from __future__ import annotations

import math

from shieldlab import __version__
from shieldlab.uncertainty.results import UncertaintyResult, display_factor, value_text


def _num(x, scale=1.0):
    x = float(x)
    return None if not math.isfinite(x) else x * scale


def _quantiles(q) -> dict | None:
    if not math.isfinite(float(q[1])):
        return None
    return {"q05": _num(q[0]), "q50": _num(q[1]), "q95": _num(q[2])}


def vary_record(v) -> dict:
    """One varied value: its key, distribution and parameters in its display unit."""
    rec = {"key": v.key, "distribution": v.kind, "unit": v.unit}
    if v.kind == "choice":
        rec.update({"choices": [value_text(c) for c in v.choices], "weights": list(v.weights)})
    else:
        f = display_factor(v)
        rec["parameters"] = [p / f for p in v.params]
        if v.kind == "normal":
            rec["truncated_to"] = [_num(v.low, 1 / f), _num(v.high, 1 / f)] if v.truncated else None
    return rec


def uncertainty_document(res: UncertaintyResult) -> dict:
    p, lo, hi = res.probability
    sens = res.sensitivity
    what = "pairs" if res.pairs is not None else "threats"
    errors = [[e for e in res.outcome.error[:, i] if e is not None] for i in range(len(res.names))]
    records = []
    for i, name in enumerate(res.names):
        bats = []
        for j, b in enumerate(res.battery_names):
            ranked = [{"key": res.vary[d].key, "total": _num(sens["ST"][i, j, d]),
                       "total_conf": _num(sens["ST_conf"][i, j, d]), "first": _num(sens["S1"][i, j, d]),
                       "first_conf": _num(sens["S1_conf"][i, j, d])} for d in res.ranking(i, j)]
            deciding = ranked[0]["key"] if ranked and ranked[0]["total"] is not None else None
            bats.append({
                "battery": b, "probability": _num(p[i, j]),
                "probability_interval": [_num(lo[i, j]), _num(hi[i, j])] if math.isfinite(float(p[i, j])) else None,
                "samples": int(res.computed[i, j]), "intercepts": int(res.intercepts[i, j]),
                "first_intercept_s": _quantiles(res.first_intercept_quantiles_s[i, j]),
                "margin_s": _quantiles(res.margin_quantiles_s[i, j]),
                "samples_with_margin": int(res.with_margin[i, j]),
                "deciding": deciding, "sensitivity": ranked,
            })
        records.append({"name": name, "errors": len(errors[i]), "error": errors[i][0] if errors[i] else None,
                        "batteries": bats})
    return {
        "shieldlab_version": __version__, "scenario": res.scenario.name, "samples": res.samples,
        "seed": res.seed, "sensitivity_samples": res.sensitivity_base,
        "sensitivity_evaluations": int(res.sobol_margin_s.shape[0]),
        "vary": [vary_record(v) for v in res.vary], what: records,
    }
