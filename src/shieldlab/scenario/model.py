"""The scenario data model: frozen dataclasses in SI units (angles in degrees, said in the name).

Built only by :func:`shieldlab.scenario.load.load_scenario` (or by hand in Python); nothing downstream
parses files again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

EarthModelName = Literal["wgs84", "sphere"]
Cue = Literal["track", "launch"]
AimMode = Literal["min-energy", "lofted", "depressed", "gamma", "kick"]
G0_M_S2 = 9.80665  # standard gravity, for specific impulse (docs/scenario.md, Staged missile types)


@dataclass(frozen=True)
class EarthSpec:
    model: EarthModelName = "wgs84"
    rotation: bool = True
    j2: bool = True


@dataclass(frozen=True)
class Point:
    """A point on or above the Earth: geodetic latitude/longitude in degrees, altitude in metres."""

    lat_deg: float
    lon_deg: float
    alt_m: float = 0.0
    name: str | None = None


@dataclass(frozen=True)
class MissileType:
    """A threat missile type, `model = "burnout"` (docs/models.md, The threat missile: the burnout model)."""

    name: str
    burn_time_s: float
    burnout_altitude_m: float
    burnout_range_m: float
    burnout_speed_m_s: float | None = None
    model: str = "burnout"
    # radar cross-sections: docs/models.md, Sensitivity: range against a cross-section
    rcs_m2: float = 1.0  # in free flight (the warhead or re-entry vehicle)
    rcs_boost_m2: float | None = None  # in powered flight (the booster); None: rcs_m2

    @property
    def boost_rcs_m2(self) -> float:
        """The cross-section a radar sees before burnout: `rcs_boost_m2`, or `rcs_m2` when not given."""
        return self.rcs_m2 if self.rcs_boost_m2 is None else self.rcs_boost_m2


@dataclass(frozen=True)
class Stage:
    """One rocket stage of a `staged` missile type (docs/scenario.md, Staged missile types): vacuum thrust
    `isp_s` * g0 * propellant_mass_kg / burn_time_s, constant; `coast_s` of unpowered flight before it ignites."""

    propellant_mass_kg: float
    dry_mass_kg: float
    burn_time_s: float
    isp_s: float
    coast_s: float = 0.0

    @property
    def thrust_n(self) -> float:
        """Vacuum thrust (N)."""
        return self.isp_s * G0_M_S2 * self.propellant_mass_kg / self.burn_time_s

    @property
    def mass_rate_kg_s(self) -> float:
        """Propellant flow while burning (kg/s, positive)."""
        return self.propellant_mass_kg / self.burn_time_s


@dataclass(frozen=True)
class StagedMissileType:
    """A threat missile type, `model = "staged"`: stages flown through the atmosphere (docs/scenario.md, Staged
    missile types). `stages` in firing order. `reentry_ballistic_coefficient_kg_m2` None: payload_mass_kg / (C_D A)."""

    name: str
    payload_mass_kg: float
    diameter_m: float
    stages: tuple[Stage, ...]
    drag_coefficient: float = 0.3
    vertical_rise_s: float = 10.0
    reentry_ballistic_coefficient_kg_m2: float | None = None
    model: str = "staged"
    rcs_m2: float = 1.0
    rcs_boost_m2: float | None = None

    @property
    def boost_rcs_m2(self) -> float:
        """The cross-section a radar sees before burnout: `rcs_boost_m2`, or `rcs_m2` when not given."""
        return self.rcs_m2 if self.rcs_boost_m2 is None else self.rcs_boost_m2

    @property
    def reference_area_m2(self) -> float:
        """A = pi d^2 / 4."""
        return math.pi * self.diameter_m ** 2 / 4.0

    @property
    def ballistic_coefficient_kg_m2(self) -> float:
        """The payload's ballistic coefficient after burnout: the given one, or m_p / (C_D A)."""
        if self.reentry_ballistic_coefficient_kg_m2 is not None:
            return self.reentry_ballistic_coefficient_kg_m2
        return self.payload_mass_kg / (self.drag_coefficient * self.reference_area_m2)

    @property
    def liftoff_mass_kg(self) -> float:
        """Payload plus every stage's propellant and dry mass."""
        return self.payload_mass_kg + sum(s.propellant_mass_kg + s.dry_mass_kg for s in self.stages)

    @property
    def burn_time_s(self) -> float:
        """Launch to the end of the last stage's full burn, coasts included (s)."""
        return sum(s.burn_time_s + s.coast_s for s in self.stages)


