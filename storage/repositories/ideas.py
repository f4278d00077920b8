"""Queries over ideas, their PDSA cycles, comments, the DMs about them, and the sessions linked to them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import (
    CompetencyObservation,
    Idea,
    IdeaComment,
    IdeaCycle,
    IdeaNotice,
    MentoringSession,
    Pair,
)

PENDING, SENT, DROPPED = "pending", "sent", "dropped"
NUDGE = "nudge"
PLANNED = "planned"  # the stage in which a passed test date earns a reminder (bot.ideas.terms)
CONFIRMED, DISPUTED = "confirmed", "disputed"


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


# -- ideas, cycles and comments ------------------------------------------------------------------------


def add_idea(session: Session, *, idea: Idea) -> Idea:
    """Insert a new idea; flushed so its id is known."""
    session.add(idea)
    session.flush()
    return idea


def get_idea(session: Session, *, idea_id: int, for_update: bool = False) -> Idea | None:
    """The idea; `for_update` locks its row (PostgreSQL) so two submissions of one step serialise."""
    query = select(Idea).where(Idea.id == idea_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def ideas_of_pairs(session: Session, *, pair_ids: Sequence[int]) -> list[Idea]:
    """The ideas of these pairs, most recently changed first."""
    if not pair_ids:
        return []
    query = select(Idea).where(Idea.pair_id.in_(list(pair_ids)))
    return list(session.scalars(query.order_by(Idea.updated_at.desc(), Idea.id.desc())))


def ideas_by(session: Session, *, user_id: str, limit: int = 20) -> list[tuple[Idea, Pair]]:
    """Ideas of every pair (ended ones too) the user is in, most recently changed first."""
    query = (
        select(Idea, Pair)
        .join(Pair, Pair.id == Idea.pair_id)
        .where(or_(Pair.mentor_id == user_id, Pair.mentee_id == user_id))
        .order_by(Idea.updated_at.desc(), Idea.id.desc())
        .limit(limit)
    )
    return [(idea, pair) for idea, pair in session.execute(query)]


def cycles_of(session: Session, *, idea_ids: Sequence[int]) -> dict[int, list[IdeaCycle]]:
    """Each idea's cycles, first cycle first."""
    found: dict[int, list[IdeaCycle]] = {idea_id: [] for idea_id in idea_ids}
    if not idea_ids:
        return found
    query = select(IdeaCycle).where(IdeaCycle.idea_id.in_(list(idea_ids)))
    for cycle in session.scalars(query.order_by(IdeaCycle.idea_id, IdeaCycle.number)):
        found[cycle.idea_id].append(cycle)
    return found


def add_cycle(session: Session, *, cycle: IdeaCycle) -> IdeaCycle:
    """Insert a cycle's Plan; the (idea, number) unique key refuses a second cycle of one number."""
    session.add(cycle)
    session.flush()
    return cycle


def add_comment(session: Session, *, comment: IdeaComment) -> IdeaComment:
    """Insert a comment; flushed so its id is known."""
    session.add(comment)
    session.flush()
    return comment


def comments_of(session: Session, *, idea_id: int) -> list[IdeaComment]:
    """The idea's comments, oldest first."""
    query = select(IdeaComment).where(IdeaComment.idea_id == idea_id)
    return list(session.scalars(query.order_by(IdeaComment.created_at, IdeaComment.id)))


def latest_comments(session: Session, *, idea_ids: Sequence[int]) -> dict[int, IdeaComment]:
    """The newest comment of each idea that has one."""
    if not idea_ids:
        return {}
    query = select(IdeaComment).where(IdeaComment.idea_id.in_(list(idea_ids)))
    found: dict[int, IdeaComment] = {}
    for comment in session.scalars(query.order_by(IdeaComment.created_at, IdeaComment.id)):
        found[comment.idea_id] = comment
    return found


# -- the DMs about ideas: claimed, then sent ----------------------------------------------------------


