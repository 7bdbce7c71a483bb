"""The bundled, versioned catalog of open-literature entries (src/shieldlab/data/catalog/*.toml).

Five kinds of entries, one TOML file each: ``places`` (named points), ``missiles`` (generic threat classes,
`model = "burnout"` or `model = "staged"`), ``interceptors`` (`model = "straight-boost"`), ``radars`` and
``flight-tests`` (observed test flights, in the shape of a scenario's [[assessments]] table, with the date and the
standard-trajectory range published for the test). Each entry holds the keys a
scenario would give (quantities as unit strings, e.g. "5.5 km/s") and, always, a citation (`source`), a
confidence tag (`confidence`) and a `note`; `key_confidence` grades single keys that differ from the entry's tag,
`key_source` cites single keys that have their own source, and `assumption = true` marks entries that are mostly
modelling assumptions. The sensitivity and interceptor-shaping keys (SOURCED_KEYS: `rcs`, `rcs_boost`,
`reference_range`, `reference_rcs`, `track_formation`, `min_launch_elevation`, `energy_management`) must carry
both their own `key_source` and their own `key_confidence` wherever an entry gives them.

Confidence tags (docs/sources.md, Confidence tags): R-H primary text or textbook, re-checked; R-M reputable
secondary source; R-L low (hobby data file, conflicting sources); C computed from textbook formulas; U widely
circulating but not verified; A an assumption of shieldlab's authors.

Scenario files use the entries by name (docs/scenario.md; names defined in the scenario win):

    from = "kozelsk"                    # a catalog place wherever a point is asked for
    missile = "icbm-solid"              # a catalog missile class
    interceptor = "sm3-iib"             # a catalog interceptor type (in [[batteries]])
    [[sensors]]
    radar = "fylingdales"               # a catalog radar, any radar key may be overridden; it brings its
                                        # reference range / cross-section and track formation, if it has them

The catalog is read once (cached) and its values fully checked with the scenario file's own rules (the schema,
through the public functions of shieldlab.scenario.parse); a broken bundled catalog raises :class:`CatalogError`.

    from shieldlab import catalog
    catalog.catalog_version()                       # "2026.12.1"
    catalog.get("interceptors", "sm3-iib").model    # an InterceptorType
    [e.name for e in catalog.entries("radars")]
    [[assessments]]
    test = "hwasong-15-2017-11-29"      # a catalog flight test (in [[assessments]]); any of its keys may be
                                        # overridden
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from shieldlab.errors import ScenarioError, ShieldlabError
from shieldlab.scenario import schema
from shieldlab.scenario.model import Point
from shieldlab.scenario.parse import parse_assessment, parse_interceptor, parse_missile, parse_point, parse_radar

__all__ = [
    "CONFIDENCE_TAGS", "KINDS", "CatalogError", "Entry", "UnknownEntry", "catalog_version", "citations",
    "description", "entries", "find", "get", "kind_name", "names", "sector_from_coverage", "validate",
]

KINDS = ("places", "missiles", "interceptors", "radars", "flight-tests")

CONFIDENCE_TAGS: dict[str, str] = {
    "R-H": "primary text or textbook, re-checked numerically",
    "R-M": "reputable secondary source quoting the number",
    "R-L": "low: hobby/unattributed data file, or sources that conflict",
    "C": "computed from textbook formulas (not a literature value)",
    "U": "widely circulating, NOT verified",
    "A": "assumption of shieldlab's authors",
}

# singular spellings accepted wherever a kind is asked for
_KIND_ALIASES = {"place": "places", "missile": "missiles", "interceptor": "interceptors", "radar": "radars",
                 "flight-test": "flight-tests"}

# the keys of an entry that a scenario would give, per kind, from the scenario schema (radars: `site`, a catalog
# place, instead of the sensor's `at`; not its `name`, `kind` nor `radar`)
VALUE_KEYS: dict[str, tuple[str, ...]] = {
    "places": schema.POINT.names,
    "missiles": schema.missile_keys(),  # either model: burnout or staged
    "interceptors": schema.INTERCEPTOR.names,
    "radars": ("site", *(k for k in schema.SENSOR.names if k not in ("name", "kind", "at", "radar"))),
    "flight-tests": tuple(k for k in schema.ASSESSMENT.names if k not in ("name", "test")),
}
META_KEYS = ("label", "source", "confidence", "note", "assumption", "key_confidence", "key_source")
EXTRA_KEYS: dict[str, tuple[str, ...]] = {"radars": ("az_coverage",),
                                          "flight-tests": ("date", "published_max_range", "published_max_range_min")}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
REQUIRED_META = ("label", "source", "confidence", "note")
SOURCED_KEYS = (
    "rcs", "rcs_boost", "reference_range", "reference_rcs", "track_formation", "min_launch_elevation",
    "energy_management",
)
"""Keys that need their own citation (`key_source`) and tag (`key_confidence`) in every entry that gives them."""

_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_VERSION = re.compile(r"\d{4}\.\d+\.\d+")
_PACKAGE_DIR = "data/catalog"


class CatalogError(ShieldlabError):
    """The bundled catalog is malformed (a bug of the package): carries every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("the bundled catalog is malformed:\n" + "\n".join(self.problems))


