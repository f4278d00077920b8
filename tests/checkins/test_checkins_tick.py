from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.checkins import pauses
from bot.checkins.answers import record_wellbeing
from bot.checkins.home import run_due
from bot.checkins.tick import PROFILE_BUDGET
from bot.fake_slack.models import FakeUser
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from bot.slack.delivery import prompt_metadata
from storage.repositories import checkins as repo
from storage.repositories.pairs import create_pair
from storage.repositories.people import upsert_person
from tests.support.checkins import (
    at,
    checkins,
    prompt_posts,
    prompts_per_channel,
    prompts_to,
    with_checkins,
)
from tests.support.factories import make_pair

# img-2026: weekly, Thursday 16:00 mentee-local, reminder after 24 h, expiry after 96 h.
START = at(2026, 11, 23, 9, 0)  # Monday
KOLKATA_DUE = at(2026, 11, 26, 10, 30)  # Thu 16:00 IST
CHICAGO_DUE = at(2026, 11, 26, 22, 0)  # Thu 16:00 CST


def test_each_mentee_is_prompted_at_their_own_local_time_once(deps: Deps, fake_slack: FakeSlack) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=START)  # Asia/Kolkata
    make_pair(deps, "U0MENTOR2", "U0MENTEE2", started_at=START)  # America/Chicago
    assert run_due(deps, KOLKATA_DUE - timedelta(minutes=1)) == []
    assert run_due(deps, KOLKATA_DUE) == ["checkins img-2026: 1 sent"]
    assert [c.args["channel"] for c in prompt_posts(fake_slack)] == ["U0MENTEE1"]
    assert run_due(deps, CHICAGO_DUE - timedelta(minutes=1)) == []
    run_due(deps, CHICAGO_DUE)
    run_due(deps, CHICAGO_DUE + timedelta(minutes=1))
    assert prompts_per_channel(fake_slack) == {"DU0MENTEE1": 1, "DU0MENTEE2": 1}
    rows = checkins(deps)
    assert [(r.mentee_id, r.status, r.due_at) for r in rows] == [
        ("U0MENTEE1", "sent", KOLKATA_DUE),
        ("U0MENTEE2", "sent", CHICAGO_DUE),
    ]
    assert all(r.ts == prompts_to(fake_slack, r.mentee_id)[0]["ts"] for r in rows)


