"""Scenario files: the data model (model.py), the input schema (schema.py), the checks that build the model
from parsed TOML (parse.py) and the reading of files with the bundled catalog's names (load.py).

Import from the modules (``from shieldlab.scenario.load import load_scenario``); this package imports none of
them, so the catalog can use parse.py while load.py uses the catalog, without an import cycle.
"""
