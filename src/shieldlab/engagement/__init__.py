"""Engagements (MODELS.md section 5): cue, earliest launch, intercept windows and reasons."""
