"""The scenario file's input schema: every table and key, its dimension, default, allowed range and meaning.

This is the one place these facts are written. The loader (parse.py) takes from it what it checks and the words
of its messages ("expected a speed greater than 0 and at most 11 km/s"); the web app's parameter edits
(shieldlab.web.overrides) take their bounds from it; the scenario reference (docs/scenario.md) is generated from
it (tools/scenario_reference.py) and a test checks the two agree.

    from shieldlab.scenario import schema
    key = schema.INTERCEPTOR["burnout_speed"]
    key.range.hi                   # 11000.0 (SI: m/s)
    key.expected()                 # 'a speed greater than 0 and at most 11 km/s'
    [t.title for t in schema.TABLES]

Ranges are in SI (m, s, m/s) or degrees, like the values the loader returns, so a value is checked exactly as
it will be used. Every bound is physical and generous: it refuses nonsense (a radar 100 km underground, a speed
of 1e9 m/s) and no real system; each one's reason is in its key's `bound`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from shieldlab.units import Dimension, default_unit, unit_factor

__all__ = [
    "ANY", "KeyKind", "Key", "MAX_GRID_POINTS", "Range", "REQUIRED", "SchemaTable", "TABLES",
    "TOP", "EARTH", "POINT", "MISSILE", "STAGED", "STAGE", "INTERCEPTOR", "SENSOR", "SECTOR", "BATTERY", "THREAT",
    "TRAJECTORY", "COVERAGE", "GRID", "ASSESSMENT", "OBSERVED", "UNCERTAINTY", "SAMPLING", "VARY", "DISTRIBUTIONS",
    "MAX_SAMPLES", "MISSILE_MODELS", "MISSILE_TABLES",
    "SPEED_TRAJECTORIES", "burnout_speed_needed", "missile_keys", "number_text", "trajectory_text",
]


def number_text(x: float) -> str:
    """A bound as written in messages: whole numbers with thousands separators (40,000), others as %g."""
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:g}"


@dataclass(frozen=True)
class Range:
    """An allowed interval of values, in the unit of the returned value (SI, or degrees)."""

    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False

    def __contains__(self, x: float) -> bool:
        above = x > self.lo if self.lo_open else x >= self.lo
        below = x < self.hi if self.hi_open else x <= self.hi
        return above and below

    @property
    def is_any(self) -> bool:
        return not (math.isfinite(self.lo) or math.isfinite(self.hi))

    def text(self, unit: str, scale: float = 1.0) -> str:
        """The interval in words, its bounds divided by `scale` and written in `unit`.

        'greater than 0 and at most 11 km/s', 'strictly between 0 and 90 deg', 'at least 0 s'.
        """
        lo_word = "greater than" if self.lo_open else "at least"
        hi_word = "less than" if self.hi_open else "at most"
        lo, hi = number_text(self.lo / scale), number_text(self.hi / scale)
        has_lo, has_hi = math.isfinite(self.lo), math.isfinite(self.hi)
        if has_lo and has_hi and self.lo_open == self.hi_open:
            strictly = "strictly " if self.lo_open else ""
            return f"{strictly}between {lo} and {hi} {unit}".rstrip()
        if has_lo and has_hi:
            return f"{lo_word} {lo} and {hi_word} {hi} {unit}".rstrip()
        if has_lo:
            return f"{lo_word} {lo} {unit}".rstrip()
        if has_hi:
            return f"{hi_word} {hi} {unit}".rstrip()
        return "of any value"

    def inequality(self, name: str, unit: str, scale: float = 1.0) -> str:
        """The interval as an inequality on `name`: '0 < gamma < 90 deg', '0 ≤ x ≤ 1 km'."""
        parts = []
        if math.isfinite(self.lo):
            parts.append(f"{number_text(self.lo / scale)} {'<' if self.lo_open else '≤'} ")
        parts.append(name)
        if math.isfinite(self.hi):
            parts.append(f" {'<' if self.hi_open else '≤'} {number_text(self.hi / scale)}")
        return "".join(parts) + (f" {unit}" if not self.is_any else "")


ANY = Range()


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""The `default` of a key that must be given."""

KeyKind = Literal[
    "quantity",    # a number with a unit (`dimension`, `range`)
    "quantities",  # a non-empty list of quantities (`dimension`, each within `range`)
    "number",      # a bare number without a unit (`range`): a coefficient
    "choice",      # one of `choices` (a string)
    "flag",        # true or false
    "text",        # a non-empty string
    "point",       # a place name or an inline table (POINT)
    "points",      # a point or a non-empty list of points
    "reference",   # the name of something defined elsewhere (a missile type, an interceptor type, a radar)
    "table",       # an inline table or [table] with its own keys (`table` names its SchemaTable)
    "tables",      # [key.NAME] tables, each a `table`
    "array",       # [[key]] tables, each a `table`
    "trajectory",  # one of `choices` or an inline table (TRAJECTORY)
    "aim",         # a grid (GRID) or a non-empty list of points
    "interval",    # a list [low, high] of angles within `range`
    "integer",     # a whole number (a TOML integer) within `range`
    "values",      # a list of values of the key a `vary` entry varies (in that key's units)
    "numbers",     # a non-empty list of bare numbers within `range`
]


