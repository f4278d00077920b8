"""Retention of participants against non-participants, from the newest HR roster snapshot.

For a horizon of h months, an employee is *eligible* when h months have passed since their start
(start + h months <= the report's last day), and *retained* when they had not left by then. Leaving is
the snapshot's end date or a Slack deactivation, whichever is earlier. Counting only the eligible keeps
recent hires (who cannot have left yet) out of both numerator and denominator.

Intervals are Wilson score intervals (95%); the difference (participants minus non-participants) has
Newcombe's hybrid score interval, built from the two Wilson intervals. A difference whose interval
holds 0 is reported as no detectable difference — a null result stays a null result. A group with
fewer than `min_group_size` eligible people is hidden, and so is a horizon whose group differs from
another shown horizon's group of the same side by fewer than that many people (the horizons nest, so
subtracting two would describe those few people) — bot.kernel.suppression's subtraction rule.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.kernel.suppression import safe_difference
from storage.models import Pair, Person, PersonDeparture, RosterMember, RosterSnapshot

HORIZONS = (6, 12, 24)
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Employment:
    started_on: date
    left_on: date | None
    participant: bool


@dataclass(frozen=True)
class RetentionFigure:
    eligible: int
    retained: int
    rate: float | None  # None: hidden, or nobody eligible yet
    low: float | None
    high: float | None
    hidden: str  # "" shown; "none eligible", "fewer than k", "overlap"


@dataclass(frozen=True)
class RetentionRow:
    months: int
    participants: RetentionFigure
    others: RetentionFigure
    difference: float | None
    low: float | None
    high: float | None

    @property
    def verdict(self) -> str:
        """The difference in words: a null result is said as such."""
        if self.difference is None or self.low is None or self.high is None:
            return "not shown"
        if self.low <= 0 <= self.high:
            return "no detectable difference"
        return "participants higher" if self.difference > 0 else "participants lower"


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a proportion."""
    if n <= 0:
        raise ValueError("an interval needs at least one observation")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> tuple[float, float, float]:
    """p1 - p2 and Newcombe's (1998, method 10) hybrid score interval."""
    p1, p2 = x1 / n1, x2 / n2
    (l1, u1), (l2, u2) = wilson(x1, n1, z), wilson(x2, n2, z)
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Aug + 6 months is 28/29 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def retention_table(
    people: Sequence[Employment], *, as_of: date, min_group_size: int, horizons: Sequence[int] = HORIZONS
) -> list[RetentionRow]:
    """One row per horizon, both sides decided by the threshold and the subtraction rule."""
    sides = {
        side: _decide([_count(people, side, months, as_of) for months in horizons], min_group_size)
        for side in (True, False)
    }
    return [_row(months, sides[True][i], sides[False][i]) for i, months in enumerate(horizons)]


def _count(people: Sequence[Employment], side: bool, months: int, as_of: date) -> tuple[int, int]:
    eligible = retained = 0
    for person in people:
        mark = add_months(person.started_on, months)
        if person.participant is side and mark <= as_of:
            eligible += 1
            retained += person.left_on is None or person.left_on >= mark
    return eligible, retained


def _decide(counts: list[tuple[int, int]], k: int) -> list[RetentionFigure]:
    shown: list[int] = []
    figures = []
    for eligible, retained in counts:
        reason = "none eligible" if eligible == 0 else "fewer than k" if eligible < k else ""
        # Horizons nest (everyone eligible at 24 months is eligible at 6): the difference is a head count.
        if not reason and not all(safe_difference(abs(eligible - other), k) for other in shown):
            reason = "overlap"
        if reason:
            figures.append(RetentionFigure(eligible, retained, None, None, None, reason))
            continue
        shown.append(eligible)
        low, high = wilson(retained, eligible)
        figures.append(RetentionFigure(eligible, retained, retained / eligible, low, high, ""))
    return figures


def _row(months: int, ours: RetentionFigure, theirs: RetentionFigure) -> RetentionRow:
    if ours.rate is None or theirs.rate is None:
        return RetentionRow(months, ours, theirs, None, None, None)
    d, low, high = newcombe(ours.retained, ours.eligible, theirs.retained, theirs.eligible)
    return RetentionRow(months, ours, theirs, d, low, high)


def snapshot_employment(
    session: Session, *, program_id: str
) -> tuple[RosterSnapshot | None, list[Employment]]:
    """The newest snapshot's employees: departures from HR or Slack, participation from the file or pairs."""
    snapshot = session.scalar(
        select(RosterSnapshot)
        .where(RosterSnapshot.program_id == program_id)
        .order_by(RosterSnapshot.taken_at.desc(), RosterSnapshot.id.desc())
        .limit(1)
    )
    if snapshot is None:
        return None, []
    members = session.scalars(select(RosterMember).where(RosterMember.snapshot_id == snapshot.id)).all()
    paired = _paired_keys(session, program_id=program_id)
    departed = _departures(session)
    return snapshot, [
        Employment(
            m.started_on,
            _earliest(m.ended_on, departed.get(m.employee)),
            m.employee in paired if m.participant is None else m.participant,
        )
        for m in members
    ]


def _earliest(a: date | None, b: date | None) -> date | None:
    return min(d for d in (a, b) if d is not None) if a or b else None


def _paired_keys(session: Session, *, program_id: str) -> set[str]:
    """User ids and emails of everyone who was ever in a pair of the program, on either side."""
    rows = session.execute(
        select(Person.id, Person.email).join(
            Pair,
            (Pair.program_id == program_id) & or_(Pair.mentee_id == Person.id, Pair.mentor_id == Person.id),
        )
    )
    return {key for user_id, email in rows for key in (user_id, email) if key}


def _departures(session: Session) -> dict[str, date]:
    found: dict[str, date] = {}
    for user_id, email, day in session.execute(
        select(PersonDeparture.user_id, PersonDeparture.email, PersonDeparture.departed_on)
    ):
        for key in (user_id, email):
            if key:
                found[key] = min(day, found.get(key, day))
    return found