class UnknownEntry(ShieldlabError, KeyError):
    """No such kind, or no entry of that name. `str()` is a sentence naming the known ones."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, eq=False)
class Entry:
    """One catalog entry. `values` are its scenario keys as written (e.g. {"burnout_speed": "5.5 km/s"});
    `model` is the checked model object: a Point (places), MissileType or StagedMissileType, InterceptorType or
    Radar. `source` is the entry's citation, `key_source` the citations of single keys that have their own (e.g.
    {"rcs": "..."})."""

    kind: str
    name: str
    label: str
    values: Mapping[str, Any]
    source: str
    confidence: str
    note: str
    model: Any
    assumption: bool = False
    key_confidence: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    key_source: Mapping[str, str] = field(default_factory=dict)

    def confidence_of(self, key: str) -> str:
        """The confidence tag of one key (the entry's own tag unless `key_confidence` says otherwise)."""
        return self.key_confidence.get(key, self.confidence)

    def source_of(self, key: str) -> str:
        """The citation of one key (the entry's `source` unless `key_source` cites the key itself)."""
        return self.key_source.get(key, self.source)

    @property
    def citation(self) -> str:
        """The entry's source followed by the sources of its single keys: "SOURCE; rcs: ...; rcs_boost: ..."."""
        return "; ".join([self.source, *(f"{k}: {text}" for k, text in self.key_source.items())])

    def assumed_keys(self) -> tuple[str, ...]:
        """The keys whose values are assumptions of shieldlab's authors (tag A); not `model` nor `site`, which
        are a model name and a reference to a catalog place (with its own confidence)."""
        return tuple(k for k in self.values if k not in ("model", "site") and self.confidence_of(k) == "A")

    def as_dict(self) -> dict[str, Any]:
        """The entry as plain data (for JSON), in the order of the file plus kind and name."""
        return {
            "kind": self.kind, "name": self.name, "label": self.label, **self.values, **self.extra,
            "source": self.source, "key_source": dict(self.key_source), "confidence": self.confidence,
            "key_confidence": dict(self.key_confidence), "assumption": self.assumption, "note": self.note,
        }


@dataclass(frozen=True)
class _Catalog:
    version: str
    descriptions: dict[str, str]
    entries: dict[str, dict[str, Entry]]


# ---- reading and checking ------------------------------------------------------------------------------------


def _bundled_texts() -> dict[str, str]:
    base = resources.files("shieldlab").joinpath(_PACKAGE_DIR)
    return {kind: base.joinpath(f"{kind}.toml").read_text(encoding="utf-8") for kind in KINDS}


def sector_from_coverage(from_deg: float, to_deg: float) -> tuple[float, float]:
    """The (center, half_width) in degrees of the azimuth coverage swept clockwise from `from_deg` to `to_deg`.

    347 -> 227 is 240 deg wide: (107, 120). A sweep of exactly 360 deg (0 -> 360) is all round: (from, 180).
    """
    sweep = to_deg - from_deg
    width = sweep % 360.0
    if width == 0.0 and sweep != 0.0:
        width = 360.0
    half = width / 2.0
    return (from_deg + half) % 360.0, half


def _build(texts: Mapping[str, str]) -> tuple[_Catalog, list[str]]:
    """The catalog from the four files' texts, and every problem found (an empty list when it is sound)."""
    problems: list[str] = []
    versions: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    raw: dict[str, dict[str, Mapping[str, Any]]] = {}
    for kind in KINDS:
        file = f"{_PACKAGE_DIR}/{kind}.toml"
        text = texts.get(kind)
        if text is None:
            problems.append(f"{file}: the file is missing")
            raw[kind] = {}
            continue
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            problems.append(f"{file}: TOML syntax error: {error}")
            raw[kind] = {}
            continue
        for key in data:
            if key not in ("version", "meta", kind):
                problems.append(f"{file}: (top level) key '{key}': only version, [meta] and [{kind}.NAME] tables")
        version = data.get("version")
        if not isinstance(version, str) or not _VERSION.fullmatch(version):
            problems.append(f'{file}: key \'version\': got {version!r}; expected a version string like "2026.11.1"')
        else:
            versions[kind] = version
        meta = data.get("meta")
        if not isinstance(meta, Mapping) or not isinstance(meta.get("description"), str) \
                or not meta["description"].strip() or meta.get("kind") != kind:
            problems.append(f'{file}: [meta]: expected a table with kind = "{kind}" and a non-empty description')
        else:
            descriptions[kind] = " ".join(meta["description"].split())
        section = data.get(kind, {})
        if not isinstance(section, Mapping) or not section:
            problems.append(f"{file}: expected [{kind}.NAME] tables, one per entry")
            section = {}
        raw[kind] = {}
        for name, entry in section.items():
            if not isinstance(entry, Mapping):
                problems.append(f"{file}: [{kind}] key '{name}': expected a table [{kind}.{name}]")
            elif not _NAME.fullmatch(name):
                problems.append(f"{file}: [{kind}.{name}]: expected a name of lower-case letters, digits and '-'")
            else:
                raw[kind][name] = entry
    if len(set(versions.values())) > 1:
        problems.append(f"{_PACKAGE_DIR}: the files give different versions: {versions}")
    version = next(iter(versions.values()), "unknown")

    entries: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}
    for kind in KINDS:
        file = f"{_PACKAGE_DIR}/{kind}.toml"
        for name, data in raw[kind].items():
            entry = _entry(kind, name, data, file, entries, set(raw["places"]), problems)
            if entry is not None:
                entries[kind][name] = entry
    return _Catalog(version, descriptions, entries), problems


