"""Ideas from practice, the Plan-Do-Study-Act cycles that test them, comments, and their DMs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import EncryptedText
from storage.models.base import Base


class Idea(Base):
    """An observation from practice and the change it suggests, recorded by one member of a pair.

    The pair always sees it; the program's coordinators (digest, annual report) only while
    `shared_with_coordinators`. `stage` follows the latest cycle (see bot.ideas.terms).
    """

    __tablename__ = "ideas"
    __table_args__ = (
        Index("ix_ideas_pair", "pair_id"),
        Index("ix_ideas_program_stage", "program_id", "stage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id"))
    author_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    summary: Mapped[str] = mapped_column(EncryptedText)  # the change in one line
    observation: Mapped[str] = mapped_column(EncryptedText)
    change: Mapped[str] = mapped_column(EncryptedText)
    affects: Mapped[list[str]] = mapped_column(JSON, default=list)  # patients | unit | workflow
    shared_with_coordinators: Mapped[bool] = mapped_column(default=False)
    stage: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    adopted_at: Mapped[datetime | None]


class IdeaCycle(Base):
    """One Plan-Do-Study-Act cycle of an idea; each step's time is set when the step is recorded.

    `nudge_due_at` is the morning after the planned test date in the author's timezone: from then
    until Do is recorded, the tick reminds the author once (an idea_notices row claims it).
    """

    __tablename__ = "idea_cycles"
    __table_args__ = (
        UniqueConstraint("idea_id", "number"),
        Index("ix_idea_cycles_nudge", "nudge_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    number: Mapped[int]  # 1, 2, … within the idea
    prediction: Mapped[str] = mapped_column(EncryptedText)
    measure: Mapped[str] = mapped_column(EncryptedText)
    scope: Mapped[str] = mapped_column(EncryptedText)
    test_date: Mapped[date]
    planned_at: Mapped[datetime]
    nudge_due_at: Mapped[datetime]
    happened: Mapped[str | None] = mapped_column(EncryptedText)
    done_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))  # as_predicted | partly | not_as_predicted
    result: Mapped[str | None] = mapped_column(EncryptedText)
    studied_at: Mapped[datetime | None]
    decision: Mapped[str | None] = mapped_column(String(16))  # adopt | adapt | abandon
    decision_notes: Mapped[str | None] = mapped_column(EncryptedText)
    acted_at: Mapped[datetime | None]


class IdeaComment(Base):
    """A comment on an idea or one step of one of its cycles (`cycle_id` None: on the idea itself)."""

    __tablename__ = "idea_comments"
    __table_args__ = (Index("ix_idea_comments_idea", "idea_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("idea_cycles.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(8))  # idea | plan | do | study | act
    author_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    text: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime]


class IdeaNotice(Base):
    """A DM about an idea, claimed before it is sent so it goes out exactly once.

    `key` names what the DM is about ("step:12:plan", "nudge:12", …) and is unique, so writing a
    notice twice (a retried request, two ticks) adds nothing. The claim's fencing token is renewed
    by compare-and-set just before each attempt to send; a claim whose sender died is recovered
    after the lease by looking for the DM by its metadata first.
    status: pending -> sent | dropped (Slack kept refusing, or the reminder no longer applies).
    """

    __tablename__ = "idea_notices"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_idea_notices_status", "status", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("idea_cycles.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("idea_comments.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # shared | step | comment | nudge
    step: Mapped[str | None] = mapped_column(String(8))
    recipient_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    actor_id: Mapped[str | None] = mapped_column(String(32))  # who caused it; None for the tick's nudges
    status: Mapped[str] = mapped_column(String(8), default="pending")
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
