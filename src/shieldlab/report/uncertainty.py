"""The report's "Uncertainty" section, for a scenario with an [uncertainty] table (docs/models.md, Uncertainty):
the run (through shieldlab.api), the probability table (per threat or coverage pair and battery: P(intercept),
its 95 % interval, the quantiles of the first intercept time and of the margin, the deciding input), one
sensitivity bar chart per battery (total and first-order Sobol indices of the margin with their 95 % bootstrap
half-widths, inputs ranked), and for a run over [coverage] pairs the probability maps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from shieldlab.api import uncertainty as run_uncertainty
from shieldlab.output import mapplot
from shieldlab.report import html as H

MAX_ROWS = 60  # records (threats or pairs) in the table; the JSON document and .nc hold them all
MAX_SENSITIVITY_PANELS = 6  # records per battery in the sensitivity chart
TOTAL_COLOR = "#1f5fbf"
FIRST_COLOR = "#9ecae1"


@dataclass
class Section:
    """The section's HTML body and its figures (file name -> Figure)."""

    body: str
    figures: dict = field(default_factory=dict)


def build_section(scenario, *, workers: int = 1, log=None) -> Section:
    """Run the scenario's [uncertainty] (over its [[threats]], or its [coverage] pairs when it has no [[threats]])
    and lay out the section."""
    log = log or (lambda msg: None)
    u = scenario.uncertainty
    log(f"uncertainty: {u.samples} samples of {len(u.vary)} varied values"
        + (f", Saltelli's N = {u.sensitivity_samples}" if u.sensitivity_samples else ""))
    res = run_uncertainty(scenario, workers=workers)
    return section(res.to_document(), res.to_dataset() if res.pairs is not None else None)


def section(doc: dict, ds=None) -> Section:
    """The section from an uncertainty document (and, for a run over [coverage] pairs, its Dataset: the maps)."""
    what = "pairs" if "pairs" in doc else "threats"
    records = doc[what]
    sens = (f"; the Sobol indices of the margin come from {doc['sensitivity_evaluations']} more evaluations "
            f"(Saltelli's scheme, N = {doc['sensitivity_samples']}, SALib)" if doc["sensitivity_samples"] else
            "; no sensitivity samples were asked for (sensitivity_samples = 0), so no input is ranked")
    out = Section(
        f"<p>{doc['samples']} samples (seed {doc['seed']}) of the varied values{sens} "
        "(<code>shieldlab uncertainty</code>; docs/models.md, Uncertainty). P(intercept): the share of the samples "
        "(in which the threat could be computed) with an intercept, with its 95 % Wilson interval; times are the "
        "5 / 50 / 95 % quantiles over the samples that have them; margin: latest launch − earliest launch; "
        "deciding: the input with the largest total Sobol index of the margin.</p>"
        "<h3>Varied values</h3>" + vary_table(doc["vary"]) + "<h3>Probability of an intercept</h3>"
        + probability_table(records, what))
    if doc["sensitivity_samples"] and any(b["sensitivity"] for r in records for b in r["batteries"]):
        names = [b["battery"] for b in records[0]["batteries"]] if records else []
        for j, name in enumerate(names):
            chosen = sensitivity_records(records, j)
            if not chosen:
                out.body += (f"<p class=\"meta\">Battery {H.esc(name)}: no sensitivity chart; its margin does not "
                             f"vary with the varied values in any {what[:-1]}, or no sample has one.</p>")
                continue
            img = f"fig-uncertainty-sensitivity-{j + 1:02d}.png"
            out.figures[img] = sensitivity_figure(chosen, j, name)
            which = ("every threat" if what == "threats" and len(chosen) == len(records) else
                     f"the {len(chosen)} {what} whose probability is least decided (nearest 0.5)")
            out.body += H.figure(img, f"Battery {H.esc(name)}: Sobol indices of the margin per varied value, most "
                                      f"decisive first, for {which}; dark: total index, light: first-order; "
                                      "error bars: 95 % bootstrap half-widths.")
    if ds is not None:
        from shieldlab.output.uncertaintymap import probability_figure

        out.figures["fig-uncertainty-map.png"] = probability_figure(ds, dpi=90.0)
        out.body += H.figure("fig-uncertainty-map.png", "Per launch point and battery: each aim point coloured by the "
                             "probability of an intercept of a threat aimed there; hatched or crossed: the threat "
                             "cannot be computed (e.g. beyond the missile's reach).")
    return out


def vary_table(vary: list[dict]) -> str:
    rows = []
    for v in vary:
        if v["distribution"] == "choice":
            text = ", ".join(f"{c} ({100 * w:.0f} %)" for c, w in zip(v["choices"], v["weights"]))
        else:
            text = ", ".join(f"{p:g}" for p in v["parameters"]) + (f" {v['unit']}" if v["unit"] else "")
            if v.get("truncated_to"):
                lo, hi = v["truncated_to"]
                text += f"; truncated to [{H.num(lo, '{:g}')}, {H.num(hi, '{:g}')}]"
        rows.append([f"<code>{H.esc(v['key'])}</code>", H.esc(v["distribution"]), H.esc(text)])
    return H.table(["key", "distribution", "parameters"], rows)


