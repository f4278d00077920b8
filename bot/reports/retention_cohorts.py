"""Retention of participants against non-participants, from the newest HR roster snapshot.

For a horizon of h months, an employee is *eligible* when h months have passed since their start
(start + h months <= the report's last day), and *retained* when they had not left by then. Leaving is
the snapshot's end date or a Slack deactivation, whichever is earlier. Counting only the eligible keeps
recent hires (who cannot have left yet) out of both numerator and denominator.

Intervals are Wilson score intervals (95%); the difference (participants minus non-participants) has
Newcombe's hybrid score interval, built from the two Wilson intervals. A difference whose interval
holds 0 is reported as no detectable difference — a null result stays a null result. A group with
fewer than `min_group_size` eligible people is hidden; so is one where everyone or no one was retained
(it tells each person's outcome), and so is a figure that, set beside one or two other shown figures
(the horizons nest; roles split the program), would single out fewer than that many people —
bot.kernel.suppression's rule for figures over people.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.kernel.suppression import (
    COMBINATION,
    HOMOGENEOUS,
    SMALL,
    UNKNOWN,
    Decision,
    PeopleFigure,
    decide_people,
)
from storage.models import Pair, Person, PersonDeparture, RosterMember, RosterSnapshot

HORIZONS = (6, 12, 24)
ROLE_HORIZON = 12  # roles are compared at one horizon: every further one multiplies small groups
MEASURE = "retention"
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Employment:
    started_on: date
    left_on: date | None
    participant: bool
    employee: str = ""  # the snapshot's key (user id or email): who is behind a figure
    role: str = ""


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


@dataclass(frozen=True)
class RoleRetention:
    role: str
    row: RetentionRow


@dataclass(frozen=True)
class RetentionTables:
    table: list[RetentionRow]  # the program, one row per horizon
    roles: list[RoleRetention]  # each HR role at ROLE_HORIZON months
    figures: list[PeopleFigure]  # every retention figure with who is behind it, as decided
    decisions: dict[str, Decision]


def retention_table(
    people: Sequence[Employment], *, as_of: date, min_group_size: int, horizons: Sequence[int] = HORIZONS
) -> list[RetentionRow]:
    """One row per horizon, both sides decided by the threshold and the subtraction rule."""
    return retention_tables(people, as_of=as_of, min_group_size=min_group_size, horizons=horizons).table


def retention_tables(
    people: Sequence[Employment], *, as_of: date, min_group_size: int, horizons: Sequence[int] = HORIZONS
) -> RetentionTables:
    """The program's horizons, then each role at ROLE_HORIZON months, all decided together under the
    report's rule for figures over people (bot.kernel.suppression.decide_people): a role's figure is
    hidden when, beside the program's, it would single out fewer than k people."""
    keyed = [(person.employee or f"#{index}", person) for index, person in enumerate(people)]
    roles = sorted({person.role for person in people if person.role})
    groups = [(months, "", side) for side in (True, False) for months in horizons]
    groups += [(ROLE_HORIZON, role, side) for role in roles for side in (True, False)]
    counted = {group: _group(keyed, *group, as_of) for group in groups}
    figures = [
        PeopleFigure(
            figure_name(*group), MEASURE, frozenset(members), homogeneous=retained in (0, len(members))
        )
        for group, (members, retained) in counted.items()
    ]
    decisions = decide_people(figures, min_group_size=min_group_size)
    decided = {group: _figure(counted[group], decisions[figure_name(*group)]) for group in groups}
    table = [_row(months, decided[(months, "", True)], decided[(months, "", False)]) for months in horizons]
    by_role = [
        RoleRetention(
            role,
            _row(ROLE_HORIZON, decided[(ROLE_HORIZON, role, True)], decided[(ROLE_HORIZON, role, False)]),
        )
        for role in roles
    ]
    return RetentionTables(table, by_role, figures, decisions)


def figure_name(months: int, role: str, side: bool) -> str:
    return f"{MEASURE} {months}m {role or 'all'} {'participants' if side else 'others'}"


def _group(
    keyed: list[tuple[str, Employment]], months: int, role: str, side: bool, as_of: date
) -> tuple[set[str], int]:
    """The eligible people of one side (and role) at a horizon, and how many of them were retained."""
    members, retained = set(), 0
    for key, person in keyed:
        mark = add_months(person.started_on, months)
        if person.participant is side and mark <= as_of and (not role or person.role == role):
            members.add(key)
            retained += person.left_on is None or person.left_on >= mark
    return members, retained


HIDDEN_AS = {SMALL: "fewer than k", COMBINATION: "overlap", HOMOGENEOUS: "all the same", UNKNOWN: "unknown"}


def _figure(counted: tuple[set[str], int], decision: Decision) -> RetentionFigure:
    eligible, retained = len(counted[0]), counted[1]
    if eligible == 0:
        return RetentionFigure(0, 0, None, None, None, "none eligible")
    if not decision.shown:
        return RetentionFigure(eligible, retained, None, None, None, HIDDEN_AS.get(decision.reason, "hidden"))
    low, high = wilson(retained, eligible)
    return RetentionFigure(eligible, retained, retained / eligible, low, high, "")


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
            m.employee,
            m.role,
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
