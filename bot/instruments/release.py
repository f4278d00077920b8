"""Releasing survey answers: encrypted beside their claims while a period is open, then moved, shuffled,
out of reach, the way team-climate answers leave the check-ins (bot.checkins.climate).

Mentees are told their survey answer is counted "only in totals; nobody sees your answer". A claim
names its mentee, so the scored answer waits beside it (`instrument_pending`, keyed by the claim's id)
only as a Fernet token, and only until its period closes (bot.instruments.surveys.closes_at: the
period's end plus GRACE; a pair's month is filed with the quarter its survey was sent in, "m3 2026-Q4",
so its batch is a quarter's answers, never one pair's). Then, in one transaction per program,
instrument and period, the waiting answers land in `instrument_answers` and are deleted beside the
claims; `instrument_periods` records the period closed.

What is moved, and what would link a row to a person:

- Row order. The batch is shuffled with ``secrets.SystemRandom`` before a single INSERT, so SQLite's
  rowids and cell order and PostgreSQL's ctid order follow the shuffle, not the answers.
- The transaction. Every row of the batch is written by one transaction, which also deletes the
  waiting copies (rows holding a claim id and a token: no user id, channel or ts). On PostgreSQL the
  rows share one xmin, which ties the batch to the set of mentees who answered (known anyway: the
  claims' `answered` flag), never a row to one of them. The claims themselves are not written.
- Time. Rows carry only the period: no answer time, no release time.
- The mentor pseudonym (instruments rating the mentor). Decided now, not when answered: a row keeps
  its mentor's pseudonym only if that mentor has at least `privacy.min_group_size` (k) active mentees,
  the batch holds at least k ratings of that mentor, and the rows left without a pseudonym number 0
  or at least k (else the smallest mentors' groups lose theirs too, until that holds), like the
  team-climate "met my mentor" flag. Otherwise the answer counts only in the program's totals.
- Versions. An instrument's version changes only with a release of the bot; a version with fewer
  than k answers in a batch is discarded rather than released as a small group.
- Small batches. A period with fewer than k answers is discarded, not moved: such a batch is (nearly)
  tied to the few who answered, and no figure over it could be shown. Its count is kept in
  `instrument_periods` so reports can say "fewer than k answers".
- Stragglers. An answer committed after its period closed (it lost a race with the close; the modal
  refuses answers once the period has closed) is discarded on the next pass: moving it on its own
  would make a batch of one.

Programs gone from programs.yml keep their waiting answers until they return (their k is unknown).
After the transactions commit, ``storage.scrub`` pushes the old images of the deleted tokens out of
SQLite's WAL (SQLite runs with secure_delete) and VACUUMs `instrument_pending` on PostgreSQL.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.instruments.answers import mentor_key
from bot.instruments.surveys import answer_period, closes_at
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from storage.repositories import instruments as repo
from storage.scrub import scrub

SCRUBBED = ["instrument_pending"]
_SHUFFLER = secrets.SystemRandom()


@dataclass(frozen=True)
class Answer:
    """One answer as it will be released: nothing of who gave it."""

    version: int
    score: float
    domains: dict[str, float]
    mentor_key: str | None


@dataclass(frozen=True)
class Closed:
    """One period closed: how many answers were waiting, and how many of them were released."""

    program_id: str
    instrument_id: str
    period: str
    answered: int
    released: int


def close_due(deps: Deps, now: datetime) -> list[Closed]:
    """Close every period past its close holding waiting answers (or stragglers), then scrub the files."""
    with deps.sessions.begin() as session:
        due = due_periods(deps, session, now=now)
    closed = [close(deps, program=p, instrument_id=i, period=d) for p, i, d in due]
    if closed:
        scrub(deps.engine, tables=SCRUBBED)
    return closed


def due_periods(deps: Deps, session: Session, *, now: datetime) -> list[tuple[Program, str, str]]:
    """(program, instrument, period) holding waiting answers whose period has closed, or closed before."""
    found = {(p.program_id, p.instrument_id, _period_of(p)) for p in repo.pending(session)}
    closed = repo.closed_periods(session)
    due = []
    for program_id, instrument_id, period in sorted(found):
        program = deps.programs.get(program_id)
        if program is None:
            continue
        if now >= closes_at(period) or (program_id, instrument_id, period) in closed:
            due.append((program, instrument_id, period))
    return due


def _period_of(waiting: repo.Pending) -> str:
    return answer_period(waiting.period, waiting.sent_at or waiting.due_at)


def close(deps: Deps, *, program: Program, instrument_id: str, period: str) -> Closed:
    """Release (or discard) one period's waiting answers in one transaction; stragglers are discarded."""
    with deps.sessions.begin() as session:
        first = repo.close_period(session, program_id=program.id, instrument_id=instrument_id, period=period)
        waiting = [
            w
            for w in repo.pending(session, program_id=program.id, instrument_id=instrument_id)
            if _period_of(w) == period
        ]
        batch = released(deps, session, program=program, waiting=waiting) if first else []
        repo.insert_answers(session, rows=[_row(program.id, instrument_id, period, a) for a in batch])
        repo.drop_pending(session, survey_ids=[w.survey_id for w in waiting])
        if first:
            repo.record_period(
                session,
                program_id=program.id,
                instrument_id=instrument_id,
                period=period,
                answered=len(waiting),
                released=len(batch),
            )
    return Closed(program.id, instrument_id, period, len(waiting) if first else 0, len(batch))


