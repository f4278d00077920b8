"""The people cache: users.info once a day, user_change events, emails, the active flag."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

import pytest

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.people import (
    SlackLookupFailed,
    UnknownUser,
    fetch_user_by_email,
    look_up_person,
    refresh_person,
    store_known_person,
)
from storage.models import Person
from storage.repositories.people import people_by_email
from tests.support.factories import add_person
from tests.support.transactions import assert_another_writer_commits


def person(deps: Deps, user_id: str) -> Person | None:
    with deps.sessions.begin() as session:
        return session.get(Person, user_id)


def refresh(deps: Deps, user_id: str) -> Person:
    refresh_person(deps, user_id=user_id, now=deps.clock())
    found = person(deps, user_id)
    assert found is not None
    return found


def test_a_new_person_is_read_from_users_info_and_cached_for_a_day(
    deps: Deps, fake_slack: FakeSlack, clock: Clock
) -> None:
    first = refresh(deps, "U0MENTEE1")
    assert (first.real_name, first.timezone, first.email, first.active) == (
        "Amara Okafor",
        "Asia/Kolkata",
        "amara@example.org",
        True,
    )
    assert first.first_seen_at == clock.now
    fake_slack.add_user(dataclasses.replace(fake_slack.users["U0MENTEE1"], tz="Europe/Berlin"))
    clock.now += timedelta(hours=23)
    assert refresh(deps, "U0MENTEE1").timezone == "Asia/Kolkata"
    assert len(fake_slack.calls_to("users.info")) == 1
    clock.now += timedelta(hours=2)
    again = refresh(deps, "U0MENTEE1")
    assert again.timezone == "Europe/Berlin" and again.first_seen_at == clock.now - timedelta(hours=25)
    assert len(fake_slack.calls_to("users.info")) == 2


def test_a_slack_failure_keeps_the_cached_profile(deps: Deps, fake_slack: FakeSlack, clock: Clock) -> None:
    refresh(deps, "U0MENTOR1")
    clock.now += timedelta(days=2)
    fake_slack.inject("users.info", error="fatal_error")
    assert refresh(deps, "U0MENTOR1").real_name == "Ana Mendes"


def test_a_slack_failure_for_someone_never_seen_stores_a_bare_row(deps: Deps, fake_slack: FakeSlack) -> None:
    fake_slack.inject("users.info", error="fatal_error")
    bare = refresh(deps, "U0MENTEE1")
    assert (bare.real_name, bare.refreshed_at) == ("", None)
    assert refresh(deps, "U0MENTEE1").real_name == "Amara Okafor"  # not fresh: asked again next time


def test_an_unknown_id_is_refused_for_pairing(deps: Deps) -> None:
    lookup = look_up_person(deps, user_id="U0NOBODY9", now=deps.clock())
    with deps.sessions.begin() as session, pytest.raises(UnknownUser) as caught:
        store_known_person(session, lookup, now=deps.clock())
    assert caught.value.user_id == "U0NOBODY9"
    assert person(deps, "U0NOBODY9") is None


def test_pairing_needs_slack_or_a_cached_row(deps: Deps, fake_slack: FakeSlack, clock: Clock) -> None:
    fake_slack.inject("users.info", error="fatal_error", times=2)
    never_seen = look_up_person(deps, user_id="U0MENTEE1", now=clock.now)
    with deps.sessions.begin() as session, pytest.raises(SlackLookupFailed, match="fatal_error"):
        store_known_person(session, never_seen, now=clock.now)
    add_person(deps, "U0MENTEE1", now=clock.now - timedelta(days=3))
    stale = look_up_person(deps, user_id="U0MENTEE1", now=clock.now)
    with deps.sessions.begin() as session:
        assert store_known_person(session, stale, now=clock.now).real_name == "Amara Okafor"


def test_other_writers_commit_while_users_info_is_slow(
    deps: Deps, fake_slack: FakeSlack, clock: Clock
) -> None:
    fake_slack.hold("users.info")
    looking = threading.Thread(
        target=refresh_person, args=(deps,), kwargs={"user_id": "U0MENTEE1", "now": clock.now}
    )
    looking.start()
    fake_slack.wait_held(1, "users.info")
    assert_another_writer_commits(deps.settings.database_url, user_id="U0BYSTANDER1", now=clock.now)
    fake_slack.release("users.info")
    looking.join(timeout=5)
    assert not looking.is_alive()
    stored = person(deps, "U0MENTEE1")
    assert stored is not None and stored.timezone == "Asia/Kolkata" and stored.refreshed_at == clock.now


def test_deactivated_people_and_bots_are_inactive(deps: Deps, fake_slack: FakeSlack) -> None:
    fake_slack.add_user(dataclasses.replace(fake_slack.users["U0MENTEE2"], deleted=True))
    fake_slack.add_user(dataclasses.replace(fake_slack.users["U0MENTEE3"], is_bot=True))
    assert refresh(deps, "U0MENTEE2").active is False
    assert refresh(deps, "U0MENTEE3").active is False


def test_emails_resolve_through_lookup_and_then_the_cache(deps: Deps) -> None:
    user = fetch_user_by_email(deps.client, "Diego@Example.org")
    assert user is not None and user["id"] == "U0MENTEE2"
    assert fetch_user_by_email(deps.client, "nobody@example.org") is None
    refresh(deps, "U0MENTEE2")
    with deps.sessions.begin() as session:
        assert people_by_email(session, emails=["DIEGO@example.org"])["diego@example.org"].id == "U0MENTEE2"


def test_user_change_events_update_people_the_bot_knows(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    add_person(deps, "U0MENTEE1")
    changed = {
        "id": "U0MENTEE1",
        "name": "amara",
        "real_name": "Amara Okafor-Bello",
        "tz": "Europe/London",
        "deleted": False,
        "profile": {"display_name": "Amara", "real_name": "Amara Okafor-Bello", "email": "amara@example.org"},
    }
    assert slack.event({"type": "user_change", "user": changed}).status == 200
    stranger = {**changed, "id": "U0STRANGER1"}
    assert slack.event({"type": "user_change", "user": stranger}).status == 200
    updated = person(deps, "U0MENTEE1")
    assert updated is not None
    assert (updated.real_name, updated.display_name, updated.timezone) == (
        "Amara Okafor-Bello",
        "Amara",
        "Europe/London",
    )
    assert person(deps, "U0STRANGER1") is None  # nobody the bot has met: not stored
    assert slack.event({"type": "user_change", "user": {**changed, "deleted": True}}).status == 200
    gone = person(deps, "U0MENTEE1")
    assert gone is not None and gone.active is False


def test_two_first_clicks_by_a_new_person_both_succeed(
    deps: Deps, fake_slack: FakeSlack, clock: Clock
) -> None:
    """Both requests ask Slack, then both insert the same new row: the loser updates it instead."""
    fake_slack.hold("users.info")
    failures: list[BaseException] = []

    def click() -> None:
        try:
            refresh_person(deps, user_id="U0MENTEE1", now=clock.now)
        except BaseException as exc:  # noqa: BLE001 - the test reports whatever escaped
            failures.append(exc)

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    fake_slack.wait_held(2, "users.info")
    fake_slack.release("users.info")
    for thread in clicks:
        thread.join(timeout=10)
    assert failures == []
    stored = person(deps, "U0MENTEE1")
    assert stored is not None and stored.timezone == "Asia/Kolkata"
