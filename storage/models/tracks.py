"""Supervised-practice tracks: enrolments, their dated milestones, claimed DMs and signed attestations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import EncryptedText
from storage.models.base import Base


class TrackEnrolment(Base):
    """A licensee (the mentee of a pair) on one track, with the track as it read when they were enrolled.

    `track` is the validated track file frozen at enrolment, so a later edit of the file changes neither
    the milestones already dated nor the citation the evidence export names.
    """

    __tablename__ = "track_enrolments"
    __table_args__ = (
        Index(
            "uq_track_enrolments_active",
            "program_id",
            "person_id",
            "track_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        Index("ix_track_enrolments_person", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id"))
    supervisor_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    track_id: Mapped[str] = mapped_column(String(40))
    track: Mapped[dict[str, Any]]
    start_on: Mapped[date]
    enrolled_at: Mapped[datetime]
    enrolled_by: Mapped[str] = mapped_column(String(32))
    ended_at: Mapped[datetime | None]


class TrackMilestone(Base):
    """One dated step of an enrolment: a journey topic, a review period's close, or a checkpoint.

    `due_on` is a calendar day; each reader gets its DM at the track's prompt time in their own timezone.
    A review covers [period_start, due_on) and flags missing evidence from `flag_on`.
    """

    __tablename__ = "track_milestones"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "seq"),
        Index("ix_track_milestones_due", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("track_enrolments.id", ondelete="CASCADE"))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))  # topic | review | checkpoint
    phase: Mapped[str] = mapped_column(String(40), default="")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")  # the track's own words, not anyone's input
    reflect_topic: Mapped[str | None] = mapped_column(String(40))
    due_on: Mapped[date]
    period_start: Mapped[date | None]
    flag_on: Mapped[date | None]


class TrackDelivery(Base):
    """The claim on one DM about a milestone to one person: a journey prompt, a gap flag or an
    attestation request. The unique key makes it go out once; `claimed_by` is the fencing token a
    compare-and-set proves just before each attempt to send.

    status: claimed -> sent | failed (retried after `not_before`) | missed (past the grace window) |
    skipped (nothing to say: no gap).
    """

    __tablename__ = "track_deliveries"
    __table_args__ = (
        UniqueConstraint("milestone_id", "kind", "recipient_id"),
        Index("ix_track_deliveries_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("track_milestones.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # prompt | gap | attest
    recipient_id: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    claimed_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(64))


class TrackAttestation(Base):
    """A supervising physician's signed attestation of one review period, or its return.

    Immutable once written: there is no update path, and the migration installs a trigger refusing
    UPDATE of every column but the encrypted comments (which key rotation re-encrypts, unchanged) and
    any DELETE. A correction is a new row that `amends` the latest one; each row is amended at most once
    and each review has one original, so the chain is a line.
    """

    __tablename__ = "track_attestations"
    __table_args__ = (
        Index(
            "uq_track_attestations_original",
            "milestone_id",
            unique=True,
            sqlite_where=text("amends_id IS NULL"),
            postgresql_where=text("amends_id IS NULL"),
        ),
        UniqueConstraint("amends_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("track_enrolments.id"))
    milestone_id: Mapped[int] = mapped_column(ForeignKey("track_milestones.id"))
    supervisor_id: Mapped[str] = mapped_column(String(32))
    supervisor_name: Mapped[str] = mapped_column(String(120))  # as it read when signed
    status: Mapped[str] = mapped_column(String(16))  # attested | returned
    levels: Mapped[dict[str, Any]]  # competency id -> milestone level (1-5); empty when returned
    comments: Mapped[str | None] = mapped_column(EncryptedText)
    signed_at: Mapped[datetime]
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("track_attestations.id"))
