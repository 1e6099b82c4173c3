"""Attempts looked up by one index, séance first, instead of two that PostgreSQL chose between.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

The rally's writes check, for every message, how many attempts the pair
has in the séance. With an index on ``(pupil_id, seance_id, started_at)``
and another on ``seance_id`` alone, PostgreSQL planned that count, on a
table whose statistics were taken in the rally's first seconds, through
the second one: every message then read every attempt of the rally. In a
run of 5,000 pairs that was 558 million index entries read in 80 s, and
PostgreSQL spent 0.6 ms a request instead of 0.13. One index on
``(seance_id, pupil_id, started_at)`` serves both the pair's lookups and
the séance's results (a teacher's table, the analyses), and leaves the
planner nothing to get wrong.

Written by hand, with the naming convention of ``calculatice.store.models``.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Replace the attempts' two indexes with one, séance first."""
    op.create_index(
        "ix_attempts_seance_id_pupil_id_started_at",
        "attempts",
        ["seance_id", "pupil_id", "started_at"],
    )
    op.drop_index("ix_attempts_pupil_id_seance_id_started_at", table_name="attempts")
    op.drop_index("ix_attempts_seance_id", table_name="attempts")


def downgrade() -> None:
    """Put back the two indexes of revision 0001."""
    op.create_index(
        "ix_attempts_pupil_id_seance_id_started_at",
        "attempts",
        ["pupil_id", "seance_id", "started_at"],
    )
    op.create_index("ix_attempts_seance_id", "attempts", ["seance_id"])
    op.drop_index("ix_attempts_seance_id_pupil_id_started_at", table_name="attempts")
