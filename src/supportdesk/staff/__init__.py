"""Agents, roles, tiers, presence and login sessions."""
