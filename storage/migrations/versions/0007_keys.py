"""key check value and key rotation progress

Revision ID: 0007_keys
Revises: 0006_retention
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_keys"
down_revision = "0006_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_checks",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("check", sa.String(length=64), nullable=False),
        sa.Column("pepper", sa.Text(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_checks")),
    )
    op.create_table(
        "key_rotations",
        sa.Column("new_check", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("new_check", name=op.f("pk_key_rotations")),
    )
    op.create_table(
        "key_rotation_cursors",
        sa.Column("new_check", sa.String(length=64), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["new_check"],
            ["key_rotations.new_check"],
            name=op.f("fk_key_rotation_cursors_new_check_key_rotations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("new_check", "table_name", name=op.f("pk_key_rotation_cursors")),
    )


def downgrade() -> None:
    op.drop_table("key_rotation_cursors")
    op.drop_table("key_rotations")
    op.drop_table("key_checks")
