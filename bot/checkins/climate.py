"""Team-climate answers: encrypted beside the check-in while open, then moved, shuffled, out of reach.

Mentees are told their team-climate (Edmondson) answer is seen by "nobody individually". A check-in
row names its mentee, so the answer may sit beside it only while it can still change, and then only
as a Fernet token (`checkin_answers.climate_score`). When a program's week closes, its scores leave
the check-ins in one transaction and land in `climate_answers`, rows holding a program, a week, a
score and at most a "met my mentor" flag: no mentee, no check-in, no instant.

When a week closes. Answers count for a week only if given before its cutoff, the instant its digest
is due (``bot.digests.weeks``): that is when the week's team-climate answers close, even though the
rest of a check-in may stay open a few more hours. Later team-climate answers for the week are not
stored. The tick closes every week whose cutoff has passed before the digest job runs, so the digest
has its figure on time; until then the digest shows it as not yet available.

What is moved, and what would link a row to a person:

- Row order. The batch is shuffled with ``secrets.SystemRandom`` before a single INSERT, so the ids
  the database allocates (SQLite's rowid, PostgreSQL's sequence), the cells' order in SQLite's
  b-tree pages and the tuples' ctid order on PostgreSQL all follow the shuffle, not the check-ins.
- The transaction. Every row of the batch is written by one transaction, so on PostgreSQL they share
  one xmin, also with the week's check-in answers whose copies it sets to NULL. That ties the batch to
  the set of mentees who answered (known anyway: `climate_answered`), never a row to one of them.
- Time. Rows carry only the week's Monday: no answer time, no insertion time.
- The Edmondson item. It is not stored: each mentee's item follows from their id and how many
  prompts they had (``bot.checkins.edmondson.item_for``), so the item would split a week into groups
  of one or two whose answers are theirs. Scores are stored reverse-scored instead (8 - answer for
  items 1, 3 and 5), which is all a mean needs.
- The "met my mentor" flag. It splits the batch the way the digest does, so it is kept only when
  both sides have at least `privacy.min_group_size` answers, else NULL on every row of the week.
- Small batches. A week with fewer than `min_group_size` answers in time is discarded, not moved:
  such a batch is (nearly) tied to the few mentees who answered, and a figure over it could never be
  shown anyway. Its count is kept in `climate_weeks` so the digest still says "fewer than k answers".
  Pooling it into a later week would put a week's answers under another week's label.
- Stragglers. An answer committed after its week closed (it lost a race with the close) is discarded
  on the next pass: moving it on its own would make a batch of one.

The encrypted copies are set to NULL in the moving transaction. Afterwards ``storage.scrub`` pushes
the old row images out of SQLite's WAL (SQLite itself runs with secure_delete) and VACUUMs
`checkin_answers` on PostgreSQL.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.checkins.edmondson import scored
from bot.kernel.deps import Deps
from bot.kernel.programs import Program, ProgramsConfig
from storage.models import Checkin
from storage.repositories import climate as repo
from storage.repositories.climate import OpenScore
from storage.scrub import scrub

WEEK = timedelta(days=7)
SCRUBBED = ["checkin_answers"]
_SHUFFLER = secrets.SystemRandom()


def week_of(period: date) -> date:
    """The Monday of a check-in's period: the week its answers count for."""
    return period - timedelta(days=period.weekday())


def closes_at(program: Program, week: date) -> datetime:
    """The week's cutoff: when the digest covering it is due, and when its team-climate answers close."""
    day = week + WEEK + timedelta(days=program.digest.weekday_index)
    local = datetime.combine(day, program.digest.time, tzinfo=program.tz)
    return local.astimezone(UTC)


def is_open(session: Session, *, program: Program, checkin: Checkin, now: datetime) -> bool:
    """Whether the check-in's team-climate answer may still be given or changed.

    Call it with the check-in locked (see storage.repositories.climate.lock_week).
    """
    week = week_of(checkin.period)
    return now < closes_at(program, week) and not repo.is_closed(session, program_id=program.id, week=week)


def answer_fields(score: int | None) -> dict[str, Any]:
    """The stored columns for a team-climate answer (None: not answered), encrypted by the column type."""
    return {"climate_score": None if score is None else str(score), "climate_answered": score is not None}


@dataclass(frozen=True)
class Closed:
    """One program's week closed: how many answered in time, and how many of those were moved."""

    program_id: str
    week: date
    answered: int
    moved: int


def close_due(deps: Deps, now: datetime) -> list[Closed]:
    """Close every week past its cutoff that still has scores beside check-ins, then scrub the files."""
    with deps.sessions.begin() as session:
        due = due_weeks(session, programs=deps.programs, now=now)
    closed = [close_week(deps, program=program, week=week) for program, week in due]
    if closed:
        scrub(deps.engine, tables=SCRUBBED)
    return closed


def due_weeks(session: Session, *, programs: ProgramsConfig, now: datetime) -> list[tuple[Program, date]]:
    """Weeks holding encrypted scores whose cutoff has passed or that closed before (stragglers).

    Programs gone from programs.yml are left alone, as the rest of the tick leaves their check-ins.
    """
    weeks = sorted(
        {(program_id, week_of(period)) for program_id, period in repo.periods_with_open_scores(session)}
    )
    due = []
    for program_id, week in weeks:
        program = programs.get(program_id)
        if program is None:
            continue
        if now >= closes_at(program, week) or repo.is_closed(session, program_id=program_id, week=week):
            due.append((program, week))
    return due


def close_week(deps: Deps, *, program: Program, week: date) -> Closed:
    """Move one program's week in one transaction: shuffled rows in, encrypted copies out, week recorded."""
    with deps.sessions.begin() as session:
        repo.lock_week(session, program_id=program.id, first=week, end=week + WEEK)
        scores = repo.open_scores(session, program_id=program.id, first=week, end=week + WEEK)
        again = repo.is_closed(session, program_id=program.id, week=week)
        cutoff = closes_at(program, week)
        in_time = [] if again else [s for s in scores if s.answered_at < cutoff]
        batch = shuffled_batch(in_time, min_group_size=program.privacy.min_group_size)
        repo.insert_answers(session, program_id=program.id, week=week, answers=batch)
        repo.unlink(session, checkin_ids=[s.checkin_id for s in scores])
        if not again:
            repo.record_week(session, program_id=program.id, week=week, answered=len(in_time))
    return Closed(program.id, week, len(in_time), len(batch))


def shuffled_batch(scores: Sequence[OpenScore], *, min_group_size: int) -> list[tuple[bool | None, int]]:
    """(met, reverse-scored answer) rows in random order; none when fewer than `min_group_size`."""
    if len(scores) < min_group_size:
        return []
    met = sum(1 for s in scores if s.met_mentor is True)
    split = met >= min_group_size and len(scores) - met >= min_group_size
    batch = [(s.met_mentor is True if split else None, scored(s.item, s.score)) for s in scores]
    _SHUFFLER.shuffle(batch)
    return batch
