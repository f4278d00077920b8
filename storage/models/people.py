"""Programs, people, pairs and the coordinator audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class Program(Base):
    """A program from programs.yml; archived, never deleted, when it leaves the file."""

    __tablename__ = "programs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    archived_at: Mapped[datetime | None]


class Person(Base):
    """A Slack user the bot knows, with name and timezone cached from users.info."""

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    real_name: Mapped[str] = mapped_column(String(120), default="")
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Lower-cased, from users.info: lets a roster import resolve emails without asking Slack again.
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    first_seen_at: Mapped[datetime]
    refreshed_at: Mapped[datetime | None]
    # Slack's `updated` stamp of the stored profile: a late, older user_change must not overwrite a newer one.
    profile_updated_at: Mapped[datetime | None]


class Pair(Base):
    """A mentor and a mentee in one program; ended pairs are kept for reports."""

    __tablename__ = "pairs"
    __table_args__ = (
        Index(
            "uq_pairs_active",
            "program_id",
            "mentor_id",
            "mentee_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        Index("ix_pairs_mentee", "mentee_id"),
        Index("ix_pairs_mentor", "mentor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    mentor_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    mentee_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    focus: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class AuditEntry(Base):
    """A coordinator action. Never written for anything a concern sender does."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_program_at", "program_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(40))
    program_id: Mapped[str | None] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(Text, default="")
