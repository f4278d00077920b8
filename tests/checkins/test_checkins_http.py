import json
import threading
import time
from datetime import timedelta
from typing import Any

from bot.checkins.home import run_due
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from storage.models import Checkin, Pause
from tests.support.checkins import answer_of, at, checkins, prompts_to
from tests.support.factories import make_pair
from tests.support.waiting import wait_until

START = at(2026, 11, 23, 9, 0)
KOLKATA_DUE = at(2026, 11, 26, 10, 30)  # Thu 16:00 in Kolkata, where U0MENTEE1 lives


def prompted(deps: Deps, fake: FakeSlack, clock: Clock) -> tuple[dict[str, Any], Checkin]:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=START)
    run_due(deps, KOLKATA_DUE)
    clock.now = KOLKATA_DUE + timedelta(hours=1)
    (message,) = prompts_to(fake, "U0MENTEE1")
    (row,) = checkins(deps)
    return message, row


def radio(value: str) -> dict[str, Any]:
    return {
        "type": "radio_buttons",
        "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}},
    }


def answers(wellbeing: str, psych: str | None, met: str | None, note: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {"wellbeing": {"wellbeing": radio(wellbeing)}}
    values["psych"] = {"psych": radio(psych) if psych else {"type": "radio_buttons", "selected_option": None}}
    values["met"] = {"met": radio(met) if met else {"type": "radio_buttons", "selected_option": None}}
    values["note"] = {"note": {"type": "plain_text_input", "value": note}}
    return {"values": values}


def open_modal(
    slack: SlackRequestSender, fake: FakeSlack, user: str, checkin_id: int, message: dict[str, Any]
) -> dict[str, Any]:
    before = len(fake.views)
    slack.block_action(user, action_id="checkin_answer_open", value=str(checkin_id), message=message)
    wait_until(lambda: len(fake.views) > before)
    return fake.views[-1]


def texts(fake: FakeSlack, user: str) -> list[str]:
    return [json.dumps(m.get("blocks")) + m.get("text", "") for m in fake.messages(user)]


def test_a_mentee_answers_by_button_and_modal_and_their_note_reaches_the_mentor(
    deps: Deps, fake_slack: FakeSlack, slack: SlackRequestSender, clock: Clock
) -> None:
    message, row = prompted(deps, fake_slack, clock)
    status, _, _ = slack.block_action(
        "U0MENTEE1", action_id="checkin_wellbeing_4", value=f"{row.id}:4", message=message
    )
    assert status == 200
    wait_until(lambda: "Thank you" in prompts_to(fake_slack, "U0MENTEE1")[0]["text"])
    answer = answer_of(deps, row.id)
    assert answer is not None and answer.wellbeing == 4
    thanked = prompts_to(fake_slack, "U0MENTEE1")[0]
    assert "Wellbeing: *4 · Good* — seen by your mentor, and coordinators only in totals of 5 or more" in str(
        thanked["blocks"]
    )

    view = open_modal(slack, fake_slack, "U0MENTEE1", row.id, thanked)
    hints = [b["hint"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert hints == [
        "Who sees this: your mentor, and coordinators only in totals of 5 or more people.",
        "Who sees this: nobody individually, only program totals of 5 or more people.",
        "Who sees this: your mentor.",
        "Who sees this: your mentor.",
    ]
    assert view["blocks"][1]["element"]["initial_option"]["value"] == "4"  # the button's answer, pre-filled

    reply = slack.view_submission(
        "U0MENTEE1", view={**view, "state": answers("3", "6", "1", "Nights are hard")}
    )
    assert (reply.status, reply.body) == (200, "")
    wait_until(lambda: any("Nights are hard" in t for t in texts(fake_slack, "U0MENTOR1")))
    answer = answer_of(deps, row.id)
    assert answer is not None
    assert (answer.wellbeing, answer.climate_score, answer.met_mentor, answer.note) == (
        3,
        "6",  # encrypted at rest, and only until the week closes (tests/checkins/test_climate.py)
        True,
        "Nights are hard",
    )
    wait_until(
        lambda: (
            "Met your mentor since the last check-in: *yes*"
            in str(prompts_to(fake_slack, "U0MENTEE1")[0]["blocks"])
        )
    )
    (mentor_dm,) = texts(fake_slack, "U0MENTOR1")
    assert "Amara Okafor" in mentor_dm and "Only you see this" in mentor_dm


def test_a_different_user_replaying_the_actions_is_refused(
    deps: Deps, fake_slack: FakeSlack, slack: SlackRequestSender, clock: Clock
) -> None:
    message, row = prompted(deps, fake_slack, clock)
    slack.block_action("U0MENTEE1", action_id="checkin_wellbeing_5", value=f"{row.id}:5", message=message)
    wait_until(lambda: answer_of(deps, row.id))
    view = open_modal(slack, fake_slack, "U0MENTEE1", row.id, message)

    slack.block_action("U0MENTEE2", action_id="checkin_wellbeing_1", value=f"{row.id}:1", message=message)
    wait_until(
        lambda: any("belongs to someone else" in body.get("text", "") for _, body in fake_slack.responses)
    )
    reply = slack.view_submission("U0MENTEE2", view={**view, "state": answers("1", "1", "0", "hijack")})
    assert reply.status == 200 and "belongs to someone else" in reply.body
    opened = len(fake_slack.views)
    slack.block_action("U0OUTSIDE", action_id="checkin_answer_open", value=str(row.id), message=message)
    wait_until(
        lambda: sum("belongs to someone else" in b.get("text", "") for _, b in fake_slack.responses) == 2
    )
    assert len(fake_slack.views) == opened
    answer = answer_of(deps, row.id)
    assert answer is not None and (answer.wellbeing, answer.note) == (5, None)


def test_answering_twice_updates_and_a_changed_note_is_sent_again(
    deps: Deps, fake_slack: FakeSlack, slack: SlackRequestSender, clock: Clock
) -> None:
    message, row = prompted(deps, fake_slack, clock)
    view = open_modal(slack, fake_slack, "U0MENTEE1", row.id, message)
    slack.view_submission("U0MENTEE1", view={**view, "state": answers("4", None, None, "first")})
    wait_until(lambda: len(texts(fake_slack, "U0MENTOR1")) == 1)
    view = open_modal(slack, fake_slack, "U0MENTEE1", row.id, message)
    assert view["blocks"][4]["element"]["initial_value"] == "first"
    slack.view_submission("U0MENTEE1", view={**view, "state": answers("5", "7", "0", "first")})
    wait_until(lambda: (a := answer_of(deps, row.id)) and a.wellbeing == 5)
    slack.view_submission("U0MENTEE1", view={**view, "state": answers("5", "7", "0", "second")})
    wait_until(lambda: len(texts(fake_slack, "U0MENTOR1")) == 2)
    time.sleep(0.2)  # an unchanged note must not have produced a third DM meanwhile
    assert len(texts(fake_slack, "U0MENTOR1")) == 2
    assert (answer_of(deps, row.id) or Pause()).__dict__["note"] == "second"


def test_answering_an_expired_checkin_says_so(
    deps: Deps, fake_slack: FakeSlack, slack: SlackRequestSender, clock: Clock
) -> None:
    message, row = prompted(deps, fake_slack, clock)
    view = open_modal(slack, fake_slack, "U0MENTEE1", row.id, message)
    clock.now = KOLKATA_DUE + timedelta(hours=96)
    slack.block_action("U0MENTEE1", action_id="checkin_wellbeing_3", value=f"{row.id}:3", message=message)
    wait_until(
        lambda: any(
            "closed on Mon 30 Nov, 16:00 your time" in b.get("text", "") for _, b in fake_slack.responses
        )
    )
    reply = slack.view_submission("U0MENTEE1", view={**view, "state": answers("3", None, None, None)})
    assert reply.json()["response_action"] == "update"
    assert "your answer was not saved" in json.dumps(reply.json()["view"])
    assert answer_of(deps, row.id) is None


def test_a_second_low_wellbeing_in_a_row_nudges_the_mentor_without_scores(
    deps: Deps, fake_slack: FakeSlack, slack: SlackRequestSender, clock: Clock
) -> None:
    message, row = prompted(deps, fake_slack, clock)
    slack.block_action("U0MENTEE1", action_id="checkin_wellbeing_2", value=f"{row.id}:2", message=message)
    wait_until(lambda: "Thank you" in prompts_to(fake_slack, "U0MENTEE1")[0]["text"])
    next_due = KOLKATA_DUE + timedelta(days=7)
    run_due(deps, next_due)
    clock.now = next_due + timedelta(hours=1)
    second = prompts_to(fake_slack, "U0MENTEE1")[1]
    later = checkins(deps)[1]
    for _ in range(2):  # clicking again must not nudge twice
        slack.block_action(
            "U0MENTEE1", action_id="checkin_wellbeing_1", value=f"{later.id}:1", message=second
        )
        wait_until(lambda: (a := answer_of(deps, later.id)) and a.wellbeing == 1)
    wait_until(lambda: texts(fake_slack, "U0MENTOR1"))
    time.sleep(0.2)
    (nudge,) = texts(fake_slack, "U0MENTOR1")
    assert "Consider checking in with *Amara Okafor*" in nudge
    assert "wellbeing" not in nudge.lower() and "1 ·" not in nudge and "2 ·" not in nudge


def test_slash_checkin_opens_the_current_checkin_or_says_when_the_next_is_due(
    deps: Deps, fake_slack: FakeSlack, slack: SlackRequestSender, clock: Clock
) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=START)
    clock.now = START
    reply = slack.command("/checkin", user_id="U0MENTEE1").json()
    assert reply["text"] == "Your next check-in: Thu 26 Nov, 16:00 your time (Asia/Kolkata)."
    run_due(deps, KOLKATA_DUE)
    clock.now = KOLKATA_DUE + timedelta(minutes=5)
    assert slack.command("/checkin", user_id="U0MENTEE1").json()["text"] == "Opening your check-in…"
    wait_until(lambda: fake_slack.views)
    assert fake_slack.views[-1]["callback_id"] == "checkin_answer"
    outsider = slack.command("/checkin", user_id="U0OUTSIDE").json()["text"]
    assert outsider.startswith("Check-ins are for mentees")


def test_slash_checkin_pause_and_resume(
    deps: Deps, fake_slack: FakeSlack, slack: SlackRequestSender, clock: Clock
) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=START)
    clock.now = START
    said = slack.command("/checkin", "pause 2w", user_id="U0MENTEE1").json()["text"]
    assert said.startswith("Check-ins are paused until Mon 7 Dec, 14:30 your time.")
    assert "paused until Mon 7 Dec" in slack.command("/checkin", user_id="U0MENTEE1").json()["text"]
    assert run_due(deps, KOLKATA_DUE) == ["checkins img-2026: 1 paused"]
    said = slack.command("/checkin", "pause until 2027-01-04", user_id="U0MENTEE1").json()["text"]
    assert "paused until Mon 4 Jan, 00:00 your time" in said
    bad = slack.command("/checkin", "pause forever and ever", user_id="U0MENTEE1").json()["text"]
    assert "I couldn't read" in bad and "/checkin pause until 2026-12-01" in bad
    assert (
        slack.command("/checkin", "resume", user_id="U0MENTEE1")
        .json()["text"]
        .startswith("Check-ins resumed")
    )
    assert "nothing to resume" in slack.command("/checkin", "resume", user_id="U0MENTEE1").json()["text"]
    assert (
        "I don't know `/checkin snooze`"
        in slack.command("/checkin", "snooze", user_id="U0MENTEE1").json()["text"]
    )
    assert (
        slack.command("/checkin", "pause 1w", user_id="U0MENTOR1")
        .json()["text"]
        .startswith("Only mentees can pause check-ins")
    )


def test_app_home_shows_the_next_checkin_and_pauses_and_resumes(
    deps: Deps, fake_slack: FakeSlack, slack: SlackRequestSender, clock: Clock
) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=START)
    clock.now = START
    slack.event({"type": "app_home_opened", "user": "U0MENTEE1", "channel": "DU0MENTEE1", "tab": "home"})
    home = wait_until(lambda: fake_slack.home_view("U0MENTEE1"))
    assert "Your next check-in: Thu 26 Nov, 16:00 your time" in json.dumps(home)
    slack.block_action("U0MENTEE1", action_id="checkin_pause_home", value="2w", view=home)
    wait_until(lambda: "checkin_resume_home" in json.dumps(fake_slack.home_view("U0MENTEE1")))
    assert "paused until Mon 7 Dec" in json.dumps(fake_slack.home_view("U0MENTEE1"))
    slack.block_action(
        "U0MENTEE1", action_id="checkin_resume_home", value="resume", view=fake_slack.home_view("U0MENTEE1")
    )
    wait_until(lambda: "checkin_pause_home" in json.dumps(fake_slack.home_view("U0MENTEE1")))


