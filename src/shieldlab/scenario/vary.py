"""The `[uncertainty]` table (docs/scenario.md, Uncertainty): its keys checked and its `vary` entries resolved,
against the scenario already built, into :class:`~shieldlab.scenario.model.VarySpec`.

A `vary` entry names a scenario value by its dotted key ("interceptors.sm3-iib.burnout_speed"); this module finds
the schema key it is (its dimension, units and allowed range), where the value lives in the Scenario (the VarySpec's
`path`) and where it is written in the file. Every value an entry can draw must be one the loader accepts, rules
between keys included: a distribution's extreme values (a choice: each of its values) are put into the file's data
in place of the written one and the whole file is read again, and what the loader says of it is reported.

Used by :meth:`shieldlab.scenario.parse.Reader.scenario` only; problems are reported through its Reader.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shieldlab.errors import MISSING, ScenarioError, format_value
from shieldlab.scenario import schema
from shieldlab.scenario.model import (
    Radar,
    Scenario,
    StagedMissileType,
    Trajectory,
    UncertaintySpec,
    VarySpec,
)
from shieldlab.scenario.parse import Reader, Table, shown
from shieldlab.scenario.schema import (
    BATTERY,
    COVERAGE,
    DISTRIBUTIONS,
    EARTH,
    INTERCEPTOR,
    MISSILE,
    SAMPLING,
    SECTOR,
    SENSOR,
    STAGE,
    STAGED,
    THREAT,
    TRAJECTORY,
    VARY,
    Key,
)
from shieldlab.units import QuantityError, parse_quantity

__all__ = ["TRUNCATION_TOLERANCE", "Target", "read_sampling", "resolve_uncertainty", "targets"]

TRUNCATION_TOLERANCE = 1e-12
"""A normal is `truncated` when more of its probability than this lies outside the key's allowed range."""

CHECK_SDS = 8.0
"""A normal's values are checked against the rules between keys out to this many standard deviations (with
truncation to the allowed range): beyond it lies less than 1.3e-15 of the probability."""

SUFFIX = {
    "length": "_m", "time": "_s", "speed": "_m_s", "angle": "_deg", "area": "_m2", "mass": "_kg",
    "ballistic coefficient": "_kg_m2",
}
"""The model attribute of a quantity key is the key's name with its dimension's unit: burnout_speed_m_s."""

RENAMED = {"from": "launch", "to": "aim"}

NUMERIC = ("quantity", "number")

REFUSED_SECTIONS = {
    "name": "the scenario's name labels its outputs; it has no distribution",
    "places": "a place is a name for a point; vary the point where it is used (threats.NAME.from, threats.NAME.to, "
              "batteries.NAME.at, sensors.NAME.at) with a choice of places",
    "assessments": "flight tests are fitted by `shieldlab assess`, not sampled",
    "uncertainty": "the [uncertainty] table describes the sampling itself",
}

REFUSED_KEYS = {
    "name": "a name tells entries (and their results) apart; it has no distribution",
    "model": "the model decides which keys a type has; vary the missile of a threat (or the interceptor of a "
             "battery) with a choice of types instead",
    "kind": "there is one sensor model",
    "radar": "it names the catalog radar the entry starts from; vary the radar's keys instead",
    "stages": "it is the list of stages; vary one stage's key, missiles.NAME.stages.N.KEY with N from 1",
    "azimuth": "it is the azimuth sector; vary azimuth.center or azimuth.half_width",
    "trajectory.gamma": "the trajectory has no fixed gamma",
    "trajectory.kick": "the trajectory has no fixed kick",
    "coverage.from": "each launch point of [coverage] is flown as its own pair; vary a threat's `from` instead",
    "coverage.to": "the aim points of [coverage] (a grid or a list) are flown each as its own pair; vary a threat's "
                   "`to` instead",
}

SECTIONS = ("missiles", "interceptors", "sensors", "batteries", "threats", "coverage", "earth")


@dataclass(frozen=True)
class Target:
    """What a dotted key names: its schema `key`, its `kind` (the schema key's, or "trajectory"), where the value
    lives in the Scenario (`path`) and where the file writes it (`raw`: keys and 0-based list indices into the
    file's data); `catalog_kind` the catalog kind of a reference's names ("missiles", "interceptors")."""

    key: Key
    kind: str
    path: tuple
    raw: tuple
    catalog_kind: str | None = None


