"""Instrument surveys: the claim on each survey DM (who was asked), the answer waiting for its period
to close (encrypted, beside the claim), and the released answers (nobody's).

A claim names its mentee, so it holds only that the survey was sent and answered, never what was
answered and never when. While the survey's period is open the scored answer waits in
`instrument_pending`, keyed by the claim's id and only as a Fernet token; it holds no user id, no
channel and no ts, so the transaction that later releases it writes nothing naming a person. When the
period closes, bot.instruments.release moves the period's waiting answers, shuffled, into
`instrument_answers` in one transaction and deletes them here, or, fewer than min_group_size, just
deletes them; `instrument_periods` records that the period closed and how many had answered.

A released row holds a program, an instrument and its version, a period ("2026-12", "2026-Q4", or a
pair's month with the quarter its survey went out in, "m3 2026-Q4"), the scored result and, for
instruments rating the mentor, a keyed pseudonym of the mentor, decided at release (see
bot.instruments.release). It has a random id, no person, no claim, no pair and no instant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import EncryptedText
from storage.models.base import Base, random_id


class InstrumentSurvey(Base):
    """The claim on one survey DM: unique per (program, mentee, instrument, period), so it goes out once.

    `claimed_by` is the fencing token a compare-and-set proves just before each attempt to send.
    status: claimed -> sent | failed (retried after `not_before`) | missed (past the grace window).
    `period` is the claim's key: "2026-12", "2026-Q4", or "pair-<pair id>-m3" for a pair's month.
    """

    __tablename__ = "instrument_surveys"
    __table_args__ = (
        UniqueConstraint("program_id", "person_id", "instrument_id", "period"),
        Index("ix_instrument_surveys_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    person_id: Mapped[str] = mapped_column(String(32))
    instrument_id: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(40))
    pair_id: Mapped[int | None]  # the pair whose mentor is rated, for instruments rating the mentor
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
    answered: Mapped[bool] = mapped_column(default=False)


class InstrumentAnswer(Base):
    """One scored survey answer, unlinked: no person, no claim, no instant (see the module docstring)."""

    __tablename__ = "instrument_answers"
    __table_args__ = (Index("ix_instrument_answers_program", "program_id", "instrument_id", "period"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    instrument_id: Mapped[str] = mapped_column(String(40))
    version: Mapped[int]
    period: Mapped[str] = mapped_column(String(16))
    mentor_key: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    domains: Mapped[dict[str, Any]]


class InstrumentPending(Base):
    """A scored answer waiting for its period to close: JSON {version, score, domains}, encrypted.

    Only the claim's id sits beside it; deleted when the period closes (released or discarded).
    """

    __tablename__ = "instrument_pending"

    survey_id: Mapped[int] = mapped_column(
        ForeignKey("instrument_surveys.id", ondelete="CASCADE"), primary_key=True
    )
    answer: Mapped[str] = mapped_column(EncryptedText)


class InstrumentPeriod(Base):
    """An instrument's period of a program that has closed: written once, when it closes.

    `answered` counts the answers waiting when it closed; `released` how many of them were moved to
    instrument_answers (0 when fewer than min_group_size answered: the reports say "fewer than k").
    """

    __tablename__ = "instrument_periods"

    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"), primary_key=True)
    instrument_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    answered: Mapped[int] = mapped_column(default=0)
    released: Mapped[int] = mapped_column(default=0)
