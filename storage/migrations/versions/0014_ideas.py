"""ideas and PDSA cycles

Revision ID: 0014_ideas
Revises: 0013_tracks
"""

from __future__ import annotations

revision = "0014_ideas"
down_revision = "0013_tracks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
