"""A property-based fuzzer over the scenario format (issue 11): no input makes shieldlab fail other than cleanly.

Inputs, built with hypothesis:

* valid scenarios generated from the input schema (shieldlab.scenario.schema): every table, every key kind, values
  anywhere in their allowed ranges and in any of their units (cross-sections in m2 and dBsm, radars with a
  maximum range, a reference range or both, track formation, launch floors, energy management), catalog names, aimed and unaimed threats, coverage
  grids and lists;
* the bundled scenarios (examples, case studies cut to one threat, validation vectors) as seeds;
* single mutations of either: a value of the wrong type (numbers, strings, booleans, dates, lists, tables), a
  wrong or unknown unit, a huge, tiny, negative, zero, NaN or infinite magnitude, deep nesting, an odd name (rich
  markup, control characters, 10,000 characters, empty, blank, other scripts), an unknown key, a missing key, a
  repeated entry;
* single mutations of the file's bytes: a UTF-8 byte-order mark, UTF-16 and UTF-32, Latin-1, NUL bytes, CRLF line
  ends, a file cut short, stray bytes.

Properties:

* `load_scenario` returns a Scenario or raises ScenarioError, nothing else, within LOAD_BOUND_S; every problem
  names the file, and no message holds a control character (it goes to a terminal);
* a generated valid scenario loads;
* a loaded scenario runs through `engage` and its JSON document to the end without an exception (threats that
  cannot be computed are data in the document), within ENGAGE_BOUND_S, and the document is strict JSON (no NaN);
* through the real command line (`python -m shieldlab engage FILE --json`, a subprocess): exit status 0 or 2, no
  traceback on stderr, on 0 stdout is one strict JSON document, on 2 stdout is empty (nothing half-written) and
  stderr names the file, within CLI_BOUND_S;
* `coverage FILE --out A --out B` on a small coverage scenario, unmodified or with one mutation, with an existing
  file among the targets, an unwritable target or an unknown format: exit 0 with every file written, or exit 2
  with no file written, replaced or left half-written (no temporaries).

Cases tried per run (fixed: `derandomize=True`, no example database, so every run and CI tries the same ones):
60 generated valid scenarios, the 15 seeds unmodified, 320 single mutations of values and keys (40 of each of the
8 kinds), 120 single mutations of bytes (10 of each of the 12 kinds), 12 command-line runs of engage and 8 of
coverage with several --out files: 535 cases, plus the 2
runs of the engage and coverage tables with names that look like rich markup (found by the fuzzer). The run takes
about a minute on two idle cores, two when they are shared with other work (the command-line runs, 2-5 s each, are
half of it; the 507 in-process cases about 20-35 s). Set SHIELDLAB_FUZZ_SCALE=10 (an integer) to try ten times as
many of each.

The engine's results are touched in one place only, :func:`engage_document_text` (the result API is being
redesigned). Crashes found outside the loader are regression cases at the end (xfail(strict=True) while unfixed).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis.control import currently_in_test_context
from hypothesis import strategies as st

from shieldlab import catalog
from shieldlab.errors import ScenarioError
from shieldlab.scenario import schema
from shieldlab.scenario.load import load_scenario
from shieldlab.scenario.model import Scenario
from shieldlab.scenario.parse import wrap_lon
from shieldlab.units import parse_quantity, unit_factor, units_of

ROOT = Path(__file__).resolve().parents[1]

LOAD_BOUND_S = 5.0      # loading a file of a few kB takes milliseconds; this is headroom for a loaded CI machine
ENGAGE_BOUND_S = 60.0   # engage of a generated scenario (at most a few threats and batteries) takes under 1 s
CLI_BOUND_S = 120.0     # one `shieldlab engage` process, interpreter start and imports included (~2 s here)

SCALE = max(1, int(os.environ.get("SHIELDLAB_FUZZ_SCALE", "1")))
N_VALID, N_MUTATED, N_BYTES, N_CLI = 60 * SCALE, 320 * SCALE, 120 * SCALE, 12 * SCALE


def fuzz_settings(n: int) -> settings:
    return settings(max_examples=n, deadline=None, derandomize=True, database=None, print_blob=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


# ---- the engine, touched here only -------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def warm_engine() -> None:
    """One engage before any is timed: a fresh environment compiles the numba kernels first (1-2 minutes)."""
    engage_document_text(load_scenario(ROOT / "examples" / "kozelsk-washington.toml"))


def engage_document_text(scenario: Scenario) -> str:
    """`engage` and its JSON document, as strict JSON text (NaN or infinity raise ValueError): the one place the
    fuzzer touches the engine's results."""
    from shieldlab.api import engage

    return json.dumps(engage(scenario).to_document(), allow_nan=False)


