"""The typed results of shieldlab: the `Reason` vocabulary and frozen bundles of read-only numpy arrays.

Every per-threat result is a small frozen dataclass of arrays whose leading axis is the threat (engage)
or the (launch, aim) pair (coverage), followed by the battery or the sensor where the field has one:

    Flights       the threat's flight summary (launch, aim, burnout, apogee, impact, range) and `error`
    Detections    `time_s` (n, sensors): each sensor's first detection; `track_s` (n, sensors): each sensor's
                  track time (docs/models.md, Track formation); `track_time_s` (n,): the earliest track
    Engagements   per battery (n, batteries): `earliest_launch_s`, `feasible`, `reason_code`,
                  `latest_launch_s` and `margin_s`, and the `first` and `last` Intercepts (time, place,
                  interceptor launch, flyout time, closing speed and crossing angle)

`EngageResult` (a scenario's [[threats]]) and `CoverageResult` (its [coverage] pairs) hold the same three
parts. Each field declares its trailing axes, so that chunks join along the threat/pair axis (`concat`)
and a leading axis (e.g. samples of an uncertainty run) can come in front of it without reshaping code.
NaN means "does not exist" (no intercept, never detected, a threat that cannot be computed).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from shieldlab.coverage.pairs import PairLayout
    from shieldlab.earth.model import Earth
    from shieldlab.engagement.scan import FreeFlightSamples
    from shieldlab.scenario.model import Scenario
    from shieldlab.threat.trajectory import FlownThreats


# --------------------------------------------------------------------------- reasons
class Reason(str, enum.Enum):
    """Why a battery can or cannot engage a threat (docs/models.md, Engagements; `reason` in docs/scenario.md,
    `shieldlab engage FILE --json`).

    The value is the JSON string; `code` the stable integer of NetCDF files and of `reason_code` arrays
    (``flag_values``), with NO_CODE (-1) for "no reason": a threat that cannot be computed. `label` is a
    short text for tables and maps, `explanation` the sentence printed after "none:"."""

    OK = "ok"
    NOT_DETECTED = "not-detected"
    ALTITUDE = "altitude"
    OUT_OF_REACH = "out-of-reach"
    TIMELINE = "timeline"

    def __str__(self) -> str:
        return self.value

    @property
    def code(self) -> int:
        return _CODE[self]

    @classmethod
    def from_code(cls, code) -> Reason | None:
        """The reason of an integer code; None for NO_CODE (-1)."""
        c = int(code)
        if c == NO_CODE:
            return None
        if not 0 <= c < len(_BY_CODE):
            raise ValueError(f"no reason has the code {code!r}; the codes are {NO_CODE} (none) and 0 to "
                             f"{len(_BY_CODE) - 1} ({', '.join(r.value for r in _BY_CODE)})")
        return _BY_CODE[c]

    @property
    def label(self) -> str:
        return _LABEL[self]

    @property
    def explanation(self) -> str:
        return _EXPLANATION[self]


NO_CODE = -1  # reason code of a threat that cannot be computed (NetCDF flag meaning "error")
_BY_CODE = tuple(Reason)  # the codes are the order of definition: never reorder, only append
_CODE = {r: i for i, r in enumerate(_BY_CODE)}
_LABEL = {Reason.OK: "engageable", Reason.NOT_DETECTED: "not detected", Reason.ALTITUDE: "outside band",
          Reason.OUT_OF_REACH: "out of reach", Reason.TIMELINE: "too late"}
_EXPLANATION = {
    Reason.OK: "can intercept",
    Reason.NOT_DETECTED: "no sensor tracks it (cue = track)",
    Reason.ALTITUDE: "never inside the interceptor's altitude band",
    Reason.OUT_OF_REACH: "no point in the band can be reached",
    Reason.TIMELINE: "reachable, but not in time",
}


# --------------------------------------------------------------------------- array bundles
def _per(*trailing: str):
    """A field whose arrays end in the given axes (after the threat/pair axis)."""
    return field(metadata={"trailing": trailing})


class _Arrays:
    """Base of the frozen array bundles: arrays made read-only, joined along the threat/pair axis."""

    def __post_init__(self):
        self._freeze()

    def _freeze(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                v.flags.writeable = False

    def __setstate__(self, state):  # unpickled arrays come back writeable
        self.__dict__.update(state)
        self._freeze()

    @property
    def n(self) -> int:
        """The number of threats (or pairs)."""
        f = fields(self)[0]
        v = getattr(self, f.name)
        return v.n if isinstance(v, _Arrays) else v.shape[v.ndim - 1 - len(f.metadata.get("trailing", ()))]

    @classmethod
    def concat(cls, parts):
        """Join bundles of consecutive threats/pairs (chunks of a coverage run)."""
        parts = list(parts)
        kw = {}
        for f in fields(cls):
            vals = [getattr(p, f.name) for p in parts]
            if isinstance(vals[0], _Arrays):
                kw[f.name] = type(vals[0]).concat(vals)
            else:
                kw[f.name] = np.concatenate(vals, axis=vals[0].ndim - 1 - len(f.metadata.get("trailing", ())))
        return cls(**kw)


@dataclass(frozen=True, eq=False, repr=False)
class Intercepts(_Arrays):
    """First (or last) intercepts per threat and battery; NaN where the battery cannot engage. With the
    geometry there (docs/models.md, Intercept geometry): `closing_speed_m_s` |v_K - v_T| and
    `crossing_angle_deg`, the angle between v_K and -v_T (0 head-on, 180 a tail chase), v_K and v_T the kill
    vehicle's and the threat's inertial velocities."""

    time_s: np.ndarray = _per("battery")
    lat_deg: np.ndarray = _per("battery")
    lon_deg: np.ndarray = _per("battery")
    altitude_m: np.ndarray = _per("battery")
    interceptor_launch_s: np.ndarray = _per("battery")
    flyout_time_s: np.ndarray = _per("battery")
    closing_speed_m_s: np.ndarray = _per("battery")
    crossing_angle_deg: np.ndarray = _per("battery")

    def __repr__(self) -> str:
        return f"<Intercepts {self.time_s.shape}: {int(np.isfinite(self.time_s).sum())} found>"

    @classmethod
    def empty(cls, n: int, nb: int) -> Intercepts:
        return cls(*(np.full((n, nb), np.nan) for _ in fields(cls)))


@dataclass(frozen=True, eq=False, repr=False)
class Engagements(_Arrays):
    """Per threat and battery: the earliest interceptor launch t0 (NaN: never cued), whether the battery can
    engage, why (`reason_code`: Reason codes, NO_CODE for a threat that cannot be computed), the latest
    launch L that still intercepts and the margin L - t0 (docs/models.md, The latest launch: NaN where the
    threat is never inside the band or never reachable there; the margin also where the battery is never
    cued), and the first and last intercepts."""

    earliest_launch_s: np.ndarray = _per("battery")
    feasible: np.ndarray = _per("battery")
    reason_code: np.ndarray = _per("battery")
    latest_launch_s: np.ndarray = _per("battery")
    margin_s: np.ndarray = _per("battery")
    first: Intercepts
    last: Intercepts

    def reason(self, *index) -> Reason | None:
        """The Reason at one index (threat, battery); None for a threat that cannot be computed."""
        return Reason.from_code(self.reason_code[index])

    def count(self, reason: Reason, axis=None):
        """How many engagements have this reason (over `axis`, numpy style; all when None)."""
        return np.count_nonzero(self.reason_code == reason.code, axis=axis)

    def __repr__(self) -> str:
        counts = [f"{r.value} {int(self.count(r))}" for r in Reason if self.count(r)]
        none = int(np.count_nonzero(self.reason_code == NO_CODE))
        if none:
            counts.append(f"no reason (error) {none}")
        return f"<Engagements {self.feasible.shape}: {', '.join(counts) or 'empty'}>"

    @classmethod
    def of(cls, windows, valid) -> Engagements:
        """From one BatteryWindow per battery (engagement/window.py) of threats with `valid` flights."""
        bad = ~np.asarray(valid, bool)
        n, nb = bad.size, len(windows)
        t0 = np.full((n, nb), np.nan)
        feasible = np.zeros((n, nb), bool)
        code = np.full((n, nb), NO_CODE, np.int8)
        latest = np.full((n, nb), np.nan)
        parts = {p: {f.name: np.full((n, nb), np.nan) for f in fields(Intercepts)} for p in ("first", "last")}
        for j, w in enumerate(windows):
            t0[:, j] = w.earliest_launch_s
            feasible[:, j] = w.feasible
            code[:, j] = np.where(bad, NO_CODE, w.reason_code)
            latest[:, j] = np.where(bad, np.nan, w.latest_launch_s)
            for part in ("first", "last"):
                ic = getattr(w, part)
                for f, a in parts[part].items():
                    a[:, j] = np.where(w.feasible, getattr(ic, f), np.nan)
        return cls(t0, feasible, code, latest, latest - t0, Intercepts(**parts["first"]), Intercepts(**parts["last"]))

    @classmethod
    def empty(cls, n: int, nb: int) -> Engagements:
        return cls(np.full((n, nb), np.nan), np.zeros((n, nb), bool), np.full((n, nb), NO_CODE, np.int8),
                   np.full((n, nb), np.nan), np.full((n, nb), np.nan), Intercepts.empty(n, nb),
                   Intercepts.empty(n, nb))


FLIGHT_FIELDS = (
    "launch_time_s", "launch_lat_deg", "launch_lon_deg", "aim_lat_deg", "aim_lon_deg", "launch_azimuth_deg",
    "burnout_time_s", "burnout_lat_deg", "burnout_lon_deg", "burnout_altitude_m", "burnout_speed_m_s",
    "burnout_gamma_deg", "burnout_azimuth_deg", "apogee_time_s", "apogee_altitude_m", "apogee_lat_deg",
    "apogee_lon_deg", "impact_time_s", "impact_lat_deg", "impact_lon_deg", "ground_range_m", "max_range_m",
    "kick_deg", "cutoff_s",
)


@dataclass(frozen=True, eq=False, repr=False)
class Flights(_Arrays):
    """Per threat: launch, aim (NaN: unaimed), launch azimuth, burnout, apogee, impact and ground range;
    `error` (object array) is None or why the threat cannot be computed (its figures are then NaN,
    launch and aim excepted)."""

    launch_time_s: np.ndarray = _per()
    launch_lat_deg: np.ndarray = _per()
    launch_lon_deg: np.ndarray = _per()
    aim_lat_deg: np.ndarray = _per()
    aim_lon_deg: np.ndarray = _per()
    launch_azimuth_deg: np.ndarray = _per()
    burnout_time_s: np.ndarray = _per()
    burnout_lat_deg: np.ndarray = _per()
    burnout_lon_deg: np.ndarray = _per()
    burnout_altitude_m: np.ndarray = _per()
    burnout_speed_m_s: np.ndarray = _per()
    burnout_gamma_deg: np.ndarray = _per()
    burnout_azimuth_deg: np.ndarray = _per()
    apogee_time_s: np.ndarray = _per()
    apogee_altitude_m: np.ndarray = _per()
    apogee_lat_deg: np.ndarray = _per()
    apogee_lon_deg: np.ndarray = _per()
    impact_time_s: np.ndarray = _per()
    impact_lat_deg: np.ndarray = _per()
    impact_lon_deg: np.ndarray = _per()
    ground_range_m: np.ndarray = _per()
    # staged threats (docs/models.md, The staged model); NaN for burnout threats, and cutoff_s for a full burn
    max_range_m: np.ndarray = _per()  # the greatest range along the launch azimuth (full burn)
    kick_deg: np.ndarray = _per()
    cutoff_s: np.ndarray = _per()  # the last stage's thrust termination, s after launch
    error: np.ndarray = _per()

    @cached_property
    def valid(self) -> np.ndarray:
        """(n,) True where the threat could be computed (no error)."""
        v = np.array([e is None for e in self.error], bool)
        v.flags.writeable = False
        return v

    def __repr__(self) -> str:
        err = self.n - int(self.valid.sum())
        return f"<Flights ({self.n},): {self.n - err} computed, {err} error{'s' * (err != 1)}>"

    @classmethod
    def of(cls, threats) -> Flights:
        """From flown threats (threat/trajectory.py FlownThreats)."""
        th = threats
        bad = ~th.valid
        nan_bad = lambda a: np.where(bad, np.nan, np.asarray(a, float))  # noqa: E731
        kw = {
            "launch_time_s": th.launch_time_s, "launch_lat_deg": th.launch_lat_deg,
            "launch_lon_deg": th.launch_lon_deg, "aim_lat_deg": th.aim_lat_deg, "aim_lon_deg": th.aim_lon_deg,
            "launch_azimuth_deg": nan_bad(th.azimuth0_deg), "burnout_time_s": nan_bad(th.burnout_time_s),
            "burnout_lat_deg": nan_bad(th.burnout_lat_deg), "burnout_lon_deg": nan_bad(th.burnout_lon_deg),
            "burnout_altitude_m": nan_bad(th.burnout_altitude_m),
            "burnout_speed_m_s": nan_bad(th.burnout_speed_m_s),
            "burnout_gamma_deg": nan_bad(np.degrees(th.gamma_rad)),
            "burnout_azimuth_deg": nan_bad(th.burnout_azimuth_deg), "apogee_time_s": th.apogee_time_s,
            "apogee_altitude_m": th.apogee_altitude_m, "apogee_lat_deg": th.apogee_lat_deg,
            "apogee_lon_deg": th.apogee_lon_deg, "impact_time_s": th.impact_time_s,
            "impact_lat_deg": th.impact_lat_deg, "impact_lon_deg": th.impact_lon_deg,
            "ground_range_m": th.ground_range_m, "max_range_m": nan_bad(th.max_range_m),
            "kick_deg": nan_bad(th.kick_deg), "cutoff_s": nan_bad(th.cutoff_s),
        }
        kw = {k: np.asarray(v, float).copy() for k, v in kw.items()}
        return cls(**kw, error=np.array(th.error, dtype=object).reshape(th.n))

    @classmethod
    def empty(cls, n: int) -> Flights:
        return cls(**{k: np.full(n, np.nan) for k in FLIGHT_FIELDS}, error=np.full(n, None, dtype=object))


@dataclass(frozen=True, eq=False, repr=False)
class Detections(_Arrays):
    """Per threat: each sensor's first detection (`time_s`, scenario s; NaN: never seen), each sensor's
    track time (`track_s`, docs/models.md, Track formation: the first time it has seen the threat for its
    whole `track_formation`; the detection time when that is 0; NaN: no track), and the threat's track time,
    the earliest of the sensors' (`track_time_s`, the cue of `cue = "track"` batteries)."""

    time_s: np.ndarray = _per("sensor")
    track_time_s: np.ndarray = _per()
    track_s: np.ndarray = _per("sensor")

    def __repr__(self) -> str:
        seen, held = int(np.isfinite(self.time_s).sum()), int(np.isfinite(self.track_s).sum())
        return f"<Detections {self.time_s.shape}: {seen} seen" + (f", {held} tracked>" if held != seen else ">")

    @classmethod
    def of(cls, valid, detections_s, track_time_s, tracks_s=None) -> Detections:
        """From the detection times (n, sensors), the threats' track times (n,) and the sensors' track times
        (n, sensors; default: the detection times, every track formation time 0); NaN for invalid threats."""
        bad = ~np.asarray(valid, bool)
        tracks_s = detections_s if tracks_s is None else tracks_s
        return cls(np.where(bad[:, None], np.nan, detections_s),
                   np.where(bad, np.nan, np.asarray(track_time_s, float)),
                   np.where(bad[:, None], np.nan, np.asarray(tracks_s, float)))

    @classmethod
    def empty(cls, n: int, ns: int) -> Detections:
        return cls(np.full((n, ns), np.nan), np.full(n, np.nan), np.full((n, ns), np.nan))