def _per_key(data: Mapping[str, Any], name: str, what: str, value_keys, where: str,
             problems: list[str]) -> Mapping[str, Any]:
    """An entry's per-key table (`key_confidence`, `key_source`): {} and a problem when it is not an inline
    table; a problem for each key that is not a value key (or an extra key of its kind) of the entry."""
    table = data.get(name, {})
    if not isinstance(table, Mapping):
        problems.append(f"{where} key '{name}': expected an inline table {{ key = \"{what}\" }}")
        return {}
    for key in table:
        if key not in value_keys or key not in data:
            problems.append(f"{where} key '{name}.{key}': not a value key of this entry")
    return table


def _entry(kind: str, name: str, data: Mapping[str, Any], file: str, built: Mapping[str, Mapping[str, Entry]],
           place_names: set[str], problems: list[str]) -> Entry | None:
    """One entry checked: its metadata here, its values by the scenario file's rules (shieldlab.scenario.parse).

    `built` are the sound entries of the kinds read before (the radars' sites are places, the flight tests'
    missiles and launch points are missiles and places), `place_names` every place the file names.
    """
    places = built["places"]
    where = f"{file}: [{kind}.{name}]"
    mark = len(problems)
    value_keys, extra_keys = VALUE_KEYS[kind], EXTRA_KEYS.get(kind, ())
    allowed = (*value_keys, *extra_keys, *META_KEYS)
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(f"{where} key '{key}': not a catalog key{hint}; known: {', '.join(allowed)}")
    for key in REQUIRED_META:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{where} key '{key}': got {value!r}; expected a non-empty string")
    confidence = data.get("confidence")
    tags = ", ".join(CONFIDENCE_TAGS)
    if isinstance(confidence, str) and confidence not in CONFIDENCE_TAGS:
        problems.append(f"{where} key 'confidence': got {confidence!r}; expected one of {tags}")
    assumption = data.get("assumption", False)
    if not isinstance(assumption, bool):
        problems.append(f"{where} key 'assumption': got {assumption!r}; expected true or false")
    key_confidence = _per_key(data, "key_confidence", "TAG", (*value_keys, *extra_keys), where, problems)
    for key, tag in key_confidence.items():
        if tag not in CONFIDENCE_TAGS:
            problems.append(f"{where} key 'key_confidence.{key}': got {tag!r}; expected one of {tags}")
    key_source = _per_key(data, "key_source", "citation", (*value_keys, *extra_keys), where, problems)
    for key, text in key_source.items():
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where} key 'key_source.{key}': got {text!r}; expected a non-empty citation string")
    for key in SOURCED_KEYS:
        if key in data and key not in key_source:
            problems.append(f"{where} key '{key}': expected its own citation, key_source = {{ {key} = \"...\" }}")
        if key in data and key not in key_confidence:
            problems.append(f"{where} key '{key}': expected its own tag, key_confidence = {{ {key} = \"TAG\" }}")
    values = {k: data[k] for k in value_keys if k in data}
    extra = {k: data[k] for k in extra_keys if k in data}
    table = f"{kind}.{name}"
    model: Any = None
    try:
        if kind == "places":
            model = parse_point(values, file=file, table=table, name=name)
        elif kind == "missiles":
            model = parse_missile(name, values, file=file, table=table)
        elif kind == "interceptors":
            model = parse_interceptor(name, values, file=file, table=table)
        elif kind == "radars":
            model = _radar(name, values, extra, where, file, places, place_names, problems)
        else:
            model = _flight_test(name, values, extra, where, file, built, problems)
    except ScenarioError as error:
        problems.extend(str(p) for p in error.problems)
    if len(problems) != mark or model is None:
        return None
    return Entry(kind, name, data["label"], values, data["source"], data["confidence"], data["note"], model,
                 assumption, dict(key_confidence), extra, dict(key_source))


