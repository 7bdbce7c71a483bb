// How the page writes a margin (latest launch minus earliest launch): the same text as the command
// line's table and the report (Python: shieldlab.output.margin.margin_str), "+42 s" / "late by 17 s" / "—".
// Python formats the exact value of the double and breaks exact ties to even ("{:.0f}".format(42.5) is
// "42"); JavaScript's toFixed breaks them upwards, so ties are rounded here as Python does.
(function (root) {
  "use strict";
  const NO_MARGIN = "\u2014";

  // x >= 0 with d = 0 or 1 decimals, as Python's "{:.{d}f}".format(x)
  function fixedLikePython(x, d) {
    const s = x.toFixed(d);
    // an exact tie: x * 10^d is an odd multiple of 1/2 (x = k + 1/2, or x = k/10 + 1/20 = (2j + 1)/4)
    const twice = d === 0 ? x * 2 : x * 4;
    if (!Number.isInteger(twice) || twice % 2 === 0 || x >= 2 ** 50) return s;
    const lower = Math.floor(x * 10 ** d);
    const n = lower % 2 === 0 ? lower : lower + 1;
    return (n / 10 ** d).toFixed(d);
  }

  function marginKind(m) {
    if (m === null || m === undefined || typeof m !== "number" || !Number.isFinite(m)) return "none";
    return m >= 0 ? "spare" : "late";
  }

  function marginText(m) {
    const kind = marginKind(m);
    if (kind === "none") return NO_MARGIN;
    if (kind === "spare") return "+" + fixedLikePython(m, m >= 9.5 ? 0 : 1) + " s";
    return "late by " + fixedLikePython(-m, m <= -9.5 ? 0 : 1) + " s";
  }

  const api = { NO_MARGIN, marginKind, marginText };
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.shieldlabFormat = api;
})(typeof self !== "undefined" ? self : this);
