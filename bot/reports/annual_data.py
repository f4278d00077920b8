"""What the annual report shows, gathered once: the quarterly rows (already through the anonymity rule),
time to readiness, retention from the HR snapshot, consented learning highlights, the instruments and,
when given, patient experience by unit. `people_figures` lists every figure over people the report
decided, with who is behind it: what the suppression test combines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.instruments.catalog import Instrument, shipped_instruments
from bot.kernel.programs import Program
from bot.kernel.suppression import Decision, PeopleFigure
from bot.reports.first_meeting import FirstMeetings
from bot.reports.instrument_scores import (
    InstrumentCell,
    InstrumentSource,
    instrument_cells,
)
from bot.reports.instrument_source import survey_scores
from bot.reports.outcomes import QuarterRow, build_report_figures
from bot.reports.patient_experience import PatientExperience, UnitScore, patient_experience
from bot.reports.quarter_scores import QuarterScores
from bot.reports.retention_cohorts import RetentionRow, RoleRetention, retention_tables, snapshot_employment
from bot.reports.stats import quarters
from bot.tracks.readiness import CohortReadiness, cohort_readiness
from storage.models import MentoringSession, Reflection

MAX_HIGHLIGHTS = 8


@dataclass(frozen=True)
class RetentionSection:
    source: str | None  # the snapshot's file name; None: no snapshot imported
    taken_on: date | None
    employees: int
    as_of: date
    table: list[RetentionRow]
    roles: list[RoleRetention]


@dataclass(frozen=True)
class AnnualReport:
    program: Program
    start: date
    end: date
    generated_at: datetime
    rows: list[QuarterRow]
    readiness: list[CohortReadiness]
    retention: RetentionSection
    highlights: list[tuple[str, str]]  # (author role, what they learned): no names, no dates
    instruments: list[Instrument]
    scores: QuarterScores
    first_meetings: FirstMeetings
    instrument_cells: list[InstrumentCell]
    patient_experience: PatientExperience | None
    people_figures: list[tuple[PeopleFigure, Decision]]


def build_annual_report(
    session: Session,
    *,
    program: Program,
    start: date,
    end: date,
    now: datetime,
    unit_scores: tuple[str, list[UnitScore]] | None = None,
    instrument_source: InstrumentSource = survey_scores,
) -> AnnualReport:
    """Every section's figures for [start, end], evaluated at `now`. `unit_scores` is a patient-experience
    file's name and rows; `instrument_source` gives each quarter's instrument scores."""
    k = program.privacy.min_group_size
    built = build_report_figures(session, program=program, start=start, end=end, now=now)
    snapshot, people = snapshot_employment(session, program_id=program.id)
    as_of = min(end, now.astimezone(program.tz).date())
    tables = retention_tables(people, as_of=as_of, min_group_size=k)
    retention = RetentionSection(
        None if snapshot is None else snapshot.source,
        None if snapshot is None else snapshot.taken_at.astimezone(program.tz).date(),
        len(people), as_of, tables.table, tables.roles,
    )  # fmt: skip
    cells, cell_figures, cell_decisions = instrument_cells(
        instrument_source(session, program, quarters(start, end)), min_group_size=k, now=now
    )
    decided = [
        *((f, built.scores.decisions[f.key]) for f in built.scores.figures),
        *((f, built.first_meetings.decisions[f.key]) for f in built.first_meetings.figures),
        *((f, tables.decisions[f.key]) for f in tables.figures),
        *((f, cell_decisions[f.key]) for f in cell_figures),
    ]
    labels = [row.quarter for row in built.rows]
    return AnnualReport(
        program, start, end, now, built.rows,
        cohort_readiness(session, program=program, start=start, end=end),
        retention, learning_highlights(session, program_id=program.id, start=start, end=end),
        sorted(shipped_instruments().values(), key=lambda i: i.short_name),
        built.scores, built.first_meetings, cells,
        None if unit_scores is None else patient_experience(*unit_scores, quarters=labels),
        decided,
    )  # fmt: skip


def learning_highlights(
    session: Session, *, program_id: str, start: date, end: date
) -> list[tuple[str, str]]:
    """What mentors and mentees learned from each other, only where the author consented to share it,
    from confirmed sessions in the range; by role only — the report names nobody."""
    found = session.execute(
        select(Reflection.author_role, Reflection.learned)
        .join(MentoringSession, MentoringSession.id == Reflection.session_id)
        .where(
            MentoringSession.program_id == program_id,
            MentoringSession.status == "confirmed",
            MentoringSession.session_date.between(start, end),
            Reflection.share_learned.is_(True),
            Reflection.learned.is_not(None),
        )
        .order_by(MentoringSession.session_date.desc(), Reflection.id)
        .limit(MAX_HIGHLIGHTS)
    )
    # The same words from two sessions (a note copied forward) are one highlight.
    return list(dict.fromkeys((str(role), str(text)) for role, text in found if text))
