"""Interceptors, `model = "straight-boost"` (MODELS.md section 4): flyout time to any point."""
