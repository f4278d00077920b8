"""Anonymous concerns. Nothing here may identify, or time precisely, the sender.

Every table uses random primary keys and, on SQLite, `WITHOUT ROWID`: an ordinary SQLite table
keeps a hidden, increasing rowid that would give away the order in which concerns arrived.
No table has a created-at column; `week` (the Monday of the arrival week, program time) is the
finest time stored for anything the sender does.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import EncryptedText
from storage.models.base import Base, random_id

NO_ROWID = {"sqlite_with_rowid": False}


class Concern(Base):
    """One concern; `week` is the Monday of the week it arrived, never an exact time.

    `escalated` concerns involve the sender's mentor or a coordinator: they go to the program's
    escalation contact, never to the coordinators' list, channel or digest. `notify_pending` is
    true while an urgent or escalated concern still has to be posted to its channel or contact.
    `first_reply_on` is the day of the first coordinator reply; `resolved_on` the day a
    coordinator resolved it, or the Monday of the week the sender closed it.
    """

    __tablename__ = "concerns"
    __table_args__ = (Index("ix_concerns_program_week", "program_id", "week"), NO_ROWID)

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
    notify_pending: Mapped[bool] = mapped_column(default=False)


class ConcernMessage(Base):
    """A reply in a concern's thread, from a coordinator or (anonymously) the sender."""

    __tablename__ = "concern_messages"
    __table_args__ = (UniqueConstraint("concern_id", "seq"), NO_ROWID)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    concern_id: Mapped[str] = mapped_column(ForeignKey("concerns.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int]
    from_sender: Mapped[bool]
    # Who answered: a coordinator, or the escalation contact; None for the sender.
    coordinator_id: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(EncryptedText)
    week: Mapped[date]