def _q(q, fmt: str) -> str:
    return "—" if q is None else " / ".join(H.num(q[k], fmt) for k in ("q05", "q50", "q95"))


def probability_table(records: list[dict], what: str) -> str:
    """One row per (threat or pair, battery)."""
    rows = []
    for rec in records[:MAX_ROWS]:
        for b in rec["batteries"]:
            ci = b["probability_interval"]
            dec = "—"
            if b["deciding"]:
                top = b["sensitivity"][0]
                dec = (f"<code>{H.esc(top['key'])}</code> ({H.num(top['total'], '{:.2f}')}, "
                       f"{H.num(top['first'], '{:.2f}')})")
            elif b["samples_with_margin"] == 0:
                dec = "— (no sample has a margin)"
            name = H.esc(rec["name"]) + (f" <span class=\"meta\">({rec['errors']} samples not computed)</span>"
                                         if rec["errors"] else "")
            rows.append([name, H.esc(b["battery"]), H.num(b["probability"], "{:.3f}"),
                         "—" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]",
                         _q(b["first_intercept_s"], "{:.0f}"), _q(b["margin_s"], "{:+.0f}"), dec])
    more = (f"<p class=\"meta\">The first {MAX_ROWS} of {len(records)} {what}; "
            "<code>shieldlab uncertainty FILE --json</code> or <code>--out F.nc</code> holds them all.</p>"
            if len(records) > MAX_ROWS else "")
    return H.table([what[:-1], "battery", "P(intercept)", "95 % interval", "first intercept, s (5/50/95 %)",
                    "margin, s (5/50/95 %)", "deciding input (total, first)"], rows) + more


def sensitivity_records(records: list[dict], j: int) -> list[tuple[str, list[dict]]]:
    """(name, ranked indices) of battery j for the chart: the records with indices; of more than
    MAX_SENSITIVITY_PANELS, those whose probability is nearest 0.5 (the least decided), in their order."""
    have = [(i, r) for i, r in enumerate(records) if r["batteries"][j]["deciding"]]
    if len(have) > MAX_SENSITIVITY_PANELS:
        def undecided(ir):
            p = ir[1]["batteries"][j]["probability"]
            return abs(p - 0.5) if p is not None else 1.0
        keep = {i for i, _ in sorted(have, key=undecided)[:MAX_SENSITIVITY_PANELS]}
        have = [(i, r) for i, r in have if i in keep]
    return [(r["name"], r["batteries"][j]["sensitivity"]) for _, r in have]


def _finite(x) -> float:
    return float(x) if x is not None and math.isfinite(float(x)) else float("nan")


def sensitivity_figure(chosen: list[tuple[str, list[dict]]], j: int, battery: str):
    """Horizontal bars per record: each varied value's total (dark) and first-order (light) Sobol index of the
    margin with its 95 % bootstrap half-width, most decisive first."""
    d = max(len(s) for _, s in chosen)
    panel_h = 0.5 + 0.42 * d
    fig = mapplot.new_figure((9.5, 0.7 + panel_h * len(chosen)), dpi=110)
    height = fig.get_figheight()
    for k, (name, ranked) in enumerate(chosen):
        bottom = (height - 0.55 - (k + 1) * panel_h + 0.45) / height
        ax = fig.add_axes((0.36, bottom, 0.6, (panel_h - 0.55) / height), label=f"sensitivity: {battery} | {name}")
        y = np.arange(len(ranked))[::-1].astype(float)
        st = np.array([_finite(r["total"]) for r in ranked])
        s1 = np.array([_finite(r["first"]) for r in ranked])
        st_c = np.nan_to_num(np.array([_finite(r["total_conf"]) for r in ranked]))
        s1_c = np.nan_to_num(np.array([_finite(r["first_conf"]) for r in ranked]))
        ax.barh(y + 0.18, np.nan_to_num(st), height=0.34, xerr=st_c, color=TOTAL_COLOR, ecolor="#333333",
                capsize=2.5, label="total index")
        ax.barh(y - 0.18, np.nan_to_num(s1), height=0.34, xerr=s1_c, color=FIRST_COLOR, ecolor="#333333",
                capsize=2.5, label="first-order index")
        ax.set_yticks(y, [r["key"] for r in ranked], fontsize=8)
        lo = min(-0.05, float(np.nanmin(np.r_[st - st_c, s1 - s1_c, 0.0])))
        hi = max(1.05, float(np.nanmax(np.r_[st + st_c, s1 + s1_c, 0.0])))
        ax.set_xlim(lo, hi)
        ax.axvline(0.0, color="#555555", linewidth=0.8)
        ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_title(name, fontsize=9.5, loc="left")
        if k == len(chosen) - 1:
            ax.set_xlabel("Sobol index of the margin (error bars: 95 % bootstrap half-width)", fontsize=8.5)
        if k == 0:
            ax.legend(loc="lower right", fontsize=7.5, frameon=False)
    fig.text(0.5, 1 - 0.1 / height, f"{battery}: which varied value decides the margin", ha="center", va="top",
             fontsize=11, fontweight="bold")
    return fig


__all__ = ["build_section", "section", "vary_table", "probability_table", "sensitivity_figure",
           "sensitivity_records", "Section"]
