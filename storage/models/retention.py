"""Anonymous weekly totals kept when raw check-in answers pass privacy.retention_days, and the daily claim."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class AnswerRollup(Base):
    """Per program and week (Monday of the check-in's period): counts and sums, no people.

    psych_sum holds reverse-scored values (items 1, 3, 5 as 8 - answer), so sum / n is the mean.
    """

    __tablename__ = "answer_rollups"

    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"), primary_key=True)
    week: Mapped[date] = mapped_column(primary_key=True)
    sent: Mapped[int] = mapped_column(default=0)
    answered: Mapped[int] = mapped_column(default=0)
    wellbeing_sum: Mapped[int] = mapped_column(default=0)
    wellbeing_n: Mapped[int] = mapped_column(default=0)
    psych_sum: Mapped[int] = mapped_column(default=0)
    psych_n: Mapped[int] = mapped_column(default=0)


class RetentionRun(Base):
    """One retention pass per program and UTC day; the primary key is the claim.

    `weeks_before` is the Monday before which whole weeks of answers and concern text are gone:
    the next pass starts there, so nothing is rolled up twice.
    """

    __tablename__ = "retention_runs"

    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    cutoff: Mapped[datetime]
    weeks_before: Mapped[date]
    ran_at: Mapped[datetime]
    ran_by: Mapped[str] = mapped_column(String(64), default="")
