"""Engagements (docs/models.md, Engagements): cue, earliest launch, intercept windows and reasons.

Modules, one job each: ``results`` (the typed results and the Reason vocabulary), ``condition`` (the
engagement condition, evaluated exactly), ``scan`` (free-flight samples and the flyout-time scan, exact or
by table), ``boundary`` (locating the first and last intercept exactly), ``window`` (one battery's windows:
scan, reasons, boundaries), ``latest`` (the latest interceptor launch that still intercepts, docs/models.md,
The latest launch), ``geometry`` (closing speed and crossing angle at an intercept, docs/models.md, Intercept
geometry) and ``engage`` (a scenario's threats against its sensors and batteries).
"""
