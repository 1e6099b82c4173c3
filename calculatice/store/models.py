"""The tables of the results store, as SQLAlchemy 2 declarative models.

These classes stay inside :mod:`calculatice.store`: the rest of the
application gets frozen records from :class:`~calculatice.store.Store`, never
ORM objects, so that no caller ever holds a session.

The schema itself is created and changed by the Alembic migrations in
``migrations/versions``; these models must describe the same tables, which a
test checks by comparing them with a migrated database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

SECTORS = ("public", "rep", "rep_plus", "private")
"""A school's sector: public, REP, REP+ (priority education) or private."""

LEVELS = ("CP", "CE1", "CE2", "CM1", "CM2", "6e")
"""The class levels calcul@TICE serves."""

OUTCOMES = ("right", "wrong", "empty", "timeout")
"""What one answer was; ``timeout`` is a question whose time ran out unanswered."""

RALLY_STATUSES = ("scheduled", "open", "closed")
"""A rally follows its window (``scheduled``), or was opened or closed by hand."""

# Every constraint and index gets a predictable name, so that later migrations can
# drop or alter it by name on PostgreSQL and in SQLite batch mode alike.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Answers and attempts grow to millions of rows on a rally; SQLite only
# auto-increments a column declared exactly INTEGER, hence the variant.
BigId = BigInteger().with_variant(Integer(), "sqlite")

# JSONB on PostgreSQL so that analytics can query inside options and definitions.
Json = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    PostgreSQL keeps ``timestamp with time zone``; SQLite has no such type, so
    the UTC wall-clock time is stored and marked UTC again when read. Naive
    datetimes are refused: their time zone would be a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone-aware one")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    """The SQL text of a CHECK that ``column`` takes one of ``values``."""
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


class Base(DeclarativeBase):
    """Base of the store's models, with the constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar = {datetime: UtcDateTime(), dict[str, Any]: Json}


class School(Base):
    """A school, identified by its official code (UAI)."""

    __tablename__ = "schools"
    __table_args__ = (CheckConstraint(_one_of("sector", SECTORS), name="sector"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    district: Mapped[str] = mapped_column(String(200), default="")
    sector: Mapped[str] = mapped_column(String(16), default="public")


class Classroom(Base):
    """A class of one level in a school; ``code`` lets pupils of a class join it."""

    __tablename__ = "classrooms"
    __table_args__ = (CheckConstraint(_one_of("level", LEVELS), name="level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(8))
    code: Mapped[str | None] = mapped_column(String(32), unique=True)


class Teacher(Base):
    """A teacher's account; the password hash is made and checked elsewhere."""

    __tablename__ = "teachers"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255), default="")


classroom_teachers = Table(
    "classroom_teachers",
    Base.metadata,
    Column("classroom_id", ForeignKey("classrooms.id", ondelete="CASCADE"), primary_key=True),
    Column("teacher_id", ForeignKey("teachers.id", ondelete="CASCADE"), primary_key=True),
    Index(None, "teacher_id"),
)
"""Which teachers follow which classes (several teachers may share a class)."""


class Pupil(Base):
    """A pupil, or a pair of pupils at one computer (``is_pair``), in a class."""

    __tablename__ = "pupils"

    id: Mapped[int] = mapped_column(primary_key=True)
    classroom_id: Mapped[int] = mapped_column(ForeignKey("classrooms.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    is_pair: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Seance(Base):
    """A séance: its code, and its definition (the ordered exercises with overrides)."""

    __tablename__ = "seances"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    classroom_id: Mapped[int | None] = mapped_column(ForeignKey("classrooms.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    definition: Mapped[dict[str, Any]] = mapped_column(Json)


class Attempt(Base):
    """One go at one exercise by one pupil, in a séance or another context."""

    __tablename__ = "attempts"
    # One index for a pupil's attempts in a séance and for a séance's: with a second
    # one, PostgreSQL could count a pair's attempts by reading the whole séance's
    # (migration 0003).
    __table_args__ = (Index(None, "seance_id", "pupil_id", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"))
    seance_id: Mapped[int | None] = mapped_column(ForeignKey("seances.id"))
    context: Mapped[str | None] = mapped_column(String(64))
    exercise_id: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    seed: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict[str, Any]] = mapped_column(Json)
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[datetime | None]
    score: Mapped[int | None] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)


class Answer(Base):
    """One answer given to one question, verbatim, with its outcome and timing.

    ``(attempt_id, question_index, attempt_number)`` is deliberately not unique:
    an empty answer costs no attempt, so a question may hold several rows with
    the same attempt number. Retries are told apart by ``client_key`` instead.
    """

    __tablename__ = "answers"
    __table_args__ = (
        CheckConstraint(_one_of("outcome", OUTCOMES), name="outcome"),
        UniqueConstraint("attempt_id", "client_key"),
        Index(None, "attempt_id", "question_index", "attempt_number"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(BigId, ForeignKey("attempts.id"))
    question_index: Mapped[int] = mapped_column(Integer)
    attempt_number: Mapped[int] = mapped_column(Integer)
    question_shown: Mapped[str] = mapped_column(Text)
    expected: Mapped[str] = mapped_column(Text)
    # None: nothing was sent (a time-out the server noticed itself).
    typed: Mapped[str | None] = mapped_column(Text)
    read_as: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    # None: the question was never shown (the exercise's timer ended first).
    response_ms: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime] = mapped_column(default=utc_now)
    client_key: Mapped[str | None] = mapped_column(String(64))


class Rally(Base):
    """A rally edition: its checked definition, the seed of its questions, its state."""

    __tablename__ = "rallies"
    __table_args__ = (CheckConstraint(_one_of("status", RALLY_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    # Drawn when the rally is created and never shown: the definition file is
    # public, so a seed written there would let anyone compute the questions.
    seed: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    definition: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    closed_at: Mapped[datetime | None]


class RallyClass(Base):
    """A class registered in a rally, the round it does, and its training séance once closed."""

    __tablename__ = "rally_classes"

    rally_id: Mapped[int] = mapped_column(ForeignKey("rallies.id"), primary_key=True)
    classroom_id: Mapped[int] = mapped_column(
        ForeignKey("classrooms.id"), primary_key=True, index=True
    )
    round_key: Mapped[str] = mapped_column(String(32))
    training_seance_id: Mapped[int | None] = mapped_column(ForeignKey("seances.id"))