@dataclass(frozen=True)
class Key:
    """One key of a table: what it holds, its default, its allowed range and its meaning.

    `default` is REQUIRED, None (optional, no value when absent) or the value taken when absent, as the loader
    returns it (SI, degrees). `unit` is the unit messages and the reference write the range and default in.
    `noun` is what a value is, in messages ("a latitude"). `when` says when the key applies, if not always;
    `bound` why the range is what it is; `table` the SchemaTable of a key holding a table.
    """

    name: str
    kind: KeyKind
    help: str
    default: Any = REQUIRED
    dimension: Dimension | None = None
    range: Range = ANY
    unit: str | None = None
    noun: str | None = None
    choices: tuple[str, ...] = ()
    when: str = ""
    bound: str = ""
    table: str = ""
    default_text: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def display_unit(self) -> str:
        """The unit the range and default are written in (the dimension's default unit unless `unit` says)."""
        if self.unit:
            return self.unit
        return default_unit(self.dimension) if self.dimension else ""

    @property
    def scale(self) -> float:
        """SI (or degrees) per display unit: values are divided by it to be written in `display_unit`."""
        return unit_factor(self.dimension, self.display_unit) if self.dimension else 1.0

    def range_text(self, unit: str | None = None) -> str:
        """The range in words, in `unit` (default: the display unit): 'greater than 0 and at most 11 km/s'."""
        unit = unit or self.display_unit
        scale = unit_factor(self.dimension, unit) if self.dimension else 1.0
        return self.range.text(unit, scale)

    def expected(self) -> str:
        """What a value must be, as messages say it: 'a speed greater than 0 and at most 11 km/s'."""
        if self.kind == "quantity":
            noun = self.noun or _NOUNS[self.dimension or "length"]
            return noun if self.range.is_any else f"{noun} {self.range_text()}"
        if self.kind == "choice":
            return "one of " + ", ".join(f'"{c}"' for c in self.choices)
        if self.kind == "flag":
            return "true or false"
        if self.kind == "interval":
            return f"a list [low, high] of {self.noun}s in degrees, each {self.range_text()}, low <= high"
        if self.kind == "number":
            return f"{self.noun or 'a number'} {self.range_text()}"
        if self.kind == "integer":
            return f"{self.noun or 'an integer'} {self.range_text()}"
        if self.kind == "quantities":
            noun = self.noun or _NOUNS[self.dimension or "length"]
            return f"a non-empty list of {noun.split(' ', 1)[1]}es each {self.range_text()}"
        return self.noun or "a non-empty string"

    def default_doc(self) -> str:
        """The default as the reference writes it ('0 s', '"track"', 'true'); '' when required or none."""
        if self.default_text:
            return self.default_text
        if self.default is REQUIRED or self.default is None:
            return ""
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        if isinstance(self.default, str):
            return f'"{self.default}"'
        if isinstance(self.default, float):
            return f"{number_text(self.default / self.scale)} {self.display_unit}"
        return str(self.default)


_NOUNS: dict[str, str] = {
    "length": "a length", "time": "a time", "speed": "a speed", "angle": "an angle", "area": "an area",
    "mass": "a mass", "ballistic coefficient": "a ballistic coefficient", "percentage": "a percentage",
}


@dataclass(frozen=True)
class SchemaTable:
    """A table of the scenario file: its keys in order (the order messages list them in) and its meaning."""

    id: str        # short identifier: "missile"
    title: str     # how the reference names it: "[missiles.NAME]"
    help: str
    keys: tuple[Key, ...]

    def __getitem__(self, name: str) -> Key:
        for key in self.keys:
            if key.name == name:
                return key
        raise KeyError(f"no key {name!r} in {self.title}")

    def __contains__(self, name: object) -> bool:
        return any(key.name == name for key in self.keys)

    def __iter__(self) -> Iterator[Key]:
        return iter(self.keys)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(key.name for key in self.keys)


# ---- bounds, each with its reason ---------------------------------------------------------------------------

