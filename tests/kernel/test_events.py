"""Slack's event retries are handled once; a late, older profile never overwrites a newer one."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from storage.models import Person, ProcessedEvent
from storage.repositories.events import claim_event
from storage.repositories.people import upsert_person

MENTEE = "U0MENTEE1"


def user_change(tz: str, updated: int | None) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": MENTEE,
        "name": "amara",
        "real_name": "Amara Okafor",
        "tz": tz,
        "profile": {"real_name": "Amara Okafor", "display_name": "amara"},
    }
    if updated is not None:
        user["updated"] = updated
    return {"type": "user_change", "user": user}


def stored(deps: Deps) -> Person:
    with deps.read_sessions.begin() as session:
        person = session.get(Person, MENTEE)
        assert person is not None
        session.expunge(person)
        return person


@pytest.fixture
def known_mentee(deps: Deps, clock: Clock) -> None:
    with deps.sessions.begin() as session:
        upsert_person(session, user_id=MENTEE, now=clock(), timezone="Asia/Kolkata")


def set_timezone(deps: Deps, tz: str) -> None:
    with deps.sessions.begin() as session:
        person = session.get(Person, MENTEE)
        assert person is not None
        person.timezone = tz


@pytest.mark.usefixtures("known_mentee")
def test_a_retried_user_change_is_handled_once(
    deps: Deps, slack: SlackRequestSender, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mentorbot.handlers.events")
    assert slack.event(user_change("Europe/Berlin", 1_800_000_000), event_id="Ev0RETRY1")[0] == 200
    assert stored(deps).timezone == "Europe/Berlin"
    set_timezone(deps, "Asia/Tokyo")  # changed since; a second handling of the event would undo it

    status, _, _ = slack.event(user_change("Europe/Berlin", 1_800_000_000), event_id="Ev0RETRY1", retry_num=1)
    assert status == 200
    assert stored(deps).timezone == "Asia/Tokyo"
    assert [r.getMessage() for r in caplog.records if r.name == "mentorbot.handlers.events"] == [
        "event Ev0RETRY1 was already handled; Slack's retry is acknowledged and skipped"
    ]
    with deps.read_sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)) == 1


def test_a_retried_app_home_opened_publishes_the_home_tab_once(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mentorbot.handlers.events")
    opened = {"type": "app_home_opened", "user": "U0COORD1", "channel": "D0HOME", "tab": "home"}
    assert slack.event(opened, event_id="Ev0HOME1")[0] == 200
    fake_slack.wait_for(lambda: len(fake_slack.calls_to("views.publish")) == 1, what="the Home tab")

    assert slack.event(opened, event_id="Ev0HOME1", retry_num=1, retry_reason="http_timeout")[0] == 200
    assert slack.event(opened, event_id="Ev0HOME2")[0] == 200  # a new opening is a new event
    fake_slack.wait_for(lambda: len(fake_slack.calls_to("views.publish")) >= 2, what="the second Home tab")
    assert len(fake_slack.calls_to("views.publish")) == 2
    skipped = [r for r in caplog.records if r.name == "mentorbot.handlers.events"]
    assert [r.getMessage().split()[1] for r in skipped] == ["Ev0HOME1"]


@pytest.mark.usefixtures("known_mentee")
def test_a_late_retry_of_an_older_user_change_does_not_overwrite_a_newer_timezone(
    deps: Deps, slack: SlackRequestSender
) -> None:
    assert slack.event(user_change("Asia/Tokyo", 1_800_000_200), event_id="Ev0NEWER")[0] == 200
    # The older change's first delivery never arrived; Slack's third try comes after the newer one.
    late = slack.event(user_change("Europe/Berlin", 1_800_000_100), event_id="Ev0OLDER", retry_num=3)
    assert late[0] == 200
    person = stored(deps)
    assert person.timezone == "Asia/Tokyo"
    assert person.profile_updated_at == datetime.fromtimestamp(1_800_000_200, UTC)


@pytest.mark.usefixtures("known_mentee")
def test_a_profile_without_an_updated_stamp_is_still_applied(deps: Deps, slack: SlackRequestSender) -> None:
    assert slack.event(user_change("Asia/Tokyo", 1_800_000_200), event_id="Ev0STAMPED")[0] == 200
    assert slack.event(user_change("Europe/Berlin", None), event_id="Ev0UNSTAMPED")[0] == 200
    person = stored(deps)
    assert person.timezone == "Europe/Berlin"  # users.info is current when asked; keep its answer
    assert person.profile_updated_at == datetime.fromtimestamp(1_800_000_200, UTC)


def test_event_ids_are_kept_about_a_day(deps: Deps, clock: Clock) -> None:
    start = clock()

    def claim(event_id: str, after: timedelta) -> bool:
        with deps.sessions.begin() as session:
            return claim_event(session, event_id=event_id, now=start + after)

    assert claim("Ev0A", timedelta(0)) is True
    assert claim("Ev0A", timedelta(hours=23)) is False
    assert claim("Ev0B", timedelta(hours=25)) is True  # purges Ev0A on the way
    with deps.read_sessions.begin() as session:
        assert list(session.scalars(select(ProcessedEvent.event_id))) == ["Ev0B"]
    assert claim("Ev0A", timedelta(hours=25)) is True