def released(
    deps: Deps, session: Session, *, program: Program, waiting: Sequence[repo.Pending]
) -> list[Answer]:
    """The answers to release, shuffled: none when fewer than k; mentor pseudonyms only on groups of k."""
    k = program.privacy.min_group_size
    answers = [_answer(deps, session, program=program, waiting=w) for w in waiting]
    return shuffled_batch(answers, min_group_size=k)


def shuffled_batch(answers: Sequence[Answer], *, min_group_size: int) -> list[Answer]:
    """The batch in random order, each version's rows with their mentor groups settled; none below k."""
    k = min_group_size
    if len(answers) < k:
        return []
    versions = Counter(a.version for a in answers)
    batch: list[Answer] = []
    for version in sorted(versions):
        if versions[version] >= k:
            batch += with_mentor_groups([a for a in answers if a.version == version], min_group_size=k)
    _SHUFFLER.shuffle(batch)
    return batch


def with_mentor_groups(answers: Sequence[Answer], *, min_group_size: int) -> list[Answer]:
    """Keep a mentor pseudonym only on groups of k or more, while the rows without one number 0 or >= k."""
    k = min_group_size
    sizes = Counter(a.mentor_key for a in answers if a.mentor_key is not None)
    kept = {key for key, n in sizes.items() if n >= k}
    while kept:
        rest = len(answers) - sum(sizes[key] for key in kept)
        if rest == 0 or rest >= k:
            break
        kept.remove(min(kept, key=lambda key: (sizes[key], key)))
    return [a if a.mentor_key in kept else replace(a, mentor_key=None) for a in answers]


def _answer(deps: Deps, session: Session, *, program: Program, waiting: repo.Pending) -> Answer:
    data: dict[str, Any] = json.loads(waiting.answer)
    key = _mentor_key(deps, session, program=program, pair_id=waiting.pair_id)
    return Answer(int(data["version"]), float(data["score"]), dict(data.get("domains") or {}), key)


def _mentor_key(deps: Deps, session: Session, *, program: Program, pair_id: int | None) -> str | None:
    """The rated mentor's pseudonym, if they have at least k active mentees in the program now."""
    pair = None if pair_id is None else repo.pair_of(session, pair_id=pair_id)
    if pair is None:
        return None
    mentees = repo.mentee_count(session, program_id=program.id, mentor_id=pair.mentor_id)
    if mentees < program.privacy.min_group_size:
        return None
    return mentor_key(deps, program_id=program.id, mentor_id=pair.mentor_id)


def _row(program_id: str, instrument_id: str, period: str, answer: Answer) -> dict[str, Any]:
    return {
        "program_id": program_id,
        "instrument_id": instrument_id,
        "version": answer.version,
        "period": period,
        "mentor_key": answer.mentor_key,
        "score": answer.score,
        "domains": answer.domains,
    }
