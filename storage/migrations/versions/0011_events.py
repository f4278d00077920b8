"""processed Slack events (retries recognised by event_id)

Revision ID: 0011_events
Revises: 0010_fenced_claims
"""

from __future__ import annotations

revision = "0011_events"
down_revision = "0010_fenced_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
