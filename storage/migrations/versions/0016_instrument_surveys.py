"""instrument surveys: the claim on each survey DM and the unlinked answers

Revision ID: 0016_instrument_surveys
Revises: 0015_outcomes

Validated instruments (Mini-Z, Edmondson, MCA-21, the Mentorship Effectiveness Scale) go out as survey
DMs on each program's cadence, claimed once per (program, mentee, instrument, period). An answer waits
encrypted beside its claim until its period closes, then moves, shuffled with the period's others,
into a table with no person, claim or instant (storage.models.instruments, bot.instruments.release).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.crypto
import storage.models.base

revision = "0016_instrument_surveys"
down_revision = "0015_outcomes"
branch_labels = None
depends_on = None

UTC_TIME = storage.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "instrument_surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("instrument_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=True),
        sa.Column("due_at", UTC_TIME, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", UTC_TIME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", UTC_TIME, nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("sent_at", UTC_TIME, nullable=True),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_instrument_surveys_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument_surveys")),
        sa.UniqueConstraint(
            "program_id",
            "person_id",
            "instrument_id",
            "period",
            name=op.f("uq_instrument_surveys_program_id_person_id_instrument_id_period"),
        ),
    )
    with op.batch_alter_table("instrument_surveys", schema=None) as batch_op:
        batch_op.create_index("ix_instrument_surveys_status", ["status"], unique=False)
    op.create_table(
        "instrument_answers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("instrument_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("mentor_key", sa.String(length=64), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_instrument_answers_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument_answers")),
    )
    with op.batch_alter_table("instrument_answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_instrument_answers_program", ["program_id", "instrument_id", "period"], unique=False
        )
    op.create_table(
        "instrument_pending",
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("answer", storage.crypto.EncryptedText(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["instrument_surveys.id"],
            name=op.f("fk_instrument_pending_survey_id_instrument_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("survey_id", name=op.f("pk_instrument_pending")),
    )
    op.create_table(
        "instrument_periods",
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("instrument_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("released", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_instrument_periods_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", "instrument_id", "period", name=op.f("pk_instrument_periods")),
    )


def downgrade() -> None:
    op.drop_table("instrument_periods")
    op.drop_table("instrument_pending")
    op.drop_table("instrument_answers")
    op.drop_table("instrument_surveys")
