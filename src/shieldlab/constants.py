"""Model constants, exactly as in the reference models (docs/models.md, Shape, rotation and gravity constants)."""

# WGS 84 ellipsoid (NIMA TR8350.2, 3rd ed., table 3.1)
WGS84_A_M = 6378137.0
WGS84_F = 1.0 / 298.257223563

# Mean Earth radius R1 used by the `sphere` model (Moritz, Geodetic Reference System 1980)
SPHERE_R_M = 6371008.8

# Earth's gravitational parameter, including the atmosphere (WGS 84, TR8350.2 table 3.1)
GM_M3_S2 = 3.986004418e14

# Earth's rotation rate (WGS 84, TR8350.2 table 3.1)
OMEGA_RAD_S = 7.292115e-5

# Second zonal harmonic (EGM96 normalised C20 = -4.84165371736e-4 -> J2 = 1.08262668e-3)
J2 = 1.08262668e-3
