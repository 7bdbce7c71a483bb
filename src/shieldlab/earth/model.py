"""The Earth model: shape, rotation and gravity constants, as plain floats for the kernels.

`Earth.from_spec` builds it from a scenario's `[earth]` table. Arrays follow one shape convention:
positions and velocities are (..., 3) with x, y, z on the last axis, in metres (ECEF unless the name
says otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from shieldlab import constants as C
from shieldlab.scenario.model import EarthSpec


@dataclass(frozen=True)
class Earth:
    """Shape (a, f), GM, rotation rate and J2 of one Earth model (docs/models.md, The Earth)."""

    model: str
    a_m: float
    f: float
    gm_m3_s2: float
    omega_rad_s: float
    j2: float

    @classmethod
    def from_spec(cls, spec: EarthSpec) -> "Earth":
        omega = C.OMEGA_RAD_S if spec.rotation else 0.0
        if spec.model == "sphere":  # always a point mass (docs/models.md, The Earth)
            return cls("sphere", C.SPHERE_R_M, 0.0, C.GM_M3_S2, omega, 0.0)
        return cls("wgs84", C.WGS84_A_M, C.WGS84_F, C.GM_M3_S2, omega, C.J2 if spec.j2 else 0.0)

    @property
    def spec(self) -> EarthSpec:
        return EarthSpec(self.model, self.omega_rad_s != 0.0, self.j2 != 0.0)  # type: ignore[arg-type]

    @property
    def e2(self) -> float:
        """First eccentricity squared."""
        return self.f * (2.0 - self.f)

    @property
    def b_m(self) -> float:
        return self.a_m * (1.0 - self.f)

    @property
    def mean_radius_m(self) -> float:
        """IUGG mean radius R1 = (2a + b)/3 (equals R on the sphere)."""
        return (2.0 * self.a_m + self.b_m) / 3.0

    @cached_property
    def kernel_params(self) -> np.ndarray:
        """(a, e2, GM, omega, J2*a^2) as one float array, the form the compiled kernels take."""
        return np.array([self.a_m, self.e2, self.gm_m3_s2, self.omega_rad_s, self.j2 * self.a_m**2])

    @cached_property
    def geod(self):
        """pyproj's Geod for this shape: Karney's geodesics on WGS84, great circles on the sphere."""
        from pyproj import Geod

        return Geod(a=self.a_m, f=self.f)
