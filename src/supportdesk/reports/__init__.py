"""Supervisor reports: operations per day and tier, CSAT over time, CSV, SVG charts."""
