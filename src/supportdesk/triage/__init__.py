"""Triage: what kind of request a text is, how specific, and which marketplace app it names."""