def _radar(name: str, values: Mapping[str, Any], extra: Mapping[str, Any], where: str, file: str,
           places: Mapping[str, Entry], place_names: set[str], problems: list[str]) -> Any:
    site = values.get("site")
    if not isinstance(site, str) or site not in place_names:
        problems.append(f"{where} key 'site': got {site!r}; expected the name of a catalog place")
        return None
    if site not in places:  # a broken place: its own problems are reported
        return None
    sensor = {"name": name, "at": site, **{k: v for k, v in values.items() if k != "site"}}
    site_points: dict[str, Point] = {site: places[site].model}
    radar = parse_radar(sensor, file=file, table=f"radars.{name}", places=site_points)
    coverage = extra.get("az_coverage")
    if coverage is None:
        return radar
    if (not isinstance(coverage, list) or len(coverage) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in coverage)):
        problems.append(f"{where} key 'az_coverage': got {coverage!r}; expected [from, to] in degrees")
        return None
    center, half = sector_from_coverage(float(coverage[0]), float(coverage[1]))
    sector = radar.sector
    if sector is None or not (math.isclose(sector.half_width_deg, half, abs_tol=1e-9)
                              and (half >= 180.0 or math.isclose(sector.center_deg, center, abs_tol=1e-9))):
        problems.append(
            f"{where} key 'azimuth': does not match az_coverage {coverage}: expected "
            f'{{ center = "{center:g} deg", half_width = "{half:g} deg" }}')
        return None
    return radar


class _Built:
    """The entries read so far, as the scenario reader looks names up (parse.CatalogLookup)."""

    def __init__(self, built: Mapping[str, Mapping[str, Entry]]):
        self.built = built

    def find(self, kind: str, name: str) -> Entry | None:
        return self.built.get(kind, {}).get(name)

    def names(self, kind: str) -> tuple[str, ...]:
        return tuple(self.built.get(kind, {}))


def _flight_test(name: str, values: Mapping[str, Any], extra: Mapping[str, Any], where: str, file: str,
                 built: Mapping[str, Mapping[str, Entry]], problems: list[str]) -> Any:
    """A flight test: its assessment keys read as an [[assessments]] table (its missile a catalog missile, its
    points catalog places), its date and published ranges checked."""
    from shieldlab.units import parse_quantity

    date = extra.get("date")
    if not isinstance(date, str) or not _DATE.fullmatch(date):
        problems.append(f"{where} key 'date': got {date!r}; expected the UTC date of the launch, \"YYYY-MM-DD\"")
    for key in ("published_max_range", "published_max_range_min"):
        if key in extra:
            try:
                parse_quantity(extra[key], "length")
            except (ValueError, TypeError) as error:
                problems.append(f"{where} key '{key}': got {extra[key]!r}; expected a length such as \"10000 km\" "
                                f"({error})")
    return parse_assessment(values, file=file, table=f"flight-tests.{name}", name=name, catalog=_Built(built))


@lru_cache(maxsize=1)
def _catalog() -> _Catalog:
    catalog, problems = _build(_bundled_texts())
    if problems:
        raise CatalogError(problems)
    return catalog


