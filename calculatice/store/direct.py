"""The rally's hot statements on the database driver itself, each thread on its own connection.

Every rally request reads a pair's progress and most record an answer.
Through SQLAlchemy each statement checks a connection out of the pool (on
PostgreSQL pinging it first), begins, runs, commits and resets the
connection on its way back: several times the cost of the statement
itself, and on PostgreSQL four or five round trips to the server where one
will do. Here each thread keeps one connection of the driver, opened the
first time it is needed, with the statements written once in the driver's
SQL. Values are bound with the columns' own SQLAlchemy processors, so rows
read back exactly as the ORM writes them.

- SQLite (a file, through ``sqlite3``): the connection stays in autocommit,
  so a read sees what every process committed before it; a write is
  ``BEGIN IMMEDIATE``, the statement, ``COMMIT``.
- PostgreSQL (through psycopg 3): the connection is in autocommit and every
  hot statement is one statement, so a write is committed, in one round
  trip, before the call returns; psycopg prepares the statements that a
  connection runs often. A connection that the server closed (a restart of
  PostgreSQL) is noticed before it is used and opened again; one lost while
  a statement was on its way is opened again too, and the statement sent
  again when that is safe (a read, a keyed answer, a finish).

The store (:class:`calculatice.store.store.Store`) uses these where the
database allows and SQLAlchemy for everything else.
"""

from __future__ import annotations

import logging
import select
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from typing import Any

from sqlalchemy import Engine, Table

from calculatice.store.database import configure_sqlite_connection
from calculatice.store.models import Answer, Attempt, Pupil
from calculatice.store.records import AttemptRecord

logger = logging.getLogger(__name__)

ANSWER_COLUMNS = (
    "attempt_id",
    "question_index",
    "attempt_number",
    "question_shown",
    "expected",
    "typed",
    "read_as",
    "outcome",
    "response_ms",
    "answered_at",
    "client_key",
)
ATTEMPT_COLUMNS = (
    "pupil_id",
    "seance_id",
    "context",
    "exercise_id",
    "position",
    "seed",
    "options",
    "started_at",
    "total",
)
FINISH_COLUMNS = ("score", "total", "duration_ms", "finished_at")
PUPIL_COLUMNS = ("classroom_id", "display_name", "is_pair", "created_at")

PROGRESS_SQL = (
    "SELECT count(DISTINCT attempts.id), count(answers.id) FROM attempts"
    " LEFT OUTER JOIN answers ON answers.attempt_id = attempts.id"
    " WHERE attempts.pupil_id = ? AND attempts.seance_id = ?"
)
"""Attempts and answers of a pupil in a séance, with ``?`` for the driver's marker: it
runs on every rally request."""


def by_index_only(options: dict[str, Any]) -> None:
    """Tell PostgreSQL, in psycopg's connection options, never to read a whole table.

    The rally's connections only look rows up by key: a pair's attempts, an
    attempt's answers, one attempt by id. PostgreSQL keeps a statement's plan
    while a table's statistics stand, and a rally's tables grow from nothing
    in its first minute, faster than autovacuum analyses them (once a minute
    at most): a sequential scan planned on statistics of a few dozen rows
    would read the whole table at every message until then. With
    ``enable_seqscan`` off the planner keeps to the indexes. Any ``options``
    the URL already gives (a ``search_path``) are kept.
    """
    given = options.get("options", "")
    options["options"] = f"{given} -c enable_seqscan=off".strip()


def hot_statements_for(engine: Engine) -> HotStatements | None:
    """The hot statements for an engine's database, or ``None`` where SQLAlchemy must do.

    SQLite on a file through ``sqlite3``, and PostgreSQL through psycopg 3;
    an in-memory SQLite database is one per connection, so it has none.
    """
    dialect = engine.dialect
    if dialect.name == "sqlite" and dialect.driver == "pysqlite":
        url = engine.url
        database = url.database or ""
        if database in ("", ":memory:") or "memory" in str(url.query.get("mode", "")):
            return None
        return SqliteStatements(engine)
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        return PostgresStatements(engine)
    return None