def add_notice(
    session: Session,
    *,
    key: str,
    idea_id: int,
    kind: str,
    recipient_id: str,
    now: datetime,
    cycle_id: int | None = None,
    comment_id: int | None = None,
    step: str | None = None,
    actor_id: str | None = None,
) -> bool:
    """Queue a DM unless one with this key exists; True when this call added it."""
    values = {
        "key": key,
        "idea_id": idea_id,
        "cycle_id": cycle_id,
        "comment_id": comment_id,
        "kind": kind,
        "step": step,
        "recipient_id": recipient_id,
        "actor_id": actor_id,
        "status": PENDING,
        "created_at": now,
        "attempts": 0,
    }
    statement = _insert(session)(IdeaNotice).values(**values).on_conflict_do_nothing(index_elements=["key"])
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def due_nudges(session: Session, *, now: datetime) -> list[tuple[IdeaCycle, Idea]]:
    """Cycles of active pairs whose test date has passed without a Do step and with no reminder queued."""
    queued = exists().where(IdeaNotice.cycle_id == IdeaCycle.id, IdeaNotice.kind == NUDGE)
    query = (
        select(IdeaCycle, Idea)
        .join(Idea, Idea.id == IdeaCycle.idea_id)
        .join(Pair, Pair.id == Idea.pair_id)
        .where(
            IdeaCycle.nudge_due_at <= now,
            IdeaCycle.done_at.is_(None),
            Idea.stage == PLANNED,
            Pair.ended_at.is_(None),
            ~queued,
        )
        .order_by(IdeaCycle.nudge_due_at, IdeaCycle.id)
    )
    return [(cycle, idea) for cycle, idea in session.execute(query)]


def unsent_notices(
    session: Session,
    *,
    actor_id: str | None = None,
    stale_before: datetime | None = None,
    limit: int = 200,
) -> list[int]:
    """Pending DMs nobody holds (of one actor, or all); with `stale_before`, also claims older than
    that: their sender died, or could not tell whether Slack posted."""
    free: Any = IdeaNotice.claimed_by.is_(None)
    if stale_before is not None:
        free = or_(free, and_(IdeaNotice.claimed_by.is_not(None), IdeaNotice.claimed_at < stale_before))
    query = select(IdeaNotice.id).where(IdeaNotice.status == PENDING, free)
    if actor_id is not None:
        query = query.where(IdeaNotice.actor_id == actor_id)
    return list(session.scalars(query.order_by(IdeaNotice.id).limit(limit)))


def get_notice(session: Session, *, notice_id: int) -> IdeaNotice | None:
    """One queued DM by id."""
    return session.get(IdeaNotice, notice_id)


def claim_notice(
    session: Session, *, notice_id: int, token: str, now: datetime, stale_before: datetime
) -> bool | None:
    """Claim a pending DM for `token`. None: another sender holds it; False: claimed afresh; True:
    taken over from a claim older than `stale_before` (the caller looks in the DM before sending).

    The conditions are in the UPDATE itself, which PostgreSQL re-checks on a concurrently updated row.
    """
    pending = and_(IdeaNotice.id == notice_id, IdeaNotice.status == PENDING)
    for condition, recover in (
        (IdeaNotice.claimed_by.is_(None), False),
        (and_(IdeaNotice.claimed_by.is_not(None), IdeaNotice.claimed_at < stale_before), True),
    ):
        statement = (
            update(IdeaNotice)
            .where(pending, condition)
            .values(claimed_at=now, claimed_by=token)
            .execution_options(synchronize_session=False)
        )
        if session.execute(statement).rowcount:  # type: ignore[attr-defined]
            return recover
    return None


