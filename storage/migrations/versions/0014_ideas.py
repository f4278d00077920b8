"""ideas and PDSA cycles

Revision ID: 0014_ideas
Revises: 0013_tracks

Ideas from practice, their Plan-Do-Study-Act cycles, comments on each step, the DMs about them
(claimed before sending), and the idea a mentoring session worked on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_ideas"
down_revision = "0013_tracks"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    _create_ideas()
    _create_cycles()
    _create_comments()
    _create_notices()
    _add_session_idea()


def _add_session_idea() -> None:
    """sessions.idea_id, without copying the table on SQLite.

    Alembic's batch mode would copy `sessions` and drop the original, and with foreign keys enforced
    SQLite's DROP TABLE first deletes every row — cascading to each session's reflections and
    competency observations. SQLite's own ADD COLUMN accepts an inline foreign key, so it is used.
    """
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE sessions ADD COLUMN idea_id INTEGER "
            "CONSTRAINT fk_sessions_idea_id_ideas REFERENCES ideas (id)"
        )
        return
    op.add_column("sessions", sa.Column("idea_id", sa.Integer(), nullable=True))
    op.create_foreign_key(op.f("fk_sessions_idea_id_ideas"), "sessions", "ideas", ["idea_id"], ["id"])


def _create_ideas() -> None:
    op.create_table(
        "ideas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("observation", sa.Text(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("affects", sa.JSON(), nullable=False),
        sa.Column("shared_with_coordinators", sa.Boolean(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("adopted_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["people.id"], name=op.f("fk_ideas_author_id_people")),
        sa.ForeignKeyConstraint(["pair_id"], ["pairs.id"], name=op.f("fk_ideas_pair_id_pairs")),
        sa.ForeignKeyConstraint(["program_id"], ["programs.id"], name=op.f("fk_ideas_program_id_programs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ideas")),
    )
    with op.batch_alter_table("ideas", schema=None) as batch_op:
        batch_op.create_index("ix_ideas_pair", ["pair_id"], unique=False)
        batch_op.create_index("ix_ideas_program_stage", ["program_id", "stage"], unique=False)


def _create_cycles() -> None:
    op.create_table(
        "idea_cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("prediction", sa.Text(), nullable=False),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("test_date", sa.Date(), nullable=False),
        sa.Column("planned_at", UTC_TIME, nullable=False),
        sa.Column("nudge_due_at", UTC_TIME, nullable=False),
        sa.Column("happened", sa.Text(), nullable=True),
        sa.Column("done_at", UTC_TIME, nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("studied_at", UTC_TIME, nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decision_notes", sa.Text(), nullable=True),
        sa.Column("acted_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["ideas.id"], name=op.f("fk_idea_cycles_idea_id_ideas"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_cycles")),
        sa.UniqueConstraint("idea_id", "number", name=op.f("uq_idea_cycles_idea_id_number")),
    )
    with op.batch_alter_table("idea_cycles", schema=None) as batch_op:
        batch_op.create_index("ix_idea_cycles_nudge", ["nudge_due_at"], unique=False)


def _create_comments() -> None:
    op.create_table(
        "idea_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.String(length=8), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["people.id"], name=op.f("fk_idea_comments_author_id_people")),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["idea_cycles.id"],
            name=op.f("fk_idea_comments_cycle_id_idea_cycles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["ideas.id"], name=op.f("fk_idea_comments_idea_id_ideas"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_comments")),
    )
    with op.batch_alter_table("idea_comments", schema=None) as batch_op:
        batch_op.create_index("ix_idea_comments_idea", ["idea_id"], unique=False)


def _create_notices() -> None:
    op.create_table(
        "idea_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("step", sa.String(length=8), nullable=True),
        sa.Column("recipient_id", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", UTC_TIME, nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["idea_comments.id"],
            name=op.f("fk_idea_notices_comment_id_idea_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["idea_cycles.id"],
            name=op.f("fk_idea_notices_cycle_id_idea_cycles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["ideas.id"], name=op.f("fk_idea_notices_idea_id_ideas"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["people.id"], name=op.f("fk_idea_notices_recipient_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_notices")),
        sa.UniqueConstraint("key", name=op.f("uq_idea_notices_key")),
    )
    with op.batch_alter_table("idea_notices", schema=None) as batch_op:
        batch_op.create_index("ix_idea_notices_status", ["status", "claimed_at"], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE sessions DROP COLUMN idea_id")  # SQLite 3.35+: no table copy (see above)
    else:
        op.drop_constraint(op.f("fk_sessions_idea_id_ideas"), "sessions", type_="foreignkey")
        op.drop_column("sessions", "idea_id")
    op.drop_table("idea_notices")
    op.drop_table("idea_comments")
    op.drop_table("idea_cycles")
    op.drop_table("ideas")
