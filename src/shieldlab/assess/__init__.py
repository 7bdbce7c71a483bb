"""Assessing a missile from a flight test (docs/models.md, Assessing a missile from a flight test).

    from shieldlab.api import load_scenario, assess
    res = assess(load_scenario("examples/assess-2017.toml"))
    a = res["hwasong-15-2017-11-29"]
    a.fit("staged").parameter("payload_mass")        # kg
    a.fit("staged").max_range_m                       # along the test's azimuth
    a.fit("burnout-equivalent").reach.greatest        # (m, azimuth deg)

Modules: `flights` (the model flights and the maximum range over the free angle), `fit` (least squares from many
starts), `run` (each assessment), `results` (the typed results and the `assess --json` document).
"""

from shieldlab.assess.results import (AssessResult, Assessment, FitResult, MinimumFound, ObservationFit, PlaceInReach,
                                      Reach)
from shieldlab.assess.run import assess

__all__ = ["assess", "AssessResult", "Assessment", "FitResult", "MinimumFound", "ObservationFit", "PlaceInReach",
           "Reach"]
