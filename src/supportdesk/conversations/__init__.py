"""Conversations: the timeline, tiers, transfer, assignment, resolution and ratings."""
