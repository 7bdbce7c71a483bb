"""The case studies' uncertainty files (docs/case-studies.md, "The findings as probabilities"): every file loads with
a fixed seed, every varied range carries a comment with its confidence tag (docs/sources.md, Confidence tags), and a
probability the page reports is reproduced from its file.

The reproduced row is one of the 2007 third site (`poland-gbi-2007-uncertainty.toml`: one battery, one flyout type),
run on one of its threats with the file's own samples and seed and without the Sobol samples (which do not change
the probability: the samples are the first rows of one generator, docs/models.md, Uncertainty); a row of the joint
system's file would take about a minute (its IIB ceiling is varied, so every sample has its own flyout). The
boost-phase file (`boost-phase-uncertainty.toml`) is checked for the page's count of samples with an intercept
before the ICBM's burnout, the boost-phase question of case 8, and its probability with the Wilson interval."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from shieldlab.api import engage, load_scenario, uncertainty
from shieldlab.uncertainty.stats import wilson

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "examples" / "case-studies"
PAGE = ROOT / "docs" / "case-studies.md"
FILES = sorted(CASES.glob("*-uncertainty.toml"))

# The rows of docs/case-studies.md reproduced here: file, threat, battery, P, its 95 % Wilson interval, and the count
# of samples with an intercept (p = k / n, docs/models.md, Uncertainty).
REPRODUCED = [
    ("poland-gbi-2007-uncertainty.toml", "kozelsk-washington", "poland-gbi", 0.738, 0.692, 0.778, 295),
]
# Case 8 on the page: against Kozelsk -> Washington, only the Baltic ship's first intercept comes before the ICBM's
# burnout, in this many of the 400 samples; every other battery's in none.
BOOST_FILE, BOOST_THREAT, BOOST_BATTERY, DOC_BEFORE_BURNOUT = (
    "boost-phase-uncertainty.toml", "kozelsk-washington", "baltic-iib", 6)
# The page rounds P and the interval to 3 decimals; the reproduced P must lie in the page's interval, and equal
# the page's P to its rounding.
ROUNDING = 0.0005
TAG = re.compile(r"#.*\[(R-H|R-M|R-L|C|U|A)\]")  # a comment with a confidence tag, e.g. "# [A]" or "... [R-M]"


def test_there_are_uncertainty_files_for_the_case_studies():
    assert len(FILES) >= 6, [p.name for p in FILES]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_file_loads_with_a_fixed_seed_and_every_range_is_tagged(path):
    sc = load_scenario(path)
    assert sc.uncertainty is not None and sc.uncertainty.vary
    assert "seed" in path.read_text(encoding="utf-8").split("[uncertainty]", 1)[1]  # the seed is stated, not defaulted
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.lstrip().startswith("{ key = ")]
    assert len(lines) == len(sc.uncertainty.vary)
    untagged = [ln for ln in lines if not TAG.search(ln)]
    assert not untagged, "varied ranges without a source comment and confidence tag:\n" + "\n".join(untagged)
    # the page names the file and its exact command
    assert f"shieldlab uncertainty examples/case-studies/{path.name}" in PAGE.read_text(encoding="utf-8")


def _one_threat(name: str, threat: str):
    """The case file `name` run on its threat `threat` only, with its own samples and seed, without Sobol samples."""
    sc = load_scenario(CASES / name)
    sc = replace(sc, threats=tuple(t for t in sc.threats if t.name == threat),
                 uncertainty=replace(sc.uncertainty, sensitivity_samples=0))
    return sc, uncertainty(sc)


@pytest.mark.parametrize("row", REPRODUCED, ids=lambda r: r[0].removesuffix("-uncertainty.toml"))
def test_reported_probability_is_reproduced_from_its_file(row):
    name, threat, battery, doc_p, doc_low, doc_high, doc_intercepts = row
    _, res = _one_threat(name, threat)
    j = res.battery_names.index(battery)
    p, low, high = (float(a[0, j]) for a in res.probability)
    assert res.samples == 400 and int(res.computed[0, j]) == 400
    assert doc_low - ROUNDING <= p <= doc_high + ROUNDING
    assert p == pytest.approx(doc_p, abs=ROUNDING)
    assert low == pytest.approx(doc_low, abs=ROUNDING) and high == pytest.approx(doc_high, abs=ROUNDING)
    assert int(res.intercepts[0, j]) == doc_intercepts
    # and the page reports that row
    row_text = f"| {threat} | `{battery}` | {doc_p:.3f} | [{doc_low:.3f}, {doc_high:.3f}] |"
    assert row_text in PAGE.read_text(encoding="utf-8")


def test_boost_phase_intercepts_before_burnout_are_the_pages():
    sc, res = _one_threat(BOOST_FILE, BOOST_THREAT)
    # the missiles are not varied, so the threat's burnout time is the one `engage` gives for the file's own values
    burnout_s = engage(sc).to_document()["threats"][0]["burnout"]["time_s"]
    first = res.outcome.first_intercept_s[:, 0, :]  # (samples, batteries); NaN: no intercept
    before = {b: int(np.sum(first[:, j] < burnout_s)) for j, b in enumerate(res.battery_names)}
    assert before.pop(BOOST_BATTERY) == DOC_BEFORE_BURNOUT
    assert set(before.values()) == {0}, before
    page = PAGE.read_text(encoding="utf-8")
    assert f"{DOC_BEFORE_BURNOUT} of 400" in page
    p, low, high = (float(a) for a in wilson(np.array(DOC_BEFORE_BURNOUT), np.array(res.samples)))
    assert f"P = {p:.3f} [{low:.3f}, {high:.3f}]" in page  # 0.015 [0.007, 0.032] (docs/models.md, Uncertainty)
