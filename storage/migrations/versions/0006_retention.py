"""anonymous weekly rollups kept after retention purges raw answers

Revision ID: 0006_retention
Revises: 0005_digests
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_retention"
down_revision = "0005_digests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_rollups",
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("wellbeing_sum", sa.Integer(), nullable=False),
        sa.Column("wellbeing_n", sa.Integer(), nullable=False),
        sa.Column("psych_sum", sa.Integer(), nullable=False),
        sa.Column("psych_n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_answer_rollups_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", "week", name=op.f("pk_answer_rollups")),
    )


def downgrade() -> None:
    op.drop_table("answer_rollups")