# ---- writing TOML ------------------------------------------------------------------------------------------------


class Raw(str):
    """Text written into the TOML as it is (deeply nested values, which a recursive writer could not write)."""


BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_string(text: str) -> str:
    """A TOML basic string: quote, backslash and the control characters TOML forbids raw are escaped."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif (ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_key(key: str) -> str:
    return key if BARE_KEY.fullmatch(key) else toml_string(key)


def toml_value(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        items = ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(data: dict[str, Any]) -> str:
    """A scenario dict as TOML: every top-level key one line (tables inline, arrays of tables as arrays)."""
    return "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in data.items())


# ---- valid scenarios, from the schema ----------------------------------------------------------------------------

CATALOG_PLACES = catalog.names("places")
CATALOG_INTERCEPTORS = catalog.names("interceptors")
CATALOG_RADARS = catalog.names("radars")
# the burnout types (the generated trajectories are the burnout model's; staged types are seeded by the examples)
CATALOG_MISSILES = [n for n in catalog.names("missiles") if catalog.find("missiles", n).model.model == "burnout"]
CATALOG_MISSILE_SPEED = {n: catalog.find("missiles", n).model.burnout_speed_m_s is not None for n in CATALOG_MISSILES}

# names a scenario may use: printable, no blanks (a blank-only name is refused as empty), some beyond ASCII
names = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x2FF, exclude_categories=("Cc", "Cs", "Z")),
                min_size=1, max_size=12)


def point_key(point: dict[str, Any]) -> tuple[float, float]:
    """What the loader tells coverage points apart by: latitude and longitude as loaded (degrees, lon wrapped)."""
    return parse_quantity(point["lat"], "angle"), wrap_lon(parse_quantity(point["lon"], "angle"))


@st.composite
def quantity(draw, key: schema.Key) -> Any:
    """A value of the quantity `key` inside its range, in one of its dimension's units (or a bare number)."""
    dim = key.dimension or "length"
    r = key.range
    lo = r.lo if math.isfinite(r.lo) else -1e7
    hi = r.hi if math.isfinite(r.hi) else 1e7
    ends = [x for x, is_open in ((r.lo, r.lo_open), (r.hi, r.hi_open)) if math.isfinite(x) and not is_open]
    inner_lo, inner_hi = lo + (hi - lo) * 1e-6, hi - (hi - lo) * 1e-6
    si = draw(st.one_of(st.floats(inner_lo, inner_hi), *(st.just(e) for e in ends)))
    if si in ends or draw(st.booleans()):  # bounds exactly, as bare numbers in the default unit (no rounding)
        return draw(st.sampled_from([si, int(si)])) if si == int(si) and abs(si) < 2**53 else si
    unit = draw(st.sampled_from(units_of(dim)))
    if unit == "dBsm":  # logarithmic: 10^(x/10) m2
        return f"{10.0 * math.log10(si)!r} dBsm"
    return f"{si / unit_factor(dim, unit)!r} {unit}"


@st.composite
def inline_point(draw) -> dict[str, Any]:
    point = {"lat": draw(quantity(schema.POINT["lat"])), "lon": draw(quantity(schema.POINT["lon"]))}
    if draw(st.booleans()):
        point["alt"] = draw(quantity(schema.POINT["alt"]))
    return point


def point(place_names: list[str]):
    return st.one_of(inline_point(), st.sampled_from(place_names + list(CATALOG_PLACES[:12])))


