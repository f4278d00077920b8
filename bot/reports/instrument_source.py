"""The report's instrument scores: the released, unlinked survey answers of each quarter.

Each instrument a program schedules is read per report quarter from bot.instruments' released answers:
a monthly instrument's three months, a quarterly one's quarter, a pair-month instrument's answers sent
in that quarter ("m3 2026-Q4"). Keys are answer ids, so a figure's count is of answers: for a monthly
instrument a person may stand behind up to three of them. The k rule still holds by construction, since
a month is released only with at least k answers, one per person.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bot.instruments.aggregates import answer_scores
from bot.instruments.catalog import shipped_instruments
from bot.instruments.surveys import add_months, period_start
from bot.kernel.programs import InstrumentSchedule, Program
from bot.reports.instrument_scores import PersonScores
from bot.reports.stats import Quarter
from storage.repositories.instruments import closed_periods


def survey_scores(session: Session, program: Program, periods: list[Quarter]) -> list[PersonScores]:
    """For each scheduled instrument, each quarter's answer scores (oldest quarter first)."""
    catalogue = shipped_instruments()
    discarded = discarded_counts(session, program)
    found: list[PersonScores] = []
    for schedule in program.instruments:
        instrument = catalogue.get(schedule.id)
        if instrument is None:  # check-config names it; the report has nothing to read
            continue
        cutoffs = instrument.scoring.cutoffs
        wanted = {q.label: answer_periods(schedule, q) for q in periods}
        every = {period for labels in wanted.values() for period in labels}
        scores = answer_scores(session, program=program, instrument_id=schedule.id, periods=every)
        cutoff = cutoffs[0].at_least if cutoffs else None
        for quarter in periods:
            merged = {key: v for label in wanted[quarter.label] for key, v in scores.get(label, {}).items()}
            withheld = sum(discarded.get((schedule.id, label), 0) for label in wanted[quarter.label])
            found.append(PersonScores(instrument.short_name, quarter.label, merged, cutoff, withheld))
    return found


def discarded_counts(session: Session, program: Program) -> dict[tuple[str, str], int]:
    """(instrument, answer period) -> how many answered a period discarded for having fewer than k."""
    return {
        (instrument_id, period): answered
        for (_, instrument_id, period), (answered, released) in closed_periods(
            session, program_id=program.id
        ).items()
        if answered and not released
    }


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
