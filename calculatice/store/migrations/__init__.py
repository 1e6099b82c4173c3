"""Alembic migrations of the results store; run them with :func:`calculatice.store.upgrade`."""
