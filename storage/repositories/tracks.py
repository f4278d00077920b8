"""Queries over track enrolments, milestones, their claimed DMs and attestations.

Claims are single conditional statements (INSERT ... ON CONFLICT DO NOTHING RETURNING, UPDATE ... WHERE
<expected state>), so the database decides which process sends a DM. Attestations are only ever
inserted: there is no function here that changes or deletes one (and the schema refuses it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import (
    CompetencyObservation,
    MentoringSession,
    Pair,
    Reflection,
    TrackAttestation,
    TrackDelivery,
    TrackEnrolment,
    TrackMilestone,
)

DELIVERIES = cast(Table, TrackDelivery.__table__)
CLAIMED, SENT, FAILED, MISSED, SKIPPED = "claimed", "sent", "failed", "missed", "skipped"
CONFIRMED = "confirmed"


# -- enrolments and milestones ---------------------------------------------------------------------------


def add_enrolment(session: Session, *, enrolment: TrackEnrolment, milestones: list[TrackMilestone]) -> None:
    """Insert an enrolment with all its milestones; the partial unique index refuses a second active one."""
    session.add(enrolment)
    session.flush()
    for milestone in milestones:
        milestone.enrolment_id = enrolment.id
    session.add_all(milestones)
    session.flush()


def active_enrolment(
    session: Session, *, program_id: str, person_id: str, track_id: str
) -> TrackEnrolment | None:
    query = select(TrackEnrolment).where(
        TrackEnrolment.program_id == program_id,
        TrackEnrolment.person_id == person_id,
        TrackEnrolment.track_id == track_id,
        TrackEnrolment.ended_at.is_(None),
    )
    return session.scalars(query).first()


def enrolments_involving(session: Session, *, user_id: str) -> list[TrackEnrolment]:
    """Active enrolments where the user is the licensee, the supervisor or the pair's mentor."""
    query = (
        select(TrackEnrolment)
        .join(Pair, Pair.id == TrackEnrolment.pair_id)
        .where(
            TrackEnrolment.ended_at.is_(None),
            or_(
                TrackEnrolment.person_id == user_id,
                TrackEnrolment.supervisor_id == user_id,
                Pair.mentor_id == user_id,
            ),
        )
        .order_by(TrackEnrolment.enrolled_at, TrackEnrolment.id)
    )
    return list(session.scalars(query))


def enrolments_of(session: Session, *, person_id: str, track_id: str | None = None) -> list[TrackEnrolment]:
    """A licensee's enrolments (ended ones too), newest first."""
    query = select(TrackEnrolment).where(TrackEnrolment.person_id == person_id)
    if track_id is not None:
        query = query.where(TrackEnrolment.track_id == track_id)
    return list(session.scalars(query.order_by(TrackEnrolment.enrolled_at.desc(), TrackEnrolment.id.desc())))


def enrolments_in(session: Session, *, program_id: str) -> list[TrackEnrolment]:
    """Every enrolment of a program (ended ones too), oldest first."""
    query = select(TrackEnrolment).where(TrackEnrolment.program_id == program_id)
    return list(session.scalars(query.order_by(TrackEnrolment.start_on, TrackEnrolment.id)))


def milestones_of(session: Session, *, enrolment_id: int) -> list[TrackMilestone]:
    query = select(TrackMilestone).where(TrackMilestone.enrolment_id == enrolment_id)
    return list(session.scalars(query.order_by(TrackMilestone.seq)))


def milestones_near(
    session: Session, *, first: date, last: date
) -> list[tuple[TrackMilestone, TrackEnrolment]]:
    """Milestones of active enrolments whose day, or review flag day, lies in [first, last]."""
    query = (
        select(TrackMilestone, TrackEnrolment)
        .join(TrackEnrolment, TrackEnrolment.id == TrackMilestone.enrolment_id)
        .where(
            TrackEnrolment.ended_at.is_(None),
            or_(
                and_(TrackMilestone.due_on >= first, TrackMilestone.due_on <= last),
                and_(TrackMilestone.flag_on >= first, TrackMilestone.flag_on <= last),
            ),
        )
        .order_by(TrackMilestone.due_on, TrackMilestone.id)
    )
    return [(milestone, enrolment) for milestone, enrolment in session.execute(query)]