@dataclass(frozen=True)
class InterceptorType:
    """An interceptor type, `model = "straight-boost"` (docs/models.md, The interceptor: straight boost and the
    fast arc)."""

    name: str
    burn_time_s: float
    burnout_speed_m_s: float
    min_altitude_m: float = 0.0
    max_altitude_m: float = math.inf
    max_flight_time_s: float | None = None
    model: str = "straight-boost"
    # launches need this <= elevation <= 90 deg (and > 0): docs/models.md, Launch floor and energy management
    min_launch_elevation_deg: float = 0.0
    # may burn out slower than burnout_speed_m_s (same burn time): docs/models.md, Launch floor and energy management
    energy_management: bool = False


@dataclass(frozen=True)
class Sector:
    """An azimuth sector: centre and half-width in degrees (half_width 180 means all round)."""

    center_deg: float
    half_width_deg: float


@dataclass(frozen=True)
class Radar:
    """A radar (docs/models.md, Radars; Sensitivity: range against a cross-section; Track formation).

    Its range against a target of cross-section sigma is `range_m(sigma)`: `reference_range_m` scaled by the
    fourth root of sigma / `reference_rcs_m2` when a reference range is given, capped by `max_range_m` (math.inf
    when the file gives only a reference range); `max_range_m` alone when no reference range is given.
    """

    name: str
    at: Point
    max_range_m: float = math.inf
    min_elevation_deg: float = 0.0
    sector: Sector | None = None
    kind: str = "radar"
    reference_range_m: float | None = None
    reference_rcs_m2: float = 1.0
    track_formation_s: float = 0.0

    def range_m(self, rcs_m2: float) -> float:
        """Detection range against a target of cross-section `rcs_m2` (m): docs/models.md, Sensitivity: range
        against a cross-section."""
        if self.reference_range_m is None:
            return self.max_range_m
        return min(self.max_range_m, self.reference_range_m * (rcs_m2 / self.reference_rcs_m2) ** 0.25)

    @property
    def sensitivity_dependent(self) -> bool:
        """Whether its range depends on the target's cross-section (a reference range is given)."""
        return self.reference_range_m is not None


@dataclass(frozen=True)
class Battery:
    """An interceptor type at a site with a launch delay and a cue (docs/models.md, Engagements)."""

    name: str
    at: Point
    interceptor: str
    launch_delay_s: float = 0.0
    cue: Cue = "track"
    # may intercept staged threats in powered flight (docs/scenario.md, `[[batteries]]`: interceptor batteries)
    boost_phase: bool = False


@dataclass(frozen=True)
class Trajectory:
    """How an aimed threat chooses its trajectory; `gamma_deg` only for mode 'gamma'."""

    mode: AimMode = "min-energy"
    gamma_deg: float | None = None
    kick_deg: float | None = None  # mode 'kick' (staged types)

    def label(self) -> str:
        if self.mode == "gamma":
            return f"gamma={self.gamma_deg:g} deg"
        if self.mode == "kick":
            return f"kick={self.kick_deg:g} deg"
        return self.mode


@dataclass(frozen=True)
class ThreatSpec:
    """One threat: aimed (`aim` given) or unaimed (`azimuth_deg` and, for a burnout type, `gamma_deg`, for a staged
    type `kick_deg` given)."""

    name: str
    missile: str
    launch: Point
    aim: Point | None = None
    trajectory: Trajectory = field(default_factory=Trajectory)
    launch_time_s: float = 0.0
    azimuth_deg: float | None = None
    gamma_deg: float | None = None
    kick_deg: float | None = None  # unaimed staged threats


@dataclass(frozen=True)
class AimGrid:
    """A lat/lon grid of aim points, bounds inclusive, in degrees."""

    lat_min_deg: float
    lat_max_deg: float
    lon_min_deg: float
    lon_max_deg: float
    step_deg: float

    def lat_values(self) -> tuple[float, ...]:
        """The grid latitudes, south to north, `lat_min_deg` then every `step_deg` up to `lat_max_deg`."""
        return grid_axis(self.lat_min_deg, self.lat_max_deg, self.step_deg)

    def lon_values(self) -> tuple[float, ...]:
        """The grid longitudes, west to east, as given in the file (they may exceed 180: normalise if needed)."""
        return grid_axis(self.lon_min_deg, self.lon_max_deg, self.step_deg)

    @property
    def size(self) -> int:
        """The number of aim points."""
        lat_n = grid_axis_count(self.lat_min_deg, self.lat_max_deg, self.step_deg)
        return lat_n * grid_axis_count(self.lon_min_deg, self.lon_max_deg, self.step_deg)


def grid_axis_count(lo: float, hi: float, step: float) -> int:
    """How many values `lo, lo + step, ...` lie in [lo, hi] (hi included to within rounding)."""
    return math.floor((hi - lo) / step + 1e-9) + 1