LATITUDE = Range(-90.0, 90.0)
LONGITUDE = Range(-180.0, 360.0)
LONGITUDE_WHY = "-180 to 180, or 0 to 360 (read as -180 to 180)"
SITE_ALTITUDE = Range(-500.0, 100e3)
SITE_ALTITUDE_WHY = (
    "sites are on or near the ground: from below the lowest dry land (the Dead Sea shore, about -430 m) to the "
    "edge of space (100 km)"
)
BOOST_TIME = Range(0.0, 3600.0, lo_open=True)
BOOST_TIME_WHY = "no rocket stage burns for an hour (ICBM boosts last 170-300 s, interceptors' under 200 s)"
BURNOUT_ALTITUDE = Range(0.0, 2000e3)
BURNOUT_ALTITUDE_WHY = "far above any burnout point (ICBMs burn out at 150-400 km)"
BURNOUT_RANGE = Range(0.0, 2000e3)
BURNOUT_RANGE_WHY = "far beyond any powered-flight ground range (ICBMs: a few hundred km)"
BURNOUT_SPEED = Range(0.0, 11e3, lo_open=True)
BURNOUT_SPEED_WHY = (
    "below the escape speed (11.2 km/s at the surface): faster, a ballistic path need not come back and "
    "nothing of the model applies; the fastest ICBMs burn out near 7.5 km/s"
)
FAR = 40_000e3
FAR_WHY = "beyond any ballistic trajectory (lofted ICBMs peak below 5,000 km; geostationary orbit is at 35,786 km)"
INTERCEPT_ALTITUDE = Range(0.0, FAR)
INTERCEPT_CEILING = Range(0.0, FAR, lo_open=True)
RADAR_RANGE = Range(0.0, FAR, lo_open=True)
DAY = 86_400.0
FLIGHT_TIME = Range(0.0, DAY, lo_open=True)
FLIGHT_TIME_WHY = "a day: longer than any ballistic flight (a 10,000 km ICBM flight lasts about 35 min)"
DELAY = Range(0.0, DAY)
DELAY_WHY = "a day: an engagement is over within an hour of launch"
LAUNCH_TIME = Range(-DAY, DAY)
LAUNCH_TIME_WHY = "within a day of the scenario's time 0 (its threats and engagements last under an hour each)"
ELEVATION = Range(-90.0, 90.0, hi_open=True)
AZIMUTH = Range(-360.0, 360.0)
AZIMUTH_WHY = "one turn either way (read modulo 360 deg)"
HALF_WIDTH = Range(0.0, 180.0, lo_open=True)
GAMMA = Range(0.0, 90.0, lo_open=True, hi_open=True)
GRID_STEP = Range(0.0, 180.0, lo_open=True)
RCS = Range(0.0, 1e4, lo_open=True)
RCS_WHY = (
    "above 0; at most 10,000 m2 (40 dBsm): far more than the catalog's assumed 0.1 m2 re-entry vehicle and "
    "10 m2 booster (no open source retrieved states a missile's cross-section: docs/sources.md, Radar cross-sections)"
)
TRACK_TIME = Range(0.0, 3600.0)
TRACK_TIME_WHY = "an hour: longer than any ballistic flight (firing-quality tracks take seconds to a minute)"
LAUNCH_FLOOR = Range(0.0, 89.0)
LAUNCH_FLOOR_WHY = "0 to 89 deg: an interceptor is launched above the horizon, and not only straight up"
MASS = Range(0.0, 1e7, lo_open=True)
MASS_WHY = (
    "above 0; at most 10,000 t, more than three times the heaviest rocket ever launched (Saturn V, about 2,900 t)"
)
DIAMETER = Range(0.0, 50.0, lo_open=True)
DIAMETER_WHY = "above 0; at most 50 m, five times the widest rocket ever flown (Saturn V, 10.1 m)"
DRAG_COEFFICIENT = Range(0.0, 5.0, lo_open=True)
DRAG_COEFFICIENT_WHY = (
    "above 0 (the re-entry ballistic coefficient divides by it); at most 5, beyond any body in flight (a flat plate "
    "broadside is about 2)"
)
VERTICAL_RISE = Range(0.0, 600.0, lo_open=True)
VERTICAL_RISE_WHY = (
    "above 0 (the kick turns the velocity gained in the rise, none at launch); at most 10 minutes, longer than any "
    "powered flight"
)
ISP = Range(50.0, 500.0)
ISP_WHY = (
    "50 to 500 s: chemical rockets lie inside it (the best hydrogen-oxygen engines reach about 465 s in vacuum); "
    "outside it a value is a typing error (a thrust, an exhaust speed in m/s)"
)
COAST = Range(0.0, 3600.0)
COAST_WHY = "an hour: longer than any ballistic flight (coasts between stages last seconds)"
BALLISTIC_COEFFICIENT = Range(0.0, 1e6, lo_open=True)
BALLISTIC_COEFFICIENT_WHY = (
    "above 0; at most 1,000,000 kg/m2, far beyond any body (a solid steel rod 10 m long flying end on with "
    "C_D = 1 has 78,500 kg/m2)"
)
KICK = Range(0.0, 90.0)
KICK_WHY = "0 deg: straight up, never turned; 90 deg: turned to the horizontal"
APOGEE = Range(0.0, FAR, lo_open=True)
GROUND_RANGE = Range(0.0, 20_040e3, lo_open=True)
GROUND_RANGE_WHY = "above 0; at most 20,040 km: no two points of the Earth are further apart (half the equator)"
UNCERTAINTY_PCT = Range(0.0, 100.0, lo_open=True)
UNCERTAINTY_PCT_WHY = (
    "above 0 (an observation is weighted by one over its uncertainty); at most 100 %: a figure known no better "
    "is no observation"
)

MAX_SAMPLES = 1_000_000
SAMPLES = Range(1.0, MAX_SAMPLES)
SAMPLES_WHY = (
    "at least 1; at most 1,000,000: each sample is a full engagement of every threat (or coverage pair), so more "
    "would run for days on one machine and needs a cluster; the statistics' error falls as one over the square root "
    "of the number, so 1,000,000 samples already give probabilities to about 0.1 %"
)
SENSITIVITY_SAMPLES = Range(0.0, MAX_SAMPLES)
SENSITIVITY_SAMPLES_WHY = (
    "0 (no sensitivity indices) to 1,000,000: the indices take N * (D + 2) engagements for D varied values, so more "
    "would run for days on one machine and needs a cluster"
)
SEED = Range(0.0)
WEIGHT = Range(0.0)

MAX_GRID_POINTS = 1_000_000
"""The most aim points a [coverage] grid may have (each is a full engagement: more would run for days)."""

POINT_FORM = "{ lat = …, lon = …, alt = … }"

# ---- the tables -------------------------------------------------------------------------------------------------