def _attribute(key: Key) -> str:
    if key.name in RENAMED:
        return RENAMED[key.name]
    if key.kind == "quantity" and key.dimension in SUFFIX:
        return key.name + SUFFIX[key.dimension]
    return key.name


def _plain(table: schema.SchemaTable, names: Sequence[str], path: tuple, raw: tuple,
           catalog: dict[str, str] | None = None) -> dict[str, Target]:
    out = {}
    for name in names:
        key = table[name]
        kind = "trajectory" if key.kind == "trajectory" else key.kind
        out[name] = Target(key, kind, (*path, _attribute(key)), (*raw, name), (catalog or {}).get(name))
    return out


def _trajectory_angles(trajectory: Trajectory, path: tuple, raw: tuple) -> dict[str, Target]:
    """`trajectory.gamma` or `trajectory.kick` of a fixed-angle trajectory."""
    if trajectory.mode not in ("gamma", "kick"):
        return {}
    key = TRAJECTORY[trajectory.mode]
    return {f"trajectory.{key.name}": Target(key, "quantity", (*path, "trajectory", f"{key.name}_deg"),
                                             (*raw, "trajectory", key.name))}


def targets(scenario: Scenario, section: str, name: str | None, index: int | None = None) -> dict[str, Target]:
    """Every key that may vary of one entry (`name` of `section`; `index` its position in the file's array),
    by its dotted key after `section.NAME.` ("burnout_speed", "stages.2.isp", "azimuth.center")."""
    if section == "missiles":
        missile = scenario.missiles[name]  # type: ignore[index]
        base, raw = ("missiles", name), ("missiles", name)
        if isinstance(missile, StagedMissileType):
            out = _plain(STAGED, [k for k in STAGED.names if k not in ("model", "stages")], base, raw)
            for i in range(len(missile.stages)):
                stage = _plain(STAGE, STAGE.names, (*base, "stages", i), (*raw, "stages", i))
                out.update((f"stages.{i + 1}.{k}", t) for k, t in stage.items())
            return out
        return _plain(MISSILE, [k for k in MISSILE.names if k != "model"], base, raw)
    if section == "interceptors":
        return _plain(INTERCEPTOR, [k for k in INTERCEPTOR.names if k != "model"], ("interceptors", name),
                      ("interceptors", name))
    if section == "sensors":
        radar = next(s for s in scenario.sensors if s.name == name)
        base, raw = ("sensors", name), ("sensors", index)
        out = _plain(SENSOR, ("at", "max_range", "reference_range", "reference_rcs", "min_elevation",
                              "track_formation"), base, raw)
        if radar.sector is not None:
            sector = _plain(SECTOR, SECTOR.names, (*base, "sector"), (*raw, "azimuth"))
            out.update((f"azimuth.{k}", t) for k, t in sector.items())
        return out
    if section == "batteries":
        return _plain(BATTERY, [k for k in BATTERY.names if k != "name"], ("batteries", name), ("batteries", index),
                      {"interceptor": "interceptors"})
    if section == "threats":
        threat = next(t for t in scenario.threats if t.name == name)
        base, raw = ("threats", name), ("threats", index)
        out = _plain(THREAT, [k for k in THREAT.names if k != "name"], base, raw, {"missile": "missiles"})
        out.update(_trajectory_angles(threat.trajectory, base, raw))
        return out
    if section == "coverage":
        assert scenario.coverage is not None
        out = _plain(COVERAGE, ("missile", "trajectory", "launch_time"), ("coverage",), ("coverage",),
                     {"missile": "missiles"})
        out.update(_trajectory_angles(scenario.coverage.trajectory, ("coverage",), ("coverage",)))
        return out
    if section == "earth":
        return _plain(EARTH, EARTH.names, ("earth",), ("earth",))
    raise ValueError(section)


# ---- [uncertainty]'s own keys -----------------------------------------------------------------------------------


