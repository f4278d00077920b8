"""supervised-practice tracks, milestones and attestations

Revision ID: 0013_tracks
Revises: 0012_matching

Attestations are immutable once signed: triggers refuse any UPDATE of a signed column and any DELETE,
on both backends. Only `comments` may be rewritten, because key rotation re-encrypts it (same text).
A later migration that rebuilds track_attestations with batch_alter_table on SQLite must create the
triggers again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.crypto
import storage.models.base

revision = "0013_tracks"
down_revision = "0012_matching"
branch_labels = None
depends_on = None

IMMUTABLE = "track_attestations are immutable once signed: amend them with a new attestation"
SIGNED_COLUMNS = (
    "id, enrolment_id, milestone_id, supervisor_id, supervisor_name, status, levels, signed_at, amends_id"
)


def upgrade() -> None:
    _enrolments()
    _milestones()
    _attestations()
    _deliveries()
    _immutability()


def _enrolments() -> None:
    op.create_table(
        "track_enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("supervisor_id", sa.String(length=32), nullable=False),
        sa.Column("track_id", sa.String(length=40), nullable=False),
        sa.Column("track", sa.JSON(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("enrolled_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("enrolled_by", sa.String(length=32), nullable=False),
        sa.Column("ended_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["pair_id"], ["pairs.id"], name=op.f("fk_track_enrolments_pair_id_pairs")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_track_enrolments_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_track_enrolments_program_id_programs")
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"], ["people.id"], name=op.f("fk_track_enrolments_supervisor_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_enrolments")),
    )
    with op.batch_alter_table("track_enrolments", schema=None) as batch_op:
        batch_op.create_index("ix_track_enrolments_person", ["person_id"], unique=False)
        batch_op.create_index(
            "uq_track_enrolments_active",
            ["program_id", "person_id", "track_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )


def _milestones() -> None:
    op.create_table(
        "track_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("phase", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reflect_topic", sa.String(length=40), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("flag_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["track_enrolments.id"],
            name=op.f("fk_track_milestones_enrolment_id_track_enrolments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_milestones")),
        sa.UniqueConstraint("enrolment_id", "seq", name=op.f("uq_track_milestones_enrolment_id_seq")),
    )
    with op.batch_alter_table("track_milestones", schema=None) as batch_op:
        batch_op.create_index("ix_track_milestones_due", ["due_on"], unique=False)


def _attestations() -> None:
    op.create_table(
        "track_attestations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("supervisor_id", sa.String(length=32), nullable=False),
        sa.Column("supervisor_name", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("comments", storage.crypto.EncryptedText(), nullable=True),
        sa.Column("signed_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["track_attestations.id"],
            name=op.f("fk_track_attestations_amends_id_track_attestations"),
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["track_enrolments.id"],
            name=op.f("fk_track_attestations_enrolment_id_track_enrolments"),
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["track_milestones.id"],
            name=op.f("fk_track_attestations_milestone_id_track_milestones"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_attestations")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_track_attestations_amends_id")),
    )
    with op.batch_alter_table("track_attestations", schema=None) as batch_op:
        batch_op.create_index(
            "uq_track_attestations_original",
            ["milestone_id"],
            unique=True,
            sqlite_where=sa.text("amends_id IS NULL"),
            postgresql_where=sa.text("amends_id IS NULL"),
        )


def _deliveries() -> None:
    op.create_table(
        "track_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("recipient_id", sa.String(length=32), nullable=False),
        sa.Column("due_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("sent_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["track_milestones.id"],
            name=op.f("fk_track_deliveries_milestone_id_track_milestones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_deliveries")),
        sa.UniqueConstraint(
            "milestone_id",
            "kind",
            "recipient_id",
            name=op.f("uq_track_deliveries_milestone_id_kind_recipient_id"),
        ),
    )
    with op.batch_alter_table("track_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_track_deliveries_status", ["status"], unique=False)


def _immutability() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION track_attestations_immutable() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{IMMUTABLE}'; END $$"
        )
        for name, event in (("immutable", f"UPDATE OF {SIGNED_COLUMNS}"), ("undeletable", "DELETE")):
            op.execute(
                f"CREATE TRIGGER track_attestations_{name} BEFORE {event} ON track_attestations "
                "FOR EACH ROW EXECUTE FUNCTION track_attestations_immutable()"
            )
        return
    for name, event in (("immutable", f"UPDATE OF {SIGNED_COLUMNS}"), ("undeletable", "DELETE")):
        op.execute(
            f"CREATE TRIGGER track_attestations_{name} BEFORE {event} ON track_attestations "
            f"BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END"
        )


def downgrade() -> None:
    op.drop_table("track_deliveries")
    op.drop_table("track_attestations")  # its triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS track_attestations_immutable()")
    op.drop_table("track_milestones")
    op.drop_table("track_enrolments")
