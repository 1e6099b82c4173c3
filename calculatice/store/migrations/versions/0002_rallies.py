"""Rallies: an edition's definition and state, and the classes registered in it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

Written by hand, with the naming convention of ``calculatice.store.models``.
Creating tables needs no batch mode on SQLite; a later change to these
tables must use ``op.batch_alter_table``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the ``rallies`` and ``rally_classes`` tables."""
    op.create_table(
        "rallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("seed", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_rallies"),
        sa.UniqueConstraint("edition", name="uq_rallies_edition"),
        sa.CheckConstraint("status IN ('scheduled', 'open', 'closed')", name="ck_rallies_status"),
    )
    op.create_table(
        "rally_classes",
        sa.Column("rally_id", sa.Integer(), nullable=False),
        sa.Column("classroom_id", sa.Integer(), nullable=False),
        sa.Column("round_key", sa.String(32), nullable=False),
        sa.Column("training_seance_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("rally_id", "classroom_id", name="pk_rally_classes"),
        sa.ForeignKeyConstraint(
            ["rally_id"], ["rallies.id"], name="fk_rally_classes_rally_id_rallies"
        ),
        sa.ForeignKeyConstraint(
            ["classroom_id"], ["classrooms.id"], name="fk_rally_classes_classroom_id_classrooms"
        ),
        sa.ForeignKeyConstraint(
            ["training_seance_id"],
            ["seances.id"],
            name="fk_rally_classes_training_seance_id_seances",
        ),
    )
    op.create_index("ix_rally_classes_classroom_id", "rally_classes", ["classroom_id"])


def downgrade() -> None:
    """Drop the rally tables; the classes, pupils and answers stay."""
    op.drop_index("ix_rally_classes_classroom_id", table_name="rally_classes")
    op.drop_table("rally_classes")
    op.drop_table("rallies")
