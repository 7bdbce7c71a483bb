"""Read a scenario file, check all of it and build the model (model.py); names it does not define come from the
bundled catalog.

Every problem found is collected; if there is any, :class:`~shieldlab.errors.ScenarioError` is raised with all
of them, each naming the file, the table, the key, the value found and what was expected (the checks are those
of parse.py, driven by the schema, schema.py).

A name the file does not define falls back to the bundled catalog (shieldlab.catalog): places wherever a point
is asked for, `missile = "..."`, a battery's `interceptor = "..."`, and `[[sensors]]` given as `radar = "..."`
(a catalog radar, any of whose keys the entry may override). The file's own definitions win; the entries used
are recorded in Scenario.catalog_refs.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shieldlab import catalog
from shieldlab.errors import Problem, ScenarioError
from shieldlab.scenario.model import Scenario
from shieldlab.scenario.parse import parse_scenario
from shieldlab.scenario.schema import MAX_GRID_POINTS

__all__ = ["MAX_GRID_POINTS", "load_scenario", "load_scenario_text", "scenario_from_dict"]


def scenario_from_dict(data: Mapping[str, Any], filename: str = "<dict>", *, use_catalog: bool = True) -> Scenario:
    """Check a parsed scenario (the TOML as a dict) and build it; raise ScenarioError listing every problem.

    With `use_catalog` (the default) names the file does not define are looked up in the bundled catalog.
    """
    return parse_scenario(data, filename, catalog=catalog if use_catalog else None)


def load_scenario_text(text: str, filename: str = "<string>") -> Scenario:
    """Parse and check scenario TOML text; `filename` names it in messages (and gives the default name)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        problem = Problem(filename, "", "", f"TOML syntax error: {error}", "valid TOML (https://toml.io)")
        raise ScenarioError([problem]) from None
    return scenario_from_dict(data, filename)


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read, parse and check a scenario file; raise ScenarioError naming the file and every problem."""
    filename = os.fspath(path)
    try:
        text = Path(filename).read_bytes().decode("utf-8")
    except OSError as error:
        reason = f"cannot read the file ({error.strerror or error})"
        raise ScenarioError([Problem(filename, "", "", reason, "a readable TOML scenario file")]) from None
    except UnicodeDecodeError as error:
        reason = f"the file is not UTF-8 text (byte {error.start})"
        raise ScenarioError([Problem(filename, "", "", reason, "a TOML file in UTF-8")]) from None
    return load_scenario_text(text, filename)
