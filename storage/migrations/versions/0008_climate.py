"""team-climate answers unlinked from mentees

Revision ID: 0008_climate
Revises: 0007_keys
"""

from __future__ import annotations

revision = "0008_climate"
down_revision = "0007_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
