"""fenced claims and digest retries

Revision ID: 0010_fenced_claims
Revises: 0009_concern_quota
"""

from __future__ import annotations

revision = "0010_fenced_claims"
down_revision = "0009_concern_quota"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