def grid_axis(lo: float, hi: float, step: float) -> tuple[float, ...]:
    """The values `lo, lo + step, ...` up to `hi` included, rounded to 1e-9 degree."""
    return tuple(round(lo + i * step, 9) for i in range(grid_axis_count(lo, hi, step)))


@dataclass(frozen=True)
class CoverageSpec:
    """The `[coverage]` table: every (launch, aim) pair flown as a threat."""

    missile: str
    launch: tuple[Point, ...]
    aim: AimGrid | tuple[Point, ...]
    trajectory: Trajectory = field(default_factory=Trajectory)
    launch_time_s: float = 0.0


@dataclass(frozen=True)
class AssessmentSpec:
    """One `[[assessments]]` table: a flight test of a missile type (docs/scenario.md, Flight tests). Exactly one of
    `azimuth_deg` (the launch azimuth) and `impact` (the observed impact point) is given. Uncertainties are
    in percent of the observed value (the fit divides each residual by them). `payload_masses_kg`: other payloads to give the maximum range at
    (staged types only)."""

    name: str
    missile: str
    launch: Point
    observed_apogee_m: float
    observed_flight_time_s: float
    observed_ground_range_m: float | None = None
    azimuth_deg: float | None = None
    impact: Point | None = None
    apogee_uncertainty_pct: float = 1.0
    flight_time_uncertainty_pct: float = 1.0
    ground_range_uncertainty_pct: float = 2.0
    payload_masses_kg: tuple[float, ...] = ()


Distribution = Literal["normal", "uniform", "triangular", "choice"]


@dataclass(frozen=True)
class VarySpec:
    """One `vary` entry of `[uncertainty]` (docs/scenario.md, Uncertainty; docs/models.md, Uncertainty): the
    distribution of one scenario value.

    `key` is the dotted key as written ("interceptors.sm3-iib.burnout_speed"); `path` where the value lives in
    the Scenario: the first element a Scenario field ("interceptors", "missiles", "sensors", "batteries",
    "threats", "coverage", "earth"), then the entry's name for named tables and arrays (sensors, batteries and
    threats by their `name`), then attribute names of the model dataclasses and, inside tuples (a staged type's
    `stages`), 0-based indices: ("interceptors", "sm3-iib", "burnout_speed_m_s"), ("missiles", "x", "stages", 0,
    "isp_s"), ("batteries", "poland", "cue"). `kind` and `params` give the distribution, in the model's units
    (SI, degrees): normal (mean, sd), uniform (low, high), triangular (low, mode, high); a choice has its
    `choices` (the values as the model holds them: numbers in SI, strings, booleans, Points) and `weights`
    (normalised to sum to 1). A normal is truncated to the key's allowed range [`low`, `high`] (docs/models.md,
    Uncertainty); `truncated` says whether that cuts anything. `unit` is the unit outputs write the value in
    (the key's unit in docs/scenario.md, e.g. "km/s"; None for choices of text and for bare numbers)."""

    key: str
    path: tuple
    kind: Distribution
    params: tuple[float, ...] = ()
    choices: tuple = ()
    weights: tuple[float, ...] = ()
    low: float = -math.inf
    high: float = math.inf
    truncated: bool = False
    unit: str | None = None


@dataclass(frozen=True)
class UncertaintySpec:
    """The `[uncertainty]` table (docs/scenario.md, Uncertainty): `samples` random draws per threat (or coverage
    pair) for the probabilities and quantiles, from a generator seeded with `seed`; `sensitivity_samples`, the
    base size N of Saltelli's scheme for the Sobol indices (N * (D + 2) more evaluations for D varied values;
    0: no sensitivity indices)."""

    vary: tuple[VarySpec, ...]
    samples: int = 1000
    seed: int = 0
    sensitivity_samples: int = 512


@dataclass(frozen=True)
class Scenario:
    name: str
    earth: EarthSpec = field(default_factory=EarthSpec)
    places: dict[str, Point] = field(default_factory=dict)
    missiles: dict[str, MissileType | StagedMissileType] = field(default_factory=dict)
    interceptors: dict[str, InterceptorType] = field(default_factory=dict)
    sensors: tuple[Radar, ...] = ()
    batteries: tuple[Battery, ...] = ()
    threats: tuple[ThreatSpec, ...] = ()
    coverage: CoverageSpec | None = None
    source: str | None = None
    # the bundled-catalog entries the file used by name, (kind, name) in order of first use, e.g.
    # ("places", "kozelsk"): shieldlab.catalog.citations(scenario.catalog_refs) gives their sources
    catalog_refs: tuple[tuple[str, str], ...] = ()
    assessments: tuple[AssessmentSpec, ...] = ()  # [[assessments]]: flight tests (shieldlab assess)
    uncertainty: UncertaintySpec | None = None  # [uncertainty]: shieldlab uncertainty
