"""Alembic environment of the results store.

:func:`calculatice.store.upgrade` runs it with an open connection in
``config.attributes["connection"]``, inside a transaction it commits itself.
When Alembic's own command line runs it on :func:`calculatice.store.alembic_config`,
it connects to the configured URL instead. Offline (``--sql``) mode is not
supported: migrations are always run against a database.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from calculatice.store.database import create_store_engine
from calculatice.store.models import Base


def run_migrations(connection: Connection) -> None:
    """Run the pending migrations on ``connection``."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLAlchemy emits BEGIN itself on SQLite (see database.py), so DDL
        # is transactional there as on PostgreSQL.
        transactional_ddl=True,
        # SQLite alters a table by copying it; batch mode does that for us.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    """Run migrations on the given connection, or on a new one to the configured URL."""
    if context.is_offline_mode():
        raise RuntimeError("offline (--sql) migrations are not supported by calculatice")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    engine = create_store_engine(context.config.get_main_option("sqlalchemy.url"), migrating=True)
    try:
        with engine.begin() as new_connection:
            run_migrations(new_connection)
    finally:
        engine.dispose()


main()