# -- claimed DMs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A DM this process now holds and must send (or, with `recover`, first look for in the DM)."""

    id: int
    milestone_id: int
    kind: str
    recipient_id: str
    due_at: datetime
    attempts: int
    recover: bool = False


_CLAIMED_COLUMNS = (
    TrackDelivery.id,
    TrackDelivery.milestone_id,
    TrackDelivery.kind,
    TrackDelivery.recipient_id,
    TrackDelivery.due_at,
    TrackDelivery.attempts,
)


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def known_deliveries(session: Session, *, milestone_ids: Sequence[int]) -> set[tuple[int, str, str]]:
    """(milestone, kind, recipient) of every DM already recorded for these milestones."""
    if not milestone_ids:
        return set()
    query = select(TrackDelivery.milestone_id, TrackDelivery.kind, TrackDelivery.recipient_id).where(
        TrackDelivery.milestone_id.in_(list(milestone_ids))
    )
    return {(m, k, r) for m, k, r in session.execute(query)}


def insert_deliveries(session: Session, *, rows: Sequence[dict[str, Any]]) -> list[Claimed]:
    """Insert DM rows unless their (milestone, kind, recipient) exists; return the claimed ones inserted.

    Only what is returned belongs to this call: a concurrent process inserting the same key wins or loses
    atomically. Rows inserted with another status (missed, skipped) are records, not claims.
    """
    if not rows:
        return []
    statement = (
        _insert(session)(DELIVERIES)
        .on_conflict_do_nothing(index_elements=["milestone_id", "kind", "recipient_id"])
        .returning(*_CLAIMED_COLUMNS, TrackDelivery.status)
    )
    inserted = session.execute(statement, list(rows))
    return [Claimed(*row[:6]) for row in inserted if row[6] == CLAIMED]


def retry_candidates(session: Session, *, now: datetime, stale_before: datetime) -> list[int]:
    """Failed DMs whose wait is over, and claims whose holder stopped renewing them (it died)."""
    retry = and_(
        TrackDelivery.status == FAILED,
        or_(TrackDelivery.not_before.is_(None), TrackDelivery.not_before <= now),
    )
    stale = and_(TrackDelivery.status == CLAIMED, TrackDelivery.claimed_at < stale_before)
    query = select(TrackDelivery.id).where(or_(retry, stale)).order_by(TrackDelivery.id)
    return list(session.scalars(query))


def reclaim(
    session: Session, *, delivery_id: int, token: str, now: datetime, stale_before: datetime
) -> Claimed | None:
    """Take over one failed or stale row; None when someone else got it first.

    A stale claim comes back with `recover`: its holder may have posted before dying, so the sender looks
    in the DM before posting. A failed row may have landed too (an ambiguous failure), so it looks as well.
    """
    retry = and_(
        TrackDelivery.status == FAILED,
        or_(TrackDelivery.not_before.is_(None), TrackDelivery.not_before <= now),
    )
    stale = and_(TrackDelivery.status == CLAIMED, TrackDelivery.claimed_at < stale_before)
    statement = (
        update(DELIVERIES)
        .where(TrackDelivery.id == delivery_id, or_(retry, stale))
        .values(status=CLAIMED, claimed_by=token, claimed_at=now)
        .returning(*_CLAIMED_COLUMNS)
    )
    row = session.execute(statement).first()
    return None if row is None else Claimed(*row, recover=True)


