"""The xarray Dataset of an uncertainty run (what `shieldlab uncertainty FILE --out F.nc` writes): the samples drawn
and every sample's outcome, and the summaries (probability, quantiles, Sobol indices).

Dims: `sample`, `input` (the varied values, in file order), `battery`, `quantile`, and `threat` for a run over
[[threats]], or the coverage dims (`launch` and `lat`/`lon` for a grid, or `aim` for places) for a run over a
[coverage]. The batteries' sites are `battery_lat`/`battery_lon`; the attributes name the scenario and its
Earth model (`earth_model`, `earth_rotation`, `earth_j2`, as a coverage Dataset's). Inputs are stored in their
display units (`input_unit`); a choice's draws as the index of the choice (`input_choices` lists them)."""

from __future__ import annotations

import numpy as np

from shieldlab import __version__
from shieldlab.engagement.results import NO_CODE, Reason
from shieldlab.uncertainty.results import UncertaintyResult, display_factor, value_text
from shieldlab.uncertainty.stats import QUANTILES


def _inputs(res: UncertaintyResult) -> np.ndarray:
    """(samples, inputs) the draws in display units (a choice: its index)."""
    cols = []
    for v, x in zip(res.vary, res.values):
        if v.kind == "choice":
            index = {repr(c): i for i, c in enumerate(v.choices)}
            cols.append(np.array([index[repr(c)] for c in x], float))
        else:
            cols.append(np.asarray(x, float) / display_factor(v))
    return np.stack(cols, axis=1) if cols else np.zeros((res.samples, 0))


def uncertainty_dataset(res: UncertaintyResult):
    import xarray as xr

    sc = res.scenario
    out = res.outcome
    if res.pairs is None:
        kdims, kshape = ("threat",), (len(res.names),)
        coords = {"threat": ("threat", np.array(res.names, dtype=object))}
    else:
        from shieldlab.coverage.dataset import layout_coords
        from shieldlab.coverage.pairs import layout

        lay = layout(sc.coverage)
        aim_dims, aim_shape, launch_coords, aim_coords = layout_coords(sc, lay)
        kdims, kshape = ("launch", *aim_dims), (len(lay.launch), *aim_shape)
        coords = {**launch_coords, **aim_coords}

    def per_sample(a, dtype=float):  # (S, K, B) -> (sample, battery, *kdims)
        a = np.asarray(a).astype(dtype)
        return np.moveaxis(a.reshape((a.shape[0], *kshape, a.shape[-1])), -1, 1)

    def summary(a):  # (K, B, ...) -> (battery, *kdims, ...)
        a = np.asarray(a, float)
        return np.moveaxis(a.reshape((*kshape, *a.shape[1:])), len(kshape), 0)

    sd, bd, qd, idim = ("sample", "battery", *kdims), ("battery", *kdims), ("battery", *kdims, "quantile"), \
        ("battery", *kdims, "input")
    p, lo, hi = res.probability
    sens = res.sensitivity
    reasons = [r.value for r in Reason]
    data = {
        "input_value": (("sample", "input"), _inputs(res), {"long_name": "the drawn value of each varied input",
                                                         "comment": "in input_unit; a choice: the index of the choice"}),
        "feasible": (sd, per_sample(out.feasible, np.int8), {"long_name": "the battery can intercept (1) or not (0)"}),
        "reason": (sd, per_sample(out.reason_code, np.int8), {
            "long_name": "why the battery can or cannot intercept", "flag_values": np.array(
                [NO_CODE] + [r.code for r in Reason], np.int8), "flag_meanings": " ".join(["error"] + reasons)}),
        "first_intercept_time_s": (sd, per_sample(out.first_intercept_s), {"units": "s"}),
        "margin_s": (sd, per_sample(out.margin_s), {"units": "s", "long_name": "latest launch minus earliest launch"}),
        "earliest_launch_s": (sd, per_sample(out.earliest_launch_s), {"units": "s"}),
        "latest_launch_s": (sd, per_sample(out.latest_launch_s), {"units": "s"}),
        "probability": (bd, summary(p), {"long_name": "probability of an intercept"}),
        "probability_low": (bd, summary(lo), {"long_name": "95 % Wilson interval, lower end"}),
        "probability_high": (bd, summary(hi), {"long_name": "95 % Wilson interval, upper end"}),
        "samples_computed": (bd, summary(res.computed), {"long_name": "samples in which the threat was computed"}),
        "first_intercept_time_quantile_s": (qd, summary(res.first_intercept_quantiles_s), {"units": "s"}),
        "margin_quantile_s": (qd, summary(res.margin_quantiles_s), {"units": "s"}),
        "sobol_total": (idim, summary(sens["ST"]), {"long_name": "total Sobol index of the margin"}),
        "sobol_total_conf": (idim, summary(sens["ST_conf"]), {"long_name": "95 % bootstrap half-width"}),
        "sobol_first": (idim, summary(sens["S1"]), {"long_name": "first-order Sobol index of the margin"}),
        "sobol_first_conf": (idim, summary(sens["S1_conf"]), {"long_name": "95 % bootstrap half-width"}),
    }
    coords.update({
        "sample": ("sample", np.arange(res.samples)),
        "battery": ("battery", np.array(res.battery_names, dtype=object)),
        "battery_lat": ("battery", np.array([b.at.lat_deg for b in sc.batteries], float), {"units": "degrees_north"}),
        "battery_lon": ("battery", np.array([b.at.lon_deg for b in sc.batteries], float), {"units": "degrees_east"}),
        "quantile": ("quantile", np.array(QUANTILES)),
        "input": ("input", np.array([v.key for v in res.vary], dtype=object)),
        "input_unit": ("input", np.array([v.unit or "" for v in res.vary], dtype=object)),
        "input_distribution": ("input", np.array([v.kind for v in res.vary], dtype=object)),
        "input_choices": ("input", np.array([", ".join(str(value_text(c)) for c in v.choices) for v in res.vary],
                                            dtype=object)),
    })
    attrs = {"title": f"shieldlab uncertainty run: {sc.name}", "shieldlab_version": __version__,
             "seed": res.seed, "samples": res.samples, "sensitivity_samples": res.sensitivity_base,
             "source": sc.source or "", "scenario": sc.name, "earth_model": sc.earth.model,
             "earth_rotation": int(bool(sc.earth.rotation)),
             "earth_j2": int(bool(sc.earth.j2) and sc.earth.model == "wgs84"), "Conventions": "CF-1.8"}
    return xr.Dataset(data, coords=coords, attrs=attrs)
