"""Initial schema: schools, classes, teachers, pupils, séances, attempts, answers.

Revision ID: 0001
Revises:
Create Date: 2024-12-03

Written by hand; the names of constraints and indexes follow the naming
convention of ``calculatice.store.models`` so that later migrations can refer
to them. A migration is frozen once released: it must not import the models,
which keep changing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create every table of the store."""
    op.create_table(
        "schools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("district", sa.String(200), nullable=False),
        sa.Column("sector", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_schools"),
        sa.UniqueConstraint("code", name="uq_schools_code"),
        sa.CheckConstraint(
            "sector IN ('public', 'rep', 'rep_plus', 'private')", name="ck_schools_sector"
        ),
    )
    op.create_table(
        "classrooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("code", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_classrooms"),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name="fk_classrooms_school_id_schools"
        ),
        sa.UniqueConstraint("code", name="uq_classrooms_code"),
        sa.CheckConstraint(
            "level IN ('CP', 'CE1', 'CE2', 'CM1', 'CM2', '6e')", name="ck_classrooms_level"
        ),
    )
    op.create_index("ix_classrooms_school_id", "classrooms", ["school_id"])
    op.create_table(
        "teachers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(200), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_teachers"),
        sa.UniqueConstraint("login", name="uq_teachers_login"),
    )
    op.create_table(
        "classroom_teachers",
        sa.Column("classroom_id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("classroom_id", "teacher_id", name="pk_classroom_teachers"),
        sa.ForeignKeyConstraint(
            ["classroom_id"],
            ["classrooms.id"],
            name="fk_classroom_teachers_classroom_id_classrooms",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["teachers.id"],
            name="fk_classroom_teachers_teacher_id_teachers",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_classroom_teachers_teacher_id", "classroom_teachers", ["teacher_id"])
    op.create_table(
        "pupils",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("classroom_id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("is_pair", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pupils"),
        sa.ForeignKeyConstraint(
            ["classroom_id"], ["classrooms.id"], name="fk_pupils_classroom_id_classrooms"
        ),
    )
    op.create_index("ix_pupils_classroom_id", "pupils", ["classroom_id"])
    op.create_table(
        "seances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("classroom_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_seances"),
        sa.UniqueConstraint("code", name="uq_seances_code"),
        sa.ForeignKeyConstraint(
            ["classroom_id"], ["classrooms.id"], name="fk_seances_classroom_id_classrooms"
        ),
    )
    op.create_index("ix_seances_classroom_id", "seances", ["classroom_id"])
    op.create_table(
        "attempts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("seance_id", sa.Integer(), nullable=True),
        sa.Column("context", sa.String(64), nullable=True),
        sa.Column("exercise_id", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("seed", sa.String(64), nullable=False),
        sa.Column("options", JSON, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_attempts"),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupils.id"], name="fk_attempts_pupil_id_pupils"),
        sa.ForeignKeyConstraint(
            ["seance_id"], ["seances.id"], name="fk_attempts_seance_id_seances"
        ),
    )
    op.create_index(
        "ix_attempts_pupil_id_seance_id_started_at",
        "attempts",
        ["pupil_id", "seance_id", "started_at"],
    )
    op.create_index("ix_attempts_seance_id", "attempts", ["seance_id"])
    op.create_table(
        "answers",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("attempt_id", BIG_ID, nullable=False),
        sa.Column("question_index", sa.Integer(), nullable=False),
        sa.Column("attempt_number", sa.Integer(), nullable=False),
        sa.Column("question_shown", sa.Text(), nullable=False),
        sa.Column("expected", sa.Text(), nullable=False),
        sa.Column("typed", sa.Text(), nullable=True),
        sa.Column("read_as", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("response_ms", sa.Integer(), nullable=True),
        sa.Column("answered_at", TIMESTAMP, nullable=False),
        sa.Column("client_key", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_answers"),
        sa.ForeignKeyConstraint(
            ["attempt_id"], ["attempts.id"], name="fk_answers_attempt_id_attempts"
        ),
        sa.UniqueConstraint("attempt_id", "client_key", name="uq_answers_attempt_id_client_key"),
        sa.CheckConstraint(
            "outcome IN ('right', 'wrong', 'empty', 'timeout')", name="ck_answers_outcome"
        ),
    )
    op.create_index(
        "ix_answers_attempt_id_question_index_attempt_number",
        "answers",
        ["attempt_id", "question_index", "attempt_number"],
    )


def downgrade() -> None:
    """Drop every table of the store; refused once results exist, which it would lose."""
    if op.get_bind().execute(sa.text("SELECT 1 FROM attempts LIMIT 1")).first() is not None:
        raise RuntimeError("refusing to downgrade below 0001: the attempts table holds results")
    for table in (
        "answers",
        "attempts",
        "seances",
        "pupils",
        "classroom_teachers",
        "teachers",
        "classrooms",
        "schools",
    ):
        op.drop_table(table)