class _Insert:
    """An INSERT of some of a table's columns in the driver's SQL, binding as SQLAlchemy does."""

    def __init__(self, table: Table, names: Sequence[str], dialect: Any, marker: str) -> None:
        self.names = tuple(names)
        self.sql = (
            f"INSERT INTO {table.name} ({', '.join(self.names)})"
            f" VALUES ({', '.join(marker for _ in self.names)})"
        )
        self._convert = bind_processors(table, self.names, dialect)

    def values(self, row: Mapping[str, Any]) -> list[Any]:
        """The row's values in the statement's order, as the driver must receive them."""
        values = [row[name] for name in self.names]
        for index, process in self._convert:
            values[index] = process(values[index])
        return values


class HotStatements:
    """What the store runs on every rally request, one driver connection per thread.

    Subclasses open the connections and write each statement the way their
    database runs it best; this class keeps the connections and the SQL.
    """

    marker = "?"
    """The driver's placeholder for a positional parameter."""
    integrity_errors: tuple[type[Exception], ...] = ()
    """The driver's exceptions for a broken constraint (a retried answer's key)."""

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        self._arguments, self._options = dialect.create_connect_args(engine.url)
        self._local = threading.local()
        self._opened: list[Any] = []
        self._lock = threading.Lock()
        answers, attempts = Answer.__table__, Attempt.__table__
        self._insert_answer = _Insert(answers, ANSWER_COLUMNS, dialect, self.marker)
        self._insert_attempt = _Insert(attempts, ATTEMPT_COLUMNS, dialect, self.marker)
        self._insert_pupil = _Insert(Pupil.__table__, PUPIL_COLUMNS, dialect, self.marker)
        self._names_sql = (
            f"SELECT id, display_name FROM pupils WHERE classroom_id = {self.marker} ORDER BY id"
        )
        self._finish_convert = bind_processors(attempts, FINISH_COLUMNS, dialect)
        settings = ", ".join(f"{name} = {self.marker}" for name in FINISH_COLUMNS)
        self._finish_sql = (
            f"UPDATE attempts SET {settings} WHERE id = {self.marker} AND finished_at IS NULL"
        )
        record_names = [field.name for field in fields(AttemptRecord)]
        self._attempt_columns = ", ".join(record_names)
        self._attempt_sql = (
            f"SELECT {self._attempt_columns} FROM attempts WHERE id = {self.marker}"
        )
        self._attempt_read = [
            (name, attempts.c[name].type.dialect_impl(dialect).result_processor(dialect, None))
            for name in record_names
        ]
        self.progress_sql = PROGRESS_SQL.replace("?", self.marker)

    def connection(self) -> Any:
        """This thread's connection, opened the first time."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._open()
            with self._lock:
                self._opened.append(connection)
            self._local.connection = connection
        return connection

    def insert_answer(self, row: Mapping[str, Any]) -> int:
        """Insert and commit one answer; its id. A repeated client key raises the driver's
        integrity error."""
        raise NotImplementedError

    def insert_attempt(self, row: Mapping[str, Any]) -> int:
        """Insert and commit one attempt; its id."""
        raise NotImplementedError

    def finish_attempt(self, attempt_id: int, changes: Mapping[str, Any]) -> AttemptRecord | None:
        """Finish an attempt unless it is finished already; the attempt, ``None`` if unknown."""
        raise NotImplementedError

    def insert_pupil(self, row: Mapping[str, Any]) -> int:
        """Insert and commit one pupil (a rally pair at its join); its id. An unknown class
        raises the driver's integrity error."""
        raise NotImplementedError

    def pupil_names(self, classroom_id: int) -> list[tuple[int, str]]:
        """Ids and names of a class's pupils, in the order they were added."""
        raise NotImplementedError

    def progress(self, pupil_id: int, seance_id: int) -> tuple[int, int]:
        """How many attempts and answers a pupil has in a séance, as committed now."""
        raise NotImplementedError

    def change_mark(self) -> tuple[int, int] | None:
        """A mark that stays the same while only this thread writes; ``None`` if there is none."""
        return None

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()
        self._local = threading.local()

    def _open(self) -> Any:
        raise NotImplementedError

    def _finish_values(self, changes: Mapping[str, Any]) -> list[Any]:
        values = [changes[name] for name in FINISH_COLUMNS]
        for index, process in self._finish_convert:
            values[index] = process(values[index])
        return values

    def _attempt_record(self, row: Sequence[Any]) -> AttemptRecord:
        return AttemptRecord(
            **{
                name: value if process is None else process(value)
                for (name, process), value in zip(self._attempt_read, row, strict=True)
            }
        )


