"""The (launch, aim) pairs of a `[coverage]` table, in the documented order: launch points in file
order, then aim points by latitude, then longitude."""

from __future__ import annotations

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
    if isinstance(cov.aim, AimGrid):
        lat = np.array(cov.aim.lat_values(), float)
        lon = np.array(cov.aim.lon_values(), float)
        LAT, LON = np.meshgrid(lat, lon, indexing="ij")
        return PairLayout(tuple(cov.launch), LAT.ravel(), _norm_lon(LON.ravel()), lat, lon)
    pts = sorted(cov.aim, key=lambda p: (p.lat_deg, p.lon_deg))
    return PairLayout(tuple(cov.launch), np.array([p.lat_deg for p in pts], float),
                      np.array([p.lon_deg for p in pts], float), None, None)


def point_label(p: Point) -> str:
    return p.name or f"{p.lat_deg:.4g},{p.lon_deg:.4g}"
