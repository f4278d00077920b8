"""sessions, reflections and competencies

Revision ID: 0004_reflections
Revises: 0003_concerns
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_reflections"
down_revision = "0003_concerns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=24), nullable=False),
        sa.Column("logged_by", sa.String(length=32), nullable=False),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("confirmed_by", sa.String(length=32), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disputed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notice_claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notice_channel", sa.String(length=32), nullable=True),
        sa.Column("notice_ts", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["logged_by"], ["people.id"], name=op.f("fk_sessions_logged_by_people")),
        sa.ForeignKeyConstraint(["pair_id"], ["pairs.id"], name=op.f("fk_sessions_pair_id_pairs")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_sessions_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_pair_date", ["pair_id", "session_date"], unique=False)
        batch_op.create_index(
            "ix_sessions_program_status_date", ["program_id", "status", "session_date"], unique=False
        )

    op.create_table(
        "reflections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("author_role", sa.String(length=8), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("learned", sa.Text(), nullable=True),
        sa.Column("share_learned", sa.Boolean(), nullable=False),
        sa.Column("share_named", sa.Boolean(), nullable=False),
        sa.Column("next_steps", sa.Text(), nullable=True),
        sa.Column("private_notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["people.id"], name=op.f("fk_reflections_author_id_people")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_reflections_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reflections")),
        sa.UniqueConstraint("session_id", "author_id", name=op.f("uq_reflections_session_id_author_id")),
    )

    op.create_table(
        "competency_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("mentee_id", sa.String(length=32), nullable=False),
        sa.Column("competency", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mentee_id"], ["people.id"], name=op.f("fk_competency_observations_mentee_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_competency_observations_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_competency_observations_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competency_observations")),
        sa.UniqueConstraint(
            "session_id", "competency", name=op.f("uq_competency_observations_session_id_competency")
        ),
    )
    with op.batch_alter_table("competency_observations", schema=None) as batch_op:
        batch_op.create_index("ix_competency_mentee", ["mentee_id", "competency"], unique=False)


def downgrade() -> None:
    op.drop_table("competency_observations")
    op.drop_table("reflections")
    op.drop_table("sessions")