TOP = SchemaTable("top", "top level", "The file's own keys and its tables.", (
    Key("name", "text", "The scenario's name, shown in every output.", default=None,
        default_text="the file name without `.toml`"),
    Key("earth", "table", "The Earth model.", default=None, table="earth",
        default_text="WGS84 with rotation and J2"),
    Key("places", "tables", "Named points, usable by name wherever a point is asked for.", default=None,
        table="point"),
    Key("missiles", "tables", "Threat missile types, `[missiles.NAME]`, used by name in threats and `[coverage]`.",
        default=None, table="missile"),
    Key("interceptors", "tables", "Interceptor types, `[interceptors.NAME]`, used by name in batteries.",
        default=None, table="interceptor"),
    Key("sensors", "array", "Radars, `[[sensors]]`, one table each.", default=None, table="sensor"),
    Key("batteries", "array", "Interceptor batteries, `[[batteries]]`, one table each.", default=None,
        table="battery"),
    Key("threats", "array", "Threats, `[[threats]]`, one table each: flown by `shieldlab engage`.", default=None,
        table="threat"),
    Key("coverage", "table", "Many threats at once, flown by `shieldlab coverage`.", default=None,
        table="coverage"),
    Key("assessments", "array", "Flight tests to assess a missile type from, `[[assessments]]`, one table each: "
        "read by `shieldlab assess`. A file may hold only these (no threats, no batteries).", default=None,
        table="assessment"),
    Key("uncertainty", "table", "Distributions of scenario values, `[uncertainty]`: read by `shieldlab "
        "uncertainty`.", default=None, table="sampling", default_text="none (every value as given)"),
))

EARTH = SchemaTable("earth", "[earth]", "The Earth model (optional; the defaults are the reference WGS84 Earth).", (
    Key("model", "choice", "`wgs84`: the WGS84 ellipsoid; `sphere`: a sphere of radius 6,371,008.8 m.",
        default="wgs84", choices=("wgs84", "sphere")),
    Key("rotation", "flag", "Whether the Earth turns (7.292115e-5 rad/s).", default=True),
    Key("j2", "flag", "The J2 term of gravity (WGS84 only: the sphere is always a point mass, so it reads false "
        "there).", default=True),
))

POINT = SchemaTable("point", "points: `[places.NAME]` or `{ lat, lon, alt }`",
                    "A point on or above the Earth: geodetic latitude and longitude, altitude above the ellipsoid "
                    "(above the sphere on `sphere`).", (
    Key("lat", "quantity", "Latitude, north positive.", dimension="angle", range=LATITUDE, noun="a latitude"),
    Key("lon", "quantity", "Longitude, east positive; stored in (-180, 180].", dimension="angle", range=LONGITUDE,
        noun="a longitude", bound=LONGITUDE_WHY),
    Key("alt", "quantity", "Altitude.", default=0.0, dimension="length", range=SITE_ALTITUDE, unit="km",
        noun="an altitude", bound=SITE_ALTITUDE_WHY, default_text="0 m"),
))

MISSILE_MODELS = ("burnout", "staged")

MISSILE = SchemaTable("missile", "[missiles.NAME]",
                      "A threat missile type, `model = \"burnout\"` (the default): where and when its powered flight "
                      "ends. For `model = \"staged\"` see the next table.", (
    Key("model", "choice", "The missile model: `burnout` (this table) or `staged` (stages flown through the "
        "atmosphere, the next table).", default="burnout", choices=MISSILE_MODELS),
    Key("burn_time", "quantity", "Powered flight: burnout comes this long after launch.", dimension="time",
        range=BOOST_TIME, bound=BOOST_TIME_WHY),
    Key("burnout_altitude", "quantity", "Altitude of the burnout point.", dimension="length",
        range=BURNOUT_ALTITUDE, unit="km", bound=BURNOUT_ALTITUDE_WHY),
    Key("burnout_range", "quantity", "Ground distance from the launch point to the burnout point.",
        dimension="length", range=BURNOUT_RANGE, unit="km", bound=BURNOUT_RANGE_WHY),
    Key("burnout_speed", "quantity", "Speed at burnout (Earth-relative). Needed by lofted and depressed "
        "trajectories and by unaimed threats; a min-energy or fixed-gamma threat solves for its own.",
        default=None, dimension="speed", range=BURNOUT_SPEED, unit="km/s", bound=BURNOUT_SPEED_WHY),
    Key("rcs", "quantity", "Radar cross-section in free flight (the warhead or re-entry vehicle), in m2 or dBsm "
        "(\"-10 dBsm\" is 0.1 m2). Radars with a `reference_range` see it at a range that scales with its fourth "
        "root.", default=1.0, dimension="area", range=RCS, noun="a radar cross-section", bound=RCS_WHY,
        default_text="1 m2"),
    Key("rcs_boost", "quantity", "Radar cross-section in powered flight (the booster), in m2 or dBsm.",
        default=None, dimension="area", range=RCS, noun="a radar cross-section", bound=RCS_WHY,
        default_text="`rcs`"),
))

_RCS_KEYS = tuple(MISSILE[k] for k in ("rcs", "rcs_boost"))

STAGED = SchemaTable("staged", "[missiles.NAME] with `model = \"staged\"`",
                     "A threat missile type given by its stages, flown through the atmosphere from launch: for "
                     "boost-phase questions and for assessing a missile from its flight tests. Its threats are aimed "
                     "by a kick angle (see [[threats]]).", (
    Key("model", "choice", "The missile model: `staged` for this table (without it a type is `burnout`).",
        choices=("staged",)),
    Key("payload_mass", "quantity", "Mass of the payload (re-entry vehicle and bus), carried to burnout and "
        "flying alone after it.", dimension="mass", range=MASS, bound=MASS_WHY, unit="t"),
    Key("diameter", "quantity", "Body diameter: the reference area for drag is pi * diameter^2 / 4.",
        dimension="length", range=DIAMETER, bound=DIAMETER_WHY, noun="a diameter"),
    Key("drag_coefficient", "number", "Drag coefficient, constant, of the missile in powered flight (and of the "
        "payload after burnout unless `reentry_ballistic_coefficient` is given).", default=0.3,
        range=DRAG_COEFFICIENT, bound=DRAG_COEFFICIENT_WHY, noun="a drag coefficient (a bare number)",
        default_text="0.3"),
    Key("vertical_rise", "quantity", "Time of the vertical rise after launch, at whose end the velocity is turned "
        "by the kick angle.", default=10.0, dimension="time", range=VERTICAL_RISE, bound=VERTICAL_RISE_WHY,
        noun="a vertical-rise time"),
    Key("reentry_ballistic_coefficient", "quantity", "Ballistic coefficient of the payload after burnout "
        "(mass over drag coefficient times area); the payload always meets the atmosphere, this sets how hard.",
        default=None, dimension="ballistic coefficient", range=BALLISTIC_COEFFICIENT,
        bound=BALLISTIC_COEFFICIENT_WHY, default_text="payload_mass / (drag_coefficient * reference area)"),
    Key("stages", "array", "The stages in firing order, a non-empty list of inline tables "
        "`{ propellant_mass, dry_mass, burn_time, isp, coast }`; the first stage's vacuum thrust must exceed the "
        "weight at lift-off (payload and every stage).", table="stage"),
    *_RCS_KEYS,
))

