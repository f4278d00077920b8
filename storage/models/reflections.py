"""Mentoring sessions, reflections on them and competencies observed."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import EncryptedText
from storage.models.base import Base


class MentoringSession(Base):
    """A session of protected time; counts toward hours and CME once the other side confirms.

    `session_date` is the day in the logger's own timezone, as they entered it: ledgers group by it
    and never derive a day from a UTC instant.
    """

    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_pair_date", "pair_id", "session_date"),
        Index("ix_sessions_program_status_date", "program_id", "status", "session_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id"))
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    session_date: Mapped[date]
    duration_minutes: Mapped[int]
    format: Mapped[str] = mapped_column(String(24))
    logged_by: Mapped[str] = mapped_column(ForeignKey("people.id"))
    logged_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # pending | confirmed | disputed
    confirmed_by: Mapped[str | None] = mapped_column(String(32))
    confirmed_at: Mapped[datetime | None]
    disputed_at: Mapped[datetime | None]
    # The confirmation DM to the other side: claimed before sending so it goes out once. The claim's
    # fencing token is renewed by compare-and-set just before each attempt to send.
    notice_claimed_at: Mapped[datetime | None]
    notice_claimed_by: Mapped[str | None] = mapped_column(String(64))
    notice_channel: Mapped[str | None] = mapped_column(String(32))
    notice_ts: Mapped[str | None] = mapped_column(String(32))
    # The idea (bot.ideas) the session worked on, when one was chosen in /reflect. No ON DELETE rule: SQLite
    # keeps none for a column added in place (see migration 0014); ideas are never deleted.
    idea_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id"))


class Reflection(Base):
    """One side's reflection on a session; free text encrypted, private notes for the author only."""

    __tablename__ = "reflections"
    __table_args__ = (UniqueConstraint("session_id", "author_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    author_role: Mapped[str] = mapped_column(String(8))  # mentor | mentee
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    learned: Mapped[str | None] = mapped_column(EncryptedText)
    # Consent for the program digest: share_learned alone means anonymously, with share_named by name.
    share_learned: Mapped[bool] = mapped_column(default=False)
    share_named: Mapped[bool] = mapped_column(default=False)
    next_steps: Mapped[str | None] = mapped_column(EncryptedText)
    private_notes: Mapped[str | None] = mapped_column(EncryptedText)
    created_at: Mapped[datetime]


class CompetencyObservation(Base):
    """A mentor's observation of one competency at one level in one session.

    It counts toward the mentee's progression only while its session is confirmed.
    """

    __tablename__ = "competency_observations"
    __table_args__ = (
        UniqueConstraint("session_id", "competency"),
        Index("ix_competency_mentee", "mentee_id", "competency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    mentee_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    competency: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))  # not_yet | developing | demonstrated
    observed_on: Mapped[date]
