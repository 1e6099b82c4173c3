"""Group commit for the rally on PostgreSQL: many pairs' messages in one statement, one commit.

On PostgreSQL each rally message used to cost two statements of its own
(the freshness check of :meth:`Store.progress_of`, then the answer's
insert, each its own commit) and two trips through a worker thread. At
thousands of pairs on two cores that is most of the machine: PostgreSQL's
share, the driver's, and the thread switches under the interpreter's lock.

Here the server's loop plays a message on the pair's session at once and
keeps what the session would have written (:class:`PendingWrites`); the
messages that arrive while one batch is on its way to the database wait for
the next, and each batch is **one** statement (:data:`BATCH_SQL`), committed
before any of its replies goes out. A message's writes carry where its
session started from (the pair's attempts in the round, and its answers in
the latest): the statement applies them only where the store still agrees, which is the
freshness check made inside the write. Where it does not (another process
moved the pair on), nothing of that message is written and the caller
rebuilds the session from the store and plays the message again.

Attempt ids are drawn ahead from the table's own sequence, so that an
exercise begun in this message can be written in the same statement as the
answers that follow it in later ones.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from calculatice.errors import StoreUnavailable
from calculatice.store.direct import by_index_only
from calculatice.store.store import answer_row, attempt_row, finish_changes

logger = logging.getLogger(__name__)

IDS_AHEAD = 256
"""Attempt ids drawn from the sequence at a time: one round trip per so many exercises begun."""

GATHER_SECONDS = 0.004
"""The least time between two batches' starts: the messages of that time share one statement.

At a thousand messages a second per process that is four or five a
statement, for at most 4 ms more on a reply."""
BATCH_SECONDS = 10.0
"""How long a batch may wait for PostgreSQL before its messages are answered 503.

A database that stops answering without closing its connections (a lock
held, a network cut) would otherwise hold the batch, and the pairs in it,
until TCP gives up; the pages send their messages again meanwhile. The
statement is cancelled: if it committed all the same, the messages' keys
find their answers when they come again."""
CONNECT_SECONDS = 5
"""How long opening a connection may take before the database counts as out of reach."""
REPORT_SECONDS = 60.0
"""How often the server's log tells how many messages a statement carried."""

