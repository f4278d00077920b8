"""matching profiles and proposals

Revision ID: 0012_matching
Revises: 0011_events
"""

from __future__ import annotations

revision = "0012_matching"
down_revision = "0011_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