STAGE = SchemaTable("stage", "stages: `stages = [{ propellant_mass, dry_mass, burn_time, isp, coast }, …]`",
                    "One stage of a staged missile type: it burns its propellant at a constant rate and vacuum "
                    "thrust isp * 9.80665 m/s2 * propellant_mass / burn_time, then drops its dry mass at once.", (
    Key("propellant_mass", "quantity", "Propellant burnt by the stage.", dimension="mass", range=MASS,
        bound=MASS_WHY, unit="t"),
    Key("dry_mass", "quantity", "The stage's mass without propellant, dropped at the end of its burn.",
        dimension="mass", range=MASS, bound=MASS_WHY, unit="t"),
    Key("burn_time", "quantity", "Duration of the stage's burn.", dimension="time", range=BOOST_TIME,
        bound=BOOST_TIME_WHY),
    Key("isp", "quantity", "Vacuum specific impulse, in seconds.", dimension="time", range=ISP, bound=ISP_WHY,
        noun="a specific impulse"),
    Key("coast", "quantity", "Unpowered flight (with drag) before the stage ignites; not for the first stage, "
        "which ignites on the ground.", default=0.0, dimension="time", range=COAST, bound=COAST_WHY,
        noun="a coast time", when="second and later stages"),
))

MISSILE_TABLES = {"burnout": MISSILE, "staged": STAGED}
"""The table of each missile model."""


def missile_keys() -> tuple[str, ...]:
    """Every key a [missiles.NAME] table may hold, whatever its model, in schema order (each once)."""
    return tuple(dict.fromkeys(name for table in MISSILE_TABLES.values() for name in table.names))


INTERCEPTOR = SchemaTable("interceptor", "[interceptors.NAME]",
                          "An interceptor type, `model = \"straight-boost\"`: a straight boost, then free flight.", (
    Key("model", "choice", "The interceptor model.", default="straight-boost", choices=("straight-boost",)),
    Key("burn_time", "quantity", "Boost duration.", dimension="time", range=BOOST_TIME, bound=BOOST_TIME_WHY),
    Key("burnout_speed", "quantity", "Speed at burnout (Earth-relative).", dimension="speed",
        range=BURNOUT_SPEED, unit="km/s", bound=BURNOUT_SPEED_WHY),
    Key("min_altitude", "quantity", "Lowest intercept altitude.", default=0.0, dimension="length",
        range=INTERCEPT_ALTITUDE, unit="km", bound=FAR_WHY),
    Key("max_altitude", "quantity", "Highest intercept altitude; must be greater than `min_altitude`.",
        default=math.inf, dimension="length", range=INTERCEPT_CEILING, unit="km", bound=FAR_WHY,
        default_text="none (no ceiling)"),
    Key("max_flight_time", "quantity", "Longest flight of the kill vehicle after burnout.", default=None,
        dimension="time", range=FLIGHT_TIME, bound=FLIGHT_TIME_WHY, default_text="none (no limit)"),
    Key("min_launch_elevation", "quantity", "Lowest launch elevation above the local horizontal (launches are "
        "always above 0 deg).", default=0.0, dimension="angle", range=LAUNCH_FLOOR, noun="a launch elevation",
        bound=LAUNCH_FLOOR_WHY),
    Key("energy_management", "flag", "Whether the interceptor may burn out slower than `burnout_speed` (shaping "
        "its boost to waste energy, as solid boosters can), so that a faster type never reaches a point later than "
        "a slower one.", default=False),
))

