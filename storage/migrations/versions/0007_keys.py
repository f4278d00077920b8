"""key check value and key rotation progress

Revision ID: 0007_keys
Revises: 0006_retention
"""

from __future__ import annotations

revision = "0007_keys"
down_revision = "0006_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
