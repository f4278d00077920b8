"""App Home over signed HTTP: a view per role, each passing the fake's Block Kit validation."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.home.tab import build_home
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig
from storage.models import MentoringSession, Pause
from tests.support.factories import make_pair
from tests.support.people import SIGNING_SECRET


def open_home(slack: SlackRequestSender, fake: FakeSlack, user_id: str) -> dict[str, Any]:
    """Send app_home_opened as Slack does and return the view the bot published."""
    before = len(fake.calls_to("views.publish", ok_only=True))
    status, _, _ = slack.event(
        {"type": "app_home_opened", "user": user_id, "channel": "D0HOME", "tab": "home"}
    )
    assert status == 200
    fake.wait_for(lambda: len(fake.calls_to("views.publish", ok_only=True)) > before, what="views.publish")
    view = fake.home_view(user_id)
    assert view is not None and view["type"] == "home"
    return view


def texts(view: dict[str, Any]) -> str:
    found = []
    for block in view["blocks"]:
        if isinstance(block.get("text"), dict):
            found.append(block["text"]["text"])
    return "\n".join(found)


def actions(view: dict[str, Any]) -> dict[str, str | None]:
    """action_id -> value of every button in the view."""
    found: dict[str, str | None] = {}
    for block in view["blocks"]:
        elements = block.get("elements", []) if block["type"] == "actions" else [block.get("accessory") or {}]
        for element in elements:
            if element.get("type") == "button":
                found[element["action_id"]] = element.get("value")
    return found


def test_someone_not_enrolled_is_told_so(slack: SlackRequestSender, fake_slack: FakeSlack) -> None:
    view = open_home(slack, fake_slack, "U0OUTSIDE")
    assert "You are not in a mentorship program yet" in texts(view)
    assert actions(view) == {}


def test_a_mentee_sees_mentors_next_check_in_and_a_pause_button(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    make_pair(deps, "U0MENTOR2", "U0MENTEE1")
    view = open_home(slack, fake_slack, "U0MENTEE1")
    text = texts(view)
    assert "*Your mentors*" in text and "<@U0MENTOR1> in *img-2026*" in text and "<@U0MENTOR2>" in text
    assert "*Check-ins*" in text
    assert "checkin_pause_home" in actions(view) and "checkin_resume_home" not in actions(view)


def test_a_paused_mentee_gets_a_resume_button(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack, clock: Clock
) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    with deps.sessions.begin() as session:
        session.add(
            Pause(person_id="U0MENTEE1", paused_at=clock.now, paused_until=clock.now + timedelta(days=14))
        )
    view = open_home(slack, fake_slack, "U0MENTEE1")
    assert "checkin_resume_home" in actions(view) and "checkin_pause_home" not in actions(view)


def test_a_mentor_sees_mentees_with_their_last_session(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack, clock: Clock
) -> None:
    first = make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    make_pair(deps, "U0MENTOR1", "U0MENTEE2")
    view = open_home(slack, fake_slack, "U0MENTOR1")
    text = texts(view)
    assert "*Your mentees*" in text and text.count("no session logged yet") == 2
    assert "*Protected time in 2026*\nNone logged yet" in text
    with deps.sessions.begin() as session:
        session.add(
            MentoringSession(
                pair_id=first,
                program_id="img-2026",
                session_date=date(2026, 11, 20),
                duration_minutes=60,
                format="in_person",
                logged_by="U0MENTOR1",
                logged_at=clock.now,
                status="confirmed",
            )
        )
    text = texts(open_home(slack, fake_slack, "U0MENTOR1"))
    assert "<@U0MENTEE1> in *img-2026* — last session 20 November 2026" in text
    assert "None logged yet" not in text  # the reflections section shows the hours from here on


def test_a_coordinator_sees_programs_with_counts_and_a_preview_button(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    view = open_home(slack, fake_slack, "U0COORD1")
    assert "No pairs yet: `/mentorship pair @mentor @mentee img-2026`" in texts(view)
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    make_pair(deps, "U0MENTOR1", "U0MENTEE2")
    view = open_home(slack, fake_slack, "U0COORD1")
    assert "*IMG Transition Cohort 2026* (`img-2026`)\n2 active pairs · 1 mentor · 2 mentees" in texts(view)
    assert actions(view) == {"digest_preview_home": "img-2026"}


def test_a_coordinator_of_two_programs_gets_a_button_for_each(
    deps: Deps, serve_bot: Callable[[Deps], str], fake_slack: FakeSlack
) -> None:
    data = deps.programs.model_dump()
    data["programs"][1]["coordinators"] = ["U0COORD2", "U0COORD1"]
    both = dataclasses.replace(deps, programs=ProgramsConfig.model_validate(data))
    slack = SlackRequestSender(url=serve_bot(both), signing_secret=SIGNING_SECRET, fake=fake_slack)
    view = open_home(slack, fake_slack, "U0COORD1")
    assert actions(view) == {
        "digest_preview_home": "img-2026",
        "digest_preview_home.nursing-2026": "nursing-2026",
    }


def test_someone_with_every_role_gets_every_section(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    make_pair(deps, "U0COORD1", "U0MENTEE1", program_id="nursing-2026")
    make_pair(deps, "U0MENTOR1", "U0COORD1")
    view = open_home(slack, fake_slack, "U0COORD1")
    text = texts(view)
    assert "*Your mentor*" in text and "*Your mentee*" in text and "*Program you coordinate*" in text


def test_a_mentor_with_many_mentees_stays_within_slack_limits(deps: Deps, clock: Clock) -> None:
    for n in range(30):
        make_pair(deps, "U0MENTOR1", f"U0BULK{n:03d}")
    with deps.read_sessions.begin() as session:
        view = build_home(session, deps=deps, user_id="U0MENTOR1", now=clock.now)
    text = texts(view)
    assert "…and 10 more — those longest without a logged session are listed first." in text
    assert len(view["blocks"]) <= 100


def test_without_the_check_in_feature_the_schedule_comes_from_config(deps: Deps, clock: Clock) -> None:
    from bot.home.status import schedule_lines
    from storage.repositories.pairs import active_pairs_of

    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    make_pair(deps, "U0MENTOR2", "U0MENTEE1", program_id="nursing-2026")
    with deps.sessions.begin() as session:
        pairs = active_pairs_of(session, user_id="U0MENTEE1")
        lines = schedule_lines(session, deps=deps, user_id="U0MENTEE1", mentee_pairs=pairs, now=clock.now)
        assert lines == [
            "Check-ins in *img-2026* come every Thursday at 16:00 your time (Asia/Kolkata).",
            "Check-ins in *nursing-2026* come every other Tuesday at 07:30 your time (Asia/Kolkata).",
        ]
        session.add(
            Pause(person_id="U0MENTEE1", paused_at=clock.now, paused_until=clock.now + timedelta(days=14))
        )
        session.flush()
        lines = schedule_lines(session, deps=deps, user_id="U0MENTEE1", mentee_pairs=pairs, now=clock.now)
        assert lines == ["Your check-ins are paused until Monday 7 December 2026."]


def test_a_full_home_tab_counts_sections_not_blocks() -> None:
    from bot.home.tab import home_blocks
    from bot.slack.blocks import section

    def part(size: int) -> list[dict[str, Any]]:
        return [section(f"line {n}") for n in range(size)]

    fits = home_blocks([part(48), part(49)])  # the title, two dividers, 97 sections: 100 blocks
    cut = home_blocks([part(60), part(60), part(5), part(5)])

    assert len(fits) == 100 and fits[-1]["type"] == "section"
    assert len(cut) == 100
    assert cut[-1]["type"] == "context"
    assert cut[-1]["elements"][0]["text"] == (
        "2 sections left out and one cut short to keep the Home tab within Slack's 100 blocks."
    )
    assert sum(block["type"] == "divider" for block in cut) == 2
    full = home_blocks([part(97), part(5)])  # no room left even for a divider
    assert len(full) == 100 and full[-1]["elements"][0]["text"].startswith("1 section left out to keep")
