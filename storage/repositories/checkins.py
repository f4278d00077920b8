"""Queries over check-ins, their answers and pauses: claims, outcomes, answers.

Claims and state changes are single conditional statements (INSERT ... ON CONFLICT DO NOTHING,
UPDATE ... WHERE <expected state> RETURNING), so the database decides which process owns a row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Checkin, CheckinAnswer, Pair, Pause, Person

CHECKINS = cast(Table, Checkin.__table__)
ANSWERS = cast(Table, CheckinAnswer.__table__)
DELIVERED = ("sent", "answered", "expired")
RETRYABLE = ("failed", "deferred")
OPEN = ("sent", "answered")
# A mentee can press a prompt's button before the tick has recorded that its send succeeded.
ANSWERABLE = ("claimed", *OPEN)
# What an answer stores; the team-climate score only encrypted, and only while its week is open
# (bot.checkins.climate).
ANSWER_FIELDS = frozenset({"wellbeing", "climate_score", "climate_answered", "met_mentor", "note"})


@dataclass(frozen=True)
class Claimed:
    """A row this process now owns and must send (or recover)."""

    id: int
    program_id: str
    mentee_id: str
    period: date
    due_at: datetime
    expires_at: datetime
    psych_item: int
    attempts: int
    recover: bool  # an earlier claim may already have reached Slack: look before sending


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def insert_new(session: Session, *, rows: Sequence[dict[str, Any]]) -> list[Any]:
    """Insert check-in rows unless their (program, mentee, period) exists; return those inserted.

    Only the rows returned belong to this call: a concurrent process inserting the same key wins or
    loses atomically, so each period is claimed (and sent) by exactly one process.
    """
    if not rows:
        return []
    statement = (
        _insert(session)(CHECKINS)
        .on_conflict_do_nothing(index_elements=["program_id", "mentee_id", "period"])
        .returning(*_CLAIMED_COLUMNS)
    )
    # executemany with RETURNING: SQLAlchemy batches it into multi-row INSERTs ("insertmanyvalues").
    return list(session.execute(statement, list(rows)))


_CLAIMED_COLUMNS = (
    Checkin.id,
    Checkin.program_id,
    Checkin.mentee_id,
    Checkin.period,
    Checkin.due_at,
    Checkin.expires_at,
    Checkin.psych_item,
    Checkin.attempts,
)


def claimed_from(row: Any, *, recover: bool = False) -> Claimed:
    """A Claimed from a row of _CLAIMED_COLUMNS."""
    return Claimed(**row._mapping, recover=recover)


def known_periods(session: Session, *, program_id: str, since: datetime) -> set[tuple[str, date]]:
    """(mentee, period) pairs already recorded for the program with a due instant from `since` on."""
    query = select(Checkin.mentee_id, Checkin.period).where(
        Checkin.program_id == program_id, Checkin.due_at >= since
    )
    return {(mentee, period) for mentee, period in session.execute(query)}


def delivered_counts(session: Session, *, program_id: str, mentee_ids: Iterable[str]) -> dict[str, int]:
    """How many check-ins each mentee has received in the program (drives the item rotation)."""
    ids = list(mentee_ids)
    counts: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        query = (
            select(Checkin.mentee_id, func.count())
            .where(
                Checkin.program_id == program_id,
                Checkin.mentee_id.in_(ids[start : start + 500]),
                Checkin.status.in_(DELIVERED),
            )
            .group_by(Checkin.mentee_id)
        )
        counts.update({row[0]: row[1] for row in session.execute(query)})
    return counts


def retry_candidates(session: Session, *, now: datetime, stale_before: datetime) -> list[Checkin]:
    """Rows to try again: failed or deferred ones whose wait is over, and claims whose lease ran out."""
    retry = and_(
        Checkin.status.in_(RETRYABLE),
        Checkin.expires_at > now,
        or_(Checkin.not_before.is_(None), Checkin.not_before <= now),
    )
    stale = and_(Checkin.status == "claimed", Checkin.claimed_at < stale_before)
    return list(session.scalars(select(Checkin).where(or_(retry, stale)).order_by(Checkin.due_at)))


def reclaim(
    session: Session, *, ids: Sequence[int], token: str, now: datetime, stale_before: datetime
) -> list[Claimed]:
    """Take over retryable or stale rows; returns the ones this call won (recover is left False)."""
    if not ids:
        return []
    retry = and_(Checkin.status.in_(RETRYABLE), or_(Checkin.not_before.is_(None), Checkin.not_before <= now))
    stale = and_(Checkin.status == "claimed", Checkin.claimed_at < stale_before)
    statement = (
        update(CHECKINS)
        .where(Checkin.id.in_(list(ids)), or_(retry, stale))
        .values(status="claimed", claimed_by=token, claimed_at=now)
        .returning(*_CLAIMED_COLUMNS)
    )
    return [claimed_from(row) for row in session.execute(statement)]


def renew_claim(session: Session, *, checkin_id: int, token: str, now: datetime) -> bool:
    """Compare-and-set before a send: true while `token` still holds the claim (its lease restarts at `now`).

    False once another process took the claim over (after its lease ran out): the caller must not send.
    """
    statement = (
        update(CHECKINS)
        .where(Checkin.id == checkin_id, Checkin.claimed_by == token, Checkin.status == "claimed")
        .values(claimed_at=now)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


_OUTCOME_COLUMNS = ("status", "channel", "ts", "sent_at", "attempts", "last_error", "not_before")


def record_outcomes(session: Session, *, token: str, outcomes: Sequence[dict[str, Any]]) -> int:
    """Write what happened to claimed rows, one executemany; rows claimed by someone else are left alone.

    Each outcome dict has `id` and every key of _OUTCOME_COLUMNS.
    """
    if not outcomes:
        return 0
    statement = (
        update(CHECKINS)
        .where(
            Checkin.id == bindparam("b_id"),
            Checkin.claimed_by == bindparam("b_token"),
            # Literal comparisons, not in_(): expanding parameters cannot go through executemany.
            or_(Checkin.status == "claimed", Checkin.status == "answered"),
        )
        .values(
            {name: bindparam(f"b_{name}") for name in _OUTCOME_COLUMNS}
            # An answer that beat the record (see ANSWERABLE) keeps its status; the rest is recorded.
            | {"status": case((Checkin.status == "answered", "answered"), else_=bindparam("b_status"))}
        )
    )
    params = [
        {"b_id": o["id"], "b_token": token, **{f"b_{name}": o[name] for name in _OUTCOME_COLUMNS}}
        for o in outcomes
    ]
    return session.execute(statement, params).rowcount  # type: ignore[attr-defined, no-any-return]


def miss_undelivered(session: Session, *, now: datetime) -> int:
    """Failed or deferred rows that reached expiry were never delivered: record them as missed."""
    statement = (
        update(CHECKINS)
        .where(Checkin.status.in_(RETRYABLE), Checkin.expires_at <= now)
        .values(status="missed", not_before=None)
    )
    return session.execute(statement).rowcount  # type: ignore[attr-defined, no-any-return]


def expire_sent(session: Session, *, now: datetime) -> int:
    """Unanswered prompts past expiry become expired (their DMs are closed afterwards)."""
    statement = (
        update(CHECKINS).where(Checkin.status == "sent", Checkin.expires_at <= now).values(status="expired")
    )
    return session.execute(statement).rowcount  # type: ignore[attr-defined, no-any-return]


def unclosed(session: Session, *, stale_before: datetime, limit: int = 1000) -> list[int]:
    """Expired prompts whose DM still shows the buttons and nobody is closing (or whose closer died)."""
    query = select(Checkin.id).where(_closable(stale_before)).order_by(Checkin.expires_at).limit(limit)
    return list(session.scalars(query))


def _closable(stale_before: datetime) -> Any:
    return and_(
        Checkin.status == "expired",
        Checkin.closed_at.is_(None),
        Checkin.ts.is_not(None),
        or_(Checkin.close_claimed_at.is_(None), Checkin.close_claimed_at < stale_before),
    )


def claim_closes(
    session: Session, *, ids: Sequence[int], now: datetime, stale_before: datetime
) -> list[Checkin]:
    """Claim closing these expired DMs; returns the rows this call won (others are being closed)."""
    if not ids:
        return []
    statement = (
        update(CHECKINS)
        .where(Checkin.id.in_(list(ids)), _closable(stale_before))
        .values(close_claimed_at=now)
        .returning(Checkin.id)
    )
    won = [row[0] for row in session.execute(statement)]
    return _rows(session, won)


def release_closes(session: Session, *, ids: Sequence[int]) -> None:
    """Slack could not be reached: leave these DMs for the next tick to close."""
    if ids:
        session.execute(update(CHECKINS).where(Checkin.id.in_(list(ids))).values(close_claimed_at=None))


def mark_closed(session: Session, *, ids: Sequence[int], now: datetime) -> None:
    if ids:
        session.execute(update(CHECKINS).where(Checkin.id.in_(list(ids))).values(closed_at=now))


def _rows(session: Session, ids: Sequence[int]) -> list[Checkin]:
    if not ids:
        return []
    return list(session.scalars(select(Checkin).where(Checkin.id.in_(list(ids))).order_by(Checkin.id)))


def _remindable(sent_before: datetime, now: datetime) -> tuple[Any, ...]:
    # Counting from the send, not the due time, keeps a prompt caught up after down time from getting
    # its reminder in the same minute.
    return (
        Checkin.status == "sent",
        Checkin.reminder_ts.is_(None),
        Checkin.sent_at <= sent_before,
        Checkin.expires_at > now,
    )


def reminder_candidates(
    session: Session, *, program_id: str, sent_before: datetime, now: datetime
) -> list[int]:
    """Unanswered prompts sent before `sent_before` whose reminder is not sent (nor surely in flight).

    Rows claimed by another tick are included; claim_reminders takes only those free or stale.
    """
    query = (
        select(Checkin.id)
        .where(Checkin.program_id == program_id, *_remindable(sent_before, now))
        .where(or_(Checkin.reminded_at.is_(None), Checkin.reminder_claimed_by.is_not(None)))
        .order_by(Checkin.due_at)
    )
    return list(session.scalars(query))


def claim_reminders(
    session: Session,
    *,
    ids: Sequence[int],
    token: str,
    now: datetime,
    sent_before: datetime,
    stale_before: datetime,
) -> list[tuple[Checkin, bool]]:
    """Claim these reminders for `token`; returns the rows won, each with whether it is a recovery.

    A reminder is free while reminded_at is NULL; a claim older than `stale_before` whose reminder
    has no ts is recovered (the caller looks in the DM first: its process may have sent it). The
    conditions are in the UPDATE itself, which PostgreSQL re-checks on a concurrently updated row.
    """
    if not ids:
        return []
    free = Checkin.reminded_at.is_(None)
    stale = and_(Checkin.reminded_at < stale_before, Checkin.reminder_claimed_by.is_not(None))
    won: dict[int, bool] = {}
    for condition, recover in ((free, False), (stale, True)):
        statement = (
            update(CHECKINS)
            .where(Checkin.id.in_(list(ids)), *_remindable(sent_before, now), condition)
            .values(reminded_at=now, reminder_claimed_by=token)
            .returning(Checkin.id)
        )
        won.update({row[0]: recover for row in session.execute(statement)})
    return [(row, won[row.id]) for row in _rows(session, list(won))]


def renew_reminder_claim(session: Session, *, checkin_id: int, token: str, now: datetime) -> bool:
    """Compare-and-set before sending a reminder: true while `token` still holds it (its lease restarts)."""
    statement = (
        update(CHECKINS)
        .where(
            Checkin.id == checkin_id,
            Checkin.reminder_claimed_by == token,
            Checkin.reminder_ts.is_(None),
            Checkin.status == "sent",  # an answer meanwhile makes the reminder pointless
        )
        .values(reminded_at=now)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def record_reminder(session: Session, *, checkin_id: int, token: str, ts: str | None) -> None:
    """Store the reminder's ts, or (ts None: Slack refused) release the claim so a later tick retries.

    Only while `token` holds the claim: a claim taken over belongs to its new holder.
    """
    values: dict[str, Any] = {"reminder_ts": ts} if ts else {"reminded_at": None, "reminder_claimed_by": None}
    session.execute(
        update(CHECKINS)
        .where(Checkin.id == checkin_id, Checkin.reminder_claimed_by == token, Checkin.reminder_ts.is_(None))
        .values(**values)
    )


# -- answers -------------------------------------------------------------------------------------


def get_checkin(session: Session, *, checkin_id: int, for_update: bool = False) -> Checkin | None:
    query = select(Checkin).where(Checkin.id == checkin_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def get_answer(session: Session, *, checkin_id: int) -> CheckinAnswer | None:
    return session.get(CheckinAnswer, checkin_id)


def save_answer(
    session: Session, *, checkin: Checkin, now: datetime, fields: dict[str, Any]
) -> tuple[CheckinAnswer, bool]:
    """Create or update the answer with `fields` (any of ANSWER_FIELDS).

    Returns the answer and whether its note is new or changed (and so must reach the mentor).
    """
    unknown = set(fields) - ANSWER_FIELDS
    if unknown:
        raise ValueError(f"not answer fields: {sorted(unknown)}")
    answer = session.get(CheckinAnswer, checkin.id)
    if answer is None:
        answer = CheckinAnswer(checkin_id=checkin.id, answered_at=now, updated_at=now)
        session.add(answer)
    old_note = answer.note
    for name, value in fields.items():
        setattr(answer, name, value)
    answer.updated_at = now
    note_changed = "note" in fields and bool(fields["note"]) and fields["note"] != old_note
    if note_changed:
        answer.note_delivered_at = None
    checkin.status = "answered"
    return answer, note_changed


def claim_note_delivery(session: Session, *, checkin_id: int, now: datetime) -> str | None:
    """Claim delivery of a pending note; returns the note text when this call won."""
    statement = (
        update(ANSWERS)
        .where(
            CheckinAnswer.checkin_id == checkin_id,
            CheckinAnswer.note.is_not(None),
            CheckinAnswer.note_delivered_at.is_(None),
        )
        .values(note_delivered_at=now)
    )
    if not session.execute(statement).rowcount:  # type: ignore[attr-defined]
        return None
    return session.scalar(select(CheckinAnswer.note).where(CheckinAnswer.checkin_id == checkin_id))


def release_note_delivery(session: Session, *, checkin_id: int) -> None:
    """Slack refused the note: leave it pending for the next tick."""
    session.execute(
        update(ANSWERS).where(CheckinAnswer.checkin_id == checkin_id).values(note_delivered_at=None)
    )


def pending_notes(session: Session, *, answered_before: datetime, limit: int = 200) -> list[int]:
    """Check-ins whose note still has to reach the mentor (the answer's own delivery did not happen)."""
    query = (
        select(CheckinAnswer.checkin_id)
        .where(
            CheckinAnswer.note.is_not(None),
            CheckinAnswer.note_delivered_at.is_(None),
            CheckinAnswer.updated_at < answered_before,
        )
        .limit(limit)
    )
    return list(session.scalars(query))


def previous_answer(session: Session, *, checkin: Checkin) -> CheckinAnswer | None:
    """The mentee's last answer in the program before this check-in's period."""
    query = (
        select(CheckinAnswer)
        .join(Checkin, Checkin.id == CheckinAnswer.checkin_id)
        .where(
            Checkin.program_id == checkin.program_id,
            Checkin.mentee_id == checkin.mentee_id,
            Checkin.period < checkin.period,
        )
        .order_by(Checkin.period.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def claim_nudge(session: Session, *, checkin_id: int, now: datetime) -> bool:
    """Claim the mentor nudge for this check-in; true once."""
    statement = (
        update(CHECKINS).where(Checkin.id == checkin_id, Checkin.nudged_at.is_(None)).values(nudged_at=now)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def open_checkins(session: Session, *, mentee_id: str, now: datetime) -> list[Checkin]:
    """Delivered, unexpired check-ins of a mentee, newest first."""
    query = (
        select(Checkin)
        .where(Checkin.mentee_id == mentee_id, Checkin.status.in_(OPEN), Checkin.expires_at > now)
        .order_by(Checkin.due_at.desc())
    )
    return list(session.scalars(query))


def latest_answers(session: Session, *, program_id: str, mentee_ids: Sequence[str]) -> list[Any]:
    """Per mentee, the newest answered check-in: (mentee_id, period, wellbeing, met_mentor)."""
    if not mentee_ids:
        return []
    newest = (
        select(Checkin.mentee_id, func.max(Checkin.period).label("period"))
        .where(
            Checkin.program_id == program_id,
            Checkin.mentee_id.in_(list(mentee_ids)),
            Checkin.status == "answered",
        )
        .group_by(Checkin.mentee_id)
        .subquery()
    )
    query = (
        select(Checkin.mentee_id, Checkin.period, CheckinAnswer.wellbeing, CheckinAnswer.met_mentor)
        .join(CheckinAnswer, CheckinAnswer.checkin_id == Checkin.id)
        .join(newest, and_(newest.c.mentee_id == Checkin.mentee_id, newest.c.period == Checkin.period))
        .where(Checkin.program_id == program_id)
        .order_by(Checkin.mentee_id)
    )
    return list(session.execute(query))


# -- pauses --------------------------------------------------------------------------------------


def get_pause(session: Session, *, person_id: str) -> Pause | None:
    return session.get(Pause, person_id)


def pauses_of(session: Session, *, person_ids: Iterable[str]) -> dict[str, Pause]:
    ids = list(person_ids)
    found: dict[str, Pause] = {}
    for start in range(0, len(ids), 500):
        query = select(Pause).where(Pause.person_id.in_(ids[start : start + 500]))
        found.update({pause.person_id: pause for pause in session.scalars(query)})
    return found


def set_pause(session: Session, *, person_id: str, now: datetime, until: datetime | None) -> Pause:
    """Pause from now until `until` (None: until resumed), replacing any earlier pause."""
    pause = session.get(Pause, person_id)
    if pause is None:
        pause = Pause(person_id=person_id, paused_at=now, paused_until=until)
        session.add(pause)
    else:
        pause.paused_at, pause.paused_until = now, until
    return pause


def end_pause(session: Session, *, person_id: str, now: datetime) -> bool:
    """End an active pause now; false when there was none."""
    pause = session.get(Pause, person_id)
    if pause is None or (pause.paused_until is not None and pause.paused_until <= now):
        return False
    pause.paused_until = now
    return True


# -- who to schedule -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ToSchedule:
    mentee_id: str
    anchor: datetime  # start of the mentee's earliest active pair in the program
    timezone: str | None
    display_name: str
    real_name: str
    paused_at: datetime | None
    paused_until: datetime | None


def mentees_to_schedule(session: Session, *, program_id: str) -> list[ToSchedule]:
    """Mentees with an active pair in the program, one each, with what scheduling them needs."""
    anchor = func.min(Pair.started_at).label("anchor")
    columns = (Person.timezone, Person.display_name, Person.real_name, Pause.paused_at, Pause.paused_until)
    query = (
        select(Pair.mentee_id, anchor, *columns)
        .join(Person, Person.id == Pair.mentee_id)
        .outerjoin(Pause, Pause.person_id == Pair.mentee_id)
        .where(Pair.program_id == program_id, Pair.ended_at.is_(None), Person.active.is_(True))
        .group_by(Pair.mentee_id, *columns)
        # A stable order makes concurrent processes claim keys in the same order (no lock cycles).
        .order_by(Pair.mentee_id)
    )
    return [ToSchedule(*row) for row in session.execute(query)]


def stale_mentees(session: Session, *, stale_before: datetime, limit: int) -> list[str]:
    """Mentees in active pairs whose cached profile (timezone) is missing or older than `stale_before`."""
    query = (
        select(Person.id)
        .where(
            Person.id.in_(select(Pair.mentee_id).where(Pair.ended_at.is_(None))),
            or_(Person.refreshed_at.is_(None), Person.refreshed_at < stale_before),
        )
        .order_by(Person.refreshed_at.asc().nulls_first(), Person.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def mentors_of(session: Session, *, program_id: str, mentee_id: str) -> list[str]:
    """The mentee's active mentors in the program."""
    query = select(Pair.mentor_id).where(
        Pair.program_id == program_id, Pair.mentee_id == mentee_id, Pair.ended_at.is_(None)
    )
    return list(session.scalars(query.order_by(Pair.started_at, Pair.id)))