def test_app_home_shows_a_mentor_their_mentees_latest_answers(
    deps: Deps, fake_slack: FakeSlack, slack: SlackRequestSender, clock: Clock
) -> None:
    message, row = prompted(deps, fake_slack, clock)
    slack.block_action("U0MENTEE1", action_id="checkin_wellbeing_4", value=f"{row.id}:4", message=message)
    wait_until(lambda: answer_of(deps, row.id))
    slack.event({"type": "app_home_opened", "user": "U0MENTOR1", "channel": "DU0MENTOR1", "tab": "home"})
    home = json.dumps(wait_until(lambda: fake_slack.home_view("U0MENTOR1")), ensure_ascii=False)
    assert "Amara Okafor: Thu 26 Nov, wellbeing 4 · Good" in home


def test_a_mentee_quicker_than_the_tick_records_the_prompt_still_gets_their_answer_saved(
    deps: Deps, fake_slack: FakeSlack, slack: SlackRequestSender, clock: Clock
) -> None:
    # Slack shows the prompt before the tick has its reply, so the row is still "claimed" when
    # the mentee clicks: the answer must count and the prompt must still turn into the thank-you.
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=START)
    clock.now = KOLKATA_DUE
    fake_slack.hold_replies("chat.postMessage")
    tick = threading.Thread(target=run_due, args=(deps, KOLKATA_DUE))
    tick.start()
    try:
        message = wait_until(lambda: prompts_to(fake_slack, "U0MENTEE1"), "the prompt shown")[0]
        (row,) = checkins(deps)
        assert (row.status, row.ts) == ("claimed", None)
        status, _, _ = slack.block_action(
            "U0MENTEE1", action_id="checkin_wellbeing_2", value=f"{row.id}:2", message=message
        )
        assert status == 200
        wait_until(lambda: "Thank you" in prompts_to(fake_slack, "U0MENTEE1")[0]["text"], "the thank-you")
    finally:
        fake_slack.release_replies("chat.postMessage")
        tick.join(timeout=10)
    (row,) = checkins(deps)
    assert (row.status, row.channel, row.ts) == ("answered", message["channel"], message["ts"])
    assert row.sent_at is not None
    answer = answer_of(deps, row.id)
    assert answer is not None and answer.wellbeing == 2
    assert not [e for e in fake_slack.ephemerals if "closed" in str(e)]
    assert len(prompts_to(fake_slack, "U0MENTEE1")) == 1
