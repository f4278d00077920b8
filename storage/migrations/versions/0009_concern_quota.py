"""concerns keep nothing derived from the sender: the daily quota moves to process memory

The quota rows (a keyed hash of the sender per day) and the day keys are dropped. storage.engine sets
secure_delete, so the freed pages are zeroed; bootstrap then scrubs the WAL (storage.scrub).

Revision ID: 0009_concern_quota
Revises: 0008_climate
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_concern_quota"
down_revision = "0008_climate"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("concern_day_keys")
    with op.batch_alter_table("concern_quota", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concern_quota_day"))
    op.drop_table("concern_quota")


def downgrade() -> None:
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
