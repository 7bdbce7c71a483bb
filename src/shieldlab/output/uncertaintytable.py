"""Human-readable `uncertainty` output (docs/models.md, Uncertainty): the varied values, then per threat (or pair)
one table: per battery the probability of an intercept with its 95 % interval, the quantiles of the first intercept
time and of the margin, and the input that decides it (largest total Sobol index). Works from the JSON document."""

from __future__ import annotations

import math

from rich import box
from rich.console import Console
from rich.table import Table

from shieldlab.output.text import literal

MAX_RECORDS = 40  # a coverage run prints its first records; --json / --out hold them all


def _f(x, fmt="{:.0f}"):
    return "—" if x is None or not math.isfinite(float(x)) else fmt.format(float(x))


def _vary_text(v: dict) -> str:
    if v["distribution"] == "choice":
        w = v["weights"]
        return "choice of " + ", ".join(f"{c} ({100 * p:.0f} %)" for c, p in zip(v["choices"], w))
    unit = f" {v['unit']}" if v["unit"] else ""
    p = ", ".join(f"{x:g}" for x in v["parameters"])
    text = f"{v['distribution']} ({p}){unit}"
    if v.get("truncated_to"):
        lo, hi = v["truncated_to"]
        text += f", truncated to [{_f(lo, '{:g}')}, {_f(hi, '{:g}')}]"
    return text


def _q(q, fmt) -> str:
    if q is None:
        return "—"
    return f"{fmt(q['q05'])} / {fmt(q['q50'])} / {fmt(q['q95'])}"


def print_uncertainty(doc: dict, console: Console) -> None:
    console.print(literal(doc["scenario"], "bold"))
    sens = (f"; Sobol indices of the margin from {doc['sensitivity_evaluations']} more evaluations (Saltelli, "
            f"N = {doc['sensitivity_samples']})" if doc["sensitivity_samples"] else "; no sensitivity samples")
    console.print(literal(f"{doc['samples']} samples, seed {doc['seed']}{sens} · shieldlab {doc['shieldlab_version']}",
                          "dim"))
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, title="varied", title_justify="left")
    t.add_column("key", no_wrap=True)
    t.add_column("distribution")
    for v in doc["vary"]:
        t.add_row(literal(v["key"]), literal(_vary_text(v)))
    console.print(t)
    records = doc.get("threats", doc.get("pairs", []))
    for rec in records[:MAX_RECORDS]:
        _print_one(rec, console, doc["samples"])
    if len(records) > MAX_RECORDS:
        console.print(literal(f"… {len(records) - MAX_RECORDS} more; --json or --out FILE.nc for all", "dim"))
    console.print(literal("probability: share of the samples with an intercept, [95 % Wilson interval]; times are "
                          "5 / 50 / 95 % quantiles over the samples that have them; margin: latest minus earliest "
                          "launch (positive: time to spare, negative: too late by that much); deciding: the input with the largest total Sobol index "
                          "of the margin (its first-order index in brackets)", "dim"))


def _print_one(rec: dict, console: Console, samples: int) -> None:
    console.rule(literal(rec["name"], "bold"), align="left")
    if rec["errors"]:
        console.print(literal(f"cannot be computed in {rec['errors']} of {samples} samples: {rec['error']}", "red"))
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col, just in (("battery", "left"), ("P(intercept)", "right"), ("95 % interval", "right"),
                      ("first intercept, s", "right"), ("margin, s", "right"), ("deciding input (total, first)", "left")):
        t.add_column(col, justify=just, no_wrap=not col.startswith("deciding"), overflow="fold")
    for b in rec["batteries"]:
        p = b["probability"]
        ci = b["probability_interval"]
        dec = "—"
        if b["deciding"]:
            top = b["sensitivity"][0]
            dec = f"{top['key']} ({_f(top['total'], '{:.2f}')}, {_f(top['first'], '{:.2f}')})"
        elif b["samples_with_margin"] == 0:
            dec = "— (no sample has a margin)"
        t.add_row(literal(b["battery"]), _f(p, "{:.3f}"),
                  "—" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]",
                  _q(b["first_intercept_s"], lambda x: _f(x)),
                  _q(b["margin_s"], lambda x: _f(x, "{:+.0f}")), literal(dec))
    console.print(t)
