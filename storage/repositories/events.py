"""Claims on Slack event ids: the first delivery of an event wins, its retries find the claim."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models.events import ProcessedEvent

# Slack retries a delivery three times within about an hour; a day leaves room for a slow retry queue.
KEEP_EVENTS = timedelta(days=1)


def claim_event(session: Session, *, event_id: str, now: datetime) -> bool:
    """Record `event_id` as taken; False when an earlier delivery already took it.

    One INSERT ... ON CONFLICT DO NOTHING: on PostgreSQL a concurrent claim of the same id waits for the
    first transaction and then sees its row, so exactly one delivery wins. Ids older than KEEP_EVENTS are
    deleted on the way, which keeps the table at about a day of events without a job of its own.
    """
    session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < now - KEEP_EVENTS))
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(ProcessedEvent)
        .values(event_id=event_id, received_at=now)
        .on_conflict_do_nothing()
        .returning(ProcessedEvent.event_id)  # a row back only when this insert took the id
    )
    return session.execute(statement).scalar_one_or_none() is not None
