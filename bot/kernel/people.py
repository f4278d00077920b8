"""People's names and timezones, cached from Slack's users.info and refreshed daily."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy.orm import Session

from storage.models import Person
from storage.repositories.people import upsert_person

log = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(days=1)
NOT_FOUND = frozenset({"user_not_found", "users_not_found"})

Profile = dict[str, Any]  # a users.info / users.lookupByEmail "user" object


class UnknownUser(Exception):
    """Slack says no such user exists in this workspace."""

    def __init__(self, user_id: str) -> None:
        super().__init__(user_id)
        self.user_id = user_id


class SlackLookupFailed(Exception):
    """Slack could not answer (after the client's retries); the message is the Slack error code."""


def is_fresh(person: Person | None, now: datetime) -> bool:
    return (
        person is not None and person.refreshed_at is not None and now - person.refreshed_at < REFRESH_AFTER
    )


def ensure_person(session: Session, *, client: WebClient, user_id: str, now: datetime) -> Person:
    """The person row, fetched from users.info when new or older than a day.

    A Slack failure leaves the cached row (or a bare new one) in place:
    a name is never worth failing a request.
    """
    person = session.get(Person, user_id)
    if is_fresh(person, now):
        assert person is not None
        return person
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as exc:
        log.warning("users.info failed (%s); using the cached profile", exc.response.get("error"))
        return person or upsert_person(session, user_id=user_id, now=now)
    return apply_profile(session, user=user, now=now)


def ensure_known_person(session: Session, *, client: WebClient, user_id: str, now: datetime) -> Person:
    """Like ensure_person, but a user Slack does not know raises UnknownUser.

    For pairing: a typo'd id must not become a pair. Other Slack failures fall back to a cached row,
    and raise SlackLookupFailed when there is none.
    """
    person = session.get(Person, user_id)
    if is_fresh(person, now):
        assert person is not None
        return person
    try:
        user = fetch_user(client, user_id)
    except SlackLookupFailed:
        if person is None:
            raise
        return person
    if user is None:
        raise UnknownUser(user_id)
    return apply_profile(session, user=user, now=now)


def fetch_user(client: WebClient, user_id: str) -> Profile | None:
    """users.info for one id; None when Slack does not know it. Writes nothing."""
    return _user_or_none(lambda: client.users_info(user=user_id))


def fetch_user_by_email(client: WebClient, email: str) -> Profile | None:
    """users.lookupByEmail; None when no member has this email. Writes nothing."""
    return _user_or_none(lambda: client.users_lookupByEmail(email=email))


def _user_or_none(call: Callable[[], SlackResponse]) -> Profile | None:
    try:
        user: Profile = call()["user"]
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown_error")
        if error in NOT_FOUND:
            return None
        raise SlackLookupFailed(error) from None
    return user


def profile_fields(user: Profile) -> dict[str, Any]:
    """The Person fields a users.info / users.lookupByEmail / user_change user object gives."""
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    assert isinstance(profile, dict)
    return {
        "display_name": str(profile.get("display_name") or user.get("name") or "")[:120],
        "real_name": str(profile.get("real_name") or user.get("real_name") or "")[:120],
        "timezone": valid_timezone(user.get("tz")),
        "email": (str(profile.get("email") or "").lower()[:254] or None),
        # Bots count as inactive: they are never a mentor or a mentee.
        "active": not bool(user.get("deleted")) and not bool(user.get("is_bot")),
    }


def apply_profile(session: Session, *, user: Profile, now: datetime) -> Person:
    """Store what users.info (or a user_change event) says about a user."""
    fields = profile_fields(user)
    person = upsert_person(
        session,
        user_id=str(user["id"]),
        now=now,
        display_name=fields["display_name"],
        real_name=fields["real_name"],
        timezone=fields["timezone"],
        email=fields["email"],
        refreshed=True,
    )
    person.active = fields["active"]
    return person


def new_person(user: Profile, *, now: datetime) -> Person:
    """A Person row for a user not yet stored, to add in bulk (no lookup first)."""
    return Person(id=str(user["id"]), first_seen_at=now, refreshed_at=now, **profile_fields(user))


def display_name(person: Person | None, user_id: str) -> str:
    """The friendliest name we have: real name, then display name, then the id."""
    if person is None:
        return user_id
    return person.real_name or person.display_name or user_id


def reader_timezone(person: Person | None, fallback: str) -> ZoneInfo:
    """The person's own Slack timezone, or `fallback` (the program's) when unknown."""
    name = valid_timezone(person.timezone if person is not None else None) or fallback
    return ZoneInfo(name)


def valid_timezone(name: object) -> str | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return name
