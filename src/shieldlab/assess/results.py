"""The results of `shieldlab assess` (docs/models.md, Assessing a missile from a flight test): frozen
dataclasses in SI units (angles in degrees), and the `assess --json` document they make (units in the keys).

`AssessResult` holds one `Assessment` per [[assessments]] table; each holds its fits (`FitResult`: a staged type
has two, the staged fit and the burnout fit of the same burnout state; a burnout type one), or an `error`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shieldlab import __version__
from shieldlab.scenario.model import AssessmentSpec, EarthSpec, Point

OBSERVATIONS = ("apogee", "flight_time", "ground_range")
# the unit of each quantity in the JSON document and the tables: (suffix, scale from SI)
UNITS = {"apogee": ("km", 1e-3), "flight_time": ("min", 1 / 60.0), "ground_range": ("km", 1e-3),
         "burnout_speed": ("km_s", 1e-3), "gamma": ("deg", 1.0), "kick": ("deg", 1.0),
         "payload_mass": ("kg", 1.0), "burn_time": ("s", 1.0), "burnout_altitude": ("km", 1e-3),
         "burnout_range": ("km", 1e-3)}


def _num(x, scale: float = 1.0):
    x = float(x)
    return None if not math.isfinite(x) else x * scale


def quantity_key(name: str) -> str:
    """The JSON key of a quantity: its name and unit, e.g. "apogee_km"."""
    return f"{name}_{UNITS[name][0]}"


def in_unit(name: str, value: float):
    """A quantity (SI) in the unit of its key, None when not finite."""
    return _num(value, UNITS[name][1])


@dataclass(frozen=True)
class ObservationFit:
    """One observation: observed and model values (SI), its one-sigma uncertainty in percent."""

    name: str
    observed: float
    model: float
    uncertainty_pct: float

    @property
    def sigma(self) -> float:
        return self.uncertainty_pct / 100.0 * self.observed

    @property
    def residual(self) -> float:
        """model - observed (SI)."""
        return self.model - self.observed

    @property
    def residual_sigma(self) -> float:
        return self.residual / self.sigma

    def to_document(self) -> dict:
        unit = UNITS[self.name][0]
        return {"observation": self.name, f"observed_{unit}": in_unit(self.name, self.observed),
                f"model_{unit}": in_unit(self.name, self.model), "uncertainty_pct": self.uncertainty_pct,
                f"residual_{unit}": in_unit(self.name, self.residual), "residual_sigma": _num(self.residual_sigma)}


@dataclass(frozen=True)
class MinimumFound:
    """One distinct minimum of the fit: its parameters (name -> SI value), cost (the sum of the squared residuals
    in sigmas), residuals in sigmas, and whether it reproduces the test (every residual within 3 sigmas)."""

    parameters: tuple[tuple[str, float], ...]
    cost: float
    residuals_sigma: tuple[float, ...]
    reproduces: bool

    def to_document(self, observations) -> dict:
        return {**{quantity_key(k): in_unit(k, v) for k, v in self.parameters}, "cost": _num(self.cost),
                "residual_sigma": {o: _num(r) for o, r in zip(observations, self.residuals_sigma)},
                "reproduces": self.reproduces}


@dataclass(frozen=True)
class PlaceInReach:
    """A catalog place within reach: its distance from the launch point, its azimuth, the reach that way."""

    name: str
    lat_deg: float
    lon_deg: float
    distance_m: float
    azimuth_deg: float
    reach_m: float

    def to_document(self) -> dict:
        return {"name": self.name, "lat_deg": self.lat_deg, "lon_deg": self.lon_deg,
                "distance_km": _num(self.distance_m, 1e-3), "azimuth_deg": _num(self.azimuth_deg),
                "reach_km": _num(self.reach_m, 1e-3)}


@dataclass(frozen=True)
class Reach:
    """The maximum range along every launch azimuth of `azimuths_deg` (NaN: none), the free angle that gives it
    (gamma or the kick), the end points (the reach contour) and the places within reach."""

    azimuths_deg: tuple[float, ...]
    max_range_m: tuple[float, ...]
    best_angle_deg: tuple[float, ...]
    end_lat_deg: tuple[float, ...]
    end_lon_deg: tuple[float, ...]
    places: tuple[PlaceInReach, ...]

    def _extreme(self, pick):
        pairs = [(r, a) for r, a in zip(self.max_range_m, self.azimuths_deg) if math.isfinite(r)]
        return pick(pairs) if pairs else (math.nan, math.nan)

    @property
    def least(self) -> tuple[float, float]:
        """(range m, azimuth deg) of the shortest maximum range."""
        return self._extreme(min)

    @property
    def greatest(self) -> tuple[float, float]:
        """(range m, azimuth deg) of the longest maximum range."""
        return self._extreme(max)

    def to_document(self, angle: str) -> dict:
        (lr, la), (gr, ga) = self.least, self.greatest
        return {
            "least": {"max_range_km": _num(lr, 1e-3), "azimuth_deg": _num(la)},
            "greatest": {"max_range_km": _num(gr, 1e-3), "azimuth_deg": _num(ga)},
            "azimuths": [{"azimuth_deg": a, "max_range_km": _num(r, 1e-3), f"{angle}_deg": _num(g),
                          "end": {"lat_deg": _num(la_), "lon_deg": _num(lo_)}}
                         for a, r, g, la_, lo_ in zip(self.azimuths_deg, self.max_range_m, self.best_angle_deg,
                                                      self.end_lat_deg, self.end_lon_deg)],
            "places_within_reach": [p.to_document() for p in self.places],
        }


@dataclass(frozen=True)
class FitResult:
    """One fit of a test. `kind`: "staged" (kick and payload of the staged type), "burnout" (v_bo and gamma of
    the burnout type) or "burnout-equivalent" (v_bo and gamma of a burnout type whose burn time, burnout altitude
    and burnout range are those of the fitted staged flight). `parameters` the fitted values (name -> SI),
    `fixed` the type's values held fixed, `burnout` the fitted flight's burnout state; `minima` every distinct
    minimum found (least cost first); the maximum range along the test's azimuth (and the free angle giving it),
    at other payloads (staged), and along every azimuth (`reach`)."""

    kind: str
    parameters: tuple[tuple[str, float], ...]
    fixed: tuple[tuple[str, float], ...]
    burnout: tuple[tuple[str, float], ...]
    observations: tuple[ObservationFit, ...]
    minima: tuple[MinimumFound, ...]
    max_range_m: float
    max_range_angle_deg: float
    payload_ranges: tuple[tuple[float, float], ...]
    reach: Reach

    @property
    def model(self) -> str:
        return "staged" if self.kind == "staged" else "burnout"

    @property
    def angle(self) -> str:
        """The free angle of the maximum range: "kick" or "gamma"."""
        return "kick" if self.kind == "staged" else "gamma"

    @property
    def unique(self) -> bool:
        """Exactly one minimum reproduces the test."""
        return sum(m.reproduces for m in self.minima) == 1

    def parameter(self, name: str) -> float:
        return dict(self.parameters)[name]

    def to_document(self) -> dict:
        names = [o.name for o in self.observations]
        return {
            "kind": self.kind, "model": self.model,
            "parameters": {quantity_key(k): in_unit(k, v) for k, v in self.parameters},
            "fixed": {quantity_key(k): in_unit(k, v) for k, v in self.fixed},
            "burnout": {quantity_key(k): in_unit(k, v) for k, v in self.burnout},
            "observations": [o.to_document() for o in self.observations],
            "unique": self.unique,
            "minima": [m.to_document(names) for m in self.minima],
            "max_range_km": _num(self.max_range_m, 1e-3), f"max_range_{self.angle}_deg": _num(self.max_range_angle_deg),
            "payload_ranges": [{"payload_mass_kg": p, "max_range_km": _num(r, 1e-3)} for p, r in self.payload_ranges],
            "reach": self.reach.to_document(self.angle),
        }


@dataclass(frozen=True)
class Assessment:
    """One [[assessments]] table assessed: the launch azimuth used, the fits (staged types: the staged fit, then
    the burnout-equivalent fit), or `error`, a sentence saying why it could not be assessed."""

    spec: AssessmentSpec
    model: str
    azimuth_deg: float
    fits: tuple[FitResult, ...] = ()
    error: str | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def fit(self, kind: str) -> FitResult:
        """The fit of that kind ("staged", "burnout" or "burnout-equivalent")."""
        for f in self.fits:
            if f.kind == kind:
                return f
        raise KeyError(f"assessment {self.name!r} has no {kind!r} fit")

    def to_document(self) -> dict:
        s = self.spec
        p = s.launch
        observed = {quantity_key(k): in_unit(k, v) for k, v in (
            ("apogee", s.observed_apogee_m), ("flight_time", s.observed_flight_time_s),
            ("ground_range", s.observed_ground_range_m if s.observed_ground_range_m is not None else math.nan))}
        return {
            "name": s.name, "missile": s.missile, "model": self.model, "error": self.error,
            "from": _point(p), "to": _point(s.impact) if s.impact is not None else None,
            "azimuth_deg": _num(self.azimuth_deg), "observed": observed,
            "uncertainty_pct": {"apogee": s.apogee_uncertainty_pct, "flight_time": s.flight_time_uncertainty_pct,
                                "ground_range": s.ground_range_uncertainty_pct},
            "fits": [f.to_document() for f in self.fits],
        }


def _point(p: Point) -> dict:
    return {"name": p.name, "lat_deg": p.lat_deg, "lon_deg": p.lon_deg, "alt_km": p.alt_m * 1e-3}


@dataclass(frozen=True)
class AssessResult:
    """Every assessment of a scenario, in file order."""

    scenario: str
    source: str | None
    earth: EarthSpec
    assessments: tuple[Assessment, ...]

    def __repr__(self) -> str:
        ok = sum(a.error is None for a in self.assessments)
        return f"<AssessResult {self.scenario!r}: {len(self.assessments)} assessments, {ok} assessed>"

    def __getitem__(self, name: str) -> Assessment:
        for a in self.assessments:
            if a.name == name:
                return a
        raise KeyError(f"no assessment {name!r}; known: {', '.join(a.name for a in self.assessments)}")

    def to_document(self) -> dict:
        """The `assess --json` document."""
        e = self.earth
        return {"shieldlab_version": __version__, "scenario": self.scenario, "source": self.source,
                "earth": {"model": e.model, "rotation": e.rotation, "j2": e.j2},
                "assessments": [a.to_document() for a in self.assessments]}
