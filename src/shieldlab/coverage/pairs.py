"""The (launch, aim) pairs of a `[coverage]` table, in the documented order: launch points in file
order, then aim points by latitude, then longitude; and their labels (`kozelsk -> 38.00,-77.00`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from shieldlab.scenario.model import AimGrid, CoverageSpec, Point


@dataclass(frozen=True)
class PairLayout:
    launch: tuple[Point, ...]
    aim_lat_deg: np.ndarray  # (A,) aim points in order
    aim_lon_deg: np.ndarray
    grid_lat_deg: np.ndarray | None  # grid axes when the aim points form a grid
    grid_lon_deg: np.ndarray | None

    @property
    def n_pairs(self) -> int:
        return len(self.launch) * self.aim_lat_deg.size

    def pair(self, k):
        """(launch index, aim index) of pair number(s) k."""
        return np.divmod(np.asarray(k), self.aim_lat_deg.size)


def _norm_lon(lon):
    return (np.asarray(lon, float) + 180.0) % 360.0 - 180.0


def layout(cov: CoverageSpec) -> PairLayout:
    """The pairs of a [coverage] table. Computed once per table and shared (its arrays are read-only): a
    coverage chunk asks for it several times, and a grid's axes are built point by point."""
    try:
        return _layout(cov)
    except TypeError:  # a table with an unhashable value (built by hand): not cached
        return _layout.__wrapped__(cov)


@functools.lru_cache(maxsize=16)
def _layout(cov: CoverageSpec) -> PairLayout:
    if isinstance(cov.aim, AimGrid):
        lat = np.array(cov.aim.lat_values(), float)
        lon = np.array(cov.aim.lon_values(), float)
        LAT, LON = np.meshgrid(lat, lon, indexing="ij")
        out = PairLayout(tuple(cov.launch), LAT.ravel(), _norm_lon(LON.ravel()), lat, lon)
    else:
        pts = sorted(cov.aim, key=lambda p: (p.lat_deg, p.lon_deg))
        out = PairLayout(tuple(cov.launch), np.array([p.lat_deg for p in pts], float),
                         np.array([p.lon_deg for p in pts], float), None, None)
    for a in (out.aim_lat_deg, out.aim_lon_deg, out.grid_lat_deg, out.grid_lon_deg):
        if a is not None:
            a.flags.writeable = False
    return out


def point_label(p: Point) -> str:
    return p.name or f"{p.lat_deg:.4g},{p.lon_deg:.4g}"


def coord_text(x: float) -> str:
    """A coordinate for a label: two decimals, more only when the value needs them."""
    s = f"{x:.2f}"
    if abs(float(s) - x) > 1e-9:
        s = f"{x:.6f}".rstrip("0")
    return "0.00" if s in ("-0.00", "-0.0") else s


def point_text(lat: float, lon: float) -> str:
    return f"{coord_text(lat)},{coord_text(lon)}"


def launch_labels(lay: PairLayout) -> list[str]:
    """Launch point names (place name, else `lat,lon`)."""
    return [p.name or point_text(p.lat_deg, p.lon_deg) for p in lay.launch]


def aim_labels(scenario, lay: PairLayout) -> list[str]:
    """Aim point labels in pair order: place names for a list of places, `lat,lon` otherwise."""
    cov = scenario.coverage
    if isinstance(cov.aim, AimGrid):
        return [point_text(a, b) for a, b in zip(lay.aim_lat_deg, lay.aim_lon_deg)]
    pts = sorted(cov.aim, key=lambda p: (p.lat_deg, p.lon_deg))  # the order of layout()
    return [p.name or point_text(p.lat_deg, p.lon_deg) for p in pts]


def pair_names(scenario, lay: PairLayout) -> list[str]:
    """`launch -> aim` for every pair, in pair order (e.g. `kozelsk -> 38.00,-77.00`)."""
    launches, aims = launch_labels(lay), aim_labels(scenario, lay)
    return [f"{lo} -> {a}" for lo in launches for a in aims]
