"""Coverage: every (launch, aim) pair of a `[coverage]` table as a threat, against every battery."""
