"""concerns keep nothing derived from the sender

Revision ID: 0009_concern_quota
Revises: 0008_climate
"""

from __future__ import annotations

revision = "0009_concern_quota"
down_revision = "0008_climate"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
