"""Alembic migrations; they ship inside the package so an installed wheel can upgrade."""