# --------------------------------------------------------------------------- top-level results
def _plural(k: int, word: str, plural: str | None = None) -> str:
    return f"{k} {word if k == 1 else plural or word + 's'}"


class _PerThreat:
    """What EngageResult and CoverageResult share: flights, detections, engagements."""

    @property
    def detections_s(self) -> np.ndarray:
        """(n, sensors) first detection per sensor (NaN: never seen)."""
        return self.detections.time_s

    @property
    def track_time_s(self) -> np.ndarray:
        """(n,) earliest track by any sensor, the `track` cue (docs/models.md, Track formation; NaN: no track)."""
        return self.detections.track_time_s

    @property
    def sensor_names(self) -> list[str]:
        return [s.name for s in self.scenario.sensors]

    @property
    def battery_names(self) -> list[str]:
        return [b.name for b in self.scenario.batteries]

    def _counts(self, what: str, detail: str = "") -> str:
        n, ns, nb = self.flights.n, len(self.scenario.sensors), len(self.scenario.batteries)
        err = n - int(self.flights.valid.sum())
        feas = int(np.count_nonzero(self.engagements.feasible))
        text = (f"{_plural(n, what)}{detail} x {_plural(ns, 'sensor')} x {_plural(nb, 'battery', 'batteries')}, "
                f"{feas} of {n * nb} engagements feasible")
        return text + (f", {_plural(err, 'error')}" if err else "")