SENSOR = SchemaTable("sensor", "[[sensors]]",
                     "A radar: it sees a point within its range, above its elevation mask and inside its azimuth "
                     "sector. Either `name`, `at` and a range (`max_range`, `reference_range` or both), or `radar` "
                     "naming a catalog radar, whose keys the entry may override.", (
    Key("name", "text", "The sensor's name (unique among the sensors).", noun="a name (a non-empty string)",
        when="with `radar`: optional, default the radar's name"),
    Key("kind", "choice", "The sensor model.", default="radar", choices=("radar",)),
    Key("at", "point", "The radar's site.", when="with `radar`: optional, default the catalog site"),
    Key("max_range", "quantity", "Greatest slant range at which it sees a target, whatever the target; with "
        "`reference_range`, a cap on the range that the cross-section gives.", default=None, dimension="length",
        range=RADAR_RANGE, unit="km", bound=FAR_WHY,
        when="unless `reference_range` is given; with `radar`: optional, default the catalog's",
        default_text="none (no cap)"),
    Key("reference_range", "quantity", "Range at which it detects a target of `reference_rcs`; against a target "
        "of cross-section sigma its range is reference_range * (sigma / reference_rcs)^(1/4).", default=None,
        dimension="length", range=RADAR_RANGE, unit="km", bound=FAR_WHY,
        when="unless `max_range` is given; with `radar`: default the catalog's", default_text="none"),
    Key("reference_rcs", "quantity", "The cross-section `reference_range` is stated for, in m2 or dBsm.",
        default=1.0, dimension="area", range=RCS, noun="a radar cross-section", bound=RCS_WHY,
        default_text="1 m2"),
    Key("min_elevation", "quantity", "Elevation mask: it sees nothing lower.", default=0.0, dimension="angle",
        range=ELEVATION, noun="an elevation", when="with `radar`: default the catalog's"),
    Key("azimuth", "table", "The azimuth sector it sees; absent: all round.", default=None, table="sector",
        when="with `radar`: default the catalog's", default_text="all round"),
    Key("track_formation", "quantity", "Continuous observation needed for a firing-quality track: its track "
        "time of a threat is the first time it has seen the threat for this long without a break.", default=0.0,
        dimension="time", range=TRACK_TIME, noun="a track-formation time", bound=TRACK_TIME_WHY,
        when="with `radar`: default the catalog's"),
    Key("radar", "reference", "A radar of the bundled catalog (`shieldlab catalog radars`) to start from.",
        default=None),
))

SECTOR = SchemaTable("sector", "sector: `azimuth = { center, half_width }`",
                     "An azimuth sector, clockwise from north.", (
    Key("center", "quantity", "Its middle azimuth (stored in [0, 360)).", dimension="angle", range=AZIMUTH,
        noun="an azimuth", bound=AZIMUTH_WHY),
    Key("half_width", "quantity", "Half its width: 180 deg is all round.", dimension="angle", range=HALF_WIDTH,
        noun="a half-width"),
))

BATTERY = SchemaTable("battery", "[[batteries]]",
                      "Interceptors of one type at a site, with a launch delay and a cue.", (
    Key("name", "text", "The battery's name (unique among the batteries).", noun="a name (a non-empty string)"),
    Key("at", "point", "The launch site."),
    Key("interceptor", "reference", "Its interceptor type: a name of `[interceptors]` or of the bundled catalog."),
    Key("launch_delay", "quantity", "Time from the cue to the earliest interceptor launch.", default=0.0,
        dimension="time", range=DELAY, bound=DELAY_WHY),
    Key("cue", "choice", "`track`: the delay runs from the threat's first detection by any sensor; `launch`: "
        "from the threat's launch (an idealised launch warning, for sensitivity studies).", default="track",
        choices=("track", "launch")),
    Key("boost_phase", "flag", "Whether the battery may also intercept staged threats during their powered flight "
        "(their window then opens at launch instead of burnout). A `burnout`-model threat has no such window: its "
        "powered flight is an interpolation for sensors only, so for it the flag changes nothing.", default=False),
))

TRAJECTORY_MODES = ("min-energy", "lofted", "depressed")

THREAT = SchemaTable("threat", "[[threats]]",
                     "One threat: a missile type launched from a point, aimed at a point (`to`) or flown along an "
                     "azimuth (unaimed): at a flight-path angle `gamma` for a burnout type, with a kick angle `kick` "
                     "for a staged type.", (
    Key("name", "text", "The threat's name (unique among the threats).", noun="a name (a non-empty string)"),
    Key("missile", "reference", "Its missile type: a name of `[missiles]` or of the bundled catalog."),
    Key("from", "point", "The launch point."),
    Key("to", "point", "The aim point.", when="for an aimed threat; an unaimed one gives `azimuth` and `gamma` "
        "(burnout type) or `azimuth` and `kick` (staged type)"),
    Key("trajectory", "trajectory", "How an aimed threat flies to its aim point. Burnout types: `min-energy` (the "
        "least burnout speed), `lofted` or `depressed` (the missile's burnout speed, the higher or lower path), or "
        "`{ gamma = \"25 deg\" }` (a fixed flight-path angle at burnout). Staged types: `lofted` or `depressed` "
        "(full burn, the steeper or the flatter ascent), `min-energy` (the last stage cut off as early as the aim "
        "point allows) or `{ kick = \"3 deg\" }` (a fixed kick angle; only where full burn happens to reach the aim "
        "point).", default="min-energy", choices=TRAJECTORY_MODES, when="aimed threats only"),
    Key("azimuth", "quantity", "Launch azimuth, clockwise from north (stored in [0, 360)).", dimension="angle",
        range=AZIMUTH, noun="a launch azimuth (unaimed threat)", bound=AZIMUTH_WHY,
        when="unaimed threats only, without `to`"),
    Key("gamma", "quantity", "Flight-path angle at burnout, above the local horizontal.", dimension="angle",
        range=GAMMA, noun="a flight-path angle", when="unaimed threats of a burnout type only, without `to`"),
    Key("kick", "quantity", "Kick angle: at the end of the vertical rise the velocity is turned this far from the "
        "vertical, towards the launch azimuth; a gravity turn follows.", dimension="angle", range=KICK,
        bound=KICK_WHY, noun="a kick angle", when="unaimed threats of a staged type only, without `to`"),
    Key("launch_time", "quantity", "Scenario time of the launch.", default=0.0, dimension="time",
        range=LAUNCH_TIME, bound=LAUNCH_TIME_WHY),
))