@st.composite
def missile(draw, with_speed: bool) -> dict[str, Any]:
    table = {k: draw(quantity(schema.MISSILE[k])) for k in ("burn_time", "burnout_altitude", "burnout_range")}
    if with_speed:
        table["burnout_speed"] = draw(quantity(schema.MISSILE["burnout_speed"]))
    if draw(st.booleans()):
        table["model"] = "burnout"
    for key in ("rcs", "rcs_boost"):
        if draw(st.booleans()):
            table[key] = draw(quantity(schema.MISSILE[key]))
    return table


@st.composite
def interceptor(draw) -> dict[str, Any]:
    table = {k: draw(quantity(schema.INTERCEPTOR[k])) for k in ("burn_time", "burnout_speed")}
    if draw(st.booleans()):
        low_m = draw(st.floats(0.0, 1e6))
        table["min_altitude"] = low_m
        if draw(st.booleans()):
            table["max_altitude"] = f"{(low_m + draw(st.floats(1.0, 3e7))) / 1000.0!r} km"
    if draw(st.booleans()):
        table["max_flight_time"] = draw(quantity(schema.INTERCEPTOR["max_flight_time"]))
    if draw(st.booleans()):
        table["min_launch_elevation"] = draw(quantity(schema.INTERCEPTOR["min_launch_elevation"]))
    if draw(st.booleans()):
        table["energy_management"] = draw(st.booleans())
    return table


@st.composite
def sensor(draw, name: str, place_names: list[str]) -> dict[str, Any]:
    if draw(st.integers(0, 3)) == 0:
        table: dict[str, Any] = {"radar": draw(st.sampled_from(CATALOG_RADARS)), "name": name}
        if draw(st.booleans()):
            table["max_range"] = draw(quantity(schema.SENSOR["max_range"]))
        return table
    table = {"name": name, "at": draw(point(place_names))}
    ranges = draw(st.sampled_from([("max_range",), ("reference_range",), ("max_range", "reference_range")]))
    for key in ranges:
        table[key] = draw(quantity(schema.SENSOR[key]))
    if "reference_range" in ranges and draw(st.booleans()):
        table["reference_rcs"] = draw(quantity(schema.SENSOR["reference_rcs"]))
    if draw(st.booleans()):
        table["track_formation"] = draw(quantity(schema.SENSOR["track_formation"]))
    if draw(st.booleans()):
        table["min_elevation"] = draw(quantity(schema.SENSOR["min_elevation"]))
    if draw(st.booleans()):
        table["azimuth"] = {k: draw(quantity(schema.SECTOR[k])) for k in ("center", "half_width")}
    if draw(st.booleans()):
        table["kind"] = "radar"
    return table


@st.composite
def trajectory(draw, speed: bool) -> Any:
    modes = list(schema.TRAJECTORY_MODES if speed else ("min-energy",))
    return draw(st.one_of(st.sampled_from(modes), st.builds(dict, gamma=quantity(schema.TRAJECTORY["gamma"]))))


@st.composite
def threat(draw, name: str, missiles: dict[str, bool], place_names: list[str]) -> dict[str, Any]:
    missile_name = draw(st.sampled_from(sorted(missiles)))
    table = {"name": name, "missile": missile_name, "from": draw(point(place_names))}
    if draw(st.integers(0, 3)) or not missiles[missile_name]:  # aimed (unaimed ones need a burnout speed)
        table["to"] = draw(point(place_names))
        if draw(st.booleans()):
            table["trajectory"] = draw(trajectory(missiles[missile_name]))
    else:
        table["azimuth"] = draw(quantity(schema.THREAT["azimuth"]))
        table["gamma"] = draw(quantity(schema.THREAT["gamma"]))
    if draw(st.booleans()):
        table["launch_time"] = draw(quantity(schema.THREAT["launch_time"]))
    return table