BATCH_SQL = """
WITH unit AS (
    SELECT * FROM json_to_recordset(%(units)s::json)
        AS u(unit int4, pupil_id int8, seance_id int8, attempts int8, latest int8, answers int8)
), fresh AS (
    SELECT unit.unit FROM unit
    WHERE (SELECT count(*) FROM attempts
           WHERE attempts.pupil_id = unit.pupil_id AND attempts.seance_id = unit.seance_id)
          = unit.attempts
      AND (SELECT count(*) FROM answers WHERE answers.attempt_id = unit.latest) = unit.answers
), begun AS (
    INSERT INTO attempts (id, pupil_id, seance_id, context, exercise_id, position, seed,
                          options, started_at, total, score, duration_ms, finished_at)
    SELECT b.id, b.pupil_id, b.seance_id, b.context, b.exercise_id, b.position, b.seed,
           b.options, b.started_at, b.total, b.score, b.duration_ms, b.finished_at
    FROM json_to_recordset(%(begun)s::json)
        AS b(unit int4, id int8, pupil_id int8, seance_id int8, context text,
             exercise_id text, position int4, seed text, options jsonb,
             started_at timestamptz, total int4, score int4, duration_ms int4,
             finished_at timestamptz)
    WHERE b.unit IN (SELECT fresh.unit FROM fresh)
    RETURNING id
), given AS (
    INSERT INTO answers (attempt_id, question_index, attempt_number, question_shown,
                         expected, typed, read_as, outcome, response_ms, answered_at,
                         client_key)
    SELECT a.attempt_id, a.question_index, a.attempt_number, a.question_shown, a.expected,
           a.typed, a.read_as, a.outcome, a.response_ms, a.answered_at, a.client_key
    FROM json_to_recordset(%(answers)s::json)
        AS a(unit int4, attempt_id int8, question_index int4, attempt_number int4,
             question_shown text, expected text, typed text, read_as text, outcome text,
             response_ms int4, answered_at timestamptz, client_key text)
    WHERE a.unit IN (SELECT fresh.unit FROM fresh)
    ON CONFLICT DO NOTHING
    RETURNING attempt_id, question_index, attempt_number
), finished AS (
    UPDATE attempts
    SET score = f.score, total = f.total, duration_ms = f.duration_ms,
        finished_at = f.finished_at
    FROM json_to_recordset(%(finished)s::json)
        AS f(unit int4, id int8, score int4, total int4, duration_ms int4,
             finished_at timestamptz)
    WHERE attempts.id = f.id AND attempts.finished_at IS NULL
      AND f.unit IN (SELECT fresh.unit FROM fresh)
    RETURNING attempts.id
)
SELECT 0, fresh.unit, 0, 0 FROM fresh
UNION ALL SELECT 1, given.attempt_id, given.question_index, given.attempt_number FROM given
UNION ALL SELECT 2, count(*), 0, 0 FROM begun
UNION ALL SELECT 3, count(*), 0, 0 FROM finished
"""
"""One batch of messages' writes, each message (a *unit*) applied only if its pair stands in
the store where its session started from: as many attempts, and as many answers in the latest
(see :meth:`calculatice.rally.service.RallyRecorder.mark`); every CTE sees the same snapshot.
Counting the pair's answers in every exercise instead cost PostgreSQL ten times more by the end
of a round, as much as the rest of the statement.

Returned rows: ``(0, unit)`` for each unit applied, ``(1, attempt, question, try)`` for each
answer written (an answer whose key is already stored is skipped, and its unit is then
incomplete), and the counts of attempts begun (2) and finished (3), for the log.
"""


@dataclass
class PendingWrites:
    """What one message's session would have written: the store's three recorder methods.

    A recorder writes here instead of to the store while the message is
    played (:meth:`calculatice.pupil.StoreRecorder.writing_to`); the rows are
    built by the store's own functions, so they are checked and shaped alike.

    Parameters
    ----------
    batches
        Where ids of new attempts come from.
    pupil_id, seance_id
        The pair and its round's séance.
    mark
        The pair's attempts in the séance, the latest one's id (``None``: none
        yet) and its answers, as its session stands before the message: the
        statement writes nothing unless the store agrees.
    """

    batches: PostgresBatches
    pupil_id: int
    seance_id: int
    mark: tuple[int, int | None, int]
    begun: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    finished: list[dict[str, Any]] = field(default_factory=list)

    def start_attempt(self, pupil_id: int, exercise_id: str, **row: Any) -> int:
        """As :meth:`Store.start_attempt`: the new attempt's id, drawn ahead from the sequence."""
        begun = attempt_row(pupil_id, exercise_id, **row)
        begun["id"] = self.batches.next_attempt_id()
        self.begun.append(begun)
        return begun["id"]

    def record_answer(self, attempt_id: int, **row: Any) -> None:
        """As :meth:`Store.record_answer`, without an id (the recorder does not need one)."""
        self.answers.append(answer_row(attempt_id, **row))

    def finish_attempt(
        self, attempt_id: int, *, score: int, total: int, duration_ms: int, **rest: Any
    ) -> None:
        """As :meth:`Store.finish_attempt`; an attempt begun in this same message is written
        finished (an UPDATE does not see a row its own statement inserts)."""
        changes = finish_changes(score=score, total=total, duration_ms=duration_ms, **rest)
        for begun in self.begun:
            if begun["id"] == attempt_id:
                begun.update(changes)
                return
        self.finished.append({"id": attempt_id, **changes})

    def answer_keys(self) -> set[tuple[int, int, int]]:
        """The answers as the statement returns those it wrote: attempt, question, try."""
        return {
            (row["attempt_id"], row["question_index"], row["attempt_number"])
            for row in self.answers
        }


