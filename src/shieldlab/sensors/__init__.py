"""Sensors (docs/models.md, Radars): radars with range, elevation mask and azimuth sector."""
