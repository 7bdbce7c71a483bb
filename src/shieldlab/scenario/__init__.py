"""Scenario files: the data model (model.py) and the TOML loader with validation (load.py)."""