@dataclass(frozen=True, eq=False, repr=False)
class EngageResult(_PerThreat):
    """`engage`: every [[threats]] entry of a scenario (or the coverage pairs asked for), flown, detected
    and engaged. `threats` holds the flown trajectories (positions at any time); `samples` the
    free-flight samples that every battery's window scanned (used again by `latest_launch`)."""

    scenario: Scenario
    earth: Earth
    names: tuple[str, ...]
    flights: Flights
    detections: Detections
    engagements: Engagements
    threats: FlownThreats | None = None
    samples: FreeFlightSamples | None = None

    def __repr__(self) -> str:
        return f"<EngageResult {self.scenario.name!r}: {self._counts('threat')}>"

    def to_document(self) -> dict:
        """The `engage --json` document (docs/scenario.md, `shieldlab engage FILE --json`) as a dict."""
        from shieldlab.output.jsonout import engage_document

        return engage_document(self)


@dataclass(frozen=True, eq=False, repr=False)
class CoverageResult(_PerThreat):
    """`coverage`: the [coverage] pairs numbered `pairs` (all of them, in order, for a whole run; chunks of
    a run hold some and join with `concat`), each flown, detected and engaged as `engage` would."""

    scenario: Scenario
    pairs: np.ndarray
    flights: Flights
    detections: Detections
    engagements: Engagements

    def __post_init__(self):
        self.pairs.flags.writeable = False

    def __setstate__(self, state):  # unpickled arrays come back writeable
        self.__dict__.update(state)
        self.pairs.flags.writeable = False

    @cached_property
    def layout(self) -> PairLayout:
        """The PairLayout of the scenario's [coverage] (coverage/pairs.py)."""
        from shieldlab.coverage.pairs import layout

        return layout(self.scenario.coverage)

    @property
    def complete(self) -> bool:
        """Whether this result holds every pair of the coverage, in order."""
        return self.pairs.size == self.layout.n_pairs and bool(np.all(self.pairs == np.arange(self.pairs.size)))

    @property
    def names(self) -> list[str]:
        """`launch -> aim` of each pair held (e.g. `kozelsk -> 38.00,-77.00`)."""
        from shieldlab.coverage.pairs import pair_names

        names = pair_names(self.scenario, self.layout)
        return [names[k] for k in self.pairs]

    def __repr__(self) -> str:
        lay = self.layout
        nl, na = len(lay.launch), lay.aim_lat_deg.size
        detail = (f" ({_plural(nl, 'launch point')} x {_plural(na, 'aim point')})" if self.complete
                  else f" (of {lay.n_pairs})")
        return f"<CoverageResult {self.scenario.name!r}: {self._counts('pair', detail)}>"

    @classmethod
    def concat(cls, chunks, scenario=None) -> CoverageResult:
        """Join the results of chunks (in pair order) into one; `scenario` replaces theirs (copies that
        came back from worker processes)."""
        chunks = list(chunks)
        return cls(scenario if scenario is not None else chunks[0].scenario,
                   np.concatenate([c.pairs for c in chunks]), Flights.concat([c.flights for c in chunks]),
                   Detections.concat([c.detections for c in chunks]),
                   Engagements.concat([c.engagements for c in chunks]))

    @classmethod
    def empty(cls, scenario) -> CoverageResult:
        """A result of no pairs."""
        ns, nb = len(scenario.sensors), len(scenario.batteries)
        return cls(scenario, np.zeros(0, np.int64), Flights.empty(0), Detections.empty(0, ns),
                   Engagements.empty(0, nb))

    def to_document(self) -> dict:
        """The `coverage --json` document (docs/scenario.md, `shieldlab coverage FILE --json`) as a dict: the
        `engage` record of every pair."""
        from shieldlab.output.jsonout import coverage_document

        return coverage_document(self)

    def to_dataset(self):
        """The xarray Dataset of a whole run (coverage/dataset.py): what `--out F.nc` writes."""
        from shieldlab.coverage.dataset import to_dataset

        return to_dataset(self)


__all__ = ["Reason", "NO_CODE", "Intercepts", "Engagements", "Flights", "Detections", "EngageResult",
           "CoverageResult", "FLIGHT_FIELDS"]
