"""Sensors (MODELS.md section 3): radars with range, elevation mask and azimuth sector."""
