"""outcomes: HR roster snapshots and Slack departures

Revision ID: 0015_outcomes
Revises: 0014_ideas

Retention of participants against non-participants needs HR's list of who is employed in scope
(start, end, participant flag) and the day Slack deactivated a person.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision = "0015_outcomes"
down_revision = "0014_ideas"
branch_labels = None
depends_on = None

UTC_TIME = storage.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "roster_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("taken_at", UTC_TIME, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_roster_snapshots_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_snapshots")),
    )
    op.create_index("ix_roster_snapshots_program_taken", "roster_snapshots", ["program_id", "taken_at"])
    op.create_table(
        "roster_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("employee", sa.String(length=254), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("role", sa.String(length=60), nullable=False),
        sa.Column("participant", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["roster_snapshots.id"],
            name=op.f("fk_roster_members_snapshot_id_roster_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_members")),
        sa.UniqueConstraint("snapshot_id", "employee", name=op.f("uq_roster_members_snapshot_id_employee")),
    )
    op.create_table(
        "person_departures",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("departed_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_person_departures")),
    )
    op.create_index(op.f("ix_person_departures_email"), "person_departures", ["email"])


def downgrade() -> None:
    op.drop_index(op.f("ix_person_departures_email"), table_name="person_departures")
    op.drop_table("person_departures")
    op.drop_table("roster_members")
    op.drop_index("ix_roster_snapshots_program_taken", table_name="roster_snapshots")
    op.drop_table("roster_snapshots")
