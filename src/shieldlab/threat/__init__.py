"""Threat missiles, `model = "burnout"` (MODELS.md section 2): burnout state, aiming, free flight."""
