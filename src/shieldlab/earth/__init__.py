"""Earth models (docs/models.md, The Earth): ellipsoid or sphere, rotation, gravity, frames and geodesics."""