def test_prompt_greets_by_name_and_says_who_sees_each_answer(deps: Deps, fake_slack: FakeSlack) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=START)
    run_due(deps, KOLKATA_DUE)
    (message,) = prompts_to(fake_slack, "U0MENTEE1")
    text = str(message["blocks"])
    assert "Hi Amara Okafor" in text
    assert "your mentor, and coordinators only in totals of 5 or more people" in text
    assert "nobody individually, only program totals of 5 or more people" in text
    buttons = [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == [f"checkin_wellbeing_{n}" for n in range(1, 6)] + ["checkin_answer_open"]


def _sent_at(deps: Deps) -> dict[str, list]:
    found: dict[str, list] = {}
    for row in checkins(deps):
        found.setdefault(row.mentee_id, []).append((row.status, row.due_at))
    return found


def test_us_dst_changes_in_march_and_november_with_kolkata_in_the_same_program(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    march = with_checkins(deps, weekday="sun", local_time="02:30")
    make_pair(march, "U0MENTOR1", "U0MENTEE1", started_at=at(2026, 3, 1))  # Asia/Kolkata
    make_pair(march, "U0MENTOR2", "U0MENTEE2", started_at=at(2026, 3, 1))  # America/Chicago
    run_due(march, at(2026, 3, 7, 21, 0))  # Sun 02:30 IST
    run_due(march, at(2026, 3, 8, 7, 59))  # 01:59 CST: not yet
    assert prompts_per_channel(fake_slack) == {"DU0MENTEE1": 1}
    run_due(march, at(2026, 3, 8, 8, 0))  # 02:30 does not exist: fires at 03:00 CDT
    assert prompts_per_channel(fake_slack) == {"DU0MENTEE1": 1, "DU0MENTEE2": 1}

    november = with_checkins(deps, weekday="sun", local_time="01:30")
    for instant in (
        at(2026, 11, 1, 6, 29),
        at(2026, 11, 1, 6, 30),
        at(2026, 11, 1, 7, 30),
        at(2026, 11, 1, 8),
    ):
        run_due(november, instant)
    chicago = [r for r in checkins(deps, mentee_id="U0MENTEE2") if r.due_at.month == 11]
    assert [(r.status, r.due_at) for r in chicago] == [("sent", at(2026, 11, 1, 6, 30))]  # once, first 01:30
    assert prompts_per_channel(fake_slack)["DU0MENTEE2"] == 2


def test_biweekly_parity_is_anchored_on_each_pairs_start(deps: Deps, fake_slack: FakeSlack) -> None:
    # nursing-2026: biweekly Tuesday 07:30, in each mentee's zone.
    make_pair(deps, "U0MENTOR2", "U0MENTEE2", program_id="nursing-2026", started_at=at(2026, 11, 25))
    make_pair(deps, "U0MENTOR2", "U0MENTEE3", program_id="nursing-2026", started_at=at(2026, 12, 2))
    tuesdays = [at(2026, 12, day, 14) for day in (1, 8, 15, 22, 29)]  # after 07:30 in Chicago and New York
    for instant in tuesdays:
        run_due(deps, instant)
    days = {m: [r.period.day for r in checkins(deps, mentee_id=m)] for m in ("U0MENTEE2", "U0MENTEE3")}
    assert days == {"U0MENTEE2": [1, 15, 29], "U0MENTEE3": [8, 22]}
    assert prompts_per_channel(fake_slack) == {"DU0MENTEE2": 3, "DU0MENTEE3": 2}


def test_paused_mentees_get_no_prompt_and_their_period_counts_as_paused(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=START)
    with deps.sessions.begin() as session:
        pauses.pause(session, person_id="U0MENTEE1", now=START, until=None, zone=ZoneInfo("UTC"))
    assert run_due(deps, KOLKATA_DUE) == ["checkins img-2026: 1 paused"]
    assert prompt_posts(fake_slack) == []
    with deps.sessions.begin() as session:
        pauses.resume(session, person_id="U0MENTEE1", now=KOLKATA_DUE + timedelta(hours=1))
    run_due(deps, KOLKATA_DUE + timedelta(days=7))
    assert [(r.period.day, r.status) for r in checkins(deps)] == [(26, "paused"), (3, "sent")]
    assert len(prompt_posts(fake_slack)) == 1


def test_do_not_disturb_defers_the_prompt_until_the_snooze_ends(deps: Deps, fake_slack: FakeSlack) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=START)
    snooze_end = KOLKATA_DUE + timedelta(hours=2)
    fake_slack.set_dnd("U0MENTEE1", snooze_end)
    fake_slack.now = KOLKATA_DUE
    assert run_due(deps, KOLKATA_DUE) == ["checkins img-2026: 1 deferred (Do Not Disturb)"]
    (row,) = checkins(deps)
    assert (row.status, row.not_before) == ("deferred", snooze_end)
    fake_slack.now = snooze_end - timedelta(minutes=1)
    assert run_due(deps, snooze_end - timedelta(minutes=1)) == []
    fake_slack.now = snooze_end
    assert run_due(deps, snooze_end) == ["checkins img-2026: 1 sent"]
    assert len(prompt_posts(fake_slack)) == 1


def test_a_mentee_who_pauses_while_a_prompt_waits_does_not_get_it(deps: Deps, fake_slack: FakeSlack) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=START)
    snooze_end = KOLKATA_DUE + timedelta(hours=2)
    fake_slack.set_dnd("U0MENTEE1", snooze_end)
    fake_slack.now = KOLKATA_DUE
    run_due(deps, KOLKATA_DUE)  # deferred until the snooze ends
    with deps.sessions.begin() as session:
        pauses.pause(
            session,
            person_id="U0MENTEE1",
            now=KOLKATA_DUE + timedelta(hours=1),
            until=None,
            zone=ZoneInfo("UTC"),
        )
    fake_slack.now = snooze_end
    assert run_due(deps, snooze_end) == ["checkins img-2026: 1 paused"]
    assert prompt_posts(fake_slack) == []
    assert [r.status for r in checkins(deps)] == ["paused"]


