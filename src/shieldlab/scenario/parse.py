"""Check parsed scenario TOML against the schema (schema.py) and build the model (model.py).

Every problem found is collected; if there is any, :class:`~shieldlab.errors.ScenarioError` is raised with all
of them, each naming the file, the table, the key, the value found and what was expected. What each key may
hold, and the words of the messages, come from the schema; this module adds the structure (points, sectors,
lists, aimed or unaimed threats) and the rules between keys.

The public functions check one part of a file or all of it:

    parse_point(data, file=..., table=...)              # { lat, lon, alt } -> Point
    parse_missile(name, data, file=...)                  # [missiles.NAME] -> MissileType | StagedMissileType
    parse_interceptor(name, data, file=...)              # [interceptors.NAME] -> InterceptorType
    parse_radar(data, file=..., table=..., places=...)   # a [[sensors]] table -> Radar
    parse_scenario(data, file, catalog=...)              # the whole file -> Scenario

Names a file does not define may come from a catalog (`catalog`: anything with `find(kind, name)` returning an
entry with `.model` and `.values`, or None, and `names(kind)`, such as the module shieldlab.catalog). This
module never imports the catalog: the catalog checks its own entries with the functions above, and
shieldlab.scenario.load passes it in.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Protocol, TypeVar, cast

from shieldlab.errors import MISSING, Problem, ScenarioError
from shieldlab.scenario import schema
from shieldlab.scenario.model import (
    G0_M_S2,
    AimGrid,
    AimMode,
    AssessmentSpec,
    Battery,
    CoverageSpec,
    Cue,
    EarthModelName,
    EarthSpec,
    InterceptorType,
    MissileType,
    Point,
    Radar,
    Scenario,
    Sector,
    Stage,
    StagedMissileType,
    ThreatSpec,
    Trajectory,
    grid_axis_count,
)
from shieldlab.scenario.schema import (
    ASSESSMENT,
    BATTERY,
    COVERAGE,
    EARTH,
    GRID,
    INTERCEPTOR,
    MAX_GRID_POINTS,
    MISSILE,
    MISSILE_TABLES,
    OBSERVED,
    POINT,
    POINT_FORM,
    SECTOR,
    SENSOR,
    STAGE,
    STAGED,
    THREAT,
    TOP,
    TRAJECTORY,
    UNCERTAINTY,
    Key,
)
from shieldlab.units import QuantityError, parse_quantity

__all__ = [
    "CatalogLookup", "parse_assessment", "parse_interceptor", "parse_missile", "parse_point", "parse_radar", "parse_scenario",
    "wrap_360", "wrap_lon",
]

T = TypeVar("T")


def kilonewtons(force_n: float) -> str:
    """A force as messages write it: '412 kN', '6,800 kN', '9.81 kN'."""
    kn = force_n / 1000.0
    return f"{kn:,.0f} kN" if kn >= 100 else f"{kn:.3g} kN"


class CatalogLookup(Protocol):
    """Where names a file does not define are looked up (the module shieldlab.catalog is one)."""

    def find(self, kind: str, name: str) -> Any:
        """The entry of that kind and name (with `.model` and `.values`), or None."""

    def names(self, kind: str) -> Sequence[str]:
        """Every name of that kind."""


@dataclass(frozen=True)
class Table:
    """A table of the file being read: its readable name for messages and its contents.

    An inline table inside another (a point, a sector, a grid) keeps the name of the table it is written in and
    prefixes its keys: [threats #1 (x)] key 'from.lat'.
    """

    name: str
    data: Mapping[str, Any]
    prefix: str = ""

    def key(self, key: str) -> str:
        return self.prefix + key

    def inner(self, key: str, data: Mapping[str, Any]) -> Table:
        return Table(self.name, data, f"{self.prefix}{key}.")


def wrap_360(angle_deg: float) -> float:
    """An angle in [0, 360) (unchanged, bit for bit, when it already is)."""
    if 0.0 <= angle_deg < 360.0:
        return angle_deg
    wrapped = angle_deg % 360.0
    return 0.0 if wrapped >= 360.0 else wrapped


def wrap_lon(lon_deg: float) -> float:
    """A longitude in (-180, 180] (unchanged, bit for bit, when it already is)."""
    if -180.0 < lon_deg <= 180.0:
        return lon_deg
    wrapped = wrap_360(lon_deg)
    return wrapped - 360.0 if wrapped > 180.0 else wrapped


CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
"""Characters no name may hold: C0 and C1 controls (tab and newline too), the line and paragraph separators.
Names reach terminals, HTML, CSV and file names, where such characters move the cursor, end lines or worse."""

NO_CONTROL = "without control characters (U+0000-U+001F, U+007F-U+009F, U+2028, U+2029)"

MAX_SHOWN_NAME = 80
"""Names longer than this are cut (with …) where messages show them as the name of a table or key."""


def shown(name: str) -> str:
    """A name from the file as messages show it: control characters escaped (\\u001b), cut to MAX_SHOWN_NAME."""
    name = CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", name)
    return name if len(name) <= MAX_SHOWN_NAME else name[: MAX_SHOWN_NAME - 1] + "…"


def count_text(span: float) -> str:
    """The number of grid values along an axis `span` steps long: '61', '3.6e+12', 'more than 10^308'."""
    if not math.isfinite(span):
        return "more than 10^308"
    return f"{grid_axis_count(0.0, span, 1.0):,}" if span < 1e12 else f"{span:.2g}"


def names_text(names: Iterable[str], what: str) -> str:
    listed = sorted(names)
    if not listed:
        return f"none are defined in [{what}]"
    text = ", ".join(shown(n) for n in listed[:20]) + (", …" if len(listed) > 20 else "")
    return f"known: {text}"


class Reader:
    """Reads one scenario's parsed TOML, collecting every problem. Use the parse_* functions."""

    def __init__(self, file: str, *, catalog: CatalogLookup | None = None):
        self.file = file
        self.problems: list[Problem] = []
        self.places: dict[str, Point] = {}
        self.place_names: set[str] = set()
        self.missile_has_speed: dict[str, bool] = {}
        self.missile_models: dict[str, str | None] = {}  # the file's missile types: their model (None: not valid)
        self.interceptor_names: set[str] = set()
        # names not defined in the file may come from the catalog
        self.catalog = catalog
        self.catalog_refs: dict[tuple[str, str], None] = {}  # (kind, name) in order of first use
        self.catalog_types: dict[str, dict[str, Any]] = {"missiles": {}, "interceptors": {}}

    @property
    def use_catalog(self) -> bool:
        return self.catalog is not None

    def raise_problems(self) -> None:
        if self.problems:
            raise ScenarioError(self.problems)

    # ---- reporting and generic checks -------------------------------------------------------------------

    def report(self, table: Table, key: str, value: object, expected: str) -> None:
        self.problems.append(Problem(self.file, shown(table.name), shown(table.key(key)), value, expected))

    def check_keys(self, table: Table, allowed: Sequence[str]) -> None:
        for key, value in table.data.items():
            if key in allowed:
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            self.report(table, str(key), value, f"only known keys{hint}: {', '.join(allowed)}")

    def raw(self, table: Table, key: str, expected: str, *, required: bool) -> Any:
        """The value at `key`, or MISSING (reported when required)."""
        value = table.data.get(key, MISSING)
        if value is MISSING and required:
            self.report(table, key, MISSING, expected)
        return value

    def quantity(self, table: Table, key: Key) -> float:
        """A quantity in SI units (degrees for angles) within the key's range: its default when absent (NaN, and
        a problem, for a required key); NaN when wrong."""
        value = self.raw(table, key.name, key.expected(), required=key.required)
        if value is MISSING:
            return math.nan if key.required or key.default is None else float(key.default)
        return self.checked_quantity(table, key, value)

    def optional_quantity(self, table: Table, key: Key) -> float | None:
        """A quantity that may be absent (None)."""
        return self.checked_quantity(table, key, table.data[key.name]) if key.name in table.data else None

    def number(self, table: Table, key: Key) -> float:
        """A bare number (a coefficient, no unit) within the key's range; its default when absent, NaN when wrong."""
        value = self.raw(table, key.name, key.expected(), required=key.required)
        if value is MISSING:
            return math.nan if key.required or key.default is None else float(key.default)
        number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
        if not math.isfinite(number) or number not in key.range:
            self.report(table, key.name, value, key.expected())
            return math.nan
        return number

    def quantities(self, table: Table, key: Key) -> tuple[float, ...]:
        """A non-empty list of quantities each within the key's range (absent: ()); items named 'key[i]' from 1."""
        value = self.raw(table, key.name, key.expected(), required=key.required)
        if value is MISSING:
            return ()
        if not isinstance(value, list) or not value:
            self.report(table, key.name, value, key.expected())
            return ()
        return tuple(self.checked_quantity(table, key, item, f"{key.name}[{i}]") for i, item in enumerate(value, 1))

    def checked_quantity(self, table: Table, key: Key, value: object, where: str | None = None) -> float:
        """`value` as a quantity of `key`, reported at `where` (default: the key's name) when wrong (NaN)."""
        where = where or key.name
        try:
            result = parse_quantity(value, key.dimension or "length")
        except QuantityError as error:
            self.report(table, where, value, error.expected)
            return math.nan
        if result not in key.range:
            item = f"{key.noun or 'a value'} {key.range_text()}"  # one item of a list of quantities
            self.report(table, where, value, key.expected() if where == key.name else item)
            return math.nan
        return result

    def choice(self, table: Table, key: Key) -> str:
        """One of the key's choices (a string); its default when absent."""
        expected = key.expected()
        value = self.raw(table, key.name, expected, required=key.required)
        if value is MISSING:
            return key.default or ""
        if value not in key.choices:
            self.report(table, key.name, value, expected)
        return value if isinstance(value, str) else ""

    def flag(self, table: Table, key: Key) -> bool:
        value = self.raw(table, key.name, key.expected(), required=False)
        if value is MISSING:
            return bool(key.default)
        if not isinstance(value, bool):
            self.report(table, key.name, value, "true or false (a TOML boolean, without quotes)")
            return bool(key.default)
        return value

    def text(self, table: Table, key: Key, expected: str | None = None, default: str | None = None) -> str:
        """A non-empty string; required unless a `default` is given."""
        expected = expected or key.expected()
        value = self.raw(table, key.name, expected, required=default is None)
        if value is MISSING:
            return default or ""
        if not isinstance(value, str) or not value.strip():
            self.report(table, key.name, value, expected)
            return ""
        if CONTROL.search(value):
            self.report(table, key.name, value, f"{expected}, {NO_CONTROL}")
            return ""
        return value

    def reference(
        self, table: Table, key: Key, known: Iterable[str], section: str, what: str, catalog_kind: str | None = None
    ) -> str:
        """The name of something defined in [section] (a missile or interceptor type), or else in the catalog."""
        known = set(known)
        expected = f"the name of {what} defined in [{section}] ({names_text(known, section)})"
        if catalog_kind is not None and self.use_catalog:
            expected += f" or in the bundled catalog (see `shieldlab catalog {catalog_kind}`)"
        name = self.text(table, key, expected)
        if name and name not in known:
            model = None if catalog_kind is None else self.from_catalog(catalog_kind, name)
            if model is not None:
                self.catalog_types[catalog_kind][name] = model  # type: ignore[index]
                return name
            self.report(table, key.name, name, expected + self.did_you_mean(catalog_kind, name, known))
            return ""
        return name

    # ---- the catalog: names the file does not define -----------------------------------------------------------

    def from_catalog(self, kind: str, name: object) -> Any:
        """The model object of the catalog entry `name` of `kind` (None when there is none); its use recorded."""
        if self.catalog is None or not isinstance(name, str):
            return None
        entry = self.catalog.find(kind, name)
        if entry is None:
            return None
        self.catalog_refs.setdefault((kind, name), None)
        if kind == "radars":  # its site's coordinates are a catalog place, with their own citation
            self.catalog_refs.setdefault(("places", entry.values["site"]), None)
        return entry.model

    def did_you_mean(self, kind: str | None, name: object, known: Iterable[str]) -> str:
        """' (did you mean 'x'?)' for the file's or (with `kind`) the catalog's name closest to `name`, or ''."""
        if not isinstance(name, str) or not name:
            return ""
        candidates = list(known)
        if kind is not None and self.catalog is not None:
            candidates += self.catalog.names(kind)
        close = difflib.get_close_matches(name, candidates, n=1)
        return f" (did you mean '{shown(close[0])}'?)" if close else ""

    # ---- tables ------------------------------------------------------------------------------------------

    def subtable(self, parent: Table, key: str, name: str) -> Table | None:
        """The table at `key` (absent: None), named `name` in messages."""
        value = parent.data.get(key, MISSING)
        if value is MISSING:
            return None
        if not isinstance(value, Mapping):
            self.report(parent, key, value, f"a table [{name}]")
            return None
        return Table(name, value)

    def named_tables(self, parent: Table, key: str, what: str) -> list[tuple[str, Table]]:
        """The tables [key.NAME] as (NAME, table) pairs; `what` says what each should be."""
        section = self.subtable(parent, key, key)
        if section is None:
            return []
        result = []
        for name, value in section.data.items():
            if CONTROL.search(name):
                self.report(section, name, value, f"{what} with a name {NO_CONTROL}")
            elif isinstance(value, Mapping):
                result.append((name, Table(f"{key}.{name}", value)))
            else:
                self.report(section, name, value, f"{what}: a table [{key}.{name}] or an inline table")
        return result

    def array_of_tables(
        self, parent: Table, key: str, parse: Callable[[Table], T | None], default_name_key: str | None = None
    ) -> tuple[T, ...]:
        """Each [[key]] table parsed, its name checked for uniqueness; tables named 'key #i (name)'.

        Without `name`, a table's name is its `default_name_key` value if it has one (a catalog radar's name).
        """
        value = parent.data.get(key, MISSING)
        if value is MISSING:
            return ()
        if not isinstance(value, list):
            self.report(parent, key, value, f"an array of tables [[{key}]]")
            return ()
        results: list[T] = []
        seen: dict[str, str] = {}
        for index, item in enumerate(value, start=1):
            if not isinstance(item, Mapping):
                self.report(parent, f"{key} #{index}", item, f"a table [[{key}]]")
                continue
            name = item.get("name")
            defaulted = name is None and default_name_key is not None and default_name_key in item
            if defaulted:
                name = item.get(default_name_key)
            label = f"{key} #{index} ({name})" if isinstance(name, str) and name else f"{key} #{index}"
            table = Table(label, item)
            parsed = parse(table)
            if isinstance(name, str) and name:
                if name in seen:
                    expected = f"a name not used by another of [[{key}]] ({shown(seen[name])} has it)"
                    if defaulted:
                        expected += f"; without `name` the entry is named after its `{default_name_key}`"
                    self.report(table, "name", MISSING if defaulted else name, expected)
                seen.setdefault(name, label)
            if parsed is not None:
                results.append(parsed)
        return tuple(results)

    def clean_since(self, mark: int) -> bool:
        return len(self.problems) == mark

    # ---- points --------------------------------------------------------------------------------------

    def point_table(self, table: Table, name: str | None = None) -> Point:
        """An inline point { lat, lon, alt }: degrees, alt a length (default 0); lon normalised to (-180, 180]."""
        self.check_keys(table, POINT.names)
        lat = self.quantity(table, POINT["lat"])
        lon = self.quantity(table, POINT["lon"])
        alt = self.quantity(table, POINT["alt"])
        return Point(lat, wrap_lon(lon) if math.isfinite(lon) else lon, alt, name)

    def point_expected(self, value: object = None) -> str:
        """What a point may be written as, with a did-you-mean for the place name `value`."""
        known = names_text(self.place_names, "places")
        if not self.use_catalog:
            return f"a place name ({known}) or an inline table {POINT_FORM}"
        return (
            f"a place name ({known}; or a catalog place, see `shieldlab catalog places`) or an inline table "
            f"{POINT_FORM}{self.did_you_mean('places', value, self.place_names)}"
        )

    def point_value(self, table: Table, key: str, value: Any) -> Point | None:
        """A point written at `key`: a place name (of [places], else of the catalog) or an inline table."""
        if isinstance(value, str):
            if value in self.place_names:
                return self.places.get(value)
            point = self.from_catalog("places", value)
            if point is None:
                self.report(table, key, value, self.point_expected(value))
            return point
        if isinstance(value, Mapping):
            return self.point_table(table.inner(key, value))
        self.report(table, key, value, self.point_expected())
        return None

    def point(self, table: Table, key: str) -> Point | None:
        """The required point at `key`."""
        expected = self.point_expected()
        value = self.raw(table, key, expected, required=True)
        return None if value is MISSING else self.point_value(table, key, value)

    def point_list(
        self, table: Table, key: str, value: Any, *, single_ok: bool, what: str, same: Callable[[Point], tuple]
    ) -> tuple[Point, ...]:
        """A non-empty list of points (or, with `single_ok`, one point), no two of them the same.

        `what` is what a point of the list is ("a launch point"); `same(point)` is what tells points apart (a point
        whose `same` equals an earlier one's is reported: it would repeat that one's rows in the results).
        """
        if single_ok and isinstance(value, (str, Mapping)):
            point = self.point_value(table, key, value)
            return (point,) if point is not None else ()
        if not isinstance(value, list) or not value:
            one = "a point or " if single_ok else ""
            self.report(table, key, value, f"{one}a non-empty list of points (place names or inline tables)")
            return ()
        points: list[Point] = []
        seen: dict[tuple, tuple[int, Point]] = {}
        for i, item in enumerate(value, start=1):
            point = self.point_value(table, f"{key} #{i}", item)
            if point is None:
                continue
            identity = same(point)
            if identity in seen:
                first, earlier = seen[identity]
                if point.name is not None and point.name == earlier.name:
                    why = f"{key} #{first} is the same place"
                else:
                    why = f"{key} #{first}" + (f" ({shown(earlier.name)})" if earlier.name else "") + " is at the same "
                    why += "latitude and longitude" if len(identity) == 2 else "latitude, longitude and altitude"
                self.report(table, f"{key} #{i}", item, f"{what} not already in the list ({why}); each is listed once")
                continue
            seen[identity] = (i, point)
            points.append(point)
        return tuple(points)

    # ---- sections --------------------------------------------------------------------------------------

    def earth(self, table: Table | None) -> EarthSpec:
        if table is None:
            return EarthSpec()
        self.check_keys(table, EARTH.names)
        model = cast(EarthModelName, self.choice(table, EARTH["model"]))
        rotation = self.flag(table, EARTH["rotation"])
        j2 = self.flag(table, EARTH["j2"])
        # The sphere is always a point mass (docs/models.md, The Earth): j2 is ignored there, so it reads False.
        return EarthSpec(model, rotation, j2 and model == "wgs84")

    def read_places(self, top: Table) -> None:
        for name, table in self.named_tables(top, "places", f"a point {POINT_FORM}"):
            self.place_names.add(name)
            self.places[name] = self.point_table(table, name)
        section = top.data.get("places")
        if isinstance(section, Mapping):  # names given with a non-table value still count as known
            self.place_names.update(section)

    def missile(self, name: str, table: Table) -> MissileType | StagedMissileType | None:
        """A [missiles.NAME] table of either model (`model = "staged"`, or else burnout)."""
        model = table.data.get("model", "burnout")
        if not isinstance(model, str) or model not in MISSILE_TABLES:  # which keys belong is not known: the model
            self.choice(table, MISSILE["model"])                      # and the keys of no model are reported
            self.check_keys(table, schema.missile_keys())
            return None
        if table.data.get("model") == "staged":
            return self.staged_missile(name, table)
        return self.burnout_missile(name, table)

    def check_model_keys(self, table: Table, model: str) -> None:
        """Unknown keys of a missile type of `model`; keys of the other model named as such."""
        own = MISSILE_TABLES[model]
        others = {k: m for m, t in MISSILE_TABLES.items() if m != model for k in t.names if k not in own}
        default = "" if "model" in table.data else " (the default)"
        for key, value in table.data.items():
            if key in others:
                owner = others[key]
                self.report(
                    table, key, value,
                    f'no {key} in a missile type of model = "{model}"{default}: {key} is a key of model = "{owner}" '
                    f"(set model = \"{owner}\" if this is one); the keys of model = \"{model}\": "
                    + ", ".join(own.names),
                )
        self.check_keys(Table(table.name, {k: v for k, v in table.data.items() if k not in others}, table.prefix),
                        own.names)

    def burnout_missile(self, name: str, table: Table) -> MissileType | None:
        mark = len(self.problems)
        self.check_model_keys(table, "burnout")
        model = self.choice(table, MISSILE["model"])
        burn_time = self.quantity(table, MISSILE["burn_time"])
        altitude = self.quantity(table, MISSILE["burnout_altitude"])
        ground = self.quantity(table, MISSILE["burnout_range"])
        speed = self.optional_quantity(table, MISSILE["burnout_speed"])
        rcs = self.quantity(table, MISSILE["rcs"])
        rcs_boost = self.optional_quantity(table, MISSILE["rcs_boost"])
        if not self.clean_since(mark):
            return None
        return MissileType(name, burn_time, altitude, ground, speed, model, rcs, rcs_boost)

    def staged_missile(self, name: str, table: Table) -> StagedMissileType | None:
        """A `model = "staged"` missile type (docs/scenario.md, Staged missile types)."""
        mark = len(self.problems)
        self.check_model_keys(table, "staged")
        payload = self.quantity(table, STAGED["payload_mass"])
        diameter = self.quantity(table, STAGED["diameter"])
        drag = self.number(table, STAGED["drag_coefficient"])
        rise = self.quantity(table, STAGED["vertical_rise"])
        beta = self.optional_quantity(table, STAGED["reentry_ballistic_coefficient"])
        stages = self.stages(table)
        rcs = self.quantity(table, STAGED["rcs"])
        rcs_boost = self.optional_quantity(table, STAGED["rcs_boost"])
        if not self.clean_since(mark) or not stages:
            return None
        missile = StagedMissileType(name, payload, diameter, stages, drag, rise, beta, "staged", rcs, rcs_boost)
        thrust, weight = stages[0].thrust_n, missile.liftoff_mass_kg * G0_M_S2
        if thrust <= weight:
            self.report(
                table, "stages[1]", table.data["stages"][0],
                f"a first stage whose vacuum thrust exceeds the missile's weight at lift-off, or it never leaves the "
                f"ground: thrust {kilonewtons(thrust)} {'<' if thrust < weight else '='} lift-off weight "
                f"{kilonewtons(weight)} (thrust = isp * g0 * propellant_mass / burn_time; lift-off mass "
                f"{missile.liftoff_mass_kg / 1000:,.4g} t: payload and every stage)",
            )
            return None
        return missile

    def stages(self, table: Table) -> tuple[Stage, ...]:
        """The `stages` list of a staged missile type: (), with problems reported, when anything is wrong."""
        form = "{ propellant_mass, dry_mass, burn_time, isp, coast }"
        expected = f"a non-empty list of stages in firing order, each an inline table {form} (coast optional)"
        value = self.raw(table, "stages", expected, required=True)
        if value is MISSING:
            return ()
        if not isinstance(value, list) or not value:
            self.report(table, "stages", value, expected)
            return ()
        mark = len(self.problems)
        stages = []
        for i, item in enumerate(value, start=1):
            where = f"stages[{i}]"
            if not isinstance(item, Mapping):
                self.report(table, where, item, f"a stage: an inline table {form}")
                continue
            inner = table.inner(where, item)
            self.check_keys(inner, STAGE.names)
            quantities = [self.quantity(inner, STAGE[k]) for k in ("propellant_mass", "dry_mass", "burn_time", "isp")]
            coast = self.quantity(inner, STAGE["coast"])
            if i == 1 and coast > 0:
                self.report(inner, "coast", item["coast"],
                            "no coast before the first stage (0 s): the missile stands on the ground until it ignites")
            stages.append(Stage(*quantities, coast))
        return tuple(stages) if self.clean_since(mark) else ()

    def interceptor(self, name: str, table: Table) -> InterceptorType | None:
        mark = len(self.problems)
        self.check_keys(table, INTERCEPTOR.names)
        model = self.choice(table, INTERCEPTOR["model"])
        burn_time = self.quantity(table, INTERCEPTOR["burn_time"])
        speed = self.quantity(table, INTERCEPTOR["burnout_speed"])
        low = self.quantity(table, INTERCEPTOR["min_altitude"])
        high = self.quantity(table, INTERCEPTOR["max_altitude"])
        if math.isfinite(low) and not math.isnan(high) and high <= low:
            expected = f"a length greater than min_altitude ({table.data.get('min_altitude', 0)})"
            self.report(table, "max_altitude", table.data["max_altitude"], expected)
        flight = self.optional_quantity(table, INTERCEPTOR["max_flight_time"])
        floor = self.quantity(table, INTERCEPTOR["min_launch_elevation"])
        managed = self.flag(table, INTERCEPTOR["energy_management"])
        if not self.clean_since(mark):
            return None
        return InterceptorType(name, burn_time, speed, low, high, flight, model, floor, managed)

    def sector(self, table: Table) -> Sector | None:
        value = self.raw(table, "azimuth", "", required=False)
        if value is MISSING:
            return None
        if not isinstance(value, Mapping):
            self.report(table, "azimuth", value, 'an inline table { center = "0 deg", half_width = "60 deg" }')
            return None
        inner = table.inner("azimuth", value)
        self.check_keys(inner, SECTOR.names)
        center = self.quantity(inner, SECTOR["center"])
        half_width = self.quantity(inner, SECTOR["half_width"])
        return Sector(wrap_360(center) if math.isfinite(center) else center, half_width)

    def sensor(self, table: Table) -> Radar | None:
        if "radar" in table.data and self.use_catalog:
            return self.catalog_sensor(table)
        mark = len(self.problems)
        self.check_keys(table, SENSOR.names if self.use_catalog else tuple(n for n in SENSOR.names if n != "radar"))
        name = self.text(table, SENSOR["name"])
        kind = self.choice(table, SENSOR["kind"])
        at = self.point(table, "at")
        max_range = self.optional_quantity(table, SENSOR["max_range"])
        reference_range = self.optional_quantity(table, SENSOR["reference_range"])
        if max_range is None and reference_range is None:
            self.report(table, "max_range", MISSING, "a range: `max_range`, `reference_range` or both ("
                        + SENSOR["max_range"].expected() + ")")
        reference_rcs = self.quantity(table, SENSOR["reference_rcs"])
        min_elevation = self.quantity(table, SENSOR["min_elevation"])
        sector = self.sector(table)
        track = self.quantity(table, SENSOR["track_formation"])
        if not self.clean_since(mark) or at is None:
            return None
        return Radar(name, at, math.inf if max_range is None else max_range, min_elevation, sector, kind,
                     reference_range, reference_rcs, track)

    def catalog_sensor(self, table: Table) -> Radar | None:
        """A [[sensors]] entry `radar = "NAME"`: the catalog radar, with any of its keys overridden by the entry."""
        mark = len(self.problems)
        self.check_keys(table, SENSOR.names)
        radar_name = table.data["radar"]
        base = self.from_catalog("radars", radar_name)
        if base is None:
            self.report(
                table, "radar", radar_name,
                "the name of a radar in the bundled catalog (see `shieldlab catalog radars`)"
                + self.did_you_mean("radars", radar_name, ()),
            )
        data = table.data
        name = self.text(table, SENSOR["name"], default=radar_name if base else "")
        kind = self.choice(table, SENSOR["kind"])
        at = self.point(table, "at") if "at" in data else (base.at if base else None)
        max_range = self.optional_quantity(table, SENSOR["max_range"])
        reference_range = self.optional_quantity(table, SENSOR["reference_range"])
        reference_rcs = self.optional_quantity(table, SENSOR["reference_rcs"])
        min_elevation = self.optional_quantity(table, SENSOR["min_elevation"])
        sector = self.sector(table) if "azimuth" in data else (base.sector if base else None)
        track = self.optional_quantity(table, SENSOR["track_formation"])
        if base is None or not self.clean_since(mark) or at is None:
            return None
        return Radar(
            name, at,
            base.max_range_m if max_range is None else max_range,
            base.min_elevation_deg if min_elevation is None else min_elevation,
            sector, kind,
            base.reference_range_m if reference_range is None else reference_range,
            base.reference_rcs_m2 if reference_rcs is None else reference_rcs,
            base.track_formation_s if track is None else track,
        )

    def battery(self, table: Table) -> Battery | None:
        mark = len(self.problems)
        self.check_keys(table, BATTERY.names)
        name = self.text(table, BATTERY["name"])
        at = self.point(table, "at")
        interceptor = self.reference(
            table, BATTERY["interceptor"], self.interceptor_names, "interceptors", "an interceptor type",
            "interceptors",
        )
        delay = self.quantity(table, BATTERY["launch_delay"])
        cue = cast(Cue, self.choice(table, BATTERY["cue"]))
        # accepted whatever the threats: a burnout-model threat simply has no boost-phase window (docs/scenario.md,
        # `[[batteries]]`: interceptor batteries)
        boost_phase = self.flag(table, BATTERY["boost_phase"])
        if not self.clean_since(mark) or at is None:
            return None
        return Battery(name, at, interceptor, delay, cue, boost_phase)

    def missile_model(self, name: str) -> str | None:
        """The model of the missile type `name` (the file's, else the catalog's); None when it is not known."""
        if name in self.missile_models:
            return self.missile_models[name]
        found = self.catalog_types["missiles"].get(name)
        return None if found is None else found.model

    def trajectory(self, table: Table, model: str | None, missile: str) -> Trajectory:
        """The `trajectory` of an aimed threat or of [coverage], for a missile type of `model` (None: not known):
        { gamma } for burnout types, { kick } for staged types."""
        expected = schema.trajectory_text(model=model)
        value = self.raw(table, "trajectory", expected, required=False)
        if value is MISSING:
            return Trajectory()
        if isinstance(value, str) and value in schema.TRAJECTORY_MODES:
            return Trajectory(cast(AimMode, value))
        if not isinstance(value, Mapping):
            self.report(table, "trajectory", value, expected)
            return Trajectory()
        inner = table.inner("trajectory", value)
        mark = len(self.problems)
        self.check_keys(inner, TRAJECTORY.names)
        wrong = {"staged": "gamma", "burnout": "kick"}.get(model or "")
        if wrong is not None and wrong in value:
            self.report(
                inner, wrong, value[wrong],
                f'no {wrong} for missile {shown(missile)!r} (model = "{model}"): a fixed trajectory of a {model} type '
                f"is {schema.trajectory_text(model=model).rsplit(' or ', 1)[1]}",
            )
        given = [k for k in TRAJECTORY.names if k in value]
        if len(given) != 1 and self.clean_since(mark):
            both = "" if model is not None else f" (exactly one of {' and '.join(TRAJECTORY.names)})"
            self.report(table, "trajectory", value, expected + both)
        if not self.clean_since(mark):
            return Trajectory()
        if given[0] == "kick":
            return Trajectory("kick", kick_deg=self.quantity(inner, TRAJECTORY["kick"]))
        return Trajectory("gamma", self.quantity(inner, TRAJECTORY["gamma"]))

    def require_speed(self, table: Table, missile: str, needs: str | None) -> None:
        """Report a missile type without burnout_speed used where `needs` (a reason) says it is needed."""
        if needs is None or not missile:
            return
        where = f"[missiles.{missile}]"
        has_speed = self.missile_has_speed.get(missile)
        if has_speed is None and missile in self.catalog_types["missiles"]:
            has_speed = self.catalog_types["missiles"][missile].burnout_speed_m_s is not None
            where = f"the catalog missile {missile!r}"
        if has_speed is None or has_speed:
            return
        self.report(
            table, "missile", missile,
            f"a missile type that gives burnout_speed: {where} has no burnout_speed, which {needs} needs",
        )

    def threat(self, table: Table) -> ThreatSpec | None:
        mark = len(self.problems)
        self.check_keys(table, THREAT.names)
        name = self.text(table, THREAT["name"])
        missile = self.reference(
            table, THREAT["missile"], self.missile_has_speed, "missiles", "a missile type", "missiles"
        )
        model = self.missile_model(missile)
        launch = self.point(table, "from")
        launch_time = self.quantity(table, THREAT["launch_time"])
        gamma = kick = None
        if "to" in table.data:
            aim, trajectory, azimuth = self.point(table, "to"), self.trajectory(table, model, missile), None
            angles = {"burnout": "`gamma`", "staged": "`kick`"}.get(model or "", "`gamma` or `kick`")
            for key in ("azimuth", "gamma", "kick"):
                if key in table.data:
                    self.report(
                        table, key, table.data[key],
                        f"no {key} in an aimed threat: give either `to` (and optionally `trajectory`) "
                        f"or `azimuth` and {angles} (unaimed), not both",
                    )
            needs = schema.burnout_speed_needed(trajectory.mode)
        else:
            aim, trajectory = None, Trajectory()
            azimuth, gamma, kick = self.unaimed(table, model, missile)
            needs = schema.burnout_speed_needed(None)
        if model == "burnout":  # (a staged type flies on its own full burn)
            self.require_speed(table, missile, needs)
        if not self.clean_since(mark) or launch is None:
            return None
        return ThreatSpec(name, missile, launch, aim, trajectory, launch_time, azimuth, gamma, kick)

    def unaimed(self, table: Table, model: str | None, missile: str) -> tuple[float, float | None, float | None]:
        """The azimuth and the flight-path angle (burnout types) or kick angle (staged types) of a threat without
        `to`: (azimuth, gamma, None) or (azimuth, None, kick)."""
        data = table.data
        staged = model == "staged" or (model is None and "kick" in data and "gamma" not in data)
        angle, wrong = ("kick", "gamma") if staged else ("gamma", "kick")
        if "azimuth" not in data and angle not in data and wrong not in data:
            pair = {"burnout": "`azimuth` and `gamma`", "staged": "`azimuth` and `kick`"}.get(
                model or "", "`azimuth` and `gamma` (burnout type) or `kick` (staged type)")
            self.report(table, "to", MISSING, f"an aim point `to` (a place name or {POINT_FORM}), or {pair} for an "
                                              "unaimed threat")
            return math.nan, math.nan, None
        azimuth = self.quantity(table, THREAT["azimuth"])
        if model is not None and wrong in data:
            self.report(
                table, wrong, data[wrong],
                f'no {wrong} for missile {shown(missile)!r} (model = "{model}"): an unaimed threat of a {model} type '
                f"gives `azimuth` and `{angle}`",
            )
        value = self.quantity(table, THREAT[angle]) if model is not None or angle in data else math.nan
        if "trajectory" in data:
            self.report(
                table, "trajectory", data["trajectory"],
                f"no trajectory in an unaimed threat (one given by azimuth and {angle}); trajectory applies with `to`",
            )
        azimuth = wrap_360(azimuth) if math.isfinite(azimuth) else azimuth
        return (azimuth, None, value) if staged else (azimuth, value, None)

    def grid(self, table: Table) -> AimGrid | None:
        mark = len(self.problems)
        self.check_keys(table, GRID.names)
        lat = self.interval(table, GRID["lat"])
        lon = self.interval(table, GRID["lon"])
        step = self.quantity(table, GRID["step"])
        if lat is None or lon is None or not self.clean_since(mark):
            return None
        grid = AimGrid(lat[0], lat[1], lon[0], lon[1], step)
        spans = ((lat[1] - lat[0]) / step, (lon[1] - lon[0]) / step)  # infinite for a step of 1e-320 deg
        if not all(math.isfinite(s) for s in spans) or grid.size > MAX_GRID_POINTS:
            counts = " × ".join(count_text(s) for s in spans)
            self.report(
                table, "step", table.data["step"],
                f"a step giving at most {MAX_GRID_POINTS:,} aim points (this one gives {counts})",
            )
            return None
        return grid

    def interval(self, table: Table, key: Key) -> tuple[float, float] | None:
        """A pair [low, high] of angles within the key's range, low <= high (longitudes at most 360 deg apart)."""
        longitude = key.noun == "longitude"
        expected = key.expected()
        key_name = key.name
        value = self.raw(table, key_name, expected, required=True)
        if value is MISSING:
            return None
        if not isinstance(value, list) or len(value) != 2:
            self.report(table, key_name, value, expected)
            return None
        try:
            low, high = (parse_quantity(v, "angle") for v in value)
        except QuantityError:
            self.report(table, key_name, value, expected)
            return None
        if low not in key.range or high not in key.range or low > high or (longitude and high - low > 360):
            self.report(table, key_name, value, expected + (", at most 360 deg apart" if longitude else ""))
            return None
        return low, high

    def coverage(self, table: Table) -> CoverageSpec | None:
        mark = len(self.problems)
        self.check_keys(table, COVERAGE.names)
        missile = self.reference(
            table, COVERAGE["missile"], self.missile_has_speed, "missiles", "a missile type", "missiles"
        )
        model = self.missile_model(missile)
        trajectory = self.trajectory(table, model, missile)
        launch_time = self.quantity(table, COVERAGE["launch_time"])
        if model == "burnout":  # (a staged type flies on its own full burn)
            self.require_speed(table, missile, schema.burnout_speed_needed(trajectory.mode))
        from_text = "a point or a non-empty list of points (place names or inline tables)"
        launch_raw = self.raw(table, "from", from_text, required=True)
        launch = () if launch_raw is MISSING else self.point_list(
            table, "from", launch_raw, single_ok=True, what="a launch point",
            same=lambda p: (p.lat_deg, p.lon_deg, p.alt_m),
        )
        aim = self.aim_points(table)
        if not self.clean_since(mark) or aim is None:
            return None
        return CoverageSpec(missile, launch, aim, trajectory, launch_time)

    def aim_points(self, table: Table) -> AimGrid | tuple[Point, ...] | None:
        expected = '{ lat = [low, high], lon = [low, high], step = "1 deg" } or a non-empty list of points'
        value = self.raw(table, "to", expected, required=True)
        if value is MISSING:
            return None
        if isinstance(value, Mapping):
            return self.grid(table.inner("to", value))
        if isinstance(value, list) and value:
            # the results tell aim points apart by latitude and longitude alone (the altitude of an aim is unused)
            return self.point_list(
                table, "to", value, single_ok=False, what="an aim point", same=lambda p: (p.lat_deg, p.lon_deg)
            )
        self.report(table, "to", value, expected)
        return None

    # ---- flight tests ----------------------------------------------------------------------------------

    def assessment(self, table: Table) -> AssessmentSpec | None:
        """An [[assessments]] table (docs/scenario.md, Flight tests); with `test = "NAME"` (files read with the
        catalog), the catalog's flight test gives the keys the table does not."""
        mark = len(self.problems)
        allowed = ASSESSMENT.names if self.use_catalog else tuple(n for n in ASSESSMENT.names if n != "test")
        self.check_keys(table, allowed)
        if "test" in table.data and self.use_catalog:
            table = self.catalog_test(table)
            if table is None:
                return None
        data = table.data
        name = self.text(table, ASSESSMENT["name"])
        missile = self.reference(
            table, ASSESSMENT["missile"], self.missile_has_speed, "missiles", "a missile type", "missiles"
        )
        model = self.missile_model(missile)
        launch = self.point(table, "from")
        if "azimuth" in data and "to" in data:
            self.report(table, "to", data["to"], "either `azimuth` (the launch azimuth) or `to` (the observed impact "
                                                 "point), not both")
        elif "azimuth" not in data and "to" not in data:
            self.report(table, "azimuth", MISSING, f"a launch azimuth `azimuth` ({ASSESSMENT['azimuth'].expected()}) "
                        f"or the observed impact point `to` (a place name or {POINT_FORM})")
        azimuth = self.quantity(table, ASSESSMENT["azimuth"]) if "azimuth" in data else None
        impact = self.point(table, "to") if "to" in data else None
        observed = self.inline(table, "observed", OBSERVED, required=True)
        apogee = flight_time = math.nan
        ground_range = None
        if observed is not None:
            apogee = self.quantity(observed, OBSERVED["apogee"])
            flight_time = self.quantity(observed, OBSERVED["flight_time"])
            ground_range = self.optional_quantity(observed, OBSERVED["ground_range"])
        uncertainty = self.inline(table, "uncertainty", UNCERTAINTY, required=False)
        sigma = [float(k.default) for k in UNCERTAINTY]
        if uncertainty is not None:
            sigma = [self.quantity(uncertainty, k) for k in UNCERTAINTY]
        payloads = self.quantities(table, ASSESSMENT["payloads"])
        if "payloads" in data and model == "burnout":
            self.report(
                table, "payloads", data["payloads"],
                f'no payloads for missile {shown(missile)!r} (model = "burnout"): other payloads apply to staged '
                "types only, whose payload mass is theirs to fit",
            )
        if not self.clean_since(mark) or launch is None:
            return None
        return AssessmentSpec(name, missile, launch, apogee, flight_time, ground_range, wrap_360(azimuth)
                              if azimuth is not None else None, impact, *sigma, payloads)

    def catalog_test(self, table: Table) -> Table | None:
        """The [[assessments]] table with the keys of its catalog flight test (`test = "NAME"`) that it does not give
        itself (its `azimuth` or `to` replaces the test's either, `observed` and `uncertainty` replace the test's
        whole tables); None when there is no such test."""
        name = table.data["test"]
        entry = self.catalog.find("flight-tests", name) if isinstance(name, str) and self.catalog else None
        if entry is None:
            self.report(table, "test", name, "the name of a flight test in the bundled catalog (see `shieldlab "
                        "catalog flight-tests`)" + self.did_you_mean("flight-tests", name, ()))
            return None
        self.catalog_refs.setdefault(("flight-tests", name), None)
        merged = dict(entry.values)
        if "to" in table.data or "azimuth" in table.data:
            merged.pop("to", None)
            merged.pop("azimuth", None)
        merged.update((k, v) for k, v in table.data.items() if k != "test")
        merged.setdefault("name", name)
        return Table(table.name, merged, table.prefix)

    def inline(self, table: Table, key: str, schema_table: schema.SchemaTable, *, required: bool) -> Table | None:
        """The inline table at `key` (its keys checked against `schema_table`), or None when absent or wrong."""
        form = schema_table.title.split(": ", 1)[1].strip("`")
        value = self.raw(table, key, f"an inline table {form}", required=required)
        if value is MISSING:
            return None
        if not isinstance(value, Mapping):
            self.report(table, key, value, f"an inline table {form}")
            return None
        inner = table.inner(key, value)
        self.check_keys(inner, schema_table.names)
        return inner

    # ---- the whole file ----------------------------------------------------------------------------------

    def scenario(self, data: Mapping[str, Any], default_name: str) -> Scenario:
        top = Table("", data)
        self.check_keys(top, TOP.names)
        name = self.text(top, TOP["name"], default=default_name)
        earth = self.earth(self.subtable(top, "earth", "earth"))
        self.read_places(top)
        missiles = self.section(top, "missiles", "a missile type", self.missile)
        self.missile_has_speed = self.section_names(top, "missiles", lambda t: "burnout_speed" in t)
        self.missile_models = {name: self.model_of(top, name) for name in self.missile_has_speed}
        interceptors = self.section(top, "interceptors", "an interceptor type", self.interceptor)
        self.interceptor_names = set(self.section_names(top, "interceptors", lambda t: True))
        sensors = self.array_of_tables(top, "sensors", self.sensor, "radar" if self.use_catalog else None)
        batteries = self.array_of_tables(top, "batteries", self.battery)
        threats = self.array_of_tables(top, "threats", self.threat)
        coverage_table = self.subtable(top, "coverage", "coverage")
        coverage = None if coverage_table is None else self.coverage(coverage_table)
        assessments = self.array_of_tables(top, "assessments", self.assessment, "test" if self.use_catalog else None)
        from shieldlab.scenario import vary  # (it reads the file again through this module)

        sampling = vary.read_sampling(self, top)
        self.raise_problems()
        # catalog types used by name join the file's own (whose names win: they were never looked up)
        for kind, types in (("missiles", missiles), ("interceptors", interceptors)):
            types.update((n, t) for n, t in self.catalog_types[kind].items() if n not in types)
        scenario = Scenario(
            name, earth, dict(self.places), missiles, interceptors, sensors, batteries, threats, coverage, self.file,
            catalog_refs=tuple(self.catalog_refs), assessments=assessments,
        )
        if sampling is None:
            return scenario
        # [uncertainty] last: its keys name what the rest defines (docs/scenario.md, Uncertainty)
        scenario = vary.resolve_uncertainty(self, scenario, data, sampling)
        self.raise_problems()
        return scenario

    def section(self, top: Table, key: str, what: str, parse: Callable[[str, Table], T | None]) -> dict[str, T]:
        """The types defined in [key]: each [key.NAME] parsed."""
        parsed = {name: parse(name, table) for name, table in self.named_tables(top, key, what)}
        return {name: value for name, value in parsed.items() if value is not None}

    @staticmethod
    def model_of(top: Table, name: str) -> str | None:
        """The model a [missiles.NAME] table gives (default burnout); None when it gives no valid one."""
        table = top.data["missiles"][name]
        model = table.get("model", "burnout") if isinstance(table, Mapping) else None
        return model if isinstance(model, str) and model in MISSILE_TABLES else None

    @staticmethod
    def section_names(top: Table, key: str, test: Callable[[Mapping[str, Any]], bool]) -> dict[str, bool]:
        """The names defined in [key] (whatever their problems), each with test(its table)."""
        section = top.data.get(key)
        if not isinstance(section, Mapping):
            return {}
        return {name: isinstance(value, Mapping) and test(value) for name, value in section.items()}


# ---- the public functions ------------------------------------------------------------------------------------


def _checked(reader: Reader, result: T | None) -> T:
    reader.raise_problems()
    if result is None:  # every path that returns None has reported why
        raise ScenarioError([Problem(reader.file, "", "", "no value", "a valid table")])
    return result


def parse_point(data: Mapping[str, Any], *, file: str, table: str, name: str | None = None) -> Point:
    """An inline point `{ lat, lon, alt }` (a [places.NAME] table) checked; ScenarioError listing every problem.

    `file` and `table` name it in messages ("places.toml", "places.kozelsk"); `name` is the point's name.
    """
    reader = Reader(file)
    return _checked(reader, reader.point_table(Table(table, data), name))


def parse_missile(
    name: str, data: Mapping[str, Any], *, file: str, table: str | None = None
) -> MissileType | StagedMissileType:
    """A missile type ([missiles.NAME], either model) checked; ScenarioError listing every problem."""
    reader = Reader(file)
    return _checked(reader, reader.missile(name, Table(table or f"missiles.{name}", data)))


def parse_interceptor(name: str, data: Mapping[str, Any], *, file: str, table: str | None = None) -> InterceptorType:
    """An interceptor type ([interceptors.NAME]) checked; ScenarioError listing every problem."""
    reader = Reader(file)
    return _checked(reader, reader.interceptor(name, Table(table or f"interceptors.{name}", data)))


def parse_radar(
    data: Mapping[str, Any], *, file: str, table: str, places: Mapping[str, Point] | None = None
) -> Radar:
    """A [[sensors]] table (name, kind, at, max_range, min_elevation, azimuth) checked; ScenarioError otherwise.

    `at` may name one of `places`.
    """
    reader = Reader(file)
    reader.places = dict(places or {})
    reader.place_names = set(reader.places)
    return _checked(reader, reader.sensor(Table(table, data)))


def parse_assessment(data: Mapping[str, Any], *, file: str, table: str, name: str,
                     catalog: CatalogLookup) -> AssessmentSpec:
    """An [[assessments]] table (without `name`, it is `name`) checked; its missile and places are names of
    `catalog`; ScenarioError listing every problem (the catalog's flight tests are read with it)."""
    reader = Reader(file, catalog=catalog)
    values = {"name": name, **{k: v for k, v in data.items() if k != "test"}}
    return _checked(reader, reader.assessment(Table(table, values)))


def parse_scenario(data: Mapping[str, Any], file: str, *, catalog: CatalogLookup | None = None) -> Scenario:
    """A whole scenario (the TOML as a dict) checked and built; ScenarioError listing every problem.

    `file` names it in messages; without a `name` key the scenario is named after it ("a/b.toml": "b").
    Names the file does not define are looked up in `catalog` (None: every name must be defined).
    """
    if not isinstance(data, Mapping):
        raise ScenarioError([Problem(file, "", "", f"a {type(data).__name__}", "a table of scenario keys")])
    return Reader(file, catalog=catalog).scenario(data, PurePath(file).stem or "scenario")
