"""People's names and timezones, cached from Slack's users.info and refreshed daily."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from storage.models import Person
from storage.repositories.people import upsert_person

log = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(days=1)


def ensure_person(session: Session, *, client: WebClient, user_id: str, now: datetime) -> Person:
    """The person row, fetched from users.info when new or older than a day.

    A Slack failure leaves the cached row (or a bare new one) in place:
    a name is never worth failing a request.
    """
    person = session.get(Person, user_id)
    if person is not None and person.refreshed_at is not None and now - person.refreshed_at < REFRESH_AFTER:
        return person
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as exc:
        log.warning("users.info failed (%s); using the cached profile", exc.response.get("error"))
        return person or upsert_person(session, user_id=user_id, now=now)
    return apply_profile(session, user=user, now=now)


def apply_profile(session: Session, *, user: dict[str, object], now: datetime) -> Person:
    """Store what users.info (or a user_change event) says about a user."""
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    assert isinstance(profile, dict)
    person = upsert_person(
        session,
        user_id=str(user["id"]),
        now=now,
        display_name=str(profile.get("display_name") or user.get("name") or ""),
        real_name=str(profile.get("real_name") or user.get("real_name") or ""),
        timezone=valid_timezone(user.get("tz")),
        refreshed=True,
    )
    person.active = not bool(user.get("deleted"))
    return person


def valid_timezone(name: object) -> str | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name