TRAJECTORY = SchemaTable("trajectory", "trajectory: `{ gamma }` or `{ kick }`",
                         "A fixed flight-path angle (burnout types) or kick angle (staged types) for an aimed threat: "
                         "exactly one of the two keys.", (
    Key("gamma", "quantity", "Flight-path angle at burnout, above the local horizontal.", default=None,
        dimension="angle", range=GAMMA, noun="a flight-path angle", when="burnout types", default_text="none"),
    Key("kick", "quantity", "Kick angle at the end of the vertical rise, from the vertical.", default=None,
        dimension="angle", range=KICK, noun="a kick angle", bound=KICK_WHY, when="staged types",
        default_text="none"),
))

COVERAGE = SchemaTable("coverage", "[coverage]",
                       "Every (launch, aim) pair flown as a threat of one missile type against every battery.", (
    Key("missile", "reference", "The missile type: a name of `[missiles]` or of the bundled catalog."),
    Key("trajectory", "trajectory", "As for a threat (`{ gamma }` for a burnout type, `{ kick }` for a staged "
        "type).", default="min-energy", choices=TRAJECTORY_MODES),
    Key("from", "points", "The launch points: one point or a non-empty list."),
    Key("to", "aim", "The aim points: a grid `{ lat, lon, step }` or a non-empty list of points."),
    Key("launch_time", "quantity", "Scenario time of every launch.", default=0.0, dimension="time",
        range=LAUNCH_TIME, bound=LAUNCH_TIME_WHY),
))

GRID = SchemaTable("grid", "aim grid: `to = { lat, lon, step }`",
                   "A latitude/longitude grid of aim points, bounds included.", (
    Key("lat", "interval", "[south, north] latitudes.", dimension="angle", range=LATITUDE, noun="latitude"),
    Key("lon", "interval", "[west, east] longitudes, at most 360 deg apart (east may exceed 180).",
        dimension="angle", range=LONGITUDE, noun="longitude"),
    Key("step", "quantity", f"Spacing in both; the grid may hold at most {MAX_GRID_POINTS:,} points.",
        dimension="angle", range=GRID_STEP, noun="a grid step"),
))

ASSESSMENT = SchemaTable("assessment", "[[assessments]]",
                         "One flight test of a missile type, to find the free parameters that reproduce it and the "
                         "range the same missile would have (`shieldlab assess`): burnout types fit their burnout "
                         "speed and flight-path angle, staged types their kick angle and payload mass.", (
    Key("name", "text", "The test's name (unique among the assessments).", noun="a name (a non-empty string)",
        when="unless `test` names it"),
    Key("test", "reference", "A flight test of the bundled catalog (`shieldlab catalog flight-tests`): its keys "
        "fill those this table does not give, and its name is the assessment's unless `name` is given.",
        default=None, default_text="none"),
    Key("missile", "reference", "The missile type tested (burnout or staged): a name of `[missiles]` or of the "
        "bundled catalog.", when="unless `test` gives it"),
    Key("from", "point", "The launch point.", when="unless `test` gives it"),
    Key("azimuth", "quantity", "Launch azimuth, clockwise from north (stored in [0, 360)).", dimension="angle",
        range=AZIMUTH, noun="a launch azimuth", bound=AZIMUTH_WHY, when="exactly one of `azimuth` and `to`"),
    Key("to", "point", "The observed impact point (the launch azimuth is then the one towards it).",
        when="exactly one of `azimuth` and `to`"),
    Key("observed", "table", "What was observed of the test flight.", table="observed",
        when="unless `test` gives it"),
    Key("uncertainty", "table", "The uncertainty of each observation, in percent of it.", default=None,
        table="uncertainty", default_text="1 %, 1 %, 2 %"),
    Key("payloads", "quantities", "Other payload masses to give the maximum range at too (a heavier warhead).",
        default=None, dimension="mass", range=MASS, bound=MASS_WHY, unit="t", noun="a payload mass",
        when="staged types only", default_text="none"),
))

OBSERVED = SchemaTable("observed", "observed: `observed = { apogee, flight_time, ground_range }`",
                       "Observations of one test flight.", (
    Key("apogee", "quantity", "The greatest altitude reached.", dimension="length", range=APOGEE, unit="km",
        noun="an apogee altitude", bound=FAR_WHY),
    Key("flight_time", "quantity", "Launch to impact.", dimension="time", range=FLIGHT_TIME, bound=FLIGHT_TIME_WHY,
        noun="a flight time", unit="min"),
    Key("ground_range", "quantity", "Launch point to impact point, along the ground.", default=None,
        dimension="length", range=GROUND_RANGE, unit="km", noun="a ground range", bound=GROUND_RANGE_WHY,
        default_text="none (not observed)"),
))

UNCERTAINTY = SchemaTable("uncertainty", "uncertainty: `uncertainty = { apogee, flight_time, ground_range }`",
                          "The uncertainty of each observation, in percent of its value: the fit divides each "
                          "residual (model minus observed) by it.", (
    Key("apogee", "quantity", "Of the apogee.", default=1.0, dimension="percentage", range=UNCERTAINTY_PCT,
        noun="an uncertainty", bound=UNCERTAINTY_PCT_WHY),
    Key("flight_time", "quantity", "Of the flight time.", default=1.0, dimension="percentage",
        range=UNCERTAINTY_PCT, noun="an uncertainty", bound=UNCERTAINTY_PCT_WHY),
    Key("ground_range", "quantity", "Of the ground range (used when it is observed).", default=2.0,
        dimension="percentage", range=UNCERTAINTY_PCT, noun="an uncertainty", bound=UNCERTAINTY_PCT_WHY),
))

