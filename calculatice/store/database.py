"""Connecting to the results database and bringing its schema up to date.

SQLite (a file, in WAL mode) is the default; PostgreSQL, reached through
psycopg 3, serves a rally. The schema is only ever changed by the Alembic
migrations shipped inside this package, run by :func:`upgrade`, so no
``alembic.ini`` is needed anywhere.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sqlite3
import sys
import uuid
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import NullPool

from calculatice.errors import StoreError, StoreUnavailable

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported inside the functions that migrate: a pupil's kernel only
# reads and writes rows, and each megabyte of a kernel counts thirty times a class.

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

URL_VARIABLE = "CALCULATICE_DB_URL"
"""The environment variable that holds the database URL."""

DEFAULT_FILE = "calculatice.sqlite"
"""The SQLite file used, in the current directory, when no URL is given."""

SQLITE_BUSY_TIMEOUT_MS = 5000
"""How long an SQLite writer waits for another one to finish before giving up."""

WRITE_OPTION = "calculatice_write"
"""Execution option that marks a connection's next transaction as one that writes.

On SQLite such a transaction starts with ``BEGIN IMMEDIATE``: it takes the
write lock at once, waiting up to the busy timeout, instead of reading first
and failing with "database is locked" when it later tries to write.
"""


def is_outage(error: BaseException) -> bool:
    """Whether a failure says the database cannot be reached now, rather than a fault here.

    SQLAlchemy's and the drivers' ``OperationalError``: a connection refused
    or lost, a server shutting down, an SQLite file locked past the busy
    timeout. Broken constraints and programming errors are faults, not outages.
    """
    if isinstance(error, StoreUnavailable | OperationalError | sqlite3.OperationalError):
        return True
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(error, psycopg.OperationalError)


def reporting_outages(method: Callable[P, R]) -> Callable[P, R]:
    """Make a store method raise :class:`StoreUnavailable` when the database is out of reach.

    For the methods that a player's recorder calls: the player catches every
    other failure and shows it, but an outage must reach the server, which
    answers "try again" and rebuilds the player from the store.
    """

    @functools.wraps(method)
    def reporting(*arguments: P.args, **keywords: P.kwargs) -> R:
        try:
            return method(*arguments, **keywords)
        except Exception as error:
            if isinstance(error, StoreUnavailable) or not is_outage(error):
                raise
            raise StoreUnavailable(f"Base de données injoignable : {error}") from error

    return reporting


def default_url() -> str:
    """The database URL to use: ``$CALCULATICE_DB_URL``, else ``calculatice.sqlite`` here."""
    configured = os.environ.get(URL_VARIABLE, "").strip()
    if configured:
        return configured
    return f"sqlite:///{Path.cwd() / DEFAULT_FILE}"


def parse_url(url: str | URL | None) -> URL:
    """Read a database URL, defaulting as :func:`default_url` and choosing psycopg 3.

    A plain ``postgresql://`` URL would pick psycopg2, which is not installed:
    it is read as ``postgresql+psycopg://``. Raises :class:`StoreError` for a
    URL that cannot be read or a database other than SQLite and PostgreSQL.
    """
    try:
        parsed = make_url(url if url is not None else default_url())
    except ArgumentError as error:
        raise StoreError(f"URL de base de données illisible : {error}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"Base de données non prise en charge : {parsed.get_backend_name()} "
            "(attendu : sqlite:///fichier ou postgresql+psycopg://…)."
        )
    return parsed


def create_store_engine(url: str | URL | None = None, *, migrating: bool = False) -> Engine:
    """Create the SQLAlchemy engine for the store's database.

    Parameters
    ----------
    url
        Database URL; ``None`` means :func:`default_url`.
    migrating
        An engine for running migrations: no connection pool and, on SQLite,
        foreign keys not enforced while tables are rebuilt (they are checked
        once the migrations are done).

    Returns
    -------
    Engine
        On SQLite each new connection is set to WAL, a busy timeout of
        :data:`SQLITE_BUSY_TIMEOUT_MS`, enforced foreign keys and
        ``synchronous=NORMAL``, and transactions are begun by SQLAlchemy (see
        :data:`WRITE_OPTION`).
    """
    parsed = parse_url(url)
    options: dict[str, Any] = {}
    if migrating:
        options["poolclass"] = NullPool
    if parsed.get_backend_name() == "postgresql":
        options["pool_pre_ping"] = True
    engine = create_engine(parsed, **options)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, foreign_keys=not migrating)
    return engine


def configure_sqlite_connection(dbapi_connection: Any, *, foreign_keys: bool = True) -> None:
    """Set the store's pragmas on one ``sqlite3`` connection, and leave BEGIN to the caller.

    WAL, a busy timeout of :data:`SQLITE_BUSY_TIMEOUT_MS`, foreign keys
    enforced (unless migrating) and ``synchronous=NORMAL``. The connection is
    put in autocommit: sqlite3's own transaction handling skips BEGIN before
    SELECT and DDL, which breaks transactional migrations; SQLAlchemy (or the
    store's direct statements) emit BEGIN instead.
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _configure_sqlite(engine: Engine, *, foreign_keys: bool) -> None:
    """Set SQLite's pragmas on every connection and take over its transactions."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        configure_sqlite_connection(dbapi_connection, foreign_keys=foreign_keys)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writes = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


@contextlib.contextmanager
def scratch_schema(url: str, prefix: str) -> Iterator[str]:
    """A URL on a new, empty schema of a PostgreSQL database, dropped with its tables after.

    For tests and benchmarks that share one PostgreSQL database: each gets a
    schema of its own (``prefix`` and a random suffix), put first on the
    search path of every connection made from the URL.
    """
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    # No pool: the caller may end every connection to the database meanwhile.
    admin = create_store_engine(url, migrating=True)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def alembic_config(url: str | URL | None = None) -> Config:
    """The Alembic configuration of the store, built in code.

    ``script_location`` points at the migrations inside the installed package.
    The URL is only used when Alembic's command line is run on this
    configuration; :func:`upgrade` hands Alembic a connection instead.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_migrations_folder()))
    # Alembic interpolates %-signs in its options; a password may contain some.
    rendered = parse_url(url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def _migrations_folder() -> Path:
    """The folder of the Alembic environment, inside the installed package."""
    return Path(str(resources.files("calculatice.store") / "migrations"))


def head_revision() -> str | None:
    """The newest schema revision that the shipped migrations know."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(_migrations_folder()))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The schema revision of the database behind ``engine``; ``None`` when not migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str | URL | None = None) -> str | None:
    """Bring the database's schema to the newest revision, creating it if empty.

    All pending migrations run in one transaction (on SQLite too), so a failed
    upgrade leaves the database as it was; migrations never drop results.
    Processes that start together upgrade one after the other.

    Parameters
    ----------
    url
        Database URL; ``None`` means :func:`default_url`.

    Returns
    -------
    str or None
        The revision the database is at afterwards.
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    parsed = parse_url(url)
    config = alembic_config(parsed)
    engine = create_store_engine(parsed, migrating=True)
    try:
        with engine.connect() as connection:
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                _lock_for_migration(connection)
                before = MigrationContext.configure(connection).get_current_revision()
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                after = MigrationContext.configure(connection).get_current_revision()
                _check_foreign_keys(connection)
    finally:
        engine.dispose()
    if before != after:
        logger.info(
            "Database %s upgraded from %s to %s",
            parsed.render_as_string(hide_password=True),
            before,
            after,
        )
    return after


def _lock_for_migration(connection: Connection) -> None:
    """Make concurrent upgrades wait for each other until the transaction ends.

    On SQLite, ``BEGIN IMMEDIATE`` already did; PostgreSQL needs a lock of its
    own, as its DDL takes no lock on tables that do not exist yet.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})")


# Any constant will do, as long as nothing else in the database uses it.
_MIGRATION_LOCK_KEY = 0x63616C63


def _check_foreign_keys(connection: Connection) -> None:
    """Refuse the migration if it broke a foreign key, which SQLite did not enforce meanwhile."""
    if connection.dialect.name != "sqlite":
        return
    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise StoreError(f"Clés étrangères rompues par la migration : {problems[:5]}")