class SqliteStatements(HotStatements):
    """The hot statements on an SQLite file: autocommit reads, ``BEGIN IMMEDIATE`` writes.

    The caller holds the store's write lock around the writes (SQLite has one
    writer at a time).
    """

    integrity_errors = (sqlite3.IntegrityError,)

    def _open(self) -> sqlite3.Connection:
        options = {**self._options, "check_same_thread": False}
        connection = sqlite3.connect(*self._arguments, **options)
        configure_sqlite_connection(connection)
        return connection

    def insert_answer(self, row: Mapping[str, Any]) -> int:
        with self._writing() as cursor:
            cursor.execute(self._insert_answer.sql, self._insert_answer.values(row))
            return cursor.lastrowid

    def insert_attempt(self, row: Mapping[str, Any]) -> int:
        with self._writing() as cursor:
            cursor.execute(self._insert_attempt.sql, self._insert_attempt.values(row))
            return cursor.lastrowid

    def insert_pupil(self, row: Mapping[str, Any]) -> int:
        with self._writing() as cursor:
            cursor.execute(self._insert_pupil.sql, self._insert_pupil.values(row))
            return cursor.lastrowid

    def pupil_names(self, classroom_id: int) -> list[tuple[int, str]]:
        return self.connection().execute(self._names_sql, (classroom_id,)).fetchall()

    def finish_attempt(self, attempt_id: int, changes: Mapping[str, Any]) -> AttemptRecord | None:
        with self._writing() as cursor:
            cursor.execute(self._finish_sql, (*self._finish_values(changes), attempt_id))
            if cursor.rowcount == 0:
                logger.debug("Attempt %s was already finished, or is unknown", attempt_id)
            row = cursor.execute(self._attempt_sql, (attempt_id,)).fetchone()
        return None if row is None else self._attempt_record(row)

    def progress(self, pupil_id: int, seance_id: int) -> tuple[int, int]:
        attempts, answers = (
            self.connection().execute(self.progress_sql, (pupil_id, seance_id)).fetchone()
        )
        return attempts, answers

    def change_mark(self) -> tuple[int, int] | None:
        """``PRAGMA data_version`` on this thread's connection, with the connection's id.

        It changes when any other connection (another process, or this one's
        other threads) commits, not when this connection's own writes do.
        """
        connection = self.connection()
        (version,) = connection.execute("PRAGMA data_version").fetchone()
        return id(connection), version

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Cursor]:
        """A cursor in a write transaction, committed on success, rolled back otherwise."""
        connection = self.connection()
        cursor = connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
            cursor.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            cursor.close()


