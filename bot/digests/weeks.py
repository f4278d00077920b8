"""Digest weeks in the program's timezone: Monday-start weeks, when each digest is due, its cutoff.

The digest posted on `digest.weekday` at `digest.time` covers the last complete Monday-to-Sunday
week before that day. Its due instant is also the week's *cutoff*: answers given after it never
count for that week, so every build of a week's digest, early or late, sees the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.checkins.climate import closes_at
from bot.kernel.programs import Program

WEEK = timedelta(days=7)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def due_at(program: Program, week: date) -> datetime:
    """The UTC instant the digest covering `week` (a Monday) is due.

    Defined in bot.checkins.climate, which closes the week's team-climate answers at this instant.
    """
    return closes_at(program, week)


def latest_due_week(program: Program, now: datetime) -> date:
    """The Monday of the newest week whose digest is due at or before `now`."""
    week = monday_of(now.astimezone(program.tz).date()) - WEEK
    while due_at(program, week) > now:
        week -= WEEK
    return week


@dataclass(frozen=True)
class WeekSpan:
    """One digest week: its Monday, the Monday after, and the cutoff for answers."""

    start: date
    cutoff: datetime

    @property
    def end(self) -> date:
        return self.start + WEEK


def week_spans(program: Program, *, first: date, last: date) -> list[WeekSpan]:
    """Spans for the Mondays first..last inclusive, oldest first."""
    count = (last - first).days // 7 + 1
    return [WeekSpan(first + i * WEEK, due_at(program, first + i * WEEK)) for i in range(max(count, 0))]