@st.composite
def coverage(draw, missiles: dict[str, bool]) -> dict[str, Any]:
    missile_name = draw(st.sampled_from(sorted(missiles)))
    table: dict[str, Any] = {"missile": missile_name}
    if draw(st.booleans()):
        table["trajectory"] = draw(trajectory(missiles[missile_name]))
    distinct = st.lists(inline_point(), min_size=1, max_size=3, unique_by=point_key)
    launches = draw(distinct)
    table["from"] = launches[0] if len(launches) == 1 and draw(st.booleans()) else launches
    if draw(st.booleans()):
        lat0, lon0 = draw(st.floats(-90, 80)), draw(st.floats(-180, 170))
        table["to"] = {"lat": [lat0, lat0 + draw(st.floats(0, 10))], "lon": [lon0, lon0 + draw(st.floats(0, 190))],
                       "step": draw(st.sampled_from([1, 2.5, "3 deg", "0.1 rad", 45]))}
    else:
        table["to"] = draw(distinct)
    return table


@st.composite
def valid_scenario(draw) -> dict[str, Any]:
    """A scenario the loader must accept: every rule between keys (schema.py, parse.py) respected."""
    data: dict[str, Any] = {}
    if draw(st.booleans()):
        data["name"] = draw(names)
    if draw(st.booleans()):
        data["earth"] = draw(st.fixed_dictionaries(
            {}, optional={"model": st.sampled_from(["wgs84", "sphere"]), "rotation": st.booleans(),
                          "j2": st.booleans()}))
    place_names = draw(st.lists(names, max_size=3, unique=True))
    if place_names:
        data["places"] = {n: draw(inline_point()) for n in place_names}
    own = draw(st.dictionaries(names, st.booleans(), max_size=2))  # own missile types: name -> has burnout_speed
    if own:
        data["missiles"] = {n: draw(missile(speed)) for n, speed in own.items()}
    missiles = {**{n: CATALOG_MISSILE_SPEED[n] for n in draw(st.lists(st.sampled_from(CATALOG_MISSILES),
                                                                      max_size=2, min_size=0 if own else 1))},
                **own}
    own_interceptors = draw(st.lists(names, max_size=2, unique=True))
    if own_interceptors:
        data["interceptors"] = {n: draw(interceptor()) for n in own_interceptors}
    interceptors = own_interceptors + draw(st.lists(st.sampled_from(CATALOG_INTERCEPTORS), max_size=1))
    sensor_names = draw(st.lists(names, max_size=2, unique=True))
    if sensor_names:
        data["sensors"] = [draw(sensor(n, place_names)) for n in sensor_names]
    if interceptors:
        battery_names = draw(st.lists(names, max_size=2, unique=True))
        if battery_names:
            data["batteries"] = [
                draw(st.fixed_dictionaries(
                    {"name": st.just(n), "at": point(place_names), "interceptor": st.sampled_from(interceptors)},
                    optional={"launch_delay": quantity(schema.BATTERY["launch_delay"]),
                              "cue": st.sampled_from(["track", "launch"])}))
                for n in battery_names
            ]
    has_coverage = draw(st.booleans())
    threat_names = draw(st.lists(names, min_size=0 if has_coverage else 1, max_size=3, unique=True))
    if threat_names:
        data["threats"] = [draw(threat(n, missiles, place_names)) for n in threat_names]
    if has_coverage:
        data["coverage"] = draw(coverage(missiles))
    return data


# ---- the bundled scenarios as seeds ------------------------------------------------------------------------------


def _seed(path: Path) -> dict[str, Any]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if "threats" in data:  # a case study's dozen threats take seconds to engage; one shows the same structure
        data["threats"] = data["threats"][:1]
        # and [uncertainty] varies nothing the cut took away (a varied missile type no threat flies is refused)
        kept = {t.get("name") for t in data["threats"]}
        used = {t.get("missile") for t in data["threats"]} | {data.get("coverage", {}).get("missile")}
        if "uncertainty" in data:
            def wanted(entry):
                table, name = (entry.get("key", "").split(".") + ["", ""])[:2]
                return not ((table == "threats" and name not in kept) or (table == "missiles" and name not in used))
            data["uncertainty"]["vary"] = [v for v in data["uncertainty"].get("vary", []) if wanted(v)]
    return data


SEED_FILES = sorted(ROOT.glob("examples/**/*.toml")) + sorted(ROOT.glob("tests/vectors/*/scenario.toml"))
SEEDS = {str(p.relative_to(ROOT)): _seed(p) for p in SEED_FILES}


