"""What the annual report shows, gathered once: the quarterly rows (already through the anonymity rule),
time to readiness, retention from the HR snapshot, consented learning highlights and the instruments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.instruments.catalog import Instrument, shipped_instruments
from bot.kernel.programs import Program
from bot.reports.outcomes import QuarterRow, build_report
from bot.reports.retention_cohorts import RetentionRow, retention_table, snapshot_employment
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


def build_annual_report(
    session: Session, *, program: Program, start: date, end: date, now: datetime
) -> AnnualReport:
    """Every section's figures for [start, end], evaluated at `now`."""
    rows = build_report(session, program=program, start=start, end=end, now=now)
    snapshot, people = snapshot_employment(session, program_id=program.id)
    as_of = min(end, now.astimezone(program.tz).date())
    retention = RetentionSection(
        None if snapshot is None else snapshot.source,
        None if snapshot is None else snapshot.taken_at.astimezone(program.tz).date(),
        len(people),
        as_of,
        retention_table(people, as_of=as_of, min_group_size=program.privacy.min_group_size),
    )
    return AnnualReport(
        program, start, end, now, rows,
        cohort_readiness(session, program=program, start=start, end=end),
        retention, learning_highlights(session, program_id=program.id, start=start, end=end),
        sorted(shipped_instruments().values(), key=lambda i: i.short_name),
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