DISTRIBUTIONS = ("normal", "uniform", "triangular", "choice")
"""The distributions a `vary` entry may give (exactly one of them)."""

SAMPLING = SchemaTable("sampling", "[uncertainty]",
                       "Distributions of scenario values: each sample draws every varied value at once (independently "
                       "of each other), and the scenario is evaluated with them.", (
    Key("samples", "integer", "Random samples per threat (or coverage pair), for the probabilities and quantiles.",
        default=1000, range=SAMPLES, noun="a number of samples (an integer)", bound=SAMPLES_WHY),
    Key("seed", "integer", "Seed of the random generator: the same seed draws the same samples.", default=0,
        range=SEED, noun="a seed (an integer)"),
    Key("sensitivity_samples", "integer", "Base size N of Saltelli's scheme for the sensitivity (Sobol) indices, "
        "which take N * (D + 2) more evaluations for D varied values; 0: no sensitivity indices.", default=512,
        range=SENSITIVITY_SAMPLES, noun="a number of samples (an integer)", bound=SENSITIVITY_SAMPLES_WHY),
    Key("vary", "array", "The varied values, a non-empty list of inline tables `{ key, normal | uniform | "
        "triangular | choice, weights }`, one per value; each key at most once.", table="vary"),
))

VARY = SchemaTable("vary", "vary entries: `vary = [{ key, normal | uniform | triangular | choice, weights }, …]`",
                   "One varied value: its key and exactly one distribution, whose parameters are written like the "
                   "key's own values (with units: \"5.5 km/s\").", (
    Key("key", "text", "The dotted key of the value: `missiles.NAME.KEY` (a staged type's stages "
        "`missiles.NAME.stages.N.KEY`, N from 1), `interceptors.NAME.KEY`, `sensors.NAME.KEY` (the sector as "
        "`sensors.NAME.azimuth.center` and `.half_width`), `batteries.NAME.KEY`, `threats.NAME.KEY` (sensors, "
        "batteries and threats by their `name`; a fixed trajectory's angle as `threats.NAME.trajectory.gamma` or "
        "`.kick`), `coverage.KEY` or `earth.KEY`.", noun="a dotted key (a non-empty string)"),
    Key("normal", "values", "`[mean, sd]`: a normal distribution, truncated to the key's allowed range; quantities "
        "and numbers only.", default=None, default_text="none"),
    Key("uniform", "values", "`[low, high]`: uniform between the two, both within the key's allowed range; "
        "quantities and numbers only.", default=None, default_text="none"),
    Key("triangular", "values", "`[low, mode, high]`: triangular, low <= mode <= high, all within the key's "
        "allowed range; quantities and numbers only.", default=None, default_text="none"),
    Key("choice", "values", "`[value, …]`: one of the values, each a value the key accepts (a name, a place, "
        "true or false, a quantity); the only distribution of choices, flags, names and points.", default=None,
        default_text="none"),
    Key("weights", "numbers", "The probabilities of the choices, one per choice, in proportion (divided by their "
        "sum), at least 0 and not all 0.", default=None, range=WEIGHT, noun="a weight (a bare number)",
        when="with `choice` only", default_text="equal"),
))

TABLES: tuple[SchemaTable, ...] = (
    TOP, EARTH, POINT, MISSILE, STAGED, STAGE, INTERCEPTOR, SENSOR, SECTOR, BATTERY, THREAT, TRAJECTORY, COVERAGE,
    GRID, ASSESSMENT, OBSERVED, UNCERTAINTY, SAMPLING, VARY,
)
"""Every table of the file, in the order the reference describes them."""

# ---- rules between keys ----------------------------------------------------------------------------------------

SPEED_TRAJECTORIES = ("lofted", "depressed")
"""The trajectories of an aimed threat that fly at the missile type's `burnout_speed` (the others solve for it)."""


def burnout_speed_needed(mode: str | None) -> str | None:
    """Why a threat needs its missile type's `burnout_speed`, or None if it does not.

    `mode` is an aimed threat's trajectory mode ("min-energy", "lofted", "depressed", "gamma"), or None for an
    unaimed threat (which flies at that speed): 'a lofted trajectory', 'an unaimed threat (azimuth and gamma)'.
    """
    if mode is None:
        return "an unaimed threat (azimuth and gamma)"
    return f"a {mode} trajectory" if mode in SPEED_TRAJECTORIES else None


def trajectory_text(gamma_form: str = '{ gamma = "25 deg" }', gamma_name: str = "gamma", unit: str = "deg",
                    *, model: str | None = "burnout", kick_form: str = '{ kick = "3 deg" }',
                    kick_name: str = "kick") -> str:
    """What a trajectory may be: '"min-energy", "lofted", "depressed" or { gamma = "25 deg" } with 0 < gamma < 90 deg'.

    The web's edits write the fixed angle as {"gamma_deg": g}: trajectory_text('{"gamma_deg": g}', "g", "").
    `model` is the missile model of the threat: "staged" gives the kick form instead ('{ kick = "3 deg" } with
    0 ≤ kick ≤ 90 deg'), None (not known) both, each with the models it is for.
    """
    modes = ", ".join(f'"{m}"' for m in TRAJECTORY_MODES)
    gamma = f"{gamma_form} with {TRAJECTORY['gamma'].range.inequality(gamma_name, unit).rstrip()}"
    kick = f"{kick_form} with {TRAJECTORY['kick'].range.inequality(kick_name, unit).rstrip()}"
    if model == "staged":
        return f"{modes} or {kick}"
    if model is None:
        return f"{modes}, {gamma} (burnout types) or {kick} (staged types)"
    return f"{modes} or {gamma}"