def renew_claim(session: Session, *, delivery_id: int, token: str, now: datetime) -> bool:
    """Compare-and-set before a send: true while `token` still holds the claim (its lease restarts)."""
    statement = (
        update(DELIVERIES)
        .where(
            TrackDelivery.id == delivery_id,
            TrackDelivery.claimed_by == token,
            TrackDelivery.status == CLAIMED,
        )
        .values(claimed_at=now)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def record_delivery(session: Session, *, delivery_id: int, token: str, values: dict[str, Any]) -> bool:
    """Write what happened to a claimed row; a row taken over by another process is left to it."""
    statement = (
        update(DELIVERIES)
        .where(
            TrackDelivery.id == delivery_id,
            TrackDelivery.claimed_by == token,
            TrackDelivery.status == CLAIMED,
        )
        .values(**values)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def delivery_of(session: Session, *, milestone_id: int, kind: str, recipient_id: str) -> TrackDelivery | None:
    query = select(TrackDelivery).where(
        TrackDelivery.milestone_id == milestone_id,
        TrackDelivery.kind == kind,
        TrackDelivery.recipient_id == recipient_id,
    )
    return session.scalars(query).first()


# -- attestations --------------------------------------------------------------------------------------


def add_attestation(session: Session, *, attestation: TrackAttestation) -> TrackAttestation:
    """Insert a signed attestation (or a return). A second original for a review, or a second amendment
    of the same row, is refused by a unique index: the caller gets the IntegrityError."""
    session.add(attestation)
    session.flush()
    return attestation


def attestations_of(session: Session, *, enrolment_id: int) -> list[TrackAttestation]:
    """Every attestation of an enrolment, originals and amendments, in signing order."""
    query = (
        select(TrackAttestation)
        .where(TrackAttestation.enrolment_id == enrolment_id)
        .order_by(TrackAttestation.signed_at, TrackAttestation.id)
    )
    return list(session.scalars(query))


def latest_attestation(session: Session, *, milestone_id: int) -> TrackAttestation | None:
    """The current word on a review: the last row of its chain (the one nothing amends)."""
    amended = select(TrackAttestation.amends_id).where(TrackAttestation.amends_id.is_not(None))
    query = select(TrackAttestation).where(
        TrackAttestation.milestone_id == milestone_id, TrackAttestation.id.not_in(amended)
    )
    return session.scalars(query).first()


# -- evidence ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    """A confirmed session of the licensee, as evidence needs it (no free text)."""

    session_id: int
    session_date: date
    minutes: int
    format: str
    mentor_id: str
    logged_by: str
    confirmed_by: str | None


def confirmed_sessions_of(
    session: Session, *, program_id: str, mentee_id: str, start: date, end: date
) -> list[SessionRow]:
    """The licensee's confirmed sessions in the program (with any mentor) with start <= day < end."""
    query = (
        select(
            MentoringSession.id,
            MentoringSession.session_date,
            MentoringSession.duration_minutes,
            MentoringSession.format,
            Pair.mentor_id,
            MentoringSession.logged_by,
            MentoringSession.confirmed_by,
        )
        .join(Pair, Pair.id == MentoringSession.pair_id)
        .where(
            MentoringSession.program_id == program_id,
            Pair.mentee_id == mentee_id,
            MentoringSession.status == CONFIRMED,
            MentoringSession.session_date >= start,
            MentoringSession.session_date < end,
        )
        .order_by(MentoringSession.session_date, MentoringSession.id)
    )
    return [SessionRow(*row) for row in session.execute(query)]


def confirmed_observations_of(
    session: Session, *, program_id: str, mentee_id: str, start: date, end: date
) -> list[CompetencyObservation]:
    """Competency observations of the licensee from confirmed sessions, start <= day < end."""
    query = (
        select(CompetencyObservation)
        .join(MentoringSession, MentoringSession.id == CompetencyObservation.session_id)
        .where(
            CompetencyObservation.program_id == program_id,
            CompetencyObservation.mentee_id == mentee_id,
            MentoringSession.status == CONFIRMED,
            CompetencyObservation.observed_on >= start,
            CompetencyObservation.observed_on < end,
        )
        .order_by(CompetencyObservation.observed_on, CompetencyObservation.id)
    )
    return list(session.scalars(query))


def logged_topics(session: Session, *, program_id: str, mentee_id: str) -> list[tuple[date, frozenset[str]]]:
    """Each logged (not disputed) session of the licensee in the program: its day and the /reflect topics
    either side chose (topics only: no free text)."""
    query = (
        select(MentoringSession.id, MentoringSession.session_date, Reflection.topics)
        .join(Pair, Pair.id == MentoringSession.pair_id)
        .outerjoin(Reflection, Reflection.session_id == MentoringSession.id)
        .where(
            MentoringSession.program_id == program_id,
            Pair.mentee_id == mentee_id,
            MentoringSession.status != "disputed",
        )
    )
    found: dict[int, tuple[date, set[str]]] = {}
    for session_id, day, topics in session.execute(query):
        found.setdefault(session_id, (day, set()))[1].update(topics or [])
    return [(day, frozenset(topics)) for day, topics in found.values()]
