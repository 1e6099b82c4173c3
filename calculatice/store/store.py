"""The results store: what the rest of the application calls to read and write results.

Each method runs and commits its own transaction and returns frozen records
(:mod:`calculatice.store.records`), so callers never hold a session and an
answer is on disk as soon as :meth:`Store.record_answer` returns.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, bindparam, distinct, func, insert, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from calculatice.errors import StoreError
from calculatice.store.database import (
    WRITE_OPTION,
    create_store_engine,
    parse_url,
    reporting_outages,
    upgrade,
)
from calculatice.store.direct import hot_statements_for
from calculatice.store.models import (
    LEVELS,
    OUTCOMES,
    RALLY_STATUSES,
    SECTORS,
    Answer,
    Attempt,
    Classroom,
    Pupil,
    Rally,
    RallyClass,
    School,
    Seance,
    Teacher,
    classroom_teachers,
    utc_now,
)
from calculatice.store.records import (
    AnswerRecord,
    AttemptRecord,
    ClassroomRecord,
    PupilRecord,
    RallyClassRecord,
    RallyRecord,
    ResumePoint,
    SchoolRecord,
    SeanceRecord,
    TeacherRecord,
)

logger = logging.getLogger(__name__)

RecordT = TypeVar("RecordT")


def open_store(url: str | URL | None = None) -> Store:
    """Open the results store, creating or upgrading its schema first.

    Parameters
    ----------
    url
        Database URL: ``sqlite:///path/to/file.sqlite`` or
        ``postgresql+psycopg://user:password@host:port/database``. ``None``
        means ``$CALCULATICE_DB_URL``, else ``calculatice.sqlite`` in the
        current directory.

    Returns
    -------
    Store
        Close it with :meth:`Store.close` (or use it as a context manager).
    """
    parsed = parse_url(url)
    upgrade(parsed)
    store = Store(create_store_engine(parsed))
    logger.info("Results store open on %s", parsed.render_as_string(hide_password=True))
    return store


def connect_store(url: str | URL | None = None) -> Store:
    """Open the results store without migrating it, for processes started after the server.

    A pupil page's kernel uses this: the server upgraded the schema when it
    started, and Alembic would only add to the kernel's memory.
    """
    return Store(create_store_engine(parse_url(url)))


class Store:
    """Reads and writes schools, classes, pupils, séances, attempts and answers.

    Safe to share between threads: each call takes its own connection from
    the engine's pool. Build it with :func:`open_store`, which migrates the
    schema; the constructor trusts that the schema is up to date.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._write_engine = engine.execution_options(**{WRITE_OPTION: True})
        # SQLite has one writer at a time, and a connection that finds the write
        # lock taken polls for it, sleeping up to 100 ms between tries: threads
        # of one process take turns on this lock instead, woken as soon as it is
        # free. Other processes still meet the busy timeout.
        self._write_lock = threading.RLock() if engine.dialect.name == "sqlite" else None
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._direct = hot_statements_for(engine)
        self._refused = (IntegrityError, *(self._direct.integrity_errors if self._direct else ()))
        self._batches = None
        self._batches_lock = threading.Lock()

    @property
    def direct(self) -> bool:
        """Whether the rally's hot statements bypass SQLAlchemy (SQLite on a file, psycopg)."""
        return self._direct is not None

    def batched_writes(self):
        """The rally's group commit on PostgreSQL through psycopg, one per store; else ``None``.

        See :mod:`calculatice.store.batched`.
        """
        if self._engine.dialect.name != "postgresql" or self._engine.dialect.driver != "psycopg":
            return None
        with self._batches_lock:
            if self._batches is None:
                from calculatice.store.batched import PostgresBatches

                self._batches = PostgresBatches(self._engine)
            return self._batches

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for analytics that read tables in bulk."""
        return self._engine

    def close(self) -> None:
        """Close every pooled connection; the store must not be used afterwards."""
        self._engine.dispose()
        if self._direct is not None:
            self._direct.close()
        if self._batches is not None:
            self._batches.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # Schools, classes, teachers, pupils.

    def add_school(
        self, code: str, name: str, *, district: str = "", sector: str = "public"
    ) -> SchoolRecord:
        """Add a school; ``sector`` is one of ``public``, ``rep``, ``rep_plus``, ``private``.

        Raises :class:`StoreError` if a school already has this ``code``.
        """
        _check_choice("secteur", sector, SECTORS)
        school = School(code=code, name=name, district=district, sector=sector)
        with self._refusing(f"Une école a déjà le code « {code} »."), self._writing() as session:
            session.add(school)
        return _record(SchoolRecord, school)

    def school_by_code(self, code: str) -> SchoolRecord | None:
        """The school with this official code, or ``None``."""
        with self._reading() as session:
            school = session.scalars(select(School).where(School.code == code)).first()
            return None if school is None else _record(SchoolRecord, school)

    def classrooms(self, school_id: int | None = None) -> list[ClassroomRecord]:
        """Every class, or those of one school, in the order they were added."""
        query = select(Classroom).order_by(Classroom.id)
        if school_id is not None:
            query = query.where(Classroom.school_id == school_id)
        with self._reading() as session:
            return [_record(ClassroomRecord, classroom) for classroom in session.scalars(query)]

    def add_classroom(
        self, school_id: int, name: str, level: str, *, code: str | None = None
    ) -> ClassroomRecord:
        """Add a class of ``level`` (``CP`` … ``CM2``, ``6e``) to a school.

        ``code``, if given, must be unique across all classes. Raises
        :class:`StoreError` for an unknown school or a code already taken.
        """
        _check_choice("niveau", level, LEVELS)
        classroom = Classroom(school_id=school_id, name=name, level=level, code=code)
        refusal = f"Classe refusée : école {school_id} inconnue ou code « {code} » déjà pris."
        with self._refusing(refusal), self._writing() as session:
            session.add(classroom)
        return _record(ClassroomRecord, classroom)

    def classroom_by_code(self, code: str) -> ClassroomRecord | None:
        """The class with exactly this code, or ``None``."""
        with self._reading() as session:
            classroom = session.scalars(select(Classroom).where(Classroom.code == code)).first()
            return None if classroom is None else _record(ClassroomRecord, classroom)

    def classroom(self, classroom_id: int) -> ClassroomRecord | None:
        """The class with this id, or ``None``."""
        with self._reading() as session:
            classroom = session.get(Classroom, classroom_id)
            return None if classroom is None else _record(ClassroomRecord, classroom)

    def add_teacher(self, login: str, display_name: str, password_hash: str = "") -> TeacherRecord:
        """Add a teacher's account; ``password_hash`` is made by the caller, never here.

        Raises :class:`StoreError` if the login is taken.
        """
        teacher = Teacher(login=login, display_name=display_name, password_hash=password_hash)
        with (
            self._refusing(f"L'identifiant « {login} » est déjà pris."),
            self._writing() as session,
        ):
            session.add(teacher)
        return _record(TeacherRecord, teacher)

    def assign_teacher(self, classroom_id: int, teacher_id: int) -> None:
        """Let a teacher follow a class; doing it twice changes nothing."""
        link = {"classroom_id": classroom_id, "teacher_id": teacher_id}
        with self._writing() as session:
            exists = session.execute(select(classroom_teachers).filter_by(**link).limit(1)).first()
            if exists is not None:
                return
            refusal = f"Classe {classroom_id} ou enseignant {teacher_id} inconnu."
            with self._refusing(refusal):
                session.execute(insert(classroom_teachers).values(**link))

    def add_pupil(
        self, classroom_id: int, display_name: str, is_pair: bool = False
    ) -> PupilRecord:
        """Add a pupil, or a pair of pupils (``is_pair``, named like « Léa et Tom »), to a class.

        Only a first name is kept. Raises :class:`StoreError` for an unknown class.
        """
        refusal = f"Classe {classroom_id} inconnue."
        if self._direct is not None:
            # A rally's pairs join by the hundred a second: one statement on the driver.
            row = {
                "classroom_id": classroom_id,
                "display_name": display_name,
                "is_pair": is_pair,
                "created_at": utc_now(),
            }
            with self._refusing(refusal), self._one_writer():
                return PupilRecord(id=self._direct.insert_pupil(row), **row)
        pupil = Pupil(classroom_id=classroom_id, display_name=display_name, is_pair=is_pair)
        with self._refusing(refusal), self._writing() as session:
            session.add(pupil)
        return _record(PupilRecord, pupil)

    def find_pupil(self, classroom_id: int, display_name: str) -> PupilRecord | None:
        """The pupil of a class with exactly this display name, or ``None``.

        Names are not unique in a class; when two pupils share one, the one
        added first is returned.
        """
        query = (
            select(Pupil)
            .where(Pupil.classroom_id == classroom_id, Pupil.display_name == display_name)
            .order_by(Pupil.id)
            .limit(1)
        )
        with self._reading() as session:
            pupil = session.scalars(query).first()
            return None if pupil is None else _record(PupilRecord, pupil)

    def pupil(self, pupil_id: int) -> PupilRecord | None:
        """The pupil or pair with this id, or ``None``."""
        with self._reading() as session:
            pupil = session.get(Pupil, pupil_id)
            return None if pupil is None else _record(PupilRecord, pupil)

    def pupil_names(self, classroom_id: int) -> list[tuple[int, str]]:
        """Ids and display names of a class's pupils, in the order they were added.

        What a join compares a pair's names with; on the driver itself where the
        store has its direct statements (about a tenth of :meth:`pupils_of`'s CPU).
        """
        if self._direct is not None:
            return self._direct.pupil_names(classroom_id)
        query = (
            select(Pupil.id, Pupil.display_name)
            .where(Pupil.classroom_id == classroom_id)
            .order_by(Pupil.id)
        )
        with self._reading() as session:
            return [tuple(row) for row in session.execute(query)]

    def pupils_of(self, classroom_id: int) -> list[PupilRecord]:
        """The pupils and pairs of a class, in the order they were added."""
        query = select(Pupil).where(Pupil.classroom_id == classroom_id).order_by(Pupil.id)
        with self._reading() as session:
            return [_record(PupilRecord, pupil) for pupil in session.scalars(query)]

    # Séances.

    def add_seance(
        self,
        code: str,
        title: str,
        definition: Mapping[str, Any],
        classroom_id: int | None = None,
    ) -> SeanceRecord:
        """Add a séance under the code pupils will type.

        Parameters
        ----------
        code
            Unique across all séances; normalising what pupils type (case,
            spaces) is the caller's job.
        title
            The title shown to pupils and teachers.
        definition
            A JSON object: the ordered exercises with their overrides, as the
            séance module writes it.
        classroom_id
            The class it was made for, or ``None`` for a séance open to all.

        Raises
        ------
        StoreError
            The code is taken, or the class is unknown.
        """
        seance = Seance(
            code=code, title=title, definition=dict(definition), classroom_id=classroom_id
        )
        refusal = f"Séance refusée : code « {code} » déjà pris ou classe {classroom_id} inconnue."
        with self._refusing(refusal), self._writing() as session:
            session.add(seance)
        return _record(SeanceRecord, seance)

    def seances_of(self, classroom_id: int) -> list[SeanceRecord]:
        """The séances made for a class, oldest first."""
        query = select(Seance).where(Seance.classroom_id == classroom_id).order_by(Seance.id)
        with self._reading() as session:
            return [_record(SeanceRecord, seance) for seance in session.scalars(query)]

    def seance_by_code(self, code: str) -> SeanceRecord | None:
        """The séance with exactly this code, or ``None``."""
        with self._reading() as session:
            seance = session.scalars(select(Seance).where(Seance.code == code)).first()
            return None if seance is None else _record(SeanceRecord, seance)

    # Attempts and answers.

    @reporting_outages
    def start_attempt(
        self,
        pupil_id: int,
        exercise_id: str,
        *,
        seed: str,
        total: int,
        options: Mapping[str, Any] | None = None,
        seance_id: int | None = None,
        context: str | None = None,
        position: int = 0,
        started_at: datetime | None = None,
    ) -> int:
        """Record that a pupil starts an exercise, and return the attempt's id.

        Parameters
        ----------
        pupil_id
            The pupil or pair.
        exercise_id
            The exercise of the bank.
        seed
            The seed the questions are drawn from, so that they can be drawn again.
        total
            How many questions the exercise asks.
        options
            The option values in force (after the séance's overrides), as JSON.
        seance_id
            The séance, or ``None`` outside of one.
        context
            Where else the attempt happens (a rally round, free practice), or ``None``.
        position
            The exercise's place in the séance, from 0.
        started_at
            Timezone-aware start time; now by default.

        Raises
        ------
        StoreError
            Unknown pupil or séance, or a naive ``started_at``.
        """
        row = attempt_row(
            pupil_id,
            exercise_id,
            seed=seed,
            total=total,
            options=options,
            seance_id=seance_id,
            context=context,
            position=position,
            started_at=started_at,
        )
        refusal = f"Essai refusé : élève {pupil_id} ou séance {seance_id} inconnu."
        if self._direct is not None:
            with self._refusing(refusal), self._one_writer():
                attempt_id = self._direct.insert_attempt(row)
        else:
            attempt = Attempt(**row)
            with self._refusing(refusal), self._writing() as session:
                session.add(attempt)
            attempt_id = attempt.id
        logger.debug("Attempt %s started: pupil %s, %s", attempt_id, pupil_id, exercise_id)
        return attempt_id

    @reporting_outages
    def record_answer(
        self,
        attempt_id: int,
        *,
        question_index: int,
        attempt_number: int,
        question_shown: str,
        expected: str,
        typed: str | None,
        read_as: str,
        outcome: str,
        response_ms: int | None,
        answered_at: datetime | None = None,
        client_key: str | None = None,
    ) -> int:
        """Write one answer at once, and return its id.

        Parameters
        ----------
        attempt_id
            The attempt it belongs to.
        question_index, attempt_number
            Which question (from 0) and which try at it (from 1).
        question_shown, expected
            The question as the pupil saw it and the expected answer, as text.
        typed
            What the pupil typed, verbatim: it is never trimmed nor normalised;
            ``None`` when nothing was sent (a time-out noticed by the server).
        read_as
            The value it was read as, written back (empty when unreadable).
        outcome
            ``right``, ``wrong``, ``empty`` or ``timeout``.
        response_ms
            Time from the question shown to the answer given, in milliseconds;
            ``None`` when the question was never shown (not reached).
        answered_at
            Timezone-aware time of the answer; now by default.
        client_key
            A key the player sends with the answer so that a retried request is
            recorded once: a second call with the same key for the same attempt
            writes nothing and returns the first answer's id. Keys are
            compared exactly; ``None`` disables the check.

        Raises
        ------
        StoreError
            Unknown attempt or outcome, or a naive ``answered_at``.
        """
        row = answer_row(
            attempt_id,
            question_index=question_index,
            attempt_number=attempt_number,
            question_shown=question_shown,
            expected=expected,
            typed=typed,
            read_as=read_as,
            outcome=outcome,
            response_ms=response_ms,
            answered_at=answered_at,
            client_key=client_key,
        )
        # The rally's hot path: one Core insert in one short transaction, no ORM
        # session, and no look-up first: the unique (attempt, key) constraint
        # refuses a retried answer, and only then is the first one looked up.
        # Where the driver allows, the same on the thread's own connection, without
        # SQLAlchemy (see calculatice.store.direct).
        try:
            if self._direct is not None:
                with self._one_writer():
                    return self._direct.insert_answer(row)
            with self._one_writer(), self._write_engine.begin() as connection:
                return connection.execute(_INSERT_ANSWER, row).inserted_primary_key[0]
        except self._refused as error:
            already = None
            if client_key is not None:
                already = self._answer_id_by_key(attempt_id, client_key)
            if already is None:
                raise StoreError(f"Réponse refusée : essai {attempt_id} inconnu.") from error
            logger.debug("Answer %s already recorded for key %r", already, client_key)
            return already

    @reporting_outages
    def finish_attempt(
        self,
        attempt_id: int,
        *,
        score: int,
        total: int,
        duration_ms: int,
        finished_at: datetime | None = None,
    ) -> AttemptRecord:
        """Record an attempt's score and duration, and return it as finished.

        Finishing an attempt that is already finished changes nothing (the
        first finish wins), so a retried request is harmless.

        Raises
        ------
        StoreError
            Unknown attempt, a score outside ``0..total``, or a naive ``finished_at``.
        """
        changes = finish_changes(
            score=score, total=total, duration_ms=duration_ms, finished_at=finished_at
        )
        finished_at = changes["finished_at"]
        if self._direct is not None:
            with self._one_writer():
                record = self._direct.finish_attempt(attempt_id, changes)
            if record is None:
                raise StoreError(f"Essai {attempt_id} inconnu.")
            return record
        with self._writing() as session:
            attempt = session.get(Attempt, attempt_id)
            if attempt is None:
                raise StoreError(f"Essai {attempt_id} inconnu.")
            if attempt.finished_at is not None:
                logger.debug("Attempt %s was already finished", attempt_id)
            else:
                attempt.score = score
                attempt.total = total
                attempt.duration_ms = duration_ms
                attempt.finished_at = finished_at
        return _record(AttemptRecord, attempt)

    def answers_of(self, attempt_id: int) -> list[AnswerRecord]:
        """The answers of an attempt, by question, then in the order they were given."""
        query = (
            select(Answer)
            .where(Answer.attempt_id == attempt_id)
            .order_by(Answer.question_index, Answer.attempt_number, Answer.id)
        )
        with self._reading() as session:
            return [_record(AnswerRecord, answer) for answer in session.scalars(query)]

    def answers_in_seance(self, pupil_id: int, seance_id: int) -> list[AnswerRecord]:
        """Every answer of a pupil in a séance: attempt by attempt, as :meth:`attempts_of`
        orders them, then as :meth:`answers_of` does, in one query.

        A session rebuilt from the store (a pair served by another process, a
        restart) reads them all at once, rather than an attempt at a time.
        """
        query = (
            select(*Answer.__table__.c)
            .join(Attempt, Attempt.id == Answer.attempt_id)
            .where(Attempt.pupil_id == pupil_id, Attempt.seance_id == seance_id)
            .order_by(
                Attempt.started_at,
                Attempt.id,
                Answer.question_index,
                Answer.attempt_number,
                Answer.id,
            )
        )
        with self._engine.connect() as connection:
            return [_record(AnswerRecord, row) for row in connection.execute(query)]

    def attempts_of(self, pupil_id: int, seance_id: int | None) -> list[AttemptRecord]:
        """A pupil's attempts in a séance (``None``: outside any séance), oldest first."""
        # Core rather than the ORM: every session rebuilt from the store reads them.
        query = (
            select(*Attempt.__table__.c)
            .where(Attempt.pupil_id == pupil_id, _same_seance(seance_id))
            .order_by(Attempt.started_at, Attempt.id)
        )
        with self._engine.connect() as connection:
            return [_record(AttemptRecord, row) for row in connection.execute(query)]

    def progress_of(self, pupil_id: int, seance_id: int) -> tuple[int, int]:
        """How many attempts and answers a pupil has in a séance, in one cheap query.

        A process that keeps a pupil's session in memory compares these with
        what it recorded itself, to notice that another process moved on. It
        runs on every rally request: a prebuilt statement on the thread's own
        driver connection, in autocommit (each query reads what every process
        committed before it), no ORM session and no transaction: on SQLite about
        13 µs against 20 µs through the pool, on PostgreSQL one round trip
        against three (the pool's ping, the query, the reset).
        """
        if self._direct is not None:
            return self._direct.progress(pupil_id, seance_id)
        with self._engine.connect() as connection:
            found = connection.execute(_PROGRESS, {"pupil_id": pupil_id, "seance_id": seance_id})
            attempts, answers = found.one()
        return attempts, answers

    def change_mark(self) -> tuple[int, int] | None:
        """A mark that stays the same while nothing but this thread writes to the database.

        On SQLite, ``PRAGMA data_version`` on the thread's own connection: it
        changes when any other connection (another process, or this one's
        other connections) commits, not when this thread's own writes do. A
        caller that saw :meth:`progress_of` agree with its own count under a
        mark, and finds the same mark again, knows without asking that the
        count still holds, as far as its own writes were counted. ``None``
        where there is no such mark (PostgreSQL): ask :meth:`progress_of`.
        """
        if self._direct is None:
            return None
        return self._direct.change_mark()

    def resume_point(self, pupil_id: int, seance_id: int | None) -> ResumePoint | None:
        """Where a pupil left a séance: the last unfinished attempt and its answers so far.

        Returns ``None`` when every attempt of the pupil in the séance
        (``None``: outside any séance) is finished, or there is none.
        """
        last_unfinished = (
            select(Attempt)
            .where(
                Attempt.pupil_id == pupil_id,
                _same_seance(seance_id),
                Attempt.finished_at.is_(None),
            )
            .order_by(Attempt.started_at.desc(), Attempt.id.desc())
            .limit(1)
        )
        with self._reading() as session:
            attempt = session.scalars(last_unfinished).first()
            if attempt is None:
                return None
            count, last_index = session.execute(
                select(func.count(Answer.id), func.max(Answer.question_index)).where(
                    Answer.attempt_id == attempt.id
                )
            ).one()
            return ResumePoint(_record(AttemptRecord, attempt), count, last_index)

    # Rallies.

    def add_rally(
        self, edition: str, title: str, seed: str, definition: Mapping[str, Any]
    ) -> RallyRecord:
        """Add a rally edition, ``scheduled`` (it follows its window).

        Raises :class:`StoreError` if the edition exists already.
        """
        rally = Rally(
            edition=edition,
            title=title,
            seed=seed,
            status="scheduled",
            definition=dict(definition),
        )
        refusal = f"Le rallye « {edition} » existe déjà."
        with self._refusing(refusal), self._writing() as session:
            session.add(rally)
        return _record(RallyRecord, rally)

    def rally_by_edition(self, edition: str) -> RallyRecord | None:
        """The rally of this edition, or ``None``."""
        with self._reading() as session:
            rally = session.scalars(select(Rally).where(Rally.edition == edition)).first()
            return None if rally is None else _record(RallyRecord, rally)

    def rally(self, rally_id: int) -> RallyRecord | None:
        """The rally with this id, or ``None``."""
        with self._reading() as session:
            rally = session.get(Rally, rally_id)
            return None if rally is None else _record(RallyRecord, rally)

    def rallies(self) -> list[RallyRecord]:
        """Every rally, in the order they were created."""
        with self._reading() as session:
            return [_record(RallyRecord, rally) for rally in session.scalars(select(Rally))]

    def set_rally_status(self, rally_id: int, status: str) -> RallyRecord:
        """Open, close or reschedule a rally; closing stamps ``closed_at`` (the first time).

        Raises :class:`StoreError` for an unknown rally or status.
        """
        _check_choice("état", status, RALLY_STATUSES)
        with self._writing() as session:
            rally = session.get(Rally, rally_id)
            if rally is None:
                raise StoreError(f"Rallye {rally_id} inconnu.")
            rally.status = status
            if status == "closed" and rally.closed_at is None:
                rally.closed_at = utc_now()
        return _record(RallyRecord, rally)

    def register_rally_class(
        self, rally_id: int, classroom_id: int, round_key: str
    ) -> RallyClassRecord:
        """Register a class in a rally for one round.

        Raises :class:`StoreError` for an unknown rally or class, or a class
        registered already.
        """
        registration = RallyClass(
            rally_id=rally_id, classroom_id=classroom_id, round_key=round_key
        )
        refusal = f"Classe {classroom_id} déjà inscrite, ou rallye {rally_id} inconnu."
        with self._refusing(refusal), self._writing() as session:
            session.add(registration)
        return _record(RallyClassRecord, registration)

    def rally_classes(self, rally_id: int) -> list[RallyClassRecord]:
        """The classes registered in a rally, in the order of their ids."""
        query = (
            select(RallyClass)
            .where(RallyClass.rally_id == rally_id)
            .order_by(RallyClass.classroom_id)
        )
        with self._reading() as session:
            return [_record(RallyClassRecord, row) for row in session.scalars(query)]

    def rally_class_of(self, classroom_id: int) -> RallyClassRecord | None:
        """The latest rally registration of a class, or ``None``."""
        query = (
            select(RallyClass)
            .where(RallyClass.classroom_id == classroom_id)
            .order_by(RallyClass.rally_id.desc())
            .limit(1)
        )
        with self._reading() as session:
            row = session.scalars(query).first()
            return None if row is None else _record(RallyClassRecord, row)

    def set_training_seance(self, rally_id: int, classroom_id: int, seance_id: int) -> None:
        """Remember the training séance made for a registered class once the rally closed."""
        with self._writing() as session:
            row = session.get(RallyClass, (rally_id, classroom_id))
            if row is None:
                raise StoreError(f"Classe {classroom_id} non inscrite au rallye {rally_id}.")
            row.training_seance_id = seance_id

    # Helpers.

    def _answer_id_by_key(self, attempt_id: int, client_key: str) -> int | None:
        """The id of the answer already recorded under this key, if any."""
        with self._engine.connect() as connection:
            return connection.execute(
                _ANSWER_BY_KEY, {"attempt_id": attempt_id, "client_key": client_key}
            ).scalar()

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """A session whose transaction writes, committed on success.

        It is marked so that SQLite takes the write lock at BEGIN, waiting for
        other writers, instead of failing half-way with "database is locked".
        """
        with self._one_writer(), self._sessions.begin() as session:
            session.connection(execution_options={WRITE_OPTION: True})
            yield session

    @contextmanager
    def _one_writer(self) -> Iterator[None]:
        """Hold this process's write turn on SQLite (see ``_write_lock``); nothing elsewhere."""
        if self._write_lock is None:
            yield
            return
        with self._write_lock:
            yield

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        """A session that only reads; its transaction is rolled back on close."""
        with self._sessions() as session:
            yield session

    @contextmanager
    def _refusing(self, message: str) -> Iterator[None]:
        """Turn the database's refusal (a broken constraint) into a :class:`StoreError`."""
        try:
            yield
        except self._refused as error:
            logger.debug("Integrity error: %s", getattr(error, "orig", error))
            raise StoreError(message) from error


_INSERT_ANSWER = insert(Answer)
"""One answer, built once: it runs on every answer of every pair."""
_ANSWER_BY_KEY = (
    select(Answer.id)
    .where(
        Answer.attempt_id == bindparam("attempt_id"),
        Answer.client_key == bindparam("client_key"),
    )
    .limit(1)
)
_PROGRESS = (
    select(func.count(distinct(Attempt.id)), func.count(Answer.id))
    .select_from(Attempt)
    .outerjoin(Answer, Answer.attempt_id == Attempt.id)
    .where(Attempt.pupil_id == bindparam("pupil_id"), Attempt.seance_id == bindparam("seance_id"))
)
"""What :data:`calculatice.store.direct.PROGRESS_SQL` reads, where no driver connection does."""


def attempt_row(
    pupil_id: int,
    exercise_id: str,
    *,
    seed: str,
    total: int,
    options: Mapping[str, Any] | None = None,
    seance_id: int | None = None,
    context: str | None = None,
    position: int = 0,
    started_at: datetime | None = None,
) -> dict[str, Any]:
    """The row of a new attempt, as :meth:`Store.start_attempt` writes it (same parameters)."""
    return {
        "pupil_id": pupil_id,
        "seance_id": seance_id,
        "context": context,
        "exercise_id": exercise_id,
        "position": position,
        "seed": seed,
        "options": dict(options or {}),
        "started_at": _aware("started_at", started_at),
        "total": total,
    }


def answer_row(
    attempt_id: int,
    *,
    question_index: int,
    attempt_number: int,
    question_shown: str,
    expected: str,
    typed: str | None,
    read_as: str,
    outcome: str,
    response_ms: int | None,
    answered_at: datetime | None = None,
    client_key: str | None = None,
) -> dict[str, Any]:
    """The row of an answer, as :meth:`Store.record_answer` writes it (same parameters).

    Raises
    ------
    StoreError
        An unknown outcome, or a naive ``answered_at``.
    """
    _check_choice("résultat", str(outcome), OUTCOMES)
    return {
        "attempt_id": attempt_id,
        "question_index": question_index,
        "attempt_number": attempt_number,
        "question_shown": question_shown,
        "expected": expected,
        "typed": typed,
        "read_as": read_as,
        "outcome": str(outcome),
        "response_ms": response_ms,
        "answered_at": _aware("answered_at", answered_at),
        "client_key": client_key,
    }


def finish_changes(
    *, score: int, total: int, duration_ms: int, finished_at: datetime | None = None
) -> dict[str, Any]:
    """What :meth:`Store.finish_attempt` sets on an attempt (same parameters).

    Raises
    ------
    StoreError
        A score outside ``0..total``, or a naive ``finished_at``.
    """
    if not 0 <= score <= total:
        raise StoreError(f"Score {score} impossible sur {total}.")
    return {
        "score": score,
        "total": total,
        "duration_ms": duration_ms,
        "finished_at": _aware("finished_at", finished_at),
    }


def _same_seance(seance_id: int | None) -> Any:
    """The condition that an attempt belongs to this séance (``None``: to none)."""
    if seance_id is None:
        return Attempt.seance_id.is_(None)
    return Attempt.seance_id == seance_id


def _record(record_type: type[RecordT], row: object) -> RecordT:
    """Copy the attributes a record declares from an ORM row."""
    names = [field.name for field in fields(record_type)]  # type: ignore[arg-type]
    return record_type(**{name: getattr(row, name) for name in names})


def _check_choice(label: str, value: str, allowed: tuple[str, ...]) -> None:
    """Refuse a value outside its list, naming the allowed ones."""
    if value not in allowed:
        raise StoreError(f"{label} inconnu : « {value} » (attendu : {', '.join(allowed)}).")


def _aware(name: str, moment: datetime | None) -> datetime:
    """A timezone-aware time, now if ``None``; a naive one is refused."""
    if moment is None:
        return utc_now()
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise StoreError(f"{name} doit porter un fuseau horaire (naïf : {moment.isoformat()}).")
    return moment
