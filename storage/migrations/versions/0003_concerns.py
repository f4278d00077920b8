"""anonymous concerns

Random ids and WITHOUT ROWID (SQLite) so no row carries its arrival order.

Revision ID: 0003_concerns
Revises: 0002_checkins
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_concerns"
down_revision = "0002_checkins"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "concerns",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("replies_allowed", sa.Boolean(), nullable=False),
        sa.Column("first_reply_on", sa.Date(), nullable=True),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("notify_pending", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_concerns_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concerns")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_concerns_key_hash")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.create_index("ix_concerns_program_week", ["program_id", "week"], unique=False)

    op.create_table(
        "concern_messages",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("concern_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("from_sender", sa.Boolean(), nullable=False),
        sa.Column("coordinator_id", sa.String(length=32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["concern_id"],
            ["concerns.id"],
            name=op.f("fk_concern_messages_concern_id_concerns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concern_messages")),
        sa.UniqueConstraint("concern_id", "seq", name=op.f("uq_concern_messages_concern_id_seq")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("concern_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_concern_messages_concern_id"), ["concern_id"], unique=False)

    op.create_table(
        "concern_quota",
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sender_hash", name=op.f("pk_concern_quota")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("concern_quota", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_concern_quota_day"), ["day"], unique=False)

    op.create_table(
        "concern_day_keys",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_concern_day_keys")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("concern_day_keys")
    op.drop_table("concern_quota")
    op.drop_table("concern_messages")
    op.drop_table("concerns")
