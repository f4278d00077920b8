"""anonymous weekly rollups kept after retention purges raw answers; the daily retention claim

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
    op.create_table(
        "retention_runs",
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=False),
        sa.Column("weeks_before", sa.Date(), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ran_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_retention_runs_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", "day", name=op.f("pk_retention_runs")),
    )


def downgrade() -> None:
    op.drop_table("retention_runs")
    op.drop_table("answer_rollups")
