"""privacy.retention_days: raw check-in answers and free text older than that go; weekly totals stay.

Once a day per program: whole weeks of check-ins past the cutoff are rolled into AnswerRollup
(sent and answered counts, wellbeing sums, and psychological-safety sums from the unlinked
`climate_answers` rows), then their answers and those rows are deleted; notes, reflection text and
concern text older than the cutoff are cleared, and so are the working notes of ideas idle since
before it (bot.retention.ideas).
The day's RetentionRun row is the claim: it is inserted in the same transaction as the work, so a
second process (or a restart) either waits and fails on the key or finds the day done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from bot.kernel.text import plural
from bot.retention.ideas import IDEA_TABLES, clear_idea_text, ideas_to_clear
from storage.models import (
    AnswerRollup,
    Base,
    Checkin,
    CheckinAnswer,
    Concern,
    ConcernMessage,
    MentoringSession,
    Reflection,
)
from storage.models.retention import RetentionRun
from storage.repositories import climate as climate_repo
from storage.scrub import scrub

# Every table a purge deletes from or blanks text in (see _roll_up and _clear_text).
SCRUBBED = [
    "checkin_answers",
    "climate_answers",
    "reflections",
    "concerns",
    "concern_messages",
    "checkins",
    *IDEA_TABLES,
]

REMOVED = "[removed after {days} days]"
CHUNK = 500


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass
class Purge:
    """What one pass removed (or, dry, would remove) for one program."""

    program_id: str
    days: int
    cutoff: datetime
    weeks_before: date
    rollups: dict[date, AnswerRollup] = field(default_factory=dict)
    answers: int = 0
    notes: int = 0
    reflections: int = 0
    concerns: int = 0
    concern_messages: int = 0
    ideas: int = 0

    def line(self, *, dry_run: bool = False) -> str:
        verb = "would remove" if dry_run else "removed"
        return (
            f"retention {self.program_id} (older than {self.days} days, before {self.cutoff:%Y-%m-%d}): "
            f"{verb} {plural(self.answers, 'check-in answer')} from {plural(len(self.rollups), 'week')} "
            f"(kept as weekly totals), {plural(self.notes, 'other check-in note')}, the text of "
            f"{plural(self.reflections, 'reflection')}, {plural(self.concerns, 'concern')} and "
            f"{plural(self.concern_messages, 'concern reply', 'concern replies')}" + self._ideas_part()
        )

    def _ideas_part(self) -> str:
        if not self.ideas:
            return ""
        return f"; the working notes of {plural(self.ideas, 'idle idea')} (summaries kept)"


@dataclass(frozen=True)
class _Window:
    """Periods and concern weeks in [start, end) are due; start None means from the beginning."""

    start: date | None
    end: date

    def where(self, column: InstrumentedAttribute[date]) -> list[ColumnElement[bool]]:
        clauses = [column < self.end]
        if self.start is not None:
            clauses.append(column >= self.start)
        return clauses


def begin_purge(session: Session, *, program: Program, now: datetime) -> tuple[Purge, _Window]:
    """The cutoff and the window of weeks not yet purged for the program."""
    days = program.privacy.retention_days
    assert days is not None
    cutoff = now - timedelta(days=days)
    done = session.scalar(
        select(func.max(RetentionRun.weeks_before)).where(RetentionRun.program_id == program.id)
    )
    window = _Window(start=done, end=monday(cutoff.astimezone(program.tz).date()))
    return Purge(program.id, days, cutoff, max(window.end, done or window.end)), window


def purge_program(
    session: Session, purge: Purge, window: _Window, *, program: Program, dry_run: bool = False
) -> None:
    """Roll up and delete what is past the program's retention; with dry_run, only count it."""
    checkin_ids = _roll_up(session, purge, program=program, window=window)
    purge.answers = len(checkin_ids)
    # Ideas go by their own state, not by the window: see bot.retention.ideas.
    ideas = ideas_to_clear(
        session, program_id=program.id, cutoff=purge.cutoff, tz=program.tz, lock=not dry_run
    )
    if dry_run:
        _count_text(session, purge, program=program, window=window)
        purge.ideas = len(ideas)
        return
    session.add_all(purge.rollups.values())
    session.flush()  # a week someone else already rolled up fails here, before anything is deleted
    for chunk in _chunks(checkin_ids):
        session.execute(delete(CheckinAnswer).where(CheckinAnswer.checkin_id.in_(chunk)))
    climate_repo.delete_between(session, program_id=program.id, since=window.start, before=window.end)
    _clear_text(session, purge, program=program, window=window)
    purge.ideas = clear_idea_text(session, ideas, removed=REMOVED.format(days=purge.days))


def _roll_up(session: Session, purge: Purge, *, program: Program, window: _Window) -> list[int]:
    """Fill purge.rollups from the window's check-ins and unlinked team-climate answers; return the ids
    of the check-ins with an answer."""
    query = (
        select(Checkin.id, Checkin.period, Checkin.sent_at, CheckinAnswer)
        .outerjoin(CheckinAnswer, CheckinAnswer.checkin_id == Checkin.id)
        .where(Checkin.program_id == program.id, *window.where(Checkin.period))
    )
    answered: list[int] = []
    for checkin_id, period, sent_at, answer in session.execute(query):
        rollup = _rollup_of(purge, program.id, monday(period))
        rollup.sent += sent_at is not None
        if answer is None:
            continue
        answered.append(checkin_id)
        rollup.answered += 1
        if answer.wellbeing is not None:
            rollup.wellbeing_sum += answer.wellbeing
            rollup.wellbeing_n += 1
    climate = climate_repo.totals_between(
        session, program_id=program.id, since=window.start, before=window.end
    )
    for week, (n, total) in climate.items():
        rollup = _rollup_of(purge, program.id, week)
        rollup.psych_n, rollup.psych_sum = n, total
    return answered


