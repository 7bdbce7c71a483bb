"""Scenario texts shared by the test modules: one place for the coordinates, missile, interceptor, radar and
battery entries of the validation geometry, and small builders that write a scenario file's tables.

Most modules test one thing on the `engagement-europe` validation vector's geometry (tests/vectors/): an
IRBM from Semnan to Berlin, the radar at Kürecik, batteries at Deveselu and Redzikowo. Each composes its
scenario from the blocks below and changes what it tests, e.g.

    text = header("my-check") + places(*EUROPE_PLACES) + IRBM + FAST + KURECIK_RADAR + EUROPE_BATTERIES + SEMNAN_BERLIN

The texts are TOML exactly as a user writes it (docs/scenario.md), read by the real loader. A test that
edits a text uses `replace_once`, which fails the set-up if the edited text is not there exactly once.
Imported by the test modules (tests/ is on sys.path: pytest puts the folder of tests/conftest.py there); the
fixtures (the `shieldlab` command in a subprocess, scenario files) are in conftest.py.
"""

from __future__ import annotations

# ---- places (coordinates of tests/vectors/*/scenario.toml and of the bundled catalog) ---------------------------
PLACE_COORDS = {
    "semnan": (35.234, 53.921),
    "tabriz": (38.08, 46.29),
    "kozelsk": (54.035, 36.013),
    "berlin": (52.52, 13.405),
    "rome": (41.9, 12.5),
    "london": (51.5074, -0.1278),
    "lisbon": (38.72, -9.14),
    "athens": (37.98, 23.73),
    "izmir": (38.42, 27.14),
    "washington": (38.9072, -77.0369),
    "deveselu": (44.05, 24.41),
    "redzikowo": (54.4728, 17.1231),
    "kurecik": (38.34944, 37.79361, "2085 m"),  # the radar on Çat Tepe, 2085 m up
    "fylingdales": (54.361758, -0.670051),
    "thule": (76.570322, -68.299211),
}
EUROPE_PLACES = ("semnan", "berlin", "deveselu", "redzikowo", "kurecik")


def _value(v) -> str:
    """A Python value as a TOML value: str -> "string", dict -> inline table, list -> array."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return repr(v)


def _keys(keys: dict) -> str:
    # `from` is a Python keyword: written from_ in calls
    return "".join(f"{k.rstrip('_')} = {_value(v)}\n" for k, v in keys.items() if v is not None)


def table(header: str, /, **keys) -> str:
    """`[header]` and its keys (None values left out)."""
    return f"\n[{header}]\n" + _keys(keys)


def entry(header: str, /, **keys) -> str:
    """One `[[header]]` entry and its keys (None values left out)."""
    return f"\n[[{header}]]\n" + _keys(keys)


def at(lat: float, lon: float, alt: str | None = None) -> dict:
    """An inline position, `{ lat = .., lon = .. }` (with `alt` when given)."""
    return {"lat": lat, "lon": lon} if alt is None else {"lat": lat, "lon": lon, "alt": alt}


def place(name: str) -> dict:
    """The inline position of a place of PLACE_COORDS."""
    return at(*PLACE_COORDS[name])


def header(name: str) -> str:
    return f'name = "{name}"\n'


def places(*names: str, **more: dict) -> str:
    """The [places] table: names from PLACE_COORDS, then `more` (name=at(lat, lon))."""
    rows = {n: place(n) for n in names} | more
    return "\n[places]\n" + "".join(f"{n} = {_value(p)}\n" for n, p in rows.items())


def missile(name: str = "irbm", burn_time="120 s", burnout_altitude="120 km", burnout_range="150 km",
            burnout_speed: str | None = "5.0 km/s", **more) -> str:
    """A [missiles.NAME] table; the defaults are the engagement-europe IRBM."""
    return table(f"missiles.{name}", **more, burn_time=burn_time, burnout_altitude=burnout_altitude,
                 burnout_range=burnout_range, burnout_speed=burnout_speed)


def interceptor(name: str, burn_time: str, burnout_speed: str, min_altitude: str, max_altitude: str | None = None,
                **more) -> str:
    return table(f"interceptors.{name}", burn_time=burn_time, burnout_speed=burnout_speed,
                 min_altitude=min_altitude, max_altitude=max_altitude, **more)


def radar(name: str, at, max_range: str, min_elevation: str | None = None, **more) -> str:
    """A [[sensors]] entry; `at` a place name or at(lat, lon)."""
    return entry("sensors", name=name, at=at, max_range=max_range, min_elevation=min_elevation, **more)


def battery(name: str, at, interceptor: str, launch_delay="60 s", cue: str | None = None) -> str:
    """A [[batteries]] entry; `at` a place name or at(lat, lon); a number of seconds for `launch_delay`."""
    delay = launch_delay if isinstance(launch_delay, str) else f"{launch_delay} s"
    return entry("batteries", name=name, at=at, interceptor=interceptor, launch_delay=delay, cue=cue)


def threat(name: str, missile: str, from_, to=None, **more) -> str:
    """A [[threats]] entry from `from_` (a place name or at(...)) to `to`, then `more` (trajectory, ...)."""
    return entry("threats", name=name, missile=missile, from_=from_, to=to, **more)


def replace_once(text: str, old: str, new: str) -> str:
    """`text` with `old` replaced by `new`; a test set-up error unless `old` occurs exactly once."""
    assert text.count(old) == 1, f"test set-up: {old!r} must occur once in the scenario text"
    return text.replace(old, new)


# ---- the engagement-europe blocks (tests/vectors/engagement-europe/scenario.toml) ------------------------------
IRBM = missile("irbm")  # 120 s burn to 120 km at 150 km downrange, 5.0 km/s (enough for a lofted flight)
FAST = interceptor("fast", "60 s", "4.5 km/s", "100 km", "1200 km")
KURECIK_RADAR = radar("kurecik", "kurecik", "1800 km", "1 deg")
EUROPE_BATTERIES = battery("romania", "deveselu", "fast") + battery("poland", "redzikowo", "fast")
SEMNAN_BERLIN = threat("semnan-berlin", "irbm", "semnan", "berlin")

# The engagement-europe vector without its slow battery: apogee 849.6 km, impact 1126.9 s, Kürecik detects at
# 132.9 s, both batteries engage (first intercepts 602.6 s and 717.2 s; tests/vectors/engagement-europe).
EUROPE = (header("europe") + places(*EUROPE_PLACES) + IRBM + FAST + KURECIK_RADAR + EUROPE_BATTERIES
          + SEMNAN_BERLIN)