def validate(texts: Mapping[str, str] | None = None) -> list[str]:
    """Every problem of the catalog (the bundled one, or the given {kind: TOML text}); [] when it is sound."""
    return _build(_bundled_texts() if texts is None else texts)[1]


# ---- looking up ------------------------------------------------------------------------------------------------


def catalog_version() -> str:
    """The catalog's version, e.g. "2026.12.1" (the same in every file)."""
    return _catalog().version


def kind_name(kind: str) -> str:
    """The kind in its canonical (plural) spelling; singular accepted. UnknownEntry when there is no such kind."""
    canonical = _KIND_ALIASES.get(kind, kind)
    if canonical not in KINDS:
        close = difflib.get_close_matches(kind, [*KINDS, *_KIND_ALIASES], n=1)
        hint = f" (did you mean '{_KIND_ALIASES.get(close[0], close[0])}'?)" if close else ""
        raise UnknownEntry(f"unknown catalog kind {kind!r}{hint}; the kinds are: {', '.join(KINDS)}")
    return canonical


def description(kind: str) -> str:
    """The [meta] description of a kind's file."""
    return _catalog().descriptions[kind_name(kind)]


def entries(kind: str) -> tuple[Entry, ...]:
    """Every entry of a kind, in file order."""
    return tuple(_catalog().entries[kind_name(kind)].values())


def names(kind: str) -> tuple[str, ...]:
    """The entry names of a kind, in file order."""
    return tuple(_catalog().entries[kind_name(kind)])


def find(kind: str, name: str) -> Entry | None:
    """The entry, or None when the catalog has no such name."""
    return _catalog().entries[kind_name(kind)].get(name)


def suggestion(kind: str, name: str) -> str | None:
    """The catalog name of that kind closest to `name`, if one is close."""
    close = difflib.get_close_matches(str(name), names(kind), n=1)
    return close[0] if close else None


def get(kind: str, name: str) -> Entry:
    """The entry; UnknownEntry (a KeyError) naming the close and the known names when there is none."""
    kind = kind_name(kind)
    entry = find(kind, name)
    if entry is None:
        close = suggestion(kind, name)
        hint = f" (did you mean '{close}'?)" if close else ""
        raise UnknownEntry(f"no {kind} entry {name!r} in the catalog{hint}; known: {', '.join(names(kind))}")
    return entry


def citations(refs: Iterable[tuple[str, str]]) -> list[str]:
    """One line per (kind, name) used (e.g. Scenario.catalog_refs): "kind/name [TAG]: source", the sources of
    single keys appended ("; rcs: ...")."""
    lines = []
    for kind, name in refs:
        entry = get(kind, name)
        lines.append(f"{entry.kind}/{entry.name} [{entry.confidence}]: {entry.citation}")
    return lines


# ---- presenting --------------------------------------------------------------------------------------------------

# the keys shown in a one-line-per-entry table of each kind (`shieldlab catalog KIND`)
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "places": ("lat", "lon", "alt"),
    "missiles": ("burn_time", "burnout_altitude", "burnout_range", "burnout_speed", "rcs"),
    "interceptors": ("burnout_speed", "burn_time", "min_altitude", "max_altitude"),
    "radars": ("site", "max_range", "min_elevation", "azimuth"),
    "flight-tests": ("date", "missile", "from", "azimuth", "published_max_range"),
}

# how an entry of each kind is used in a scenario file
USAGE: dict[str, str] = {
    "places": 'from = "{name}"   # or to / at / a [coverage] list item',
    "missiles": 'missile = "{name}"   # in [[threats]] or [coverage]',
    "interceptors": 'interceptor = "{name}"   # in [[batteries]]',
    "radars": 'radar = "{name}"   # in [[sensors]]; any radar key may be overridden',
    "flight-tests": 'test = "{name}"   # in [[assessments]]; any of its keys may be overridden',
}


def value_text(entry: Entry, key: str) -> str:
    """One value of an entry as shown to a reader: "5.5 km/s", "107 ± 120 deg", "all round", "-"."""
    value = entry.values.get(key, entry.extra.get(key))
    if key == "azimuth" and entry.kind == "radars":
        sector = entry.model.sector
        if sector is None or sector.half_width_deg >= 180.0:
            return "all round"
        return f"{sector.center_deg:g} ± {sector.half_width_deg:g} deg"
    if value is None:
        return "0 m" if key == "alt" else "-"
    if isinstance(value, Mapping):  # an inline table (a flight test's observations), as a scenario writes it
        return "{ " + ", ".join(f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"'
                                for k, v in value.items()) + " }"
    return str(value)
