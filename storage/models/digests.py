"""Weekly digest posts, claimed per (program, week) so each is posted once, and the figures they froze."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class DigestPost(Base):
    """The claim on one program's digest for one week; the unique key makes the post happen once.

    status: claimed -> posted, or failed (retried with backoff from `next_attempt_at` until the next
    week's digest is due, then abandoned with a log line). `claimed_by` is the claim's fencing token:
    the holder renews `claimed_at` by compare-and-set just before each attempt to post.
    """

    __tablename__ = "digest_posts"
    __table_args__ = (UniqueConstraint("program_id", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    week: Mapped[date]  # Monday of the week the digest covers
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # claimed | posted | failed | abandoned
    claimed_at: Mapped[datetime]
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    attempts: Mapped[int] = mapped_column(default=1)
    posted_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    late: Mapped[bool] = mapped_column(default=False)
    chart_uploaded: Mapped[bool] = mapped_column(default=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]  # a failed post's backoff
    failing_since: Mapped[datetime | None]  # first failure of the current run of failures
    # The last attempt may have reached Slack (5xx, dropped connection) and the channel could not be
    # read to tell: its history is checked before posting again.
    maybe_posted: Mapped[bool] = mapped_column(default=False, server_default=false())
    late_notice_at: Mapped[datetime | None]  # the coordinators were told the digest is late


class DigestFigure(Base):
    """One anonymous weekly figure (a metric for a group of answers) as first shown or hidden.

    Frozen the first time a digest or report computes it after the week's cutoff, so every later
    digest, preview and report repeats the same number and the same shown/hidden decision: a late
    edit, a purge into rollups or a different trend window can then never produce a second version
    of the figure to subtract from the first. `total` is the sum of the answers (psychological
    safety already reverse-scored); `reason` says why a hidden figure is hidden.
    """

    __tablename__ = "digest_figures"

    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"), primary_key=True)
    week: Mapped[date] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(16), primary_key=True)  # wellbeing | psych
    grp: Mapped[str] = mapped_column(String(16), primary_key=True)  # all | met | not_met
    n: Mapped[int]
    total: Mapped[int]
    shown: Mapped[bool]
    reason: Mapped[str] = mapped_column(String(16), default="")  # "" | small | overlap | unknown
    frozen_at: Mapped[datetime]
