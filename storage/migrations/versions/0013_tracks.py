"""supervised-practice tracks, milestones and attestations

Revision ID: 0013_tracks
Revises: 0012_matching
"""

from __future__ import annotations

revision = "0013_tracks"
down_revision = "0012_matching"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
