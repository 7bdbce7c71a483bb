"""Threat missiles, `model = "burnout"`: burnout state, aiming, free flight (docs/models.md, The threat missile:
the burnout model)."""
