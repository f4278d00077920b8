"""People's names and timezones, cached from Slack's users.info and refreshed daily.

Slack is never asked inside a write transaction: look people up first (look_up_people), then store
what Slack said in a short `deps.sessions.begin()` (store_person, store_known_person).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.kernel.deps import Deps
from storage.models import Person
from storage.repositories.people import people_by_id, upsert_person

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


@dataclass(frozen=True)
class Lookup:
    """One person as looked up before a write: Slack's profile to store, or why there is none.

    Made by look_up_people outside any write transaction, stored by store_person or
    store_known_person inside one.
    """

    user_id: str
    fresh: bool = False  # the cached row was refreshed within a day: Slack was not asked
    profile: Profile | None = None  # users.info's user object, to store
    unknown: bool = False  # Slack says no such user exists
    failure: str | None = None  # Slack's error code when it could not answer (after the client's retries)


def look_up_people(deps: Deps, *, user_ids: Iterable[str], now: datetime) -> dict[str, Lookup]:
    """users.info for each person not refreshed within a day, keyed by id. Writes nothing.

    Call it before `deps.sessions.begin()`, never inside: with its retries users.info can take over
    a minute, and SQLite's write lock would be held for all of it. The cache is read in a
    read-only session that ends before Slack is asked.
    """
    wanted = list(dict.fromkeys(user_ids))
    with deps.read_sessions.begin() as session:
        cached = people_by_id(session, user_ids=wanted)
    return {
        user_id: Lookup(user_id, fresh=True) if is_fresh(cached.get(user_id), now) else _ask(deps, user_id)
        for user_id in wanted
    }


def look_up_person(deps: Deps, *, user_id: str, now: datetime) -> Lookup:
    """look_up_people for one id."""
    return look_up_people(deps, user_ids=[user_id], now=now)[user_id]


def _ask(deps: Deps, user_id: str) -> Lookup:
    try:
        user = fetch_user(deps.client, user_id)
    except SlackLookupFailed as exc:
        log.warning("users.info failed (%s); keeping what is cached", exc)
        return Lookup(user_id, failure=str(exc))
    if user is None:
        return Lookup(user_id, unknown=True)
    return Lookup(user_id, profile=user)


def store_person(session: Session, lookup: Lookup, *, now: datetime) -> Person:
    """The person row after `lookup`: Slack's profile stored, else the cached row (or a bare new one).

    A Slack failure leaves the cached row in place: a name is never worth failing a request.
    """
    if lookup.profile is not None:
        return apply_profile(session, user=lookup.profile, now=now)
    return session.get(Person, lookup.user_id) or upsert_person(session, user_id=lookup.user_id, now=now)


def store_known_person(session: Session, lookup: Lookup, *, now: datetime) -> Person:
    """Like store_person, but a user Slack does not know raises UnknownUser.

    For pairing: a typo'd id must not become a pair. When Slack failed, the cached row stands in;
    with none, SlackLookupFailed is raised.
    """
    if lookup.unknown:
        raise UnknownUser(lookup.user_id)
    if lookup.profile is not None:
        return apply_profile(session, user=lookup.profile, now=now)
    person = session.get(Person, lookup.user_id)
    if person is None:
        raise SlackLookupFailed(lookup.failure or "not_cached")
    return person


def refresh_person(deps: Deps, *, user_id: str, now: datetime) -> None:
    """Make sure the person's row exists and is at most a day old: ask Slack first, then write briefly.

    Nothing is written when the cached row is fresh.
    """
    lookup = look_up_person(deps, user_id=user_id, now=now)
    if lookup.fresh:
        return
    try:
        with deps.sessions.begin() as session:
            store_person(session, lookup, now=now)
    except IntegrityError:
        # Two clicks by a new person race to insert the same row; the loser updates the winner's.
        with deps.sessions.begin() as session:
            store_person(session, lookup, now=now)


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


def profile_version(user: Profile) -> datetime | None:
    """Slack's `updated` stamp of a user object (epoch seconds) as an instant; None when it has none."""
    stamp = user.get("updated")
    if isinstance(stamp, bool) or not isinstance(stamp, int | float) or stamp <= 0:
        return None
    return datetime.fromtimestamp(stamp, UTC)


def apply_profile(session: Session, *, user: Profile, now: datetime) -> Person:
    """Store what users.info (or a user_change event) says about a user, unless the stored one is newer.

    Slack delivers events out of order and retries them late: a profile stamped older than the stored
    one is ignored, so a stale timezone never comes back. An unstamped profile is applied (users.info is
    current when asked).
    """
    version = profile_version(user)
    stored = session.get(Person, str(user["id"]))
    if stored is not None and _older(version, stored.profile_updated_at):
        return stored
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
    if version is not None:
        person.profile_updated_at = version
    return person


def _older(version: datetime | None, stored: datetime | None) -> bool:
    return version is not None and stored is not None and version < stored


def new_person(user: Profile, *, now: datetime) -> Person:
    """A Person row for a user not yet stored, to add in bulk (no lookup first)."""
    return Person(
        id=str(user["id"]),
        first_seen_at=now,
        refreshed_at=now,
        profile_updated_at=profile_version(user),
        **profile_fields(user),
    )


def short_name(person: Person | None, fallback: str) -> str:
    """How a channel names someone in passing (a digest's pairs, a shared highlight): the Slack display
    name people chose for themselves, then the real name, then `fallback`."""
    if person is None:
        return fallback
    return person.display_name or person.real_name or fallback


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
