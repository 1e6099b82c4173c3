"""What the store hands back: small frozen records, detached from any session.

Timestamps are timezone-aware, in UTC. ``options`` and ``definition`` are the
JSON objects as stored; treat them as read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class SchoolRecord:
    """A school: its official code, name, district and sector."""

    id: int
    code: str
    name: str
    district: str
    sector: str


@dataclass(frozen=True, slots=True)
class ClassroomRecord:
    """A class of one level in a school; ``code`` is how its pupils find it, if set."""

    id: int
    school_id: int
    name: str
    level: str
    code: str | None


@dataclass(frozen=True, slots=True)
class TeacherRecord:
    """A teacher's account, without its password hash."""

    id: int
    login: str
    display_name: str


@dataclass(frozen=True, slots=True)
class PupilRecord:
    """A pupil, or a pair of pupils (``is_pair``) such as « Léa et Tom »."""

    id: int
    classroom_id: int
    display_name: str
    is_pair: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SeanceRecord:
    """A séance: its code, title, class (if any) and definition."""

    id: int
    code: str
    classroom_id: int | None
    title: str
    definition: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One go at one exercise; ``finished_at``, ``score`` and ``duration_ms`` once finished."""

    id: int
    pupil_id: int
    seance_id: int | None
    context: str | None
    exercise_id: str
    position: int
    seed: str
    options: dict[str, Any]
    started_at: datetime
    finished_at: datetime | None
    score: int | None
    total: int
    duration_ms: int | None

    @property
    def finished(self) -> bool:
        """Whether the attempt was finished (its score is then known)."""
        return self.finished_at is not None


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    """One answer as given: the question shown, what was expected, what was typed, verbatim."""

    id: int
    attempt_id: int
    question_index: int
    attempt_number: int
    question_shown: str
    expected: str
    typed: str | None
    read_as: str
    outcome: str
    response_ms: int | None
    answered_at: datetime
    client_key: str | None


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where a pupil left a séance: the unfinished attempt and how far it went.

    ``answer_count`` counts every answer row (several per question when
    attempts were retried); ``last_question_index`` is the highest question
    answered, ``None`` when no answer was given yet.
    """

    attempt: AttemptRecord
    answer_count: int
    last_question_index: int | None


@dataclass(frozen=True, slots=True)
class RallyRecord:
    """A rally edition: title, secret seed, status and checked definition (JSON)."""

    id: int
    edition: str
    title: str
    seed: str
    status: str
    definition: dict[str, Any]
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class RallyClassRecord:
    """A class registered in a rally, its round, and its training séance once the rally closed."""

    rally_id: int
    classroom_id: int
    round_key: str
    training_seance_id: int | None
