"""Apply the web page's parameter edits to a loaded Scenario (a pure function, no I/O).

The overrides are a JSON object; every key is optional and every number carries its unit in its key,
as in the `engage` JSON document::

    {
      "interceptors": {"sm3-iib": {"burnout_speed_km_s": 6.0}},
      "batteries":    {"poland-iib": {"launch_delay_s": 30, "cue": "launch"}},
      "sensors":      {"fylingdales": {"max_range_km": 5000}},
      "trajectory":   "lofted",                      # every aimed threat and the [coverage] table
      "threats":      {"kozelsk-washington": {"trajectory": {"gamma_deg": 20}}}
    }

A trajectory is "min-energy", "lofted", "depressed" or {"gamma_deg": g} with 0 < g < 90. Per-threat
trajectories win over the global one. A fixed gamma is for burnout missile types only: it is refused for a threat
(or a [coverage] table) of a staged type, as in a scenario file; the page does not edit kick angles. Unknown keys,
unknown names and out-of-range values raise :class:`OverrideError` carrying one message per problem (the web app
answers 422 with them).

What a value may be comes from the scenario schema (shieldlab.scenario.schema), so an edit is accepted exactly
when the same value written in the scenario file would be: the ranges, the cues, the trajectory modes and the
rule that lofted and depressed trajectories need the missile's burnout speed.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from shieldlab.scenario import schema
from shieldlab.scenario.model import Scenario, Trajectory
from shieldlab.units import unit_factor

__all__ = ["OverrideError", "apply_overrides", "number_bounds", "OVERRIDE_KEYS", "NUMBERS"]

TOP_KEYS = ("interceptors", "batteries", "sensors", "trajectory", "threats")
INTERCEPTOR_KEYS = ("burnout_speed_km_s",)
BATTERY_KEYS = ("launch_delay_s", "cue")
SENSOR_KEYS = ("max_range_km",)
THREAT_KEYS = ("trajectory",)
OVERRIDE_KEYS = {"": TOP_KEYS, "interceptors": INTERCEPTOR_KEYS, "batteries": BATTERY_KEYS,
                 "sensors": SENSOR_KEYS, "threats": THREAT_KEYS}

# Each number the page edits: the scenario key it sets (whose range, from the schema, it must lie in, exactly as
# in a scenario file) and the unit its JSON key names.
NUMBERS: dict[str, tuple[schema.Key, str]] = {
    "burnout_speed_km_s": (schema.INTERCEPTOR["burnout_speed"], "km/s"),
    "launch_delay_s": (schema.BATTERY["launch_delay"], "s"),
    "max_range_km": (schema.SENSOR["max_range"], "km"),
    "gamma_deg": (schema.TRAJECTORY["gamma"], "deg"),
}
CUE = schema.BATTERY["cue"]
TRAJECTORY_TEXT = schema.trajectory_text('{"gamma_deg": g}', "g", "")
_FLOAT_MAX = sys.float_info.max  # a finite float; also bounds an int (JSON has any size) without converting it


def number_bounds() -> dict[str, dict[str, Any]]:
    """The allowed range of each edited number, in its JSON key's unit (for the page's inputs):
    {"burnout_speed_km_s": {"min": 0.0, "max": 11.0, "min_open": True, "max_open": False, "unit": "km/s"}, ...}."""
    out = {}
    for json_key, (key, unit) in NUMBERS.items():
        factor = unit_factor(key.dimension or "length", unit)
        out[json_key] = {"min": key.range.lo / factor, "max": key.range.hi / factor, "min_open": key.range.lo_open,
                         "max_open": key.range.hi_open, "unit": unit}
    return out


class OverrideError(ValueError):
    """The overrides are malformed. `.messages` lists every problem, one sentence each."""

    def __init__(self, messages: list[str]):
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


def _number(problems: list, where: str, value: Any, json_key: str) -> float | None:
    """The edited number in SI (degrees for angles) when it is a finite number within its schema key's range;
    None (and a problem naming the range) otherwise."""
    key, unit = NUMBERS[json_key]
    si = None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) <= _FLOAT_MAX:
        si = float(value) * unit_factor(key.dimension or "length", unit)
    if si is None or si not in key.range:
        problems.append(f"overrides: {where}: got {value!r}; expected a number {key.range_text(unit)}")
        return None
    return si


def _trajectory(problems: list, where: str, value: Any) -> Trajectory | None:
    if isinstance(value, str) and value in schema.TRAJECTORY_MODES:
        return Trajectory(value)  # type: ignore[arg-type]
    if isinstance(value, Mapping) and set(value) == {"gamma_deg"}:
        g = _number(problems, f"{where}.gamma_deg", value["gamma_deg"], "gamma_deg")
        return None if g is None else Trajectory("gamma", g)
    problems.append(f"overrides: {where}: got {value!r}; expected {TRAJECTORY_TEXT}")
    return None


def _check_keys(problems: list, where: str, table: Any, allowed) -> bool:
    if not isinstance(table, Mapping):
        problems.append(f"overrides: {where or 'the overrides'}: got {table!r}; expected an object")
        return False
    for k in table:
        if k not in allowed:
            problems.append(f"overrides: {where + '.' if where else ''}{k}: unknown key; expected one of "
                            + ", ".join(allowed))
    return True


def _named(problems: list, section: str, table: Any, known: Mapping[str, Any], allowed) -> dict:
    """The entries of overrides[section] whose names exist in the scenario, checked for keys."""
    out = {}
    if not isinstance(table, Mapping):
        problems.append(f"overrides: {section}: got {table!r}; expected an object of names")
        return out
    for name, entry in table.items():
        if name not in known:
            names = ", ".join(known) or "none"
            problems.append(f"overrides: {section}.{name}: no such name in the scenario (known: {names})")
            continue
        if _check_keys(problems, f"{section}.{name}", entry, allowed):
            out[name] = entry
    return out


def _needs_speed(problems: list, scenario: Scenario, where: str, missile: str, traj: Trajectory) -> None:
    m = scenario.missiles.get(missile)
    if m is not None and m.model == "staged":
        if traj.mode == "gamma":
            problems.append(f"overrides: {where}: a fixed gamma is for burnout missile types; missile {missile!r} is "
                            f"staged (its trajectories: {schema.trajectory_text(model='staged')})")
        return
    needs = schema.burnout_speed_needed(traj.mode)
    if needs is not None and m is not None and m.burnout_speed_m_s is None:
        problems.append(f"overrides: {where}: {needs} needs a burnout_speed in [missiles.{missile}], which the "
                        "scenario does not give")


def apply_overrides(scenario: Scenario, overrides: Mapping[str, Any] | None) -> Scenario:
    """A copy of `scenario` with the overrides applied (dataclasses.replace); the input is untouched.

    Raises OverrideError listing every problem; nothing is applied unless all of it is valid.
    """
    if not overrides:
        return scenario
    problems: list[str] = []
    if not _check_keys(problems, "", overrides, TOP_KEYS):
        raise OverrideError(problems)

    interceptors = dict(scenario.interceptors)
    for name, e in _named(problems, "interceptors", overrides.get("interceptors", {}), interceptors,
                          INTERCEPTOR_KEYS).items():
        if "burnout_speed_km_s" in e:
            v = _number(problems, f"interceptors.{name}.burnout_speed_km_s", e["burnout_speed_km_s"],
                        "burnout_speed_km_s")
            if v is not None:
                interceptors[name] = replace(interceptors[name], burnout_speed_m_s=v)

    by_name = {b.name: b for b in scenario.batteries}
    changed_b = {}
    for name, e in _named(problems, "batteries", overrides.get("batteries", {}), by_name, BATTERY_KEYS).items():
        kw = {}
        if "launch_delay_s" in e:
            v = _number(problems, f"batteries.{name}.launch_delay_s", e["launch_delay_s"], "launch_delay_s")
            if v is not None:
                kw["launch_delay_s"] = v
        if "cue" in e:
            if e["cue"] in CUE.choices:
                kw["cue"] = e["cue"]
            else:
                problems.append(f"overrides: batteries.{name}.cue: got {e['cue']!r}; expected {CUE.expected()}")
        changed_b[name] = kw

    by_sensor = {s.name: s for s in scenario.sensors}
    changed_s = {}
    for name, e in _named(problems, "sensors", overrides.get("sensors", {}), by_sensor, SENSOR_KEYS).items():
        if "max_range_km" in e:
            v = _number(problems, f"sensors.{name}.max_range_km", e["max_range_km"], "max_range_km")
            if v is not None:
                changed_s[name] = {"max_range_m": v}

    global_traj = None
    if "trajectory" in overrides:
        global_traj = _trajectory(problems, "trajectory", overrides["trajectory"])
    by_threat = {t.name: t for t in scenario.threats}
    per_threat = {}
    for name, e in _named(problems, "threats", overrides.get("threats", {}), by_threat, THREAT_KEYS).items():
        if "trajectory" in e:
            tr = _trajectory(problems, f"threats.{name}.trajectory", e["trajectory"])
            if tr is not None:
                if by_threat[name].aim is None:
                    problems.append(f"overrides: threats.{name}.trajectory: the threat is unaimed (azimuth and "
                                    "gamma or kick in the file); only aimed threats (with `to`) take a trajectory")
                else:
                    per_threat[name] = tr

    threats = []
    for t in scenario.threats:
        tr = per_threat.get(t.name, global_traj if t.aim is not None else None)
        if tr is not None:
            _needs_speed(problems, scenario, f"threats.{t.name}" if t.name in per_threat else "trajectory",
                         t.missile, tr)
            t = replace(t, trajectory=tr)
        threats.append(t)
    cov = scenario.coverage
    if cov is not None and global_traj is not None:
        _needs_speed(problems, scenario, "trajectory", cov.missile, global_traj)
        cov = replace(cov, trajectory=global_traj)

    if problems:
        # one message per problem, duplicates (a global trajectory hitting many threats) said once
        raise OverrideError(list(dict.fromkeys(problems)))
    return replace(
        scenario,
        interceptors=interceptors,
        batteries=tuple(replace(b, **changed_b[b.name]) if changed_b.get(b.name) else b for b in scenario.batteries),
        sensors=tuple(replace(s, **changed_s[s.name]) if s.name in changed_s else s for s in scenario.sensors),
        threats=tuple(threats),
        coverage=cov,
    )