def renew_notice_claim(session: Session, *, notice_id: int, token: str, now: datetime) -> bool:
    """Compare-and-set just before sending: true while `token` still holds the pending DM (lease renewed)."""
    statement = (
        update(IdeaNotice)
        .where(IdeaNotice.id == notice_id, IdeaNotice.claimed_by == token, IdeaNotice.status == PENDING)
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def record_sent(session: Session, *, notice_id: int, token: str, channel: str, ts: str) -> None:
    """The DM went out: remember where. Only while `token` holds it (a claim taken over is another's)."""
    session.execute(
        update(IdeaNotice)
        .where(IdeaNotice.id == notice_id, IdeaNotice.claimed_by == token)
        .values(status=SENT, channel=channel, ts=ts)
        .execution_options(synchronize_session=False)
    )


def release_notice(session: Session, *, notice_id: int, token: str, drop: bool) -> None:
    """Slack refused: free the claim for a later try, or (`drop`) give the DM up."""
    values: dict[str, Any] = {
        "claimed_at": None,
        "claimed_by": None,
        "attempts": IdeaNotice.attempts + 1,
    }
    if drop:
        values["status"] = DROPPED
    session.execute(
        update(IdeaNotice)
        .where(IdeaNotice.id == notice_id, IdeaNotice.claimed_by == token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def drop_nudges(session: Session, *, cycle_id: int) -> None:
    """A Do step was recorded: a reminder not yet sent for this cycle no longer applies."""
    session.execute(
        update(IdeaNotice)
        .where(IdeaNotice.cycle_id == cycle_id, IdeaNotice.kind == NUDGE, IdeaNotice.status == PENDING)
        .values(status=DROPPED)
        .execution_options(synchronize_session=False)
    )


# -- sessions linked to ideas, and competency evidence ---------------------------------------------------


def linked_time(session: Session, *, idea_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(confirmed sessions, their minutes) per idea that has any: its protected time."""
    if not idea_ids:
        return {}
    query = (
        select(MentoringSession.idea_id, func.count(), func.sum(MentoringSession.duration_minutes))
        .where(MentoringSession.idea_id.in_(list(idea_ids)), MentoringSession.status == CONFIRMED)
        .group_by(MentoringSession.idea_id)
    )
    return {int(idea_id or 0): (int(n), int(minutes or 0)) for idea_id, n, minutes in session.execute(query)}


def linked_sessions(session: Session, *, idea_id: int) -> list[MentoringSession]:
    """Sessions that worked on the idea and still count or may count (not disputed), newest first."""
    query = select(MentoringSession).where(
        MentoringSession.idea_id == idea_id, MentoringSession.status != DISPUTED
    )
    return list(session.scalars(query.order_by(MentoringSession.session_date.desc(), MentoringSession.id)))


def record_evidence(
    session: Session, *, mentoring_session: MentoringSession, mentee_id: str, competency: str, level: str
) -> CompetencyObservation:
    """A competency observed in a session, from the idea it worked on; replaces that session's earlier
    level for the competency (the (session, competency) pair is unique)."""
    query = select(CompetencyObservation).where(
        CompetencyObservation.session_id == mentoring_session.id,
        CompetencyObservation.competency == competency,
    )
    row = session.scalars(query.with_for_update()).one_or_none()
    if row is None:
        row = CompetencyObservation(
            session_id=mentoring_session.id,
            program_id=mentoring_session.program_id,
            mentee_id=mentee_id,
            competency=competency,
            observed_on=mentoring_session.session_date,
        )
        session.add(row)
    row.level = level
    session.flush()
    return row


# -- what coordinators may see: shared ideas only --------------------------------------------------------


def shared_ideas_before(session: Session, *, program_id: str, end: datetime) -> list[Idea]:
    """Shared ideas recorded before `end`, oldest first."""
    query = select(Idea).where(
        Idea.program_id == program_id,
        Idea.shared_with_coordinators.is_(True),
        Idea.created_at < end,
    )
    return list(session.scalars(query.order_by(Idea.created_at, Idea.id)))


def shared_ideas_since(session: Session, *, program_id: str, start: datetime) -> list[Idea]:
    """Shared ideas created before now and changed at or after `start` (candidates for a report period)."""
    query = select(Idea).where(
        Idea.program_id == program_id,
        Idea.shared_with_coordinators.is_(True),
        Idea.updated_at >= start,
    )
    return list(session.scalars(query.order_by(Idea.created_at, Idea.id)))


def tested_days(session: Session, *, idea_ids: Sequence[int]) -> dict[int, list[datetime]]:
    """When each idea's cycles recorded their Do step (a test carried out)."""
    found: dict[int, list[datetime]] = {}
    if not idea_ids:
        return found
    query = select(IdeaCycle.idea_id, IdeaCycle.done_at).where(
        IdeaCycle.idea_id.in_(list(idea_ids)), IdeaCycle.done_at.is_not(None)
    )
    for idea_id, done_at in session.execute(query):
        if done_at is not None:
            found.setdefault(int(idea_id), []).append(done_at)
    return found