class PostgresBatches:
    """Writes :class:`PendingWrites` in batches on one asynchronous psycopg connection.

    Used from the server's event loop only: :meth:`commit` waits for the
    batch holding the message's writes to be committed, and says whether
    they were written. One batch is on its way at a time; the messages that
    come meanwhile form the next.
    """

    application_name = "calculatice rally batches"

    def __init__(self, engine: Engine) -> None:
        import psycopg

        self._driver = psycopg
        dialect = engine.dialect
        self._arguments, self._options = dialect.create_connect_args(engine.url)
        self._options.setdefault("application_name", self.application_name)
        by_index_only(self._options)
        # Drawing ids blocks the loop: a database out of reach must not hold it long.
        self._options.setdefault("connect_timeout", CONNECT_SECONDS)
        self._connection: Any = None
        self._waiting: list[tuple[PendingWrites, asyncio.Future]] = []
        self._writing = False
        self._writer: asyncio.Future | None = None
        self._ids: list[int] = []
        self._ids_lock = threading.Lock()
        self._ids_connection: Any = None
        self._started = 0.0
        self._reported = 0.0
        self._reported_batches = self._reported_units = 0
        self.batches = 0
        """Statements run so far, for the log and the benchmarks."""
        self.units = 0
        """Messages written so far."""

    # Attempt ids.

    def next_attempt_id(self) -> int:
        """An id for a new attempt, from :data:`IDS_AHEAD` drawn at once from the sequence.

        Drawing blocks for one round trip every :data:`IDS_AHEAD` attempts.

        Raises
        ------
        StoreUnavailable
            The database could not be reached.
        """
        with self._ids_lock:
            if not self._ids:
                self._ids = self._draw_ids()
            return self._ids.pop()

    def _draw_ids(self) -> list[int]:
        try:
            if self._ids_connection is None or self._ids_connection.closed:
                self._ids_connection = self._driver.connect(
                    *self._arguments, **self._options, autocommit=True
                )
            rows = self._ids_connection.execute(
                "SELECT nextval(pg_get_serial_sequence('attempts', 'id'))"
                " FROM generate_series(1, %s)",
                (IDS_AHEAD,),
            ).fetchall()
        except self._driver.OperationalError as error:
            self._drop_ids_connection()
            raise StoreUnavailable(f"Base de données injoignable : {error}") from error
        return sorted((row[0] for row in rows), reverse=True)

    def _drop_ids_connection(self) -> None:
        if self._ids_connection is not None:
            self._ids_connection.close()
            self._ids_connection = None

    # Batches.

    async def commit(self, pending: PendingWrites) -> bool:
        """Write one message's rows with others', committed; whether they were all written.

        ``False``: the store does not hold the progress the session started
        from (another process served the pair meanwhile), or one of its
        answers was already stored; nothing of it, or not all of it, was
        written, and the session must be rebuilt from the store.

        Raises
        ------
        StoreUnavailable
            The database could not be reached: whether the batch was committed
            is unknown, as for any write whose reply was lost.
        """
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((pending, future))
        if not self._writing:
            self._writing = True
            self._writer = asyncio.ensure_future(self._write_waiting())
        return await future

    async def _write_waiting(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                # Let the messages of the next few milliseconds join this batch: one
                # statement for many pairs is what spares PostgreSQL's CPU.
                delay = self._started + GATHER_SECONDS - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                self._started = loop.time()
                batch, self._waiting = self._waiting, []
                await self._write(batch)
                self._report(loop.time())
        finally:
            self._writing = False

    def _report(self, now: float) -> None:
        if now - self._reported < REPORT_SECONDS:
            return
        if self.batches > self._reported_batches:
            logger.info(
                "Rally writes: %d messages in %d statements (%.1f a statement) lately",
                self.units - self._reported_units,
                self.batches - self._reported_batches,
                (self.units - self._reported_units) / (self.batches - self._reported_batches),
            )
        self._reported = now
        self._reported_batches, self._reported_units = self.batches, self.units

    async def _write(self, batch: list[tuple[PendingWrites, asyncio.Future]]) -> None:
        units = [pending for pending, _future in batch]
        try:
            written = await asyncio.wait_for(self._run(units), BATCH_SECONDS)
        except (self._driver.OperationalError, TimeoutError) as error:
            why = str(error) or f"no reply in {BATCH_SECONDS} s"
            logger.warning("PostgreSQL unreachable for %d messages' writes: %s", len(units), why)
            self._drop_connection()
            _settle(batch, StoreUnavailable(f"Base de données injoignable : {why}"))
            return
        except Exception as error:
            if len(batch) == 1:
                logger.exception("A rally message's writes were refused")
                _settle(batch, error)
                return
            # One message's rows broke the statement: write each alone, so that only it fails.
            logger.warning("A batch of %d messages failed (%s): one at a time", len(batch), error)
            for one in batch:
                await self._write([one])
            return
        for (_pending, future), ok in zip(batch, written, strict=True):
            if not future.done():
                future.set_result(ok)

    async def _run(self, units: list[PendingWrites]) -> list[bool]:
        connection = await self._open()
        async with connection.cursor() as cursor:
            await cursor.execute(BATCH_SQL, _parameters(units))
            rows = await cursor.fetchall()
        fresh = {row[1] for row in rows if row[0] == 0}
        given = {(row[1], row[2], row[3]) for row in rows if row[0] == 1}
        self.batches += 1
        self.units += len(units)
        written = [
            number in fresh and pending.answer_keys() <= given
            for number, pending in enumerate(units)
        ]
        if not all(written):
            logger.info(
                "%d of %d messages not written: their pairs moved on elsewhere",
                written.count(False),
                len(units),
            )
        return written

    async def _open(self) -> Any:
        """The batches' connection, opened (again) if there is none or the server closed it."""
        connection = self._connection
        if connection is not None and not (connection.closed or connection.broken):
            return connection
        if connection is not None:
            self._drop_connection()
        self._connection = await self._driver.AsyncConnection.connect(
            *self._arguments, **self._options, autocommit=True
        )
        return self._connection

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.closed:
            # Without a word to a server that may not answer: the socket is closed.
            connection.pgconn.finish()

    def close(self) -> None:
        """Close both connections (callable with or without the loop running)."""
        self._drop_connection()
        with self._ids_lock:
            self._drop_ids_connection()


def _settle(batch: list[tuple[PendingWrites, asyncio.Future]], error: BaseException) -> None:
    for _pending, future in batch:
        if not future.done():
            future.set_exception(error)


def _parameters(units: list[PendingWrites]) -> dict[str, str]:
    """The statement's four JSON documents, each row tagged with its unit's number.

    One JSON text per table rather than an array per column: the driver
    sends four strings that ``json.dumps`` wrote in C, where arrays cost it
    Python work per value, and PostgreSQL reads them in one pass.
    """
    progress, begun, answers, finished = [], [], [], []
    for number, pending in enumerate(units):
        attempts, latest, answered = pending.mark
        progress.append(
            {
                "unit": number,
                "pupil_id": pending.pupil_id,
                "seance_id": pending.seance_id,
                "attempts": attempts,
                "latest": latest,
                "answers": answered,
            }
        )
        begun.extend({**row, "unit": number} for row in pending.begun)
        answers.extend({**row, "unit": number} for row in pending.answers)
        finished.extend({**row, "unit": number} for row in pending.finished)
    return {
        "units": _json(progress),
        "begun": _json(begun),
        "answers": _json(answers),
        "finished": _json(finished),
    }


def _json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, default=_moment)


def _moment(value: Any) -> str:
    """Times as ISO 8601 with their offset, which PostgreSQL reads as ``timestamptz``."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
