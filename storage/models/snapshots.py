"""HR roster snapshots (who was employed in a program's scope, from when to when) and Slack departures.

They let the outcome report compare retention of participants with non-participants: the bot's own
pairs only say who is in a pair, not who is still employed.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class RosterSnapshot(Base):
    """One imported HR file for a program; the report reads the newest."""

    __tablename__ = "roster_snapshots"
    __table_args__ = (Index("ix_roster_snapshots_program_taken", "program_id", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    taken_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(200))  # the file's name, for the methods page
    members: Mapped[int]


class RosterMember(Base):
    """One employee in scope: a Slack user id or a lower-cased email, with HR's dates.

    `participant` None means the file left it blank: the report decides from the program's pairs.
    """

    __tablename__ = "roster_members"
    __table_args__ = (UniqueConstraint("snapshot_id", "employee"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("roster_snapshots.id", ondelete="CASCADE"))
    employee: Mapped[str] = mapped_column(String(254))
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    role: Mapped[str] = mapped_column(String(60), default="")
    participant: Mapped[bool | None]


class PersonDeparture(Base):
    """A Slack deactivation (`user_change` with `deleted: true`): the day counts as a departure."""

    __tablename__ = "person_departures"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    departed_on: Mapped[date]
    recorded_at: Mapped[datetime]
