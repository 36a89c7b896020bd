"""Persistence: SQLAlchemy models, Alembic migrations and the repositories the shells use."""
