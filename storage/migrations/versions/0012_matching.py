"""matching profiles and proposals

Revision ID: 0012_matching
Revises: 0011_events
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.crypto
import storage.models.base

revision = "0012_matching"
down_revision = "0011_events"
branch_labels = None
depends_on = None

UTC_DATETIME = storage.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    _profiles()
    _departures()
    _constraints()
    _proposals()


def _profiles() -> None:
    op.create_table(
        "matching_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("specialty", sa.String(length=80), nullable=False),
        sa.Column("department", sa.String(length=80), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("trained_in", sa.String(length=80), nullable=False),
        sa.Column("focus", sa.JSON(), nullable=False),
        sa.Column("formats", sa.JSON(), nullable=False),
        sa.Column("times", sa.JSON(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("ranked", sa.JSON(), nullable=False),
        sa.Column("avoid", storage.crypto.EncryptedText(), nullable=True),
        sa.Column("reports_to", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_matching_profiles_program_id_programs")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["people.id"], name=op.f("fk_matching_profiles_user_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matching_profiles")),
        sa.UniqueConstraint("program_id", "user_id", name=op.f("uq_matching_profiles_program_id_user_id")),
    )
    with op.batch_alter_table("matching_profiles", schema=None) as batch_op:
        batch_op.create_index("ix_matching_profiles_user", ["user_id"], unique=False)


def _departures() -> None:
    op.create_table(
        "matching_departures",
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("left_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_matching_departures_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("program_id", "user_id", name=op.f("pk_matching_departures")),
    )


def _constraints() -> None:
    op.create_table(
        "match_constraints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("mentor_id", sa.String(length=32), nullable=False),
        sa.Column("mentee_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_match_constraints_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_constraints")),
        sa.UniqueConstraint(
            "program_id",
            "mentor_id",
            "mentee_id",
            name=op.f("uq_match_constraints_program_id_mentor_id_mentee_id"),
        ),
    )


def _proposals() -> None:
    op.create_table(
        "match_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", UTC_DATETIME, nullable=True),
        sa.Column("mentees", sa.Integer(), nullable=False),
        sa.Column("mentors", sa.Integer(), nullable=False),
        sa.Column("total_score", sa.Integer(), nullable=False),
        sa.Column("unmatched", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_match_proposals_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_proposals")),
    )
    with op.batch_alter_table("match_proposals", schema=None) as batch_op:
        batch_op.create_index("ix_match_proposals_program_status", ["program_id", "status"], unique=False)
    op.create_table(
        "match_proposal_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.String(length=32), nullable=False),
        sa.Column("mentee_id", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("cooldown_ended_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["match_proposals.id"],
            name=op.f("fk_match_proposal_pairs_proposal_id_match_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_proposal_pairs")),
    )
    with op.batch_alter_table("match_proposal_pairs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_match_proposal_pairs_proposal_id"), ["proposal_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("match_proposal_pairs")
    op.drop_table("match_proposals")
    op.drop_table("match_constraints")
    op.drop_table("matching_departures")
    op.drop_table("matching_profiles")
