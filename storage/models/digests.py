"""Weekly digest posts, claimed per (program, week) so each is posted once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class DigestPost(Base):
    __tablename__ = "digest_posts"
    __table_args__ = (UniqueConstraint("program_id", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    week: Mapped[date]  # Monday of the week the digest covers
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # claimed | posted | failed
    claimed_at: Mapped[datetime]
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    posted_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    late: Mapped[bool] = mapped_column(default=False)
    chart_uploaded: Mapped[bool] = mapped_column(default=False)
    last_error: Mapped[str | None] = mapped_column(Text)
