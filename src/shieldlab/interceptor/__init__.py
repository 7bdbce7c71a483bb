"""Interceptors, `model = "straight-boost"` (docs/models.md, The interceptor: straight boost and the fast arc):
flyout time to any point."""
