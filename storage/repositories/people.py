"""People the bot knows: Slack ids with cached names and timezones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Person


def get_person(session: Session, *, user_id: str) -> Person | None:
    return session.get(Person, user_id)


def upsert_person(
    session: Session,
    *,
    user_id: str,
    now: datetime,
    display_name: str | None = None,
    real_name: str | None = None,
    timezone: str | None = None,
    refreshed: bool = False,
) -> Person:
    """Create the person if new; overwrite only the fields given."""
    person = session.get(Person, user_id)
    if person is None:
        person = Person(id=user_id, display_name="", real_name="", first_seen_at=now, active=True)
        session.add(person)
    if display_name is not None:
        person.display_name = display_name
    if real_name is not None:
        person.real_name = real_name
    if timezone is not None:
        person.timezone = timezone
    if refreshed:
        person.refreshed_at = now
    return person


def people_by_id(session: Session, *, user_ids: list[str]) -> dict[str, Person]:
    if not user_ids:
        return {}
    return {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(user_ids)))}
