"""Alembic migrations of the azctx store schema."""