def test_do_not_disturb_past_expiry_does_not_hold_the_prompt(deps: Deps, fake_slack: FakeSlack) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=START)
    fake_slack.set_dnd("U0MENTEE1", KOLKATA_DUE + timedelta(days=5))
    fake_slack.now = KOLKATA_DUE
    assert run_due(deps, KOLKATA_DUE) == ["checkins img-2026: 1 sent"]


def test_after_downtime_unexpired_prompts_are_sent_and_expired_ones_recorded_missed(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=at(2026, 11, 1))
    lines = run_due(deps, at(2026, 11, 28, 12))  # down since before Nov 5
    assert lines == ["checkins img-2026: 1 sent, 3 missed"]
    assert [(r.period.day, r.status) for r in checkins(deps)] == [
        (5, "missed"),
        (12, "missed"),
        (19, "missed"),
        (26, "sent"),
    ]
    assert len(prompt_posts(fake_slack)) == 1


def test_a_slack_refusal_is_recorded_and_retried_later_until_expiry(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=START)
    fake_slack.inject("chat.postMessage", error="channel_not_found")
    assert run_due(deps, KOLKATA_DUE) == ["checkins img-2026: 1 failed (will retry)"]
    (row,) = checkins(deps)
    assert (row.status, row.last_error, row.attempts) == ("failed", "channel_not_found", 1)
    assert row.not_before == KOLKATA_DUE + timedelta(minutes=2)
    assert run_due(deps, KOLKATA_DUE + timedelta(minutes=1)) == []  # backing off
    assert run_due(deps, KOLKATA_DUE + timedelta(minutes=2)) == ["checkins img-2026: 1 sent"]
    assert fake_slack.calls_to("conversations.history")  # looked before sending again
    assert len(prompt_posts(fake_slack)) == 1

    fake_slack.inject("chat.postMessage", error="channel_not_found", times=100)
    next_due = KOLKATA_DUE + timedelta(days=7)
    instant = next_due
    while instant < next_due + timedelta(hours=97):
        run_due(deps, instant)
        instant += timedelta(hours=8)
    latest = checkins(deps)[-1]
    assert (latest.status, latest.last_error) == ("missed", "channel_not_found")
    assert latest.attempts >= 3


def test_a_stale_claim_is_recovered_from_the_dm_history_without_a_second_prompt(
    deps: Deps, fake_slack: FakeSlack
) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=START)
    make_pair(deps, "U0MENTOR2", "U0MENTEE2", started_at=START)
    # A process claimed both prompts and died: one reached Slack, the other never left.
    dead = _claim_as_dead_process(deps, ["U0MENTEE1", "U0MENTEE2"], claimed_at=CHICAGO_DUE)
    delivered = deps.client.chat_postMessage(
        channel="U0MENTEE1", text="Check-in", metadata=prompt_metadata(dead["U0MENTEE1"])
    )
    assert run_due(deps, CHICAGO_DUE + timedelta(minutes=4)) == []  # within the lease: still theirs
    assert run_due(deps, CHICAGO_DUE + timedelta(minutes=6)) == ["checkins img-2026: 2 sent"]
    assert prompts_per_channel(fake_slack) == {"DU0MENTEE1": 1, "DU0MENTEE2": 1}
    by_mentee = {r.mentee_id: r for r in checkins(deps)}
    assert by_mentee["U0MENTEE1"].ts == delivered["ts"]
    assert by_mentee["U0MENTEE2"].ts == prompts_to(fake_slack, "U0MENTEE2")[0]["ts"]


def _claim_as_dead_process(deps: Deps, mentees: list[str], *, claimed_at: datetime) -> dict[str, int]:
    rows = [
        {
            "program_id": "img-2026",
            "mentee_id": mentee,
            "period": date(2026, 11, 26),
            "due_at": KOLKATA_DUE,
            "expires_at": KOLKATA_DUE + timedelta(hours=96),
            "status": "claimed",
            "psych_item": 1,
            "claimed_at": claimed_at,
            "claimed_by": "dead-host:1:x",
            "attempts": 0,
        }
        for mentee in mentees
    ]
    with deps.sessions.begin() as session:
        return {row.mentee_id: row.id for row in repo.insert_new(session, rows=rows)}


