"""Scheduled check-in prompts, their answers and mentee pauses."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import EncryptedText
from storage.models.base import Base


class Checkin(Base):
    """One prompt for one mentee in one period, claimed before it is sent.

    status: claimed -> sent -> answered | expired; claimed -> failed | deferred -> claimed again
    (failed: Slack refused after retries, retried until expiry; deferred: the mentee was in Do Not
    Disturb); missed: never delivered before expiry (the bot was down, or every retry failed);
    paused: the mentee had paused check-ins when it fell due. `claimed_by` is the claim's fencing
    token (one per tick); the holder renews `claimed_at` by compare-and-set just before each attempt
    to send, and a claim older than the lease is recovered by the next tick (DM history first).
    """

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("program_id", "mentee_id", "period"),
        Index("ix_checkins_status_due", "status", "due_at"),
        Index("ix_checkins_program_due", "program_id", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    mentee_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    period: Mapped[date]  # the mentee-local date the prompt is due
    due_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    psych_item: Mapped[int]  # 1..7, Edmondson item shown this time
    claimed_at: Mapped[datetime]
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    sent_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[datetime | None]  # failed: retry backoff; deferred: end of the mentee's snooze
    reminded_at: Mapped[datetime | None]  # the reminder's claim (renewed before each attempt), then its send
    reminder_claimed_by: Mapped[str | None] = mapped_column(String(64))  # fencing token of that claim
    reminder_ts: Mapped[str | None] = mapped_column(String(32))
    nudged_at: Mapped[datetime | None]  # mentor nudged after a second low wellbeing in a row
    # Closing the expired DM is claimed so processes do not repeat it; chat.update is idempotent, so a
    # claim left by a crash is simply taken again after the lease.
    close_claimed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]  # the DM was updated to show the check-in closed


class CheckinAnswer(Base):
    """A mentee's answer; the note is free text, encrypted at rest.

    The team-climate answer is promised to be seen by nobody individually, so it is never stored in
    the clear beside the check-in (which names the mentee): `climate_score` holds it encrypted only
    while its week is open, and bot.checkins.climate moves the week's scores into the unlinked
    storage.models.climate table and sets it to NULL. `climate_answered` keeps who answered (never
    what): the digest's subtraction rule needs the groups' members.
    """

    __tablename__ = "checkin_answers"

    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"), primary_key=True)
    wellbeing: Mapped[int | None]
    climate_score: Mapped[str | None] = mapped_column(EncryptedText)  # "1".."7" as answered; NULL once moved
    climate_answered: Mapped[bool] = mapped_column(default=False, server_default=false())
    met_mentor: Mapped[bool | None]
    note: Mapped[str | None] = mapped_column(EncryptedText)
    note_delivered_at: Mapped[datetime | None]  # None while a new or changed note awaits delivery
    answered_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Pause(Base):
    """A mentee's pause of check-ins, across all their programs.

    Resuming sets `paused_until` to the moment of resuming, so the row still tells which periods fell
    inside the pause.
    """

    __tablename__ = "checkin_pauses"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    paused_at: Mapped[datetime]
    paused_until: Mapped[datetime | None]  # None: until resumed
