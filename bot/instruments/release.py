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
- People, not answers. A pair's month gives one answer per pair, so a mentee with three mentors stands
  behind three answers of one batch. Every threshold below counts the distinct mentees behind the
  answers: their claims' person ids are read inside the release transaction for that count only, and
  never written with, or beside, the answers.
- The mentor pseudonym (instruments rating the mentor). Decided now, not when answered: a row keeps
  its mentor's pseudonym only if that mentor has at least `privacy.min_group_size` (k) active mentees,
  the batch holds ratings of that mentor from at least k people, not all with the same score, and the
  rows left without a pseudonym come from 0 or at least k people (else the smallest mentors' groups
  lose theirs too, until that holds), like the team-climate "met my mentor" flag. Otherwise the answer
  counts only in the program's totals. The same-score rule is there because a mentor's figure on App
  Home pools every batch: read before and after a batch whose ratings of them were all one score, it
  would give that score away.
- Versions. An instrument's version changes only with a release of the bot; a version answered by
  fewer than k people in a batch is discarded rather than released as a small group.
- Small batches. A period answered by fewer than k people is discarded, not moved: such a batch is
  (nearly) tied to the few who answered, and no figure over it could be shown. Its count of answers is
  kept in `instrument_periods` so reports can say "fewer than k answered".
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
from collections import defaultdict
from collections.abc import Iterable, Sequence
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


@dataclass(frozen=True)
class Given:
    """A waiting answer and who gave it, inside the release transaction only: the person is counted, never
    written (shuffled_batch hands back the bare answers)."""

    answer: Answer
    person_id: str


def released(
    deps: Deps, session: Session, *, program: Program, waiting: Sequence[repo.Pending]
) -> list[Answer]:
    """The answers to release, shuffled: none from fewer than k people; mentor pseudonyms only as allowed."""
    given = [Given(_answer(deps, session, program=program, waiting=w), w.person_id) for w in waiting]
    return shuffled_batch(given, min_group_size=program.privacy.min_group_size)


def people(given: Iterable[Given]) -> int:
    """How many distinct people gave these answers."""
    return len({g.person_id for g in given})


def shuffled_batch(given: Sequence[Given], *, min_group_size: int) -> list[Answer]:
    """The batch in random order, each version's rows with their mentor groups settled; none below k."""
    k = min_group_size
    if people(given) < k:
        return []
    batch: list[Answer] = []
    for version in sorted({g.answer.version for g in given}):
        rows = [g for g in given if g.answer.version == version]
        if people(rows) >= k:
            batch += with_mentor_groups(rows, min_group_size=k)
    _SHUFFLER.shuffle(batch)
    return batch


def with_mentor_groups(given: Sequence[Given], *, min_group_size: int) -> list[Answer]:
    """Keep a mentor pseudonym only on groups of k or more people with differing scores, while the rows left
    without one come from 0 or at least k people."""
    k = min_group_size
    groups: dict[str, list[Given]] = defaultdict(list)
    for g in given:
        if g.answer.mentor_key is not None:
            groups[g.answer.mentor_key].append(g)
    kept = {key for key, rows in groups.items() if people(rows) >= k and not _same_score(rows)}
    while kept:
        rest = people(g for g in given if g.answer.mentor_key not in kept)
        if rest == 0 or rest >= k:
            break
        kept.remove(min(kept, key=lambda key: (people(groups[key]), key)))
    return [g.answer if g.answer.mentor_key in kept else replace(g.answer, mentor_key=None) for g in given]


def _same_score(rows: Sequence[Given]) -> bool:
    return len({g.answer.score for g in rows}) == 1


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