class PostgresStatements(HotStatements):
    """The hot statements on PostgreSQL through psycopg 3: one statement, one round trip each.

    Each connection is in autocommit, so an ``INSERT … RETURNING id`` is its
    own transaction, committed (on disk, with PostgreSQL's default
    ``synchronous_commit``) when its reply comes back.
    """

    marker = "%s"
    application_name = "calculatice rally"
    """How these connections show in ``pg_stat_activity``, unless the URL names them."""

    def __init__(self, engine: Engine) -> None:
        import psycopg

        self._driver = psycopg
        self.integrity_errors = (psycopg.IntegrityError,)
        super().__init__(engine)
        self._options.setdefault("application_name", self.application_name)
        by_index_only(self._options)
        self._finish_sql += f" RETURNING {self._attempt_columns}"

    def connection(self) -> Any:
        """This thread's connection, opened again first if the server has closed it."""
        connection = super().connection()
        if _usable(connection):
            return connection
        logger.warning("PostgreSQL closed a connection of the rally page: opening another")
        self._forget(connection)
        return super().connection()

    def _open(self) -> Any:
        return self._driver.connect(*self._arguments, **self._options, autocommit=True)

    def insert_answer(self, row: Mapping[str, Any]) -> int:
        # With its client key, an answer sent again after a dropped connection is
        # refused by the unique key if the first one went through: safe to resend.
        # With its client key, an answer sent again after a lost connection is refused
        # by the unique key if the first one went through: safe to resend.
        keyed = row.get("client_key") is not None
        return self._run(_inserting(self._insert_answer, row), resend=keyed)

    def insert_attempt(self, row: Mapping[str, Any]) -> int:
        return self._run(_inserting(self._insert_attempt, row), resend=False)

    def insert_pupil(self, row: Mapping[str, Any]) -> int:
        return self._run(_inserting(self._insert_pupil, row), resend=False)

    def pupil_names(self, classroom_id: int) -> list[tuple[int, str]]:
        return self._run(
            lambda cursor: cursor.execute(self._names_sql, (classroom_id,)).fetchall(),
            resend=True,
        )

    def finish_attempt(self, attempt_id: int, changes: Mapping[str, Any]) -> AttemptRecord | None:
        values = (*self._finish_values(changes), attempt_id)

        def finish(cursor: Any) -> Sequence[Any] | None:
            row = cursor.execute(self._finish_sql, values).fetchone()
            if row is None:
                logger.debug("Attempt %s was already finished, or is unknown", attempt_id)
                row = cursor.execute(self._attempt_sql, (attempt_id,)).fetchone()
            return row

        # Finishing twice changes nothing (the first finish wins): safe to resend.
        row = self._run(finish, resend=True)
        return None if row is None else self._attempt_record(row)

    def progress(self, pupil_id: int, seance_id: int) -> tuple[int, int]:
        attempts, answers = self._run(
            lambda cursor: cursor.execute(self.progress_sql, (pupil_id, seance_id)).fetchone(),
            resend=True,
        )
        return attempts, answers

    def _run(self, work: Callable[[Any], Any], *, resend: bool) -> Any:
        """Run ``work`` on a cursor of this thread's connection, opening it again if it dropped."""
        connection = self.connection()
        try:
            with connection.cursor() as cursor:
                return work(cursor)
        except self._driver.OperationalError:
            if not connection.broken and not connection.closed:
                raise
            # Lost while the statement was on its way: whether it ran is unknown.
            logger.warning("PostgreSQL connection lost during a statement: opening another")
            self._forget(connection)
            if not resend:
                raise
        with self.connection().cursor() as cursor:
            return work(cursor)

    def _forget(self, connection: Any) -> None:
        """Drop this thread's broken connection; the next call opens another."""
        self._local.connection = None
        with self._lock:
            if connection in self._opened:
                self._opened.remove(connection)
        connection.close()


def _inserting(insert: _Insert, row: Mapping[str, Any]) -> Callable[[Any], int]:
    """The work of inserting one row on a psycopg cursor, returning its new id."""
    sql, values = f"{insert.sql} RETURNING id", insert.values(row)
    return lambda cursor: cursor.execute(sql, values).fetchone()[0]


def _usable(connection: Any) -> bool:
    """Whether a psycopg connection idle in autocommit is still open at both ends.

    Such a connection has nothing to read until it sends a statement, unless
    the server ended it (a restart, an administrator): then its socket is
    readable, with the server's farewell or the end of the stream. A look
    without waiting costs a system call where a ping would cost a round trip.
    """
    if connection.closed or connection.broken:
        return False
    readable, _, _ = select.select([connection.fileno()], [], [], 0)
    return not readable


def bind_processors(table: Table, names: Sequence[str], dialect: Any) -> list[tuple[int, Any]]:
    """The columns' bind processors on this dialect, by position, for those that have one."""
    processors = []
    for index, name in enumerate(names):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((index, process))
    return processors
