"""How a margin (latest launch minus earliest launch, docs/models.md, The latest launch) is written,
in one place for every front end: the text table, the report, the coverage map and, mirrored in
``web/static/format.js``, the web page.

"+42 s": launching up to that much later still intercepts; "late by 17 s": the earliest launch comes that
much too late; "—": there is no margin (the threat never enters the altitude band, no point of it can be
reached, or no sensor gives a cue). Whole seconds from 9.5 s on, tenths below.
"""

from __future__ import annotations

import math

NO_MARGIN = "—"


def _value(margin_s) -> float | None:
    if margin_s is None:
        return None
    try:
        m = float(margin_s)
    except (TypeError, ValueError):
        return None
    return m if math.isfinite(m) else None


def margin_kind(margin_s) -> str:
    """"spare" (margin ≥ 0: the battery can intercept), "late" (< 0) or "none" (no margin)."""
    m = _value(margin_s)
    return "none" if m is None else "spare" if m >= 0 else "late"


def margin_str(margin_s) -> str:
    """A margin in seconds as text: "+42 s", "+3.2 s", "late by 17 s", "late by 0.4 s", or "—"."""
    m = _value(margin_s)
    if m is None:
        return NO_MARGIN
    if m >= 0:
        m = abs(m)  # -0.0 is "+0.0 s"
        return f"+{m:.0f} s" if m >= 9.5 else f"+{m:.1f} s"
    return f"late by {-m:.0f} s" if m <= -9.5 else f"late by {-m:.1f} s"


__all__ = ["NO_MARGIN", "margin_kind", "margin_str"]
