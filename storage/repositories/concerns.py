"""Queries over anonymous concerns and their threads.

Nothing here takes or returns a Slack user id of a sender: concerns are found by id or by the hash of a
case key. (The daily sender quota is never stored: see bot.concerns.quota.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.models import Concern, ConcernMessage

OPEN_STATUSES = ("open", "acknowledged")


# --- concerns -----------------------------------------------------------------------------------------


def add_concern(session: Session, *, concern: Concern) -> Concern:
    """Insert a new concern (its id is random) and flush so it can be referenced."""
    session.add(concern)
    session.flush()
    return concern


def get_concern(session: Session, *, concern_id: str, for_update: bool = False) -> Concern | None:
    """The concern with this id; `for_update` locks it so thread sequence numbers stay unique."""
    query = select(Concern).where(Concern.id == concern_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def concern_by_key_hash(session: Session, *, key_hash: str) -> Concern | None:
    return session.scalars(select(Concern).where(Concern.key_hash == key_hash)).one_or_none()


def open_concerns(session: Session, *, program_id: str, limit: int) -> tuple[list[Concern], int]:
    """Open or acknowledged concerns for the coordinators (escalated ones excluded), and the total.

    Urgent first, then oldest week first; within a week the order is that of the random ids,
    which says nothing about arrival.
    """
    where = (
        Concern.program_id == program_id,
        Concern.escalated.is_(False),
        Concern.status.in_(OPEN_STATUSES),
    )
    total = session.scalar(select(func.count()).select_from(Concern).where(*where)) or 0
    query = select(Concern).where(*where).order_by(Concern.urgent.desc(), Concern.week, Concern.id)
    return list(session.scalars(query.limit(limit))), total


def pending_notifications(session: Session, *, program_ids: list[str]) -> list[str]:
    """Ids of urgent or escalated concerns still waiting to be posted, in these programs."""
    if not program_ids:
        return []
    query = select(Concern.id).where(Concern.notify_pending.is_(True), Concern.program_id.in_(program_ids))
    return list(session.scalars(query))


def claim_notification(session: Session, *, concern_id: str) -> bool:
    """Take the pending post of one concern; only one process wins it."""
    result = session.execute(
        update(Concern)
        .where(Concern.id == concern_id, Concern.notify_pending.is_(True))
        .values(notify_pending=False)
    )
    return bool(getattr(result, "rowcount", 0))


def release_notification(session: Session, *, concern_id: str) -> None:
    """Put a claimed post back after Slack refused it, for the next tick to retry."""
    session.execute(update(Concern).where(Concern.id == concern_id).values(notify_pending=True))


# --- threads --------------------------------------------------------------------------------------------


def thread_of(session: Session, *, concern_id: str) -> list[ConcernMessage]:
    """Replies on a concern, in the order they were written."""
    query = select(ConcernMessage).where(ConcernMessage.concern_id == concern_id)
    return list(session.scalars(query.order_by(ConcernMessage.seq)))


def add_message(
    session: Session,
    *,
    concern: Concern,
    text: str,
    week: date,
    from_sender: bool,
    coordinator_id: str | None = None,
) -> ConcernMessage:
    """Append to a concern's thread; lock the concern first (get_concern(for_update=True))."""
    last = session.scalar(select(func.max(ConcernMessage.seq)).where(ConcernMessage.concern_id == concern.id))
    message = ConcernMessage(
        concern_id=concern.id,
        seq=(last or 0) + 1,
        from_sender=from_sender,
        coordinator_id=coordinator_id,
        text=text,
        week=week,
    )
    session.add(message)
    session.flush()
    return message


@dataclass(frozen=True)
class ThreadSummary:
    count: int
    last_from_sender: bool


def thread_summaries(session: Session, *, concern_ids: list[str]) -> dict[str, ThreadSummary]:
    """Message count and who wrote last, per concern (for the coordinators' list)."""
    if not concern_ids:
        return {}
    rows = session.execute(
        select(ConcernMessage.concern_id, ConcernMessage.seq, ConcernMessage.from_sender)
        .where(ConcernMessage.concern_id.in_(concern_ids))
        .order_by(ConcernMessage.concern_id, ConcernMessage.seq)
    ).all()
    summaries: dict[str, ThreadSummary] = {}
    for concern_id, _seq, from_sender in rows:
        previous = summaries.get(concern_id)
        summaries[concern_id] = ThreadSummary((previous.count if previous else 0) + 1, from_sender)
    return summaries
