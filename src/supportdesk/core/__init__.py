"""Shared kernel: database, errors, clock, i18n and principals."""
