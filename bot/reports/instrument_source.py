"""The report's instrument scores: the released, unlinked survey answers of each quarter, and who answered.

Each instrument a program schedules is read per report quarter from bot.instruments' released answers:
a monthly instrument's three months, a quarterly one's quarter, a pair-month instrument's answers sent
in that quarter ("m3 2026-Q4"). Score keys are answer ids, so the mean is over answers: for a monthly
instrument a person may stand behind up to three of them.

Who stands behind a quarter is read from the named claims, not the answers: the mentees with an
answered claim filed under one of the quarter's released periods. Who answered is no secret (the
claim's `answered` flag); what they answered stays unlinked, and the two are only set side by side
here, as a set against a list of scores. With it the report's combination rule compares quarters by
people (bot.kernel.suppression.decide_people). A period whose answered claims are not exactly its
released answers (a straggler answered after the close, or a version discarded) cannot say who is
behind it: its quarter's people are unknown, and the figure hidden.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy.orm import Session

from bot.instruments.aggregates import answer_scores
from bot.instruments.catalog import shipped_instruments
from bot.instruments.surveys import add_months, answer_period, closes_at, period_start
from bot.kernel.programs import InstrumentSchedule, Program
from bot.reports.instrument_scores import PersonScores
from bot.reports.stats import Quarter
from storage.repositories.instruments import answered_claims, closed_periods

Closed = dict[tuple[str, str], tuple[int, int]]  # (instrument, answer period) -> (answered, released)


def survey_scores(session: Session, program: Program, periods: list[Quarter]) -> list[PersonScores]:
    """For each scheduled instrument, each quarter's answer scores and who gave them (oldest first)."""
    catalogue = shipped_instruments()
    closed = {(i, d): counts for (_, i, d), counts in closed_periods(session, program_id=program.id).items()}
    found: list[PersonScores] = []
    for schedule in program.instruments:
        instrument = catalogue.get(schedule.id)
        if instrument is None:  # check-config names it; the report has nothing to read
            continue
        cutoffs = instrument.scoring.cutoffs
        wanted = {q.label: answer_periods(schedule, q) for q in periods}
        every = {period for labels in wanted.values() for period in labels}
        scores = answer_scores(session, program=program, instrument_id=schedule.id, periods=every)
        answered = respondents(session, program, schedule.id, closed)
        cutoff = cutoffs[0].at_least if cutoffs else None
        for quarter in periods:
            labels = wanted[quarter.label]
            merged = {key: v for label in labels for key, v in scores.get(label, {}).items()}
            withheld = sum(_discarded(closed, schedule.id, label) for label in labels)
            people = _union([answered.get(label, frozenset()) for label in labels])
            found.append(
                PersonScores(
                    instrument.short_name, quarter.label, merged, cutoff, withheld,
                    people=people, checkable=people is not None, closes=closes_at(quarter.label),
                )
            )  # fmt: skip
    return found


def respondents(
    session: Session, program: Program, instrument_id: str, closed: Closed
) -> dict[str, frozenset[str] | None]:
    """Released answer period -> the mentees behind its answers; None when that cannot be told exactly."""
    found: dict[str, list[str]] = defaultdict(list)
    for claim in answered_claims(session, program_id=program.id, instrument_id=instrument_id):
        found[answer_period(claim.period, claim.sent_at or claim.due_at)].append(claim.person_id)
    out: dict[str, frozenset[str] | None] = {}
    for period, people in found.items():
        answered, released = closed.get((instrument_id, period), (0, 0))
        if released:
            out[period] = frozenset(people) if len(people) == answered == released else None
    return out


def _union(sets: list[frozenset[str] | None]) -> frozenset[str] | None:
    if any(s is None for s in sets):
        return None
    return frozenset().union(*(s for s in sets if s is not None))


def _discarded(closed: Closed, instrument_id: str, period: str) -> int:
    """How many answered a period discarded for having fewer than k people behind it."""
    answered, released = closed.get((instrument_id, period), (0, 0))
    return answered if answered and not released else 0


def answer_periods(schedule: InstrumentSchedule, quarter: Quarter) -> list[str]:
    """The answer periods a report quarter holds for one scheduled instrument."""
    if schedule.pair_months:
        return [f"m{month} {quarter.label}" for month in schedule.pair_months]
    if schedule.cadence == "quarterly":
        return [quarter.label]
    months, day = [], date(quarter.start.year, quarter.start.month, 1)
    while day <= quarter.end:
        months.append(period_start("monthly", day)[0])
        day = add_months(day, 1)
    return months
