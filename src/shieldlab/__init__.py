"""shieldlab: open kinematics of ballistic-missile defence.

Units: SI inside (m, s, m/s, rad); degrees only at the edges, where names say so
(``lat_deg``, ``azimuth_deg``). Frames are part of names: ``r_ecef`` (Earth-fixed),
``r_eci`` (the inertial frame that coincides with ECEF at scenario time 0).

Import the public API from :mod:`shieldlab.api`.
"""

__version__ = "0.1.0"
