"""The public Python API of shieldlab. The CLI and the web app are thin layers over these names.

    from shieldlab.api import load_scenario, engage, engage_document
    doc = engage_document(engage(load_scenario("examples/kozelsk-washington.toml")))
"""

from __future__ import annotations

from shieldlab import __version__
from shieldlab.earth.model import Earth
from shieldlab.engagement.engage import EngageResult, engage
from shieldlab.errors import AimError, Problem, ScenarioError, ShieldlabError
from shieldlab.output.jsonout import engage_document
from shieldlab.scenario.load import load_scenario, load_scenario_text
from shieldlab.scenario.model import (Battery, CoverageSpec, EarthSpec, InterceptorType, MissileType, Point, Radar,
                                      Scenario, Sector, ThreatSpec, Trajectory)

__all__ = [
    "__version__", "Earth", "EngageResult", "engage", "engage_document", "load_scenario", "load_scenario_text",
    "AimError", "Problem", "ScenarioError", "ShieldlabError", "Battery", "CoverageSpec", "EarthSpec",
    "InterceptorType", "MissileType", "Point", "Radar", "Scenario", "Sector", "ThreatSpec", "Trajectory",
]
