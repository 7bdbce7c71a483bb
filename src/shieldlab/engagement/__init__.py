"""Engagements (MODELS.md section 5): cue, earliest launch, intercept windows and reasons.

Modules, one job each: ``results`` (the typed results and the Reason vocabulary), ``condition`` (the
engagement condition, evaluated exactly), ``scan`` (free-flight samples and the flyout-time scan, exact or
by table), ``boundary`` (locating the first and last intercept exactly), ``window`` (one battery's windows:
scan, reasons, boundaries), ``latest`` (the latest interceptor launch that still intercepts, MODELS.md 5.1),
``geometry`` (closing speed and crossing angle at an intercept, MODELS.md 4.2) and ``engage`` (a scenario's
threats against its sensors and batteries).
"""