def read_sampling(reader: Reader, top: Table) -> tuple[Table, dict[str, int], list[tuple[int, Table]]] | None:
    """The [uncertainty] table's keys checked (before the rest of the file is built): the table, its integers and
    its `vary` entries (1-based index, the entry as a table); None when there is no [uncertainty] table."""
    table = reader.subtable(top, "uncertainty", "uncertainty")
    if table is None:
        return None
    reader.check_keys(table, SAMPLING.names)
    numbers = {k.name: _integer(reader, table, k) for k in SAMPLING if k.kind == "integer"}
    form = VARY.title.split(": ", 1)[1].strip("`")
    expected = f"a non-empty list of inline tables {form}, one per varied value"
    value = reader.raw(table, "vary", expected, required=True)
    entries: list[tuple[int, Table]] = []
    if value is MISSING:
        return table, numbers, entries
    if not isinstance(value, list) or not value:
        reader.report(table, "vary", value, expected)
        return table, numbers, entries
    for i, item in enumerate(value, start=1):
        if not isinstance(item, Mapping):
            reader.report(table, f"vary[{i}]", item, f"an inline table {{ key = \"…\", normal = [mean, sd] }} "
                                                     "(or uniform, triangular, choice)")
            continue
        inner = table.inner(f"vary[{i}]", item)
        reader.check_keys(inner, VARY.names)
        entries.append((i, inner))
    return table, numbers, entries


def _integer(reader: Reader, table: Table, key: Key) -> int:
    value = reader.raw(table, key.name, key.expected(), required=False)
    if value is MISSING:
        return int(key.default)
    if isinstance(value, bool) or not isinstance(value, int) or value not in key.range:
        reader.report(table, key.name, value, key.expected())
        return int(key.default)
    return value


# ---- the vary entries -------------------------------------------------------------------------------------------


def resolve_uncertainty(reader: Reader, scenario: Scenario, data: Mapping[str, Any],
                        read: tuple[Table, dict[str, int], list[tuple[int, Table]]]) -> Scenario:
    """The scenario with its `uncertainty` (and any catalog type a choice names joined to its types); problems are
    reported to `reader`, which the caller raises."""
    table, numbers, entries = read
    resolver = _Resolver(reader, scenario, data)
    specs: list[VarySpec] = []
    seen: dict[tuple, int] = {}
    for i, entry in entries:
        spec = resolver.entry(entry)
        if spec is None:
            continue
        if spec.path in seen:
            reader.report(entry, "key", spec.key, f"a key not varied by another entry (vary[{seen[spec.path]}] "
                                                  "varies it already): each value has one distribution")
            continue
        seen[spec.path] = i
        specs.append(spec)
    missiles = dict(scenario.missiles)
    interceptors = dict(scenario.interceptors)
    missiles.update((n, t) for n, t in reader.catalog_types["missiles"].items() if n not in missiles)
    interceptors.update((n, t) for n, t in reader.catalog_types["interceptors"].items() if n not in interceptors)
    uncertainty = UncertaintySpec(tuple(specs), numbers["samples"], numbers["seed"], numbers["sensitivity_samples"])
    return dataclasses.replace(scenario, missiles=missiles, interceptors=interceptors, uncertainty=uncertainty,
                               catalog_refs=tuple(reader.catalog_refs))


