"""Anonymous concerns. Nothing here may identify, or time precisely, the sender."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import EncryptedText
from storage.models.base import Base, random_id


class Concern(Base):
    """One concern; `week` is the Monday of the week it arrived, never an exact time."""

    __tablename__ = "concerns"
    __table_args__ = (Index("ix_concerns_program_week", "program_id", "week"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    category: Mapped[str] = mapped_column(String(32))
    urgent: Mapped[bool]
    escalated: Mapped[bool]  # involves the sender's mentor or a coordinator
    text: Mapped[str] = mapped_column(EncryptedText)
    week: Mapped[date]
    status: Mapped[str] = mapped_column(String(16))  # open | acknowledged | resolved | closed
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    replies_allowed: Mapped[bool]
    first_reply_on: Mapped[date | None]
    resolved_on: Mapped[date | None]


class ConcernMessage(Base):
    """A reply in a concern's thread, from a coordinator or (anonymously) the sender."""

    __tablename__ = "concern_messages"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    concern_id: Mapped[str] = mapped_column(ForeignKey("concerns.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int]
    from_sender: Mapped[bool]
    coordinator_id: Mapped[str | None] = mapped_column(String(32))  # coordinators reply under their name
    text: Mapped[str] = mapped_column(EncryptedText)
    week: Mapped[date]


class ConcernQuota(Base):
    """Per-sender daily count, keyed by HMAC(user, day) under a key discarded with the day."""

    __tablename__ = "concern_quota"

    sender_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    count: Mapped[int]


class ConcernDayKey(Base):
    """The random key for one day's quota hashes; deleted, with that day's counters, the next day."""

    __tablename__ = "concern_day_keys"

    day: Mapped[date] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
