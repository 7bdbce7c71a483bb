"""Quantities in scenario files: a string with a unit ("5.5 km/s", "180 s") or a bare number in the default unit.

:func:`parse_quantity` returns SI values (m, s, m/s, m², kg, kg/m²), except angles, which it returns in degrees,
and percentages, which it returns in percent ("2 %" is 2.0). Areas (radar
cross-sections) may also be given in decibels relative to one square metre: "-13 dBsm" is 10^(-13/10) m².
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final, Literal

Dimension = Literal["length", "time", "speed", "angle", "area", "mass", "ballistic coefficient", "percentage"]


@dataclass(frozen=True)
class _DimensionInfo:
    noun: str  # "a length"
    example: str  # "350 km"
    default_name: str  # "metres": what a bare number counts
    default_unit: str  # "m"
    units: dict[str, float]  # unit -> factor to the returned unit (SI, or degrees for angles)


_DIMENSIONS: Final[dict[str, _DimensionInfo]] = {
    "length": _DimensionInfo(
        "a length", "350 km", "metres", "m",
        {"m": 1.0, "km": 1000.0, "nmi": 1852.0, "mi": 1609.344, "ft": 0.3048},
    ),
    "time": _DimensionInfo("a time", "180 s", "seconds", "s", {"s": 1.0, "min": 60.0, "h": 3600.0}),
    "speed": _DimensionInfo(
        "a speed", "5.5 km/s", "metres per second", "m/s",
        {"m/s": 1.0, "km/s": 1000.0, "ft/s": 0.3048, "km/h": 1.0 / 3.6},
    ),
    "angle": _DimensionInfo("an angle", "3 deg", "degrees", "deg", {"deg": 1.0, "rad": 180.0 / math.pi}),
    "area": _DimensionInfo("an area", "0.1 m2", "square metres", "m2", {"m2": 1.0, "dBsm": math.nan}),
    "mass": _DimensionInfo("a mass", "1000 kg", "kilograms", "kg", {"kg": 1.0, "t": 1000.0, "lb": 0.45359237}),
    "ballistic coefficient": _DimensionInfo(
        "a ballistic coefficient", "3000 kg/m2", "kilograms per square metre", "kg/m2",
        {"kg/m2": 1.0, "lb/ft2": 0.45359237 / 0.09290304},
    ),
    # returned in percent (like angles in degrees): "2 %" is 2.0
    "percentage": _DimensionInfo("a percentage", "1 %", "percent", "%", {"%": 1.0}),
}

# Logarithmic units: the value is 10^(x/10) of the unit named (not x times a factor).
_DECIBEL_UNITS: Final[dict[str, str]] = {"dBsm": "m2"}

# Other spellings accepted for the units above (not advertised in messages).
_ALIASES: Final[dict[str, str]] = {"sec": "s", "hr": "h", "°": "deg", "degree": "deg", "degrees": "deg",
                                   "m^2": "m2", "m²": "m2", "dBm2": "dBsm",
                                   "kg/m^2": "kg/m2", "kg/m²": "kg/m2", "lb/ft^2": "lb/ft2", "lb/ft²": "lb/ft2",
                                   "tonne": "t", "tonnes": "t", "percent": "%"}

# The unit runs to its last non-space character: `(?:.*\S)?`, not a lazy `.*?` before `\s*`, which backtracks in
# time quadratic in the length of the spaces inside a unit ("1 k" + 30,000 spaces + "m" took 8 s).
_QUANTITY = re.compile(r"\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\d\s.,+-](?:.*\S)?)?\s*")


class QuantityError(ValueError):
    """A value is not a quantity of the expected dimension. `expected` says, in words, what would be."""

    def __init__(self, value: object, dimension: Dimension, expected: str):
        self.value = value
        self.dimension = dimension
        self.expected = expected
        super().__init__(f"got {value!r}; expected {expected}")


def default_unit(dimension: Dimension) -> str:
    """The unit of a bare number, and of the value :func:`parse_quantity` returns: m, s, m/s or deg."""
    return _DIMENSIONS[dimension].default_unit


def unit_factor(dimension: Dimension, unit: str) -> float:
    """How many of the returned unit (SI, or degrees) one `unit` is: unit_factor("speed", "km/s") == 1000.0."""
    info = _DIMENSIONS[dimension]
    canonical = _ALIASES.get(unit, unit)
    if canonical not in info.units:
        raise ValueError(f"{unit!r} is not a unit of {dimension} (units: {', '.join(info.units)})")
    if canonical in _DECIBEL_UNITS:
        raise ValueError(f"{unit!r} is logarithmic: it has no factor (10^(x/10) {_DECIBEL_UNITS[canonical]})")
    return info.units[canonical]


def units_of(dimension: Dimension) -> tuple[str, ...]:
    """The units accepted for a dimension, e.g. ("m", "km", "nmi", "mi", "ft")."""
    return tuple(_DIMENSIONS[dimension].units)


def describe(dimension: Dimension, *, finite: bool = False) -> str:
    """What a quantity of this dimension looks like, e.g. 'a length such as "350 km" or a number of metres (...)'."""
    info = _DIMENSIONS[dimension]
    noun = "a finite " + info.noun.split(" ", 1)[1] if finite else info.noun
    units = ", ".join(info.units)
    return f'{noun} such as "{info.example}" or a number of {info.default_name} (units: {units})'


def unit_dimension(unit: str) -> str | None:
    """The dimension a unit name measures ("km" -> "length"), None for an unknown name."""
    for name, info in _DIMENSIONS.items():
        if unit in info.units:
            return name
    return None


def _factor(text: str, unit: str, dimension: Dimension) -> float:
    info = _DIMENSIONS[dimension]
    canonical = _ALIASES.get(unit, unit)
    if canonical in info.units:
        return info.units[canonical]
    if not unit:
        reason = f'a number in a string needs a unit, e.g. "{text} {info.default_unit}", or write it without quotes'
    elif (other := unit_dimension(canonical)) is not None:
        reason = f'"{unit}" is a unit of {other}, not of {dimension}'
    else:
        reason = f'"{unit}" is not a known unit'
    raise QuantityError(text, dimension, f"{describe(dimension)}; {reason}")


def parse_quantity(value: object, dimension: Dimension) -> float:
    """The value of a quantity in SI units (m, s, m/s), or in degrees for angles.

    `value` is a string with a unit ("4800 km", "3 deg") or an int/float in the default unit (m, s, m/s, deg).
    Raises :class:`QuantityError` for anything else: booleans, NaN or infinity, unknown units, units of another
    dimension ("5 s" for a length), strings without a unit.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise QuantityError(value, dimension, describe(dimension))
    if isinstance(value, str):
        match = _QUANTITY.fullmatch(value)
        if match is None:
            raise QuantityError(value, dimension, describe(dimension))
        number, unit = match.group(1), match.group(2) or ""
        factor = _factor(value, unit, dimension)
        canonical = _ALIASES.get(unit, unit)
        if canonical in _DECIBEL_UNITS:
            decibels = float(number)
            result = 10.0 ** (decibels / 10.0) if decibels < 3000.0 else math.inf  # beyond a float: refused
        else:
            result = float(number) * factor
    else:
        try:
            result = float(value)
        except OverflowError:  # an integer beyond any float (TOML integers have no size limit)
            result = math.inf
    if not math.isfinite(result):
        raise QuantityError(value, dimension, describe(dimension, finite=True))
    return result