def _finite(value: object) -> float | None:
    """A TOML number as a finite float (None for anything else: a boolean, NaN, an integer beyond a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _normal_outside(mean: float, sd: float, low: float, high: float) -> float:
    """The probability of a normal (mean, sd) below `low` or above `high`."""
    if sd == 0.0:
        return 0.0 if low <= mean <= high else 1.0
    below = 0.5 * math.erfc((mean - low) / (sd * math.sqrt(2.0))) if math.isfinite(low) else 0.0
    above = 0.5 * math.erfc((high - mean) / (sd * math.sqrt(2.0))) if math.isfinite(high) else 0.0
    return below + above


class _Resolver:
    """Resolves the `vary` entries of one file against its scenario."""

    def __init__(self, reader: Reader, scenario: Scenario, data: Mapping[str, Any]):
        self.reader = reader
        self.scenario = scenario
        self.data = {k: v for k, v in data.items() if k != "uncertainty"}

    # ---- the key ------------------------------------------------------------------------------------------

    def names(self, section: str) -> list[str]:
        if section in ("missiles", "interceptors"):
            return list(getattr(self.scenario, section))
        return [entry.name for entry in getattr(self.scenario, section)]

    def target(self, entry: Table, text: str) -> Target | None:
        """What the dotted key `text` names; None (reported) when it names nothing that may vary."""
        def refuse(expected: str) -> None:
            self.reader.report(entry, "key", text, expected)

        section, _, rest = text.partition(".")
        if section in REFUSED_SECTIONS:
            refuse(f"a key that may vary, not one of [{section}]: {REFUSED_SECTIONS[section]}")
            return None
        if section not in SECTIONS or not rest:
            valid = [s for s in SECTIONS if s != "coverage" or self.scenario.coverage is not None]
            close = difflib.get_close_matches(section, valid, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close and close[0] != section else ""
            refuse(f"a dotted key beginning with one of {', '.join(valid)}{hint}: missiles.NAME.KEY, "
                   "interceptors.NAME.KEY, sensors.NAME.KEY, batteries.NAME.KEY, threats.NAME.KEY, coverage.KEY or "
                   "earth.KEY")
            return None
        if section in ("coverage", "earth"):
            if section == "coverage" and self.scenario.coverage is None:
                refuse("a key of a table the scenario has: it has no [coverage] table")
                return None
            return self.key_of(entry, text, section, None, None, rest)
        names = self.names(section)
        matches = [n for n in names if rest.startswith(n + ".") and len(rest) > len(n) + 1]
        if not matches:
            guess = rest.split(".stages.")[0] if ".stages." in rest else rest.rsplit(".", 1)[0]
            what = {"missiles": "a missile type used by the scenario", "interceptors": "an interceptor type used by "
                    "the scenario", "sensors": "a sensor", "batteries": "a battery", "threats": "a threat"}[section]
            close = difflib.get_close_matches(guess, names, n=1)
            hint = f" (did you mean '{shown(close[0])}'?)" if close else ""
            known = ", ".join(shown(n) for n in sorted(names)[:20]) + (", …" if len(names) > 20 else "") or "none"
            refuse(f"{section}.NAME.KEY with NAME the name of {what} (known: {known}){hint}")
            return None
        name = max(matches, key=len)  # names may hold dots: the longest that fits
        index = names.index(name) if section in ("sensors", "batteries", "threats") else None
        return self.key_of(entry, text, section, name, index, rest[len(name) + 1:])

    def key_of(self, entry: Table, text: str, section: str, name: str | None, index: int | None,
               sub: str) -> Target | None:
        found = targets(self.scenario, section, name, index)
        if sub in found:
            return found[sub]
        prefix = f"{section}." + (f"{name}." if name is not None else "")
        why = REFUSED_KEYS.get(f"{section}.{sub}") or REFUSED_KEYS.get(sub)
        if sub.startswith("stages.") and isinstance(self.scenario.missiles.get(name or ""), StagedMissileType):
            count = len(self.scenario.missiles[name].stages)  # type: ignore[index, union-attr]
            why = why or (f"stages.N.KEY with N from 1 to {count} (the missile's stages) and KEY one of "
                          + ", ".join(STAGE.names))
        if section == "sensors" and sub.startswith("azimuth."):
            why = why or ("the sensor has no azimuth sector (it sees all round); give it one, `azimuth = { center, "
                          "half_width }`, to vary it")
        if why is not None:
            self.reader.report(entry, "key", text, f"a key that may vary, not {shown(text)}: {why}")
            return None
        valid = [prefix + k for k in found]
        close = difflib.get_close_matches(text, valid, n=1)
        hint = f" (did you mean '{shown(close[0])}'?)" if close else ""
        self.reader.report(entry, "key", text, f"a key that may vary{hint}: {shown(prefix)}KEY with KEY one of "
                                               + ", ".join(found))
        return None

    # ---- the entry -------------------------------------------------------------------------------------

    def entry(self, entry: Table) -> VarySpec | None:
        reader = self.reader
        mark = len(reader.problems)
        text = reader.text(entry, VARY["key"])
        given = [d for d in DISTRIBUTIONS if d in entry.data]
        if len(given) != 1:
            what = "none" if not given else " and ".join(given)
            expected = f"exactly one distribution: normal, uniform, triangular or choice (this entry gives {what})"
            if given:
                reader.report(entry, given[1], entry.data[given[1]], expected)
            else:  # the entry as a whole
                reader.report(Table(entry.name, {}), entry.prefix.rstrip("."), entry.data, expected)
        if not text or not reader.clean_since(mark):
            return None
        target = self.target(entry, text)
        if target is None:
            return None
        kind = given[0]
        params = entry.data[kind]
        if target.kind not in NUMERIC and kind != "choice":
            reader.report(entry, kind, params, f"a choice for {text}: it holds {self.what(target)}, so only `choice` "
                                               f"may vary it (normal, uniform and triangular are for quantities and "
                                               f"numbers)")
            return None
        if "weights" in entry.data and kind != "choice":
            reader.report(entry, "weights", entry.data["weights"],
                          f"weights only with `choice` (they weigh its values); a {kind} distribution has none")
            return None
        self.key_text = text  # the VarySpec's key; messages show it cut and escaped
        if target.kind in NUMERIC:
            return self.numeric(entry, shown(text), target, kind, params)
        return self.choice(entry, shown(text), target, params)

    @staticmethod
    def what(target: Target) -> str:
        return {"choice": target.key.expected(), "flag": "true or false", "reference": "a name",
                "point": "a point", "trajectory": "a trajectory"}.get(target.kind, "a value")

    def values(self, entry: Table, text: str, target: Target, kind: str, params: object,
               count: int | None, form: str) -> list[float] | None:
        """The list `params` of `count` values (any number >= 1 when None) of the key, in SI; None if wrong."""
        key = target.key
        expected = f"{form} for {text}, each {key.expected() if target.kind == 'number' else self.noun(key)}"
        if not isinstance(params, list) or (len(params) != count if count is not None else not params):
            self.reader.report(entry, kind, params, expected)
            return None
        out = []
        for j, value in enumerate(params):
            if target.kind == "number":
                number = _finite(value)
                if number is None:
                    self.reader.report(entry, kind, params, expected)
                    return None
                out.append(number)
                continue
            if kind == "normal" and j == 1 and isinstance(value, str) and "db" in value.lower():
                self.reader.report(entry, kind, params, f"{expected}; a standard deviation in m2, not in a "
                                                        "logarithmic unit (dBsm)")
                return None
            try:
                out.append(parse_quantity(value, key.dimension or "length"))
            except QuantityError as error:
                self.reader.report(entry, kind, params, f"{form} for {text}: {error.expected}")
                return None
        return out

    @staticmethod
    def noun(key: Key) -> str:
        return (key.noun or schema._NOUNS[key.dimension or "length"])  # noqa: SLF001

    def numeric(self, entry: Table, text: str, target: Target, kind: str, params: object) -> VarySpec | None:
        reader, key = self.reader, target.key
        allowed = key.range_text()
        forms = {"normal": ("[mean, sd]", 2), "uniform": ("[low, high]", 2), "triangular": ("[low, mode, high]", 3),
                 "choice": ("a non-empty list of values", None)}
        form, count = forms[kind]
        values = self.values(entry, text, target, kind, params, count, form)
        if values is None:
            return None
        scale, unit = key.scale, key.display_unit

        def in_unit(x: float) -> str:
            return f"{schema.number_text(x / scale)} {unit}".rstrip()

        weights: tuple[float, ...] = ()
        if kind == "normal":
            mean, sd = values
            if sd < 0:
                reader.report(entry, kind, params, f"[mean, sd] for {text} with sd at least 0 (0: exactly the mean)")
                return None
            if mean not in key.range:
                reader.report(entry, kind, params, f"[mean, sd] for {text} with the mean within the key's allowed "
                                                   f"range, {allowed} (the normal is truncated to it)")
                return None
            outside = _normal_outside(mean, sd, key.range.lo, key.range.hi)
            if outside > 0.5:
                reader.report(entry, kind, params, f"[mean, sd] for {text} with at most half its probability outside "
                                                   f"the key's allowed range, {allowed} (this one has {outside:.0%} "
                                                   "outside, which truncation would cut): a smaller sd, or a "
                                                   "uniform or triangular distribution within the range")
                return None
            lo = max(mean - CHECK_SDS * sd, key.range.lo)
            hi = min(mean + CHECK_SDS * sd, key.range.hi)
            if lo == key.range.lo and key.range.lo_open:
                lo = math.nextafter(lo, math.inf)
            if hi == key.range.hi and key.range.hi_open:
                hi = math.nextafter(hi, -math.inf)
            checked = [mean, lo, hi]
            spec = VarySpec(self.key_text, target.path, "normal", (mean, sd), low=key.range.lo, high=key.range.hi,
                            truncated=outside > TRUNCATION_TOLERANCE, unit=unit or None)
        else:
            if kind in ("uniform", "triangular"):
                if any(a > b for a, b in zip(values, values[1:])):
                    order = "low <= high" if kind == "uniform" else "low <= mode <= high"
                    reader.report(entry, kind, params, f"{form} for {text} with {order}")
                    return None
            outside = [v for v in values if v not in key.range]
            if outside:
                what = "values" if kind == "choice" else "bounds"
                reader.report(entry, kind, params, f"{form} for {text} with {what} within the key's allowed range, "
                                                   f"{allowed} ({in_unit(outside[0])} is not): only a normal "
                                                   "distribution is truncated to the range")
                return None
            if kind == "choice":
                weights = self.weights(entry, text, len(values))
                if weights is None:
                    return None
                checked = [min(values), max(values)]
                spec = VarySpec(self.key_text, target.path, "choice", choices=tuple(values), weights=weights,
                                low=key.range.lo, high=key.range.hi, unit=unit or None)
            else:
                checked = [values[0], values[-1]]
                spec = VarySpec(self.key_text, target.path, kind, tuple(values), low=key.range.lo, high=key.range.hi,
                                unit=unit or None)
        for value in dict.fromkeys(checked):
            if not self.allowed(entry, kind, params, text, target, self.written(key, target, value), in_unit(value)):
                return None
        return spec

    @staticmethod
    def written(key: Key, target: Target, value: float) -> Any:
        """A value of the key as a file writes it: in the key's display unit when that reads back exactly
        ("1600.0 km"), else in SI (a bare number; degrees for angles)."""
        if target.kind == "number" or key.dimension is None:
            return value
        text = f"{value / key.scale!r} {key.display_unit}"
        try:
            return text if parse_quantity(text, key.dimension) == value else value
        except QuantityError:
            return value

    def weights(self, entry: Table, text: str, count: int) -> tuple[float, ...] | None:
        """The choice's weights, normalised (equal when not given); None (reported) when wrong."""
        value = entry.data.get("weights", MISSING)
        if value is MISSING:
            return tuple(1.0 / count for _ in range(count))
        expected = (f"a list of {count} weights for the {count} values of the choice of {text}, each a number at least "
                    "0, not all 0")
        numbers = [_finite(w) for w in value] if isinstance(value, list) and len(value) == count else [None]
        ok = all(w is not None and w >= 0 for w in numbers)
        total = math.fsum(numbers) if ok else 0.0  # type: ignore[arg-type]
        if not ok or not total > 0 or not math.isfinite(total):
            self.reader.report(entry, "weights", value, expected)
            return None
        return tuple(w / total for w in numbers)  # type: ignore[operator]

    def choice(self, entry: Table, text: str, target: Target, params: object) -> VarySpec | None:
        reader = self.reader
        what = self.what(target)
        expected = f"a non-empty list of values for {text}, each {what}"
        if not isinstance(params, list) or not params:
            reader.report(entry, "choice", params, expected)
            return None
        mark = len(reader.problems)
        choices = [self.choice_value(entry, text, target, j, value) for j, value in enumerate(params, start=1)]
        if not reader.clean_since(mark):
            return None
        weights = self.weights(entry, text, len(choices))
        if weights is None:
            return None
        for value in params:
            if not self.allowed(entry, "choice", params, text, target, value, format_value(value)):
                return None
        return VarySpec(self.key_text, target.path, "choice", choices=tuple(choices), weights=weights)

    def choice_value(self, entry: Table, text: str, target: Target, j: int, value: Any) -> Any:
        """One value of a choice as the model holds it (a string, a boolean, a Point, a Trajectory); reported and
        None when the key does not accept it."""
        reader, key = self.reader, target.key
        where = f"choice[{j}]"
        if target.kind == "flag":
            if not isinstance(value, bool):
                reader.report(entry, where, value, f"true or false for {text} (a TOML boolean, without quotes)")
            return value
        if target.kind == "choice":
            if value not in key.choices:
                reader.report(entry, where, value, f"{key.expected()} for {text}")
            return value
        if target.kind == "point":
            return reader.point_value(entry, where, value)
        if target.kind == "trajectory":
            scenario = self.scenario
            if target.path[0] == "coverage" and scenario.coverage is not None:
                missile = scenario.coverage.missile
            else:
                missile = next(t.missile for t in scenario.threats if t.name == target.path[1])
            model = scenario.missiles[missile].model
            inner = Table(entry.name, {"trajectory": value}, f"{entry.prefix}{where}.")
            return reader.trajectory(inner, model, missile)
        # a reference: a missile type or an interceptor type, of the scenario or of the catalog
        kind = target.catalog_kind or ""
        known = getattr(self.scenario, kind)
        if isinstance(value, str) and value in known:
            return value
        if isinstance(value, str) and (found := reader.from_catalog(kind, value)) is not None:
            reader.catalog_types[kind][value] = found
            return value
        reader.report(entry, where, value, f"for {text}, the name of {'a missile' if kind == 'missiles' else 'an interceptor'} "
                                           f"type defined in [{kind}] or in the bundled catalog (see `shieldlab catalog "
                                           f"{kind}`){reader.did_you_mean(kind, value, known)}")
        return None

    # ---- the rules between keys -------------------------------------------------------------------------------

    def allowed(self, entry: Table, kind: str, params: object, text: str, target: Target, raw_value: Any,
                value_text: str) -> bool:
        """Whether the file read with `raw_value` at the target's place passes the loader (reported if not)."""
        data = self.with_value(target.raw, raw_value)
        try:
            Reader(self.reader.file, catalog=self.reader.catalog).scenario(data, self.scenario.name)
        except ScenarioError as error:
            first = error.problems[0]
            where = f"[{first.table}] key '{first.key}'" if first.table else f"key '{first.key}'"
            self.reader.report(entry, kind, params, f"values the rest of the scenario allows: with {text} = {value_text}, "
                                                    f"{where} would need {first.expected}")
            return False
        return True

    def with_value(self, raw: tuple, value: Any) -> dict[str, Any]:
        """The file's data with `value` written at `raw` (copies along the way; the rest shared)."""
        data: dict[str, Any] = dict(self.data)
        data.setdefault("name", self.scenario.name)
        section = raw[0]
        if section in ("missiles", "interceptors"):  # a catalog type used by name: write it into the file
            types = dict(data.get(section) or {})
            if raw[1] not in types:
                entry = self.reader.catalog.find(section, raw[1]) if self.reader.catalog else None
                types[raw[1]] = dict(entry.values) if entry is not None else {}
            data[section] = types
        if section == "sensors" and raw[2] == "azimuth":  # a catalog radar's sector, written out
            radar: Radar = self.scenario.sensors[raw[1]]
            items = list(data["sensors"])
            if "azimuth" not in items[raw[1]] and radar.sector is not None:
                sector = {"center": radar.sector.center_deg, "half_width": radar.sector.half_width_deg}
                items[raw[1]] = {**items[raw[1]], "azimuth": sector}
            data["sensors"] = items
        return _replaced(data, raw, value)


def _replaced(node: Any, raw: tuple, value: Any) -> Any:
    if not raw:
        return value
    head, rest = raw[0], raw[1:]
    if isinstance(node, list):
        copy = list(node)
        copy[head] = _replaced(copy[head], rest, value)
        return copy
    copy = dict(node) if isinstance(node, Mapping) else {}
    copy[head] = _replaced(copy.get(head, {}), rest, value)
    return copy

