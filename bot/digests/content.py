"""What one weekly digest says, gathered from the database (rendering is in ``bot.digests.blocks``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from bot.digests.activity import ConcernStats, PairStats, concern_stats, pair_stats
from bot.digests.figures import Figure, WeeklySeries, trend_weeks, weekly_series
from bot.digests.stats import WeekCounts
from bot.digests.weeks import due_at
from bot.ideas.stats import IdeaDigest, digest_ideas
from bot.kernel.programs import Program

TREND_WEEKS = 8


@dataclass(frozen=True)
class Digest:
    """One program's digest for the week starting `week` (a Monday)."""

    program: Program
    week: date
    due_at: datetime
    series: WeeklySeries  # the 8 trend weeks, oldest first; the last is `week`
    concerns: ConcernStats
    pairs: PairStats
    ideas: IdeaDigest | None = None  # None: no author shared an idea with the program

    @property
    def this_week(self) -> WeekCounts:
        return self.series.weeks[-1]

    @property
    def last_week(self) -> WeekCounts | None:
        return self.series.weeks[-2] if len(self.series.weeks) > 1 else None

    def figure(self, metric: str, group: str = "all", *, weeks_ago: int = 0) -> Figure:
        week = self.series.weeks[-1 - weeks_ago].start
        return self.series.figure(week, group, metric)

    def trend(self, metric: str) -> list[float | None]:
        """The metric's program mean per trend week, None where hidden."""
        return [self.series.figure(w.start, "all", metric).mean for w in self.series.weeks]

    def hidden(self, metric: str) -> list[bool]:
        """Per trend week: a figure with answers behind it that the anonymity rule hides."""
        figures = [self.series.figure(w.start, "all", metric) for w in self.series.weeks]
        return [figure.n > 0 and not figure.shown for figure in figures]

    @property
    def weeks(self) -> list[date]:
        return [w.start for w in self.series.weeks]


def build_digest(session: Session, *, program: Program, week: date, now: datetime) -> Digest:
    """Aggregate everything the digest for `week` shows; its figures freeze once the week's cutoff is past."""
    first, last = trend_weeks(week, TREND_WEEKS)
    series = weekly_series(session, program=program, first=first, last=last, split={week}, now=now)
    return Digest(
        program=program,
        week=week,
        due_at=due_at(program, week),
        series=series,
        concerns=concern_stats(session, program_id=program.id, week=week),
        pairs=pair_stats(session, program=program, week=week, now=now),
        ideas=digest_ideas(session, program_id=program.id, zone=program.tz, week=week),
    )
