"""End to end over signed HTTP: /reflect, the modal, the confirmation DM and its buttons."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.reflections.competencies import timelines
from bot.reflections.ledger import mentor_year
from storage.models import MentoringSession, Reflection
from tests.reflections.test_reflect_modal import block_ids, fill, metadata
from tests.support.factories import make_pair
from tests.support.waiting import wait_until

MENTOR, MENTEE, OUTSIDER = "U0MENTOR1", "U0MENTEE1", "U0OUTSIDE"
SESSION = {
    "date": "2026-11-20",
    "duration": "45",
    "format": "video",
    "topics": ["clinical-reasoning", "cultural-fluency"],
    "competency:clinical-reasoning": "demonstrated",
    "competency:ethics": "developing",
    "learned": "how residency interviews work in Lagos",
    "share": "anonymous",
    "next_steps": "shadow a discharge meeting",
    "private_notes": "she seemed tired; ask about nights",
}


def open_modal(slack: SlackRequestSender, fake: FakeSlack, user_id: str) -> dict[str, Any]:
    before = len(fake.calls_to("views.open"))
    status, body, _ = slack.command("/reflect", user_id=user_id)
    assert (status, body) == (200, "")
    wait_until(lambda: len(fake.calls_to("views.open", ok_only=True)) > before, "views.open")
    return fake.views[-1]


def submit(slack: SlackRequestSender, user_id: str, view: dict[str, Any], **kw: Any) -> dict[str, Any]:
    status, body, _ = slack.view_submission(user_id, view=fill(view, **kw))
    assert status == 200
    reply: dict[str, Any] = json.loads(body) if body else {}
    return reply


def dm(fake: FakeSlack, user_id: str, count: int = 1) -> dict[str, Any]:
    wait_until(lambda: len(fake.messages(user_id)) >= count, f"DM to {user_id}")
    return fake.messages(user_id)[count - 1]


def press(slack: SlackRequestSender, user_id: str, message: dict[str, Any], label: str) -> None:
    buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    button = next(b for b in buttons if b["text"]["text"] == label)
    status, _, _ = slack.block_action(
        user_id, action_id=button["action_id"], value=button["value"], message=message
    )
    assert status == 200


def only_session(deps: Deps) -> MentoringSession:
    with deps.sessions.begin() as session:
        return session.scalars(select(MentoringSession)).one()


def status_of(deps: Deps, session_id: int) -> str:
    with deps.sessions.begin() as session:
        row = session.get(MentoringSession, session_id)
        assert row is not None
        return row.status


@pytest.fixture
def pair(deps: Deps) -> int:
    return make_pair(deps, MENTOR, MENTEE)


def log_session(
    slack: SlackRequestSender, fake: FakeSlack, deps: Deps
) -> tuple[MentoringSession, dict[str, Any]]:
    view = open_modal(slack, fake, MENTOR)
    reply = submit(slack, MENTOR, view, answers=SESSION)
    assert reply["response_action"] == "update", reply
    message = dm(fake, MENTEE)
    wait_until(lambda: only_session(deps).notice_ts == message["ts"], "the DM recorded")
    return only_session(deps), message


def test_mentor_logs_mentee_confirms_and_the_hours_count(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    view = open_modal(slack, fake_slack, MENTOR)
    assert "competency:clinical-reasoning" in block_ids(view)
    reply = submit(slack, MENTOR, view, answers=SESSION)
    assert reply["response_action"] == "update"
    assert "Saved your 45-minute session with *Amara Okafor*" in reply["view"]["blocks"][0]["text"]["text"]

    row = only_session(deps)
    assert (row.pair_id, row.status, row.duration_minutes, str(row.session_date)) == (
        pair,
        "pending",
        45,
        "2026-11-20",
    )
    message = dm(fake_slack, MENTEE)
    assert (
        message["text"] == "Ana Mendes logged a 45-minute session on Fri 20 Nov — confirm / that's not right"
    )
    assert "Clinical reasoning — demonstrated" in str(message["blocks"])
    with deps.sessions.begin() as session:
        assert (
            mentor_year(session, program=deps.programs.programs[0], mentor_id=MENTOR, year=2026).minutes == 0
        )

    press(slack, MENTEE, message, "Confirm")
    wait_until(lambda: status_of(deps, row.id) == "confirmed", "confirmation")
    wait_until(lambda: fake_slack.calls_to("chat.update", ok_only=True), "the DM updated")
    assert "You confirmed this session" in str(fake_slack.messages(MENTEE)[0]["blocks"])
    with deps.sessions.begin() as session:
        program = deps.programs.programs[0]
        ledger = mentor_year(session, program=program, mentor_id=MENTOR, year=2026)
        assert (ledger.minutes, float(ledger.credits)) == (45, 0.75)
        levels = {t.competency: t.current for t in timelines(session, program=program, mentee_id=MENTEE)}
        current = levels["clinical-reasoning"]
        assert current is not None and (current.level, current.session_id) == ("demonstrated", row.id)


def test_home_shows_hours_credits_levels_and_unconfirmed_sessions(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    row, message = log_session(slack, fake_slack, deps)
    slack.event({"type": "app_home_opened", "user": MENTEE, "tab": "home", "channel": "D0HOME"})
    home = wait_until(lambda: fake_slack.home_view(MENTEE), "mentee home")
    shown = str(home["blocks"])
    assert "logged a 45-minute session on *Fri 20 Nov*: unconfirmed" in shown
    assert "Clinical reasoning — not observed yet · demonstrated awaiting confirmation" in shown

    home_button = next(
        e
        for b in home["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == "Confirm"
    )
    slack.block_action(MENTEE, action_id=home_button["action_id"], value=home_button["value"], view=home)
    wait_until(lambda: status_of(deps, row.id) == "confirmed", "confirmation from Home")
    wait_until(
        lambda: "*demonstrated*" in str((fake_slack.home_view(MENTEE) or {}).get("blocks")), "home refresh"
    )

    slack.event({"type": "app_home_opened", "user": MENTOR, "tab": "home", "channel": "D0HOME2"})
    mentor_home = str(wait_until(lambda: fake_slack.home_view(MENTOR), "mentor home")["blocks"])
    assert "Protected time in 2026: *0.75 h* (1 confirmed session)" in mentor_home
    assert "CME: *0.75* of 20 credits" in mentor_home
    assert "Clinical reasoning — *demonstrated* (Fri 20 Nov)" in mentor_home


def test_someone_outside_the_pair_cannot_confirm(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    row, message = log_session(slack, fake_slack, deps)
    for intruder in (OUTSIDER, MENTOR):  # the logger cannot confirm their own session either
        press(slack, intruder, message, "Confirm")
    wait_until(lambda: len(fake_slack.responses) >= 2, "two refusals")
    refusals = [body for _, body in fake_slack.responses]
    assert all(r["response_type"] == "ephemeral" and "Only the other person" in r["text"] for r in refusals)
    assert all(r.get("replace_original") is False for r in refusals)
    press(slack, OUTSIDER, message, "Add my reflection")
    wait_until(lambda: len(fake_slack.responses) >= 3, "a third refusal")
    assert "pairing you are not part of" in fake_slack.responses[-1][1]["text"]
    assert status_of(deps, row.id) == "pending"
    assert len(fake_slack.calls_to("views.open")) == 1 and fake_slack.calls_to("chat.update") == []


def test_outsider_gets_a_clear_message_and_no_modal(
    slack: SlackRequestSender, fake_slack: FakeSlack, pair: int
) -> None:
    status, body, _ = slack.command("/reflect", user_id=OUTSIDER)
    reply = json.loads(body)
    assert status == 200 and reply["response_type"] == "ephemeral"
    assert "no active mentor or mentee" in reply["text"]
    assert fake_slack.calls_to("views.open") == []


def test_outsider_submitting_a_forged_view_is_refused(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    view = open_modal(slack, fake_slack, MENTOR)
    reply = submit(slack, OUTSIDER, view, answers=SESSION)
    assert reply["response_action"] == "update"
    assert "not in this pairing" in str(reply["view"]["blocks"])
    with deps.sessions.begin() as session:
        assert session.scalars(select(MentoringSession)).all() == []


def test_mentee_marking_competencies_is_refused(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    view = open_modal(slack, fake_slack, MENTEE)
    assert not [b for b in block_ids(view) if b.startswith("competency:")]
    answers = {k: v for k, v in SESSION.items() if not k.startswith("competency:")}
    reply = submit(slack, MENTEE, view, answers=answers, extra={"competency:ethics": "demonstrated"})
    assert reply["response_action"] == "update"
    assert "Only the mentor records competencies." in str(reply["view"]["blocks"])
    with deps.sessions.begin() as session:
        assert session.scalars(select(MentoringSession)).all() == []


def test_switching_to_a_pair_where_one_is_mentee_refuses_competencies_as_a_field_error(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps
) -> None:
    # U0MENTOR2 mentors Diego and is mentored by Ana: one person, both roles.
    mentoring = make_pair(deps, "U0MENTOR2", "U0MENTEE2")
    mentored = make_pair(deps, MENTOR, "U0MENTOR2")
    view = open_modal(slack, fake_slack, "U0MENTOR2")
    assert block_ids(view)[0] == "pair" and metadata(view)["pair"] is None
    slack.block_action(
        "U0MENTOR2", action_id="reflect_pair", value=str(mentoring), action_type="static_select", view=view
    )
    wait_until(lambda: fake_slack.calls_to("views.update", ok_only=True), "views.update")
    updated = fake_slack.view(view["id"])
    assert updated is not None and "competency:ethics" in block_ids(updated)
    # Slack sends the select's new value before our update lands: now the pair where they are the mentee.
    reply = submit(slack, "U0MENTOR2", updated, answers={**SESSION, "pair": str(mentored)})
    assert reply == {
        "response_action": "errors",
        "errors": {"competency:clinical-reasoning": "Only the mentor records competencies."},
    }


def test_that_is_not_right_disputes_and_tells_the_logger(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    row, message = log_session(slack, fake_slack, deps)
    press(slack, MENTEE, message, "That's not right")
    wait_until(lambda: status_of(deps, row.id) == "disputed", "dispute")
    told = dm(fake_slack, MENTOR)
    assert "Amara Okafor said your 45-minute session on Fri 20 Nov isn't right" in told["text"]
    with deps.sessions.begin() as session:
        assert (
            mentor_year(session, program=deps.programs.programs[0], mentor_id=MENTOR, year=2026).minutes == 0
        )
        levels = timelines(session, program=deps.programs.programs[0], mentee_id=MENTEE)
        assert all(t.entries == () for t in levels)
    updated = fake_slack.messages(MENTEE)[0]["blocks"]
    assert "You said this isn't right" in str(updated)
    assert not [b for b in updated if b["type"] == "actions"]  # nothing left to press


def test_a_second_press_changes_nothing(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    row, message = log_session(slack, fake_slack, deps)
    press(slack, MENTEE, message, "Confirm")
    wait_until(lambda: "You confirmed" in str(fake_slack.messages(MENTEE)[0]["blocks"]), "the DM updated")
    press(slack, MENTEE, message, "That's not right")  # the old message, still on another screen
    wait_until(
        lambda: any("already confirmed" in body.get("text", "") for _, body in fake_slack.responses), "note"
    )
    wait_until(lambda: len(fake_slack.calls_to("chat.update")) == 2, "the DM re-rendered")
    assert status_of(deps, row.id) == "confirmed"
    assert len(fake_slack.messages(MENTOR)) == 0


def test_mentee_adds_a_reflection_from_the_dm(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    row, message = log_session(slack, fake_slack, deps)
    press(slack, MENTEE, message, "Add my reflection")
    wait_until(lambda: fake_slack.calls_to("views.open", ok_only=True)[1:], "the mentee's modal")
    view = fake_slack.views[-1]
    assert metadata(view) == {"pair": pair, "session": row.id, "fixed": True}
    assert "date" not in block_ids(view) and "session" not in block_ids(view)
    reply = submit(
        slack, MENTEE, view, answers={"learned": "how to say no to a consult kindly", "share": "named"}
    )
    assert "Your reflection on the session of *Fri 20 Nov* is saved." in str(reply["view"]["blocks"])
    with deps.sessions.begin() as session:
        mine = session.scalars(select(Reflection).where(Reflection.author_id == MENTEE)).one()
        assert (mine.session_id, mine.author_role, mine.share_learned, mine.share_named) == (
            row.id,
            "mentee",
            True,
            True,
        )
        assert session.scalars(select(MentoringSession)).one().id == row.id  # no second session
    wait_until(lambda: "Add my reflection" not in str(fake_slack.messages(MENTEE)[0]["blocks"]), "DM refresh")
    press(slack, MENTEE, fake_slack.messages(MENTEE)[0], "Confirm")
    wait_until(lambda: "You confirmed" in str(fake_slack.messages(MENTEE)[0]["blocks"]), "confirmation")


def test_mentee_picks_the_logged_session_in_reflect(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    row, _ = log_session(slack, fake_slack, deps)
    view = open_modal(slack, fake_slack, MENTEE)
    assert "session" in block_ids(view)
    slack.block_action(
        MENTEE, action_id="reflect_session", value=str(row.id), action_type="static_select", view=view
    )
    wait_until(lambda: fake_slack.calls_to("views.update", ok_only=True), "views.update")
    updated = fake_slack.view(view["id"])
    assert updated is not None and "date" not in block_ids(updated)
    reply = submit(slack, MENTEE, updated, answers={"session": str(row.id), "next_steps": "read the policy"})
    assert reply["response_action"] == "update"
    with deps.sessions.begin() as session:
        assert len(session.scalars(select(Reflection)).all()) == 2
        assert len(session.scalars(select(MentoringSession)).all()) == 1
    wait_until(lambda: "Add my reflection" not in str(fake_slack.messages(MENTEE)[0]["blocks"]), "DM refresh")


def test_reflection_text_and_private_notes_are_not_plaintext_in_the_database(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    log_session(slack, fake_slack, deps)
    secrets = [SESSION["learned"], SESSION["next_steps"], SESSION["private_notes"]]
    with deps.engine.connect() as connection:
        stored = connection.execute(text("SELECT learned, next_steps, private_notes FROM reflections")).one()
    for secret, value in zip(secrets, stored, strict=True):
        assert secret not in value and value.startswith("gAAAA")  # a Fernet token
    if deps.engine.dialect.name == "sqlite":
        deps.engine.dispose()  # checkpoint the WAL so the file holds everything written
        path = deps.engine.url.database
        assert path is not None
        raw = b"".join(open(p, "rb").read() for p in (path, path + "-wal") if os.path.exists(p))
        assert raw and not any(secret.encode() in raw for secret in secrets)
    with deps.sessions.begin() as session:
        reflection = session.scalars(select(Reflection)).one()
        assert reflection.private_notes == SESSION["private_notes"]


def test_today_is_the_callers_day_not_utc(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, clock: Clock
) -> None:
    make_pair(deps, MENTOR, MENTEE)  # Amara is in Asia/Kolkata, Ana in New York
    clock.now = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # 24 Nov 01:30 in Kolkata, 23 Nov 15:00 in NY
    mentee_view = open_modal(slack, fake_slack, MENTEE)
    mentor_view = open_modal(slack, fake_slack, MENTOR)
    initial = {
        b["block_id"]: b["element"].get("initial_date") for b in mentee_view["blocks"] if "block_id" in b
    }
    assert initial["date"] == "2026-11-24"
    assert (
        next(b for b in mentor_view["blocks"] if b.get("block_id") == "date")["element"]["initial_date"]
        == "2026-11-23"
    )
    answers = {"date": "2026-11-24", "duration": "30", "format": "in_person"}
    assert submit(slack, MENTEE, mentee_view, answers=answers)["response_action"] == "update"
    assert "on Tue 24 Nov" in dm(fake_slack, MENTOR)["text"]
    refused = submit(slack, MENTOR, mentor_view, answers=answers)
    assert refused["response_action"] == "errors" and "future" in refused["errors"]["date"]


def test_private_notes_are_shown_to_their_author_only(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    log_session(slack, fake_slack, deps)
    mine = json.loads(slack.command("/reflect", "notes", user_id=MENTOR).body)
    assert mine["response_type"] == "ephemeral"
    assert (
        SESSION["private_notes"] in mine["text"]
        and "*Fri 20 Nov* with Amara Okafor: 45 min, pending" in mine["text"]
    )
    theirs = json.loads(slack.command("/reflect", "notes", user_id=MENTEE).body)["text"]
    assert SESSION["private_notes"] not in theirs and "not logged a reflection yet" in theirs
    typo = json.loads(slack.command("/reflect", "nots", user_id=MENTOR).body)["text"]
    assert "`/reflect notes`" in typo
    assert len(fake_slack.calls_to("views.open")) == 1  # only the modal log_session opened


def test_a_confirm_pressed_before_the_sender_recorded_the_dm_still_updates_it(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, pair: int
) -> None:
    # The mentee sees the DM the moment Slack stores it; the bot learns its ts only from the reply.
    fake_slack.hold_replies("chat.postMessage")
    try:
        view = open_modal(slack, fake_slack, MENTOR)
        submit(slack, MENTOR, view, answers=SESSION)
        message = dm(fake_slack, MENTEE)
        assert only_session(deps).notice_ts is None
        press(slack, MENTEE, message, "Confirm")
        wait_until(lambda: "You confirmed" in str(fake_slack.messages(MENTEE)[0]["blocks"]), "the DM updated")
    finally:
        fake_slack.release_replies("chat.postMessage")
    row = only_session(deps)
    wait_until(lambda: only_session(deps).notice_ts == message["ts"], "the DM recorded")
    assert status_of(deps, row.id) == "confirmed"
    assert len(fake_slack.messages(MENTEE)) == 1
