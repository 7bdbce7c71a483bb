"""`shieldlab report FILE --out DIR`: a self-contained HTML report of a scenario.

DIR/index.html (inline CSS, no scripts, no external resources) with PNG figures beside it: the scenario
summary, a map of the threats' ground tracks, a timeline chart and the engage tables per threat, the
coverage map and per-battery shares (when the scenario has [coverage]), sensitivity sweeps over the
interceptor burnout speed and the launch delay, and every catalog entry used with its source and confidence.

    from shieldlab.report import build_report
    build_report("examples/case-studies/epaa-vs-iran.toml", "report-iran")   # -> Path("report-iran/index.html")

Modules: ``sweeps`` (sensitivity computations), ``figures`` (matplotlib Figures), ``html`` (HTML fragments),
``build`` (running, assembling and writing atomically).
"""

from shieldlab.report.build import Report, ReportError, build_report, check_out_dir

__all__ = ["Report", "ReportError", "build_report", "check_out_dir"]
