"""fenced claims and digest retries

Revision ID: 0010_fenced_claims
Revises: 0009_concern_quota

Reminders and session confirmation DMs get a fencing token beside their claim time, so a claim taken
over after its lease can never be sent by its old holder too; closing an expired DM gets a claim of its
own. Digest posts keep their retry backoff, how long they have been failing, whether the last attempt
may have reached Slack, and when the coordinators were told the digest is late.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_fenced_claims"
down_revision = "0009_concern_quota"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("close_claimed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("digest_posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("maybe_posted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("late_notice_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_claimed_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("notice_claimed_by")
    with op.batch_alter_table("digest_posts", schema=None) as batch_op:
        batch_op.drop_column("late_notice_at")
        batch_op.drop_column("maybe_posted")
        batch_op.drop_column("failing_since")
        batch_op.drop_column("next_attempt_at")
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_column("close_claimed_at")
        batch_op.drop_column("reminder_claimed_by")
