"""Earth models (MODELS.md section 1): ellipsoid or sphere, rotation, gravity, frames and geodesics."""