# ---- mutations ---------------------------------------------------------------------------------------------------

Path_ = tuple[Any, ...]


def paths(node: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every place in a parsed TOML value: tables, arrays and leaves, the root excluded."""
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        out.append((*prefix, key))
        out.extend(paths(value, (*prefix, key)))
    return out


def parent_of(data: Any, path: Path_) -> Any:
    node = data
    for key in path[:-1]:
        node = node[key]
    return node


def deep(depth: int, table: bool) -> Raw:
    return Raw(("{ a = " * depth + "1" + " }" * depth) if table else ("[" * depth + "1" + "]" * depth))


odd_names = st.one_of(
    st.sampled_from(["[red]x[/red]", "[/]", "[bold", "\x1b[2J", "a\x00b", "line\nbreak", "\t", "", " ",
                     "\u202eevil", "x\u2028y", "\x85", "\x7f", "日本語", "🚀", "a" * 10_000, "[[threats]]", "'", '"',
                     "\\", "名前 [/]"]),
    st.text(max_size=30),
)
odd_values = st.one_of(
    st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.sampled_from(["lat", "lon", "x"]), st.integers(),
                                                         max_size=2),
    st.dates(), st.times(), st.datetimes(), st.datetimes(timezones=st.just(dt.timezone.utc)),
    st.sampled_from([10**400, -(10**30), 2**63, "", "nan", "inf", [], {}]),
)
magnitudes = st.sampled_from([
    1e308, -1e308, 5e-324, -5e-324, 0.0, -0.0, 0, -1, -1e9, 1e9, math.nan, math.inf, -math.inf, 10**400, 10**18,
    "1e400 km", "-1e400 s", "1e-400 m", "nan km", "inf s", "0 s", "-0 km", "1e30 km/s", "-5 deg", "999999999 deg",
])
units = st.sampled_from(["parsecs", "km", "s", "m/s", "deg", "rad", "", "KM", "km/h", "°", "min", "h", "ft", "nmi",
                         "km km", "k m", "m/s/s", "1", "%", "μs"])
NUMBER_UNIT = re.compile(r"\s*([-+]?[\d.eE+-]+)\s*(.*)")


def mutate_value(data: dict[str, Any], path: Path_, kind: str, draw: Callable[[Any], Any]) -> str:
    """Apply one mutation of `kind` at `path` (in place); returns a label for the failure report."""
    parent, key = parent_of(data, path), path[-1]
    old = parent[key]
    if kind == "type":
        parent[key] = draw(odd_values)
    elif kind == "unit":
        unit = draw(units)
        match = NUMBER_UNIT.fullmatch(old) if isinstance(old, str) else None
        number = match.group(1) if match else (repr(old) if isinstance(old, (int, float)) else "1")
        parent[key] = f"{number} {unit}".strip() if draw(st.booleans()) else f"{number}{unit}"
    elif kind == "magnitude":
        parent[key] = draw(magnitudes)
    elif kind == "nest":
        parent[key] = deep(draw(st.sampled_from([2, 5, 50, 400, 3000])), draw(st.booleans()))
    elif kind == "name":
        odd = draw(odd_names)
        if isinstance(parent, dict) and draw(st.booleans()):  # rename the key itself ([missiles.NAME], a place)
            parent[odd] = parent.pop(key)
        else:
            parent[key] = odd
    elif kind == "unknown-key":
        target = old if isinstance(old, dict) else parent if isinstance(parent, dict) else None
        if target is not None:
            target[draw(st.sampled_from(["bogus", "nmae", "burntime", "lat ", "LAT", "threat", "to_", "", " "]))] = 1
    elif kind == "missing-key":
        del parent[key]
    elif kind == "repeat":
        if isinstance(parent, list):
            parent.append(json.loads(json.dumps(old, default=str)) if not isinstance(old, Raw) else old)
        else:
            parent[key] = [old, old]
    return f"{kind} at {'.'.join(map(str, path))}"


MUTATIONS = ["type", "unit", "magnitude", "nest", "name", "unknown-key", "missing-key", "repeat"]


@st.composite
def mutated_scenario(draw, kind: str | None = None) -> tuple[str, str]:
    """(label, TOML text): a seed or a generated scenario with one mutation (of `kind`, or any) of a value or key."""
    if draw(st.booleans()):
        seed_name = draw(st.sampled_from(sorted(SEEDS)))
        data = json.loads(json.dumps(SEEDS[seed_name], default=str))  # a deep copy (seeds hold no dates)
    else:
        seed_name, data = "generated", draw(valid_scenario())
    places = paths(data)
    path = draw(st.sampled_from(places)) if places else ("name",)
    if not places:
        data["name"] = "x"
    kind = kind or draw(st.sampled_from(MUTATIONS))
    label = mutate_value(data, path, kind, draw)
    event(f"mutation: {kind}")
    return f"{seed_name}: {label}", to_toml(data)


def _latin1(text: str) -> bytes:
    return ("# Kürecik, Dzhankoï\n" + text).encode("latin-1", errors="replace")


BYTE_MUTATIONS: dict[str, Callable[[bytes, int, bytes], bytes]] = {
    "utf8-bom": lambda b, i, x: b"\xef\xbb\xbf" + b,
    "double-bom": lambda b, i, x: b"\xef\xbb\xbf\xef\xbb\xbf" + b,
    "utf16": lambda b, i, x: b.decode("utf-8").encode("utf-16"),
    "utf16-no-bom": lambda b, i, x: b.decode("utf-8").encode("utf-16-le"),
    "utf32": lambda b, i, x: b.decode("utf-8").encode("utf-32"),
    "latin1": lambda b, i, x: _latin1(b.decode("utf-8")),
    "nul": lambda b, i, x: b[:i] + b"\x00" + b[i:],
    "crlf": lambda b, i, x: b.replace(b"\n", b"\r\n"),
    "lone-cr": lambda b, i, x: b.replace(b"\n", b"\r"),
    "truncated": lambda b, i, x: b[:i],
    "stray-bytes": lambda b, i, x: b[:i] + x + b[i:],
    "bom-in-the-middle": lambda b, i, x: b[:i] + b"\xef\xbb\xbf" + b[i:],
}


@st.composite
def mutated_bytes(draw, kind: str | None = None) -> tuple[str, bytes]:
    """(label, file bytes): a seed or generated scenario whose bytes are changed once (by `kind`, or any way)."""
    if draw(st.booleans()):
        seed_name = draw(st.sampled_from(sorted(SEEDS)))
        text = to_toml(SEEDS[seed_name])
    else:
        seed_name, text = "generated", to_toml(draw(valid_scenario()))
    data = text.encode("utf-8")
    kind = kind or draw(st.sampled_from(sorted(BYTE_MUTATIONS)))
    event(f"bytes: {kind}")
    at = draw(st.integers(0, len(data)))
    stray = draw(st.binary(min_size=1, max_size=4))
    return f"{seed_name}: {kind} at byte {at}", BYTE_MUTATIONS[kind](data, at, stray)


# ---- the properties ----------------------------------------------------------------------------------------------

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def check_load(path: Path, label: str) -> Scenario | None:
    """Load `path`: a Scenario, or None after a clean ScenarioError; anything else fails the test."""
    started = time.perf_counter()
    try:
        scenario = load_scenario(path)
    except ScenarioError as error:
        scenario = None
        assert error.problems, label
        for problem in error.problems:
            message = str(problem)
            assert problem.file == str(path) and message.startswith(f"{path}: "), (label, message)
            assert problem.expected, (label, message)
            assert not CONTROL.search(message), (label, message)
    elapsed = time.perf_counter() - started
    assert elapsed < LOAD_BOUND_S, f"{label}: loading took {elapsed:.1f} s"
    if currently_in_test_context():  # hypothesis's statistics count them
        event("loaded" if scenario is not None else "refused")
    return scenario


def check_engage(scenario: Scenario, label: str) -> None:
    started = time.perf_counter()
    text = engage_document_text(scenario)
    elapsed = time.perf_counter() - started
    assert elapsed < ENGAGE_BOUND_S, f"{label}: engage took {elapsed:.1f} s"
    assert json.loads(text)


def write_bytes(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "fuzz.toml"
    path.write_bytes(data)
    return path


@fuzz_settings(N_VALID)
@given(data=valid_scenario())
def test_generated_valid_scenarios_load_and_engage(tmp_path: Path, data: dict[str, Any]) -> None:
    text = to_toml(data)
    path = write_bytes(tmp_path, text.encode("utf-8"))
    try:
        scenario = load_scenario(path)
    except ScenarioError as error:
        pytest.fail(f"a valid scenario was refused:\n{error}\n--- the file:\n{text}")
    check_engage(scenario, text)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_scenarios_load_and_engage(tmp_path: Path, name: str) -> None:
    path = write_bytes(tmp_path, to_toml(SEEDS[name]).encode("utf-8"))
    scenario = check_load(path, name)
    assert scenario is not None, name
    check_engage(scenario, name)


@pytest.mark.parametrize("kind", MUTATIONS)
def test_single_mutations_are_loaded_or_refused_cleanly(tmp_path: Path, kind: str) -> None:
    """N_MUTATED cases, shared equally by the kinds of mutation."""

    @fuzz_settings(N_MUTATED // len(MUTATIONS))
    @given(case=mutated_scenario(kind))
    def run(case: tuple[str, str]) -> None:
        check_mutated(tmp_path, *case)

    run()


def check_mutated(tmp_path: Path, label: str, text: str) -> None:
    scenario = check_load(write_bytes(tmp_path, text.encode("utf-8")), label)
    if scenario is not None:
        check_engage(scenario, label)


@pytest.mark.parametrize("kind", sorted(BYTE_MUTATIONS))
def test_byte_mutations_are_loaded_or_refused_cleanly(tmp_path: Path, kind: str) -> None:
    """N_BYTES cases, shared equally by the kinds of mutation."""

    @fuzz_settings(N_BYTES // len(BYTE_MUTATIONS))
    @given(case=mutated_bytes(kind))
    def run(case: tuple[str, bytes]) -> None:
        check_bytes(tmp_path, *case)

    run()


def check_bytes(tmp_path: Path, label: str, data: bytes) -> None:
    scenario = check_load(write_bytes(tmp_path, data), label)
    if scenario is not None:
        check_engage(scenario, label)


@st.composite
def cli_case(draw) -> tuple[str, bytes]:
    which = draw(st.sampled_from(["valid", "mutated", "bytes"]))
    if which == "valid":
        return "generated", to_toml(draw(valid_scenario())).encode("utf-8")
    if which == "mutated":
        label, text = draw(mutated_scenario())
        return label, text.encode("utf-8")
    return draw(mutated_bytes())


def run_cli(*args: object) -> subprocess.CompletedProcess[str]:
    """`python -m shieldlab ARGS` on this checkout's sources, as a user runs it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                                      os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "shieldlab", *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", errors="replace", timeout=CLI_BOUND_S, env=env)


def strict_json(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


@fuzz_settings(N_CLI)
@given(case=cli_case())
def test_command_line_exits_0_or_2_without_traceback(tmp_path: Path, case: tuple[str, bytes]) -> None:
    label, data = case
    path = write_bytes(tmp_path, data)
    proc = run_cli("engage", path, "--json")
    assert proc.returncode in (0, 2), f"{label}: exit {proc.returncode}\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr, f"{label}:\n{proc.stderr[-3000:]}"
    if proc.returncode == 0:
        assert isinstance(strict_json(proc.stdout), dict), label
    else:
        assert proc.stdout == "", f"{label}: exit 2 with output:\n{proc.stdout[:500]}"
        assert f"{path}" in proc.stderr.replace("\n", ""), f"{label}:\n{proc.stderr[-3000:]}"


# ---- found by the fuzzer outside the loader (the tables' rich markup: fixed in output/table.py) -----------------

MARKUP_SCENARIO = """
name = "[/] scenario"
[missiles."[/]"]
burn_time = 100
burnout_altitude = 1e5
burnout_range = 1e5
burnout_speed = 3000
[interceptors.i]
burn_time = 10
burnout_speed = 3000
[[sensors]]
name = "[bold]radar"
at = { lat = 0, lon = 0.5 }
max_range = "3000 km"
[[batteries]]
name = "[/b]"
at = { lat = 0, lon = 1 }
interceptor = "i"
[[threats]]
name = "[red]threat[/red]"
missile = "[/]"
from = { lat = 0, lon = 0 }
to = { lat = 0, lon = 5 }
[coverage]
missile = "[/]"
from = { lat = 0, lon = 0 }
to = [{ lat = 0, lon = 5 }]
"""


@pytest.mark.parametrize("command", ["engage", "coverage"])
def test_tables_print_names_with_rich_markup_literally(tmp_path: Path, command: str) -> None:
    """The human tables of `engage` and `coverage` (not --json) with names that look like rich markup."""
    path = write_bytes(tmp_path, MARKUP_SCENARIO.encode("utf-8"))
    assert check_load(path, "markup") is not None
    proc = run_cli(command, path)
    assert "MarkupError" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "[/] scenario" in proc.stdout


# ---- several --out files: all or nothing (issue 11, item 11), over mutated small coverage scenarios ---------------

COVERAGE_SEED = tomllib.loads(MARKUP_SCENARIO.replace("[/]", "m").replace("[bold]", "").replace("[/b]", "b")
                              .replace("[red]threat[/red]", "t").replace("[/] scenario", "small coverage"))
N_OUT = 8 * SCALE
KEPT = "kept from before\n"
# the files each run is asked to write; "/proc/…" cannot be written (refused before computing), ".xyz" is no format
OUT_SETS = [("a.csv", "b.png"), ("a.geojson", "b.nc"), ("a.csv", "/proc/shieldlab-fuzz/b.png"),
            ("a.nc", "b.xyz"), ("a.csv", "a.csv")]


@st.composite
def out_case(draw) -> tuple[str, str, tuple[str, ...]]:
    """(label, TOML text, --out names): the small coverage scenario, unmodified or with one mutation."""
    data = json.loads(json.dumps(COVERAGE_SEED))
    label = "unmodified"
    if draw(st.booleans()):
        path = draw(st.sampled_from(paths(data)))
        label = mutate_value(data, path, draw(st.sampled_from(MUTATIONS)), draw)
    return label, to_toml(data), draw(st.sampled_from(OUT_SETS))


@fuzz_settings(N_OUT)
@given(case=out_case())
def test_coverage_outputs_are_all_or_nothing(tmp_path: Path, case: tuple[str, str, tuple[str, ...]]) -> None:
    """`coverage FILE --out A --out B`: exit 0 with every file written, or exit 2 with no file written or replaced,
    no temporary left behind, and the file that was there before ("a.csv", when asked for) unchanged."""
    label, text, outs = case
    work = tmp_path / f"case{time.monotonic_ns()}"
    work.mkdir()
    scenario = work / "s.toml"
    scenario.write_text(text, encoding="utf-8")
    (work / "a.csv").write_text(KEPT, encoding="utf-8")
    before = {p.name for p in work.iterdir()}
    targets = [Path(o) if o.startswith("/") else work / o for o in outs]
    proc = run_cli("coverage", scenario, *[arg for t in targets for arg in ("--out", t)])
    assert proc.returncode in (0, 2), f"{label} {outs}: exit {proc.returncode}\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr, f"{label} {outs}:\n{proc.stderr[-3000:]}"
    after = {p.name for p in work.iterdir()}
    if proc.returncode == 0:
        assert after == before | {t.name for t in targets}, f"{label} {outs}: {sorted(after)}"
        assert all(t.stat().st_size > 0 for t in targets), f"{label} {outs}"
    else:
        assert after == before, f"{label} {outs}: exit 2 left {sorted(after - before)}"
        assert (work / "a.csv").read_text(encoding="utf-8") == KEPT, f"{label} {outs}: a.csv was replaced"
        assert proc.stderr.strip(), f"{label} {outs}: exit 2 without a message"
    event(f"exit {proc.returncode}")
