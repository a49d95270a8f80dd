"""Plans, portals, portal users, host identity tokens and eligibility."""