def _rollup_of(purge: Purge, program_id: str, week: date) -> AnswerRollup:
    rollup = purge.rollups.get(week)
    if rollup is None:
        rollup = purge.rollups[week] = _empty_rollup(program_id, week)
    return rollup


def _empty_rollup(program_id: str, week: date) -> AnswerRollup:
    return AnswerRollup(
        program_id=program_id,
        week=week,
        sent=0,
        answered=0,
        wellbeing_sum=0,
        wellbeing_n=0,
        psych_sum=0,
        psych_n=0,
    )


def _text_targets(
    program: Program, purge: Purge, window: _Window
) -> dict[str, tuple[type[Base], list[ColumnElement[bool]]]]:
    checkins_of_program = select(Checkin.id).where(Checkin.program_id == program.id)
    sessions_of_program = select(MentoringSession.id).where(MentoringSession.program_id == program.id)
    concerns_of_program = select(Concern.id).where(Concern.program_id == program.id)
    return {
        "notes": (
            CheckinAnswer,
            [
                CheckinAnswer.checkin_id.in_(checkins_of_program),
                CheckinAnswer.answered_at < purge.cutoff,
                CheckinAnswer.note.is_not(None),
            ],
        ),
        "reflections": (
            Reflection,
            [
                Reflection.session_id.in_(sessions_of_program),
                Reflection.created_at < purge.cutoff,
                or_(
                    Reflection.learned.is_not(None),
                    Reflection.next_steps.is_not(None),
                    Reflection.private_notes.is_not(None),
                ),
            ],
        ),
        # Concerns carry only their week: a week counts once all of it is past the cutoff.
        "concerns": (Concern, [Concern.program_id == program.id, *window.where(Concern.week)]),
        "concern_messages": (
            ConcernMessage,
            [ConcernMessage.concern_id.in_(concerns_of_program), *window.where(ConcernMessage.week)],
        ),
    }


def _count_text(session: Session, purge: Purge, *, program: Program, window: _Window) -> None:
    for name, (model, where) in _text_targets(program, purge, window).items():
        count = session.scalar(select(func.count()).select_from(model).where(*where)) or 0
        if model is CheckinAnswer:
            # Answers being rolled up go whole, notes and all: count only the notes left behind.
            count -= _notes_in_rollup(session, program=program, window=window, cutoff=purge.cutoff)
        setattr(purge, name, int(count))


def _notes_in_rollup(session: Session, *, program: Program, window: _Window, cutoff: datetime) -> int:
    query = (
        select(func.count())
        .select_from(CheckinAnswer)
        .join(Checkin, Checkin.id == CheckinAnswer.checkin_id)
        .where(
            Checkin.program_id == program.id,
            *window.where(Checkin.period),
            CheckinAnswer.answered_at < cutoff,
            CheckinAnswer.note.is_not(None),
        )
    )
    return int(session.scalar(query) or 0)


def _clear_text(session: Session, purge: Purge, *, program: Program, window: _Window) -> None:
    removed = REMOVED.format(days=purge.days)
    values: dict[str, dict[str, object]] = {
        "notes": {"note": None},
        "reflections": {"learned": None, "next_steps": None, "private_notes": None},
        # NOT NULL columns: a fixed marker instead of the text.
        "concerns": {"text": removed},
        "concern_messages": {"text": removed},
    }
    for name, (model, where) in _text_targets(program, purge, window).items():
        result = session.execute(
            update(model).where(*where).values(**values[name]).execution_options(synchronize_session=False)
        )
        setattr(purge, name, int(getattr(result, "rowcount", 0) or 0))


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _claim(session: Session, *, program: Program, purge: Purge, now: datetime, force: bool) -> None:
    day = now.astimezone(UTC).date()
    run = session.get(RetentionRun, (program.id, day), with_for_update=True) if force else None
    if run is None:
        run = RetentionRun(program_id=program.id, day=day, ran_by="cli" if force else "tick")
        session.add(run)
    run.cutoff, run.weeks_before, run.ran_at = purge.cutoff, purge.weeks_before, now
    session.flush()  # the claim: a twin process inserting the same day fails here


def run_program(deps: Deps, *, program: Program, now: datetime, force: bool = False) -> Purge | None:
    """One claimed pass for a program; None when another process (or an earlier tick) did today's."""
    day = now.astimezone(UTC).date()
    if not force:
        with deps.read_sessions.begin() as session:
            if session.get(RetentionRun, (program.id, day)) is not None:
                return None
    try:
        with deps.sessions.begin() as session:
            purge, window = begin_purge(session, program=program, now=now)
            _claim(session, program=program, purge=purge, now=now, force=force)
            purge_program(session, purge, window, program=program)
    except IntegrityError:
        return None  # lost the race for today's claim (or a week's rollup): all of it rolled back
    # Purged answers and text must not linger in the WAL or in PostgreSQL's dead tuples.
    scrub(deps.engine, tables=SCRUBBED)
    return purge


def run_due(deps: Deps, now: datetime) -> list[str]:
    """The daily retention pass for every program with privacy.retention_days."""
    done = []
    for program in deps.programs.programs:
        if program.privacy.retention_days is None:
            continue
        purge = run_program(deps, program=program, now=now)
        if purge is not None:
            done.append(purge.line())
    return done
