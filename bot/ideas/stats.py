"""What the weekly digest and the annual report say about ideas: only those their authors shared.

An idea kept between the pair is never counted or listed for coordinators — not even in a total —
so the digest and the report show nothing of it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.ideas.terms import DECISION_STAGES, PLANNED, RAISED, STAGES, STUDIED, TESTED
from storage.models import Idea, IdeaCycle
from storage.repositories.ideas import cycles_of, shared_ideas_before, shared_ideas_since, tested_days


@dataclass(frozen=True)
class IdeaDigest:
    """Shared ideas by their stage at the week's end (stages with none left out), and the changes
    adopted during the week."""

    by_stage: tuple[tuple[str, int], ...]
    adopted: tuple[str, ...]  # one-line summaries


def digest_ideas(session: Session, *, program_id: str, zone: ZoneInfo, week: date) -> IdeaDigest | None:
    """The digest's ideas for the week starting `week` (a Monday, in the program's timezone), as they
    stood at its end, so a late or repeated digest says the same; None when no author had shared one."""
    start = datetime.combine(week, time(), zone)
    end = start + timedelta(days=7)
    ideas = shared_ideas_before(session, program_id=program_id, end=end)
    if not ideas:
        return None
    cycles = cycles_of(session, idea_ids=[idea.id for idea in ideas])
    stages = Counter(stage_at(cycles[idea.id], end) for idea in ideas)
    adopted = sorted((i for i in ideas if i.adopted_at and start <= i.adopted_at < end), key=_adopted_order)
    return IdeaDigest(
        by_stage=tuple((stage, stages[stage]) for stage in STAGES if stages[stage]),
        adopted=tuple(idea.summary for idea in adopted),
    )


def stage_at(cycles: list[IdeaCycle], end: datetime) -> str:
    """An idea's stage as it stood just before `end`, from when each step of its cycles was recorded."""
    stage = RAISED
    for cycle in cycles:
        steps = ((cycle.planned_at, PLANNED), (cycle.done_at, TESTED), (cycle.studied_at, STUDIED))
        for when, reached in (*steps, (cycle.acted_at, DECISION_STAGES.get(cycle.decision or "", stage))):
            if when is None or when >= end:
                return stage
            stage = reached
    return stage


def _adopted_order(idea: Idea) -> tuple[datetime, int]:
    assert idea.adopted_at is not None
    return idea.adopted_at, idea.id


@dataclass(frozen=True)
class IdeaFigures:
    """One report period: shared ideas raised, tested (a Do step recorded) and adopted in it."""

    raised: int
    tested: int
    adopted: int
    adopted_changes: tuple[str, ...]  # one-line summaries, in order of adoption


def report_ideas(
    session: Session, *, program_id: str, zone: ZoneInfo, periods: list[tuple[date, date]]
) -> list[IdeaFigures]:
    """Figures per period (first and last day, inclusive, in the program's timezone)."""
    if not periods:
        return []
    ideas = shared_ideas_since(
        session, program_id=program_id, start=datetime.combine(periods[0][0], time(), zone)
    )
    tests = tested_days(session, idea_ids=[idea.id for idea in ideas])
    figures = []
    for first, last in periods:

        def within(instant: datetime | None, first: date = first, last: date = last) -> bool:
            return instant is not None and first <= instant.astimezone(zone).date() <= last

        adopted = sorted((idea for idea in ideas if within(idea.adopted_at)), key=_adopted_order)
        figures.append(
            IdeaFigures(
                raised=sum(1 for idea in ideas if within(idea.created_at)),
                tested=sum(1 for idea in ideas if any(within(day) for day in tests.get(idea.id, []))),
                adopted=len(adopted),
                adopted_changes=tuple(idea.summary for idea in adopted),
            )
        )
    return figures
