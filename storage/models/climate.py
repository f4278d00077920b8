"""Team-climate answers unlinked from the people who gave them, and the record of which weeks closed.

Rows here carry no mentee, no check-in and no instant: see bot.checkins.climate for how a week's
answers get here (one shuffled batch per program and week) and why nothing else is stored.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class ClimateAnswer(Base):
    """One team-climate answer of a program's week, on the 1-7 safety scale (items 1, 3, 5 reversed).

    `met` says whether the answer came with "met my mentor"; it is NULL for every row of a week where
    either side had fewer than min_group_size answers, so it never singles anyone out.
    The Edmondson item is not stored: it is a function of the mentee (bot.checkins.edmondson.item_for)
    and would split a week's batch into groups of one or two.
    """

    __tablename__ = "climate_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    week: Mapped[date]  # Monday of the check-ins' period
    met: Mapped[bool | None]
    score: Mapped[int]


class ClimateWeek(Base):
    """A program's week whose team-climate answers have closed: written with its batch, at most once.

    `answered` counts the answers given before the week's cutoff, moved or (fewer than
    min_group_size) discarded; the digest says "fewer than k answers" from it.
    """

    __tablename__ = "climate_weeks"

    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"), primary_key=True)
    week: Mapped[date] = mapped_column(primary_key=True)
    answered: Mapped[int]
