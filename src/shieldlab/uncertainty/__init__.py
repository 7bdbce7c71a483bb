"""`shieldlab uncertainty`: a scenario evaluated over random draws of its varied values (docs/scenario.md,
Uncertainty)."""