def test_one_reminder_then_expiry_closes_the_dm(deps: Deps, fake_slack: FakeSlack) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=START)
    run_due(deps, KOLKATA_DUE)
    assert run_due(deps, KOLKATA_DUE + timedelta(hours=23, minutes=59)) == []
    assert run_due(deps, KOLKATA_DUE + timedelta(hours=24, minutes=1)) == ["checkins img-2026: 1 reminders"]
    assert run_due(deps, KOLKATA_DUE + timedelta(hours=30)) == []
    reminders = [
        c for c in fake_slack.calls_to("chat.postMessage", ok_only=True) if "reminder" in c.args["text"]
    ]
    assert len(reminders) == 1 and "still open until Mon 30 Nov, 16:00 your time" in reminders[0].args["text"]
    assert run_due(deps, KOLKATA_DUE + timedelta(hours=96)) == ["checkins: 1 expired"]
    (row,) = checkins(deps)
    assert row.status == "expired" and row.closed_at is not None
    (message,) = prompts_to(fake_slack, "U0MENTEE1")
    assert "closed on Mon 30 Nov, 16:00 your time without an answer" in message["text"]
    assert not any(b["type"] == "actions" for b in message["blocks"])
    run_due(deps, KOLKATA_DUE + timedelta(hours=97))
    assert len(fake_slack.calls_to("chat.update")) == 1


def test_answered_checkins_get_no_reminder_and_stay_answered(deps: Deps, fake_slack: FakeSlack) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=START)
    run_due(deps, KOLKATA_DUE)
    (row,) = checkins(deps)
    record_wellbeing(
        deps, checkin_id=row.id, user_id="U0MENTEE1", score=4, now=KOLKATA_DUE + timedelta(hours=1)
    )
    assert run_due(deps, KOLKATA_DUE + timedelta(hours=24)) == []
    assert run_due(deps, KOLKATA_DUE + timedelta(hours=96)) == []
    assert checkins(deps)[0].status == "answered"


def test_the_team_climate_item_rotates_through_all_seven(deps: Deps, fake_slack: FakeSlack) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=START)
    for week in range(7):
        run_due(deps, KOLKATA_DUE + timedelta(weeks=week))
    assert sorted(r.psych_item for r in checkins(deps)) == [1, 2, 3, 4, 5, 6, 7]


def test_unknown_timezones_are_fetched_from_slack_a_few_per_tick(deps: Deps, fake_slack: FakeSlack) -> None:
    for n in range(PROFILE_BUDGET + 5):
        fake_slack.add_user(FakeUser(id=f"U0BULK{n:03d}", name=f"bulk{n}", tz="Asia/Kolkata"))
        with deps.sessions.begin() as session:
            upsert_person(session, user_id=f"U0BULK{n:03d}", now=START)  # no timezone, never refreshed
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=START)  # a fresh profile: not fetched
    with deps.sessions.begin() as session:
        for n in range(PROFILE_BUDGET + 5):
            create_pair(
                session, program_id="img-2026", mentor_id="U0MENTOR1", mentee_id=f"U0BULK{n:03d}", now=START
            )
    run_due(deps, START)
    assert len(fake_slack.calls_to("users.info")) == PROFILE_BUDGET
    run_due(deps, START + timedelta(minutes=1))
    assert len(fake_slack.calls_to("users.info")) == PROFILE_BUDGET + 5
    run_due(deps, START + timedelta(minutes=2))
    assert len(fake_slack.calls_to("users.info")) == PROFILE_BUDGET + 5  # fresh for a day now
    run_due(deps, KOLKATA_DUE)  # 16:00 in Kolkata, not in the program's New York
    assert {r.due_at for r in checkins(deps)} == {KOLKATA_DUE}
    assert len(checkins(deps)) == PROFILE_BUDGET + 6


def test_two_ticks_at_once_send_each_prompt_once(deps: Deps, fake_slack: FakeSlack) -> None:
    mentees = [f"U0BULK{n:03d}" for n in range(30)]
    for mentee in mentees:
        fake_slack.add_user(FakeUser(id=mentee, name=mentee.lower(), tz="Asia/Kolkata"))
        make_pair(deps, "U0MENTOR1", mentee, started_at=START, mentee_tz="Asia/Kolkata")
    fake_slack.set_latency(0.005)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: run_due(deps, KOLKATA_DUE), range(2)))
    sent = sum(int(line.split(": ")[1].split()[0]) for lines in results for line in lines)
    assert sent == len(mentees)
    assert prompts_per_channel(fake_slack) == {f"D{m}": 1 for m in mentees}
