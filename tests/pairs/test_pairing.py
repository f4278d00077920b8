"""Pairing and unpairing: /mentorship over signed HTTP, the rules, welcome and farewell DMs, audit."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app.demo.world import block_text
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig
from bot.pairs.pairing import pair_people
from storage.models import AuditEntry, Pair, Person, Program
from storage.repositories.programs import ProgramSpec, sync_programs
from tests.support.factories import add_person, make_pair
from tests.support.people import SIGNING_SECRET
from tests.support.transactions import assert_another_writer_commits

PAIR = "pair <@U0MENTOR1|dr.mendes> <@U0MENTEE1|amara>"


def command(slack: SlackRequestSender, text: str, *, user_id: str) -> tuple[str, str]:
    """Send `/mentorship text`; return the ack's text and the command's response_url id."""
    assert slack.fake is not None
    url = slack.fake.response_url()
    status, body, _ = slack.command("/mentorship", text, user_id=user_id, response_url=url)
    assert status == 200
    return json.loads(body)["text"], url.rsplit("/", 1)[1]


def response(fake: FakeSlack, url_id: str) -> str:
    """The text the bot posted to a command's response_url (waits for the lazy listener)."""
    fake.wait_for(lambda: any(uid == url_id for uid, _ in fake.responses), what="the command's response")
    return str(next(body for uid, body in fake.responses if uid == url_id)["text"])


def dm_text(fake: FakeSlack, user_id: str) -> list[str]:
    return [block_text(m.get("blocks"), m.get("text", "")) for m in fake.messages(user_id)]


def count(deps: Deps, model: Any) -> int:
    with deps.sessions.begin() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_coordinator_pairs_and_both_get_welcome_dms(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    ack, url_id = command(slack, PAIR, user_id="U0COORD1")
    assert ack.startswith("Pairing <@U0MENTOR1> (mentor) and <@U0MENTEE1> (mentee) in *img-2026*")
    assert "Paired <@U0MENTOR1> (mentor) with <@U0MENTEE1> (mentee)" in response(fake_slack, url_id)
    with deps.sessions.begin() as session:
        pair = session.scalars(select(Pair)).one()
        assert (pair.program_id, pair.mentor_id, pair.mentee_id, pair.ended_at) == (
            "img-2026",
            "U0MENTOR1",
            "U0MENTEE1",
            None,
        )
        audit = session.scalars(select(AuditEntry)).one()
        assert (audit.actor_id, audit.action, audit.target) == (
            "U0COORD1",
            "pair",
            "mentor=U0MENTOR1 mentee=U0MENTEE1",
        )
        mentee = session.get(Person, "U0MENTEE1")
        assert (
            mentee is not None and mentee.timezone == "Asia/Kolkata" and mentee.email == "amara@example.org"
        )
    [mentee_dm] = dm_text(fake_slack, "U0MENTEE1")
    [mentor_dm] = dm_text(fake_slack, "U0MENTOR1")
    # Monday 23 Nov 14:00 UTC: the mentee's first Thursday 16:00 in Kolkata is 26 November.
    assert "Every Thursday at *16:00 your time* (Asia/Kolkata)" in mentee_dm
    assert "Thursday 26 November" in mentee_dm
    assert "Ana Mendes" in mentee_dm and "/checkin pause 2w" in mentee_dm and "/concern" in mentee_dm
    assert "only program totals of 5 or more" in mentee_dm
    # 16:00 in Kolkata is 05:30 in New York that week.
    assert "which is Thursday 05:30 your time (America/New_York)" in mentor_dm
    assert "Amara Okafor" in mentor_dm and "CME credits" in mentor_dm


def test_a_mentee_is_refused_and_nothing_is_stored(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    ack, _ = command(slack, "pair <@U0MENTOR2|dr.chen> <@U0MENTEE2|diego> img-2026", user_id="U0MENTEE1")
    assert (
        ack
        == "Only a coordinator of img-2026 can pair people. Type `/mentorship help` to see what you can do."
    )
    assert count(deps, Pair) == 1 and count(deps, AuditEntry) == 0
    assert fake_slack.calls_to("chat.postMessage") == [] and fake_slack.calls_to("users.info") == []


def test_a_coordinator_of_another_program_is_refused(deps: Deps, slack: SlackRequestSender) -> None:
    ack, _ = command(slack, PAIR + " img-2026", user_id="U0COORD2")
    assert ack.startswith("Only a coordinator of img-2026 can pair people.")
    assert count(deps, Pair) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pair", "I need two people for `pair`: the mentor first, then the mentee."),
        ("pair <@U0MENTOR1|dr.mendes>", "I need two people for `pair`"),
        ("pair @bob <@U0MENTEE1|amara>", "I can't tell who `@bob` is."),
        ("pair <#C0DIGEST|digest> <@U0MENTEE1|amara>", "`#digest` is a channel, not a person."),
        ("pair <@U0MENTOR1|a> <@U0MENTOR1|a>", "<@U0MENTOR1> can't be their own mentor"),
        ("pair <@U0MENTOR1|a> <@U0MENTEE1|b> img-2026 extra", "Too many words after `pair`"),
        (
            "pair <@U0MENTOR1|a> <@U0MENTEE1|b> mars-2030",
            "I don't know the program `mars-2030`. Programs: `img-2026`.",
        ),
        ("pair <@U0MENTOR1|a> <@U0MENTEE1|b> Not!A!Program", "isn't a program id"),
        ("unpair <@U0MENTOR1|a>", "I need two people for `unpair`"),
    ],
)
def test_mistakes_get_a_specific_message_and_the_usage_line(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack, text: str, expected: str
) -> None:
    ack, _ = command(slack, text, user_id="U0COORD1")
    verb = text.split()[0]
    assert expected in ack
    assert ack.endswith(f"Usage: `/mentorship {verb} @mentor @mentee [PROGRAM]`")
    assert count(deps, Pair) == 0 and fake_slack.calls_to("users.info") == []


def test_an_unknown_user_is_named(deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack) -> None:
    _, url_id = command(slack, "pair U0NOBODY99 <@U0MENTEE1|amara>", user_id="U0COORD1")
    text = response(fake_slack, url_id)
    assert "I can't find a Slack user with the id `U0NOBODY99`" in text and "Usage: `/mentorship pair" in text
    assert count(deps, Pair) == 0 and fake_slack.messages("U0MENTEE1") == []


def test_a_duplicate_pair_changes_nothing(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    _, url_id = command(slack, "pair U0MENTOR1 U0MENTEE1", user_id="U0COORD1")
    assert "<@U0MENTOR1> already mentors <@U0MENTEE1> in img-2026. Nothing changed." in response(
        fake_slack, url_id
    )
    assert count(deps, Pair) == 1 and fake_slack.calls_to("chat.postMessage") == []


def test_a_pair_cannot_go_both_ways(deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    _, url_id = command(slack, "pair U0MENTEE1 U0MENTOR1", user_id="U0COORD1")
    assert "a pair can't go both ways" in response(fake_slack, url_id)


def _with_programs(deps: Deps, change: Callable[[dict[str, Any]], None]) -> Deps:
    data = deps.programs.model_dump()
    change(data)
    return dataclasses.replace(deps, programs=ProgramsConfig.model_validate(data))


def _serve(deps: Deps, serve_bot: Callable[[Deps], str], fake: FakeSlack) -> SlackRequestSender:
    return SlackRequestSender(url=serve_bot(deps), signing_secret=SIGNING_SECRET, fake=fake)


def test_max_mentees_per_mentor_refuses_with_the_reason(
    deps: Deps, serve_bot: Callable[[Deps], str], fake_slack: FakeSlack
) -> None:
    limited = _with_programs(deps, lambda d: d["programs"][0].update(max_mentees_per_mentor=1))
    slack = _serve(limited, serve_bot, fake_slack)
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    _, url_id = command(slack, "pair U0MENTOR1 U0MENTEE2", user_id="U0COORD1")
    text = response(fake_slack, url_id)
    assert (
        "<@U0MENTOR1> already has 1 mentee in img-2026, the most max_mentees_per_mentor (1) allows." in text
    )
    assert count(deps, Pair) == 1


def test_a_coordinator_of_two_programs_must_say_which(
    deps: Deps, serve_bot: Callable[[Deps], str], fake_slack: FakeSlack
) -> None:
    both = _with_programs(deps, lambda d: d["programs"][1].update(coordinators=["U0COORD2", "U0COORD1"]))
    slack = _serve(both, serve_bot, fake_slack)
    ack, _ = command(slack, "pair U0MENTOR1 U0MENTEE1", user_id="U0COORD1")
    assert "You coordinate `img-2026`, `nursing-2026`: say which one" in ack
    assert "`/mentorship pair @mentor @mentee img-2026`" in ack
    ack, url_id = command(slack, "pair U0MENTOR1 U0MENTEE1 nursing-2026", user_id="U0COORD1")
    assert "in *nursing-2026*" in ack and "Paired" in response(fake_slack, url_id)


def test_unpair_ends_the_pair_and_tells_both_kindly(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack, clock: Clock
) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    clock.now += timedelta(days=30)
    ack, url_id = command(slack, "unpair <@U0MENTOR1|a> <@U0MENTEE1|b>", user_id="U0COORD1")
    assert ack.startswith("Ending the pairing of <@U0MENTOR1>")
    assert "Ended the pairing" in response(fake_slack, url_id)
    with deps.sessions.begin() as session:
        pair = session.scalars(select(Pair)).one()
        assert pair.ended_at == clock.now
        assert session.scalars(select(AuditEntry.action)).all() == ["unpair"]
    [mentee_dm] = dm_text(fake_slack, "U0MENTEE1")
    assert "has ended. Thank you" in mentee_dm and "Check-ins stop for now" in mentee_dm
    assert "has ended" in dm_text(fake_slack, "U0MENTOR1")[0]


def test_unpair_of_a_pair_that_does_not_exist(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    _, url_id = command(slack, "unpair U0MENTEE1 U0MENTOR1", user_id="U0COORD1")
    text = response(fake_slack, url_id)
    assert "<@U0MENTEE1> doesn't mentor <@U0MENTOR1> in img-2026" in text and "the mentor comes first" in text
    assert fake_slack.calls_to("chat.postMessage") == []


def test_a_mentee_keeps_check_ins_with_another_mentor(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    make_pair(deps, "U0MENTOR2", "U0MENTEE1")
    _, url_id = command(slack, "unpair U0MENTOR1 U0MENTEE1", user_id="U0COORD1")
    response(fake_slack, url_id)
    assert "Your check-ins carry on with your other mentor." in dm_text(fake_slack, "U0MENTEE1")[0]


def test_failed_welcome_dms_are_reported_to_the_coordinator(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    fake_slack.inject("chat.postMessage", error="channel_not_found", times=2)
    _, url_id = command(slack, PAIR, user_id="U0COORD1")
    text = response(fake_slack, url_id)
    assert "I couldn't message <@U0MENTOR1> (channel_not_found), <@U0MENTEE1> (channel_not_found)" in text
    assert count(deps, Pair) == 1  # the pairing stands; the coordinator tells them


def test_other_writers_commit_while_pairing_waits_for_users_info(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    fake_slack.hold("users.info")
    _, url_id = command(slack, PAIR, user_id="U0COORD1")
    fake_slack.wait_held(1, "users.info")
    # Slack has not answered yet: a check-in answer, a concern or a digest must still be able to write.
    assert_another_writer_commits(deps.settings.database_url, user_id="U0BYSTANDER1", now=deps.clock())
    fake_slack.release("users.info")
    assert "Paired <@U0MENTOR1> (mentor) with <@U0MENTEE1> (mentee)" in response(fake_slack, url_id)
    assert count(deps, Pair) == 1 and count(deps, AuditEntry) == 1


def test_people_cached_within_a_day_are_paired_without_asking_slack(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    add_person(deps, "U0MENTOR1")
    add_person(deps, "U0MENTEE1")
    _, url_id = command(slack, PAIR, user_id="U0COORD1")
    assert "Paired <@U0MENTOR1> (mentor)" in response(fake_slack, url_id)
    assert fake_slack.calls_to("users.info") == []


def test_a_day_old_profile_stands_in_when_slack_fails(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack, clock: Clock
) -> None:
    add_person(deps, "U0MENTOR1", now=clock.now - timedelta(days=2))
    fake_slack.inject("users.info", error="fatal_error")  # the mentor's lookup; the mentee's succeeds
    _, url_id = command(slack, PAIR, user_id="U0COORD1")
    assert "Paired <@U0MENTOR1> (mentor)" in response(fake_slack, url_id)
    assert count(deps, Pair) == 1


def test_when_slack_fails_for_someone_never_seen_nothing_is_paired(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    fake_slack.inject("users.info", error="fatal_error")
    _, url_id = command(slack, PAIR, user_id="U0COORD1")
    text = response(fake_slack, url_id)
    assert text == "Slack didn't answer (fatal_error). Nothing changed; try again in a minute."
    assert count(deps, Pair) == 0 and count(deps, AuditEntry) == 0
    assert fake_slack.messages("U0MENTOR1") == [] and fake_slack.messages("U0MENTEE1") == []


def test_a_deactivated_user_cannot_be_paired(
    deps: Deps, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user(dataclasses.replace(fake_slack.users["U0MENTEE3"], deleted=True))
    _, url_id = command(slack, "pair U0MENTOR1 U0MENTEE3", user_id="U0COORD1")
    assert "<@U0MENTEE3> is deactivated in Slack" in response(fake_slack, url_id)
    assert count(deps, Pair) == 0


def test_two_coordinators_pairing_at_once_make_one_pair(deps: Deps) -> None:
    add_person(deps, "U0MENTOR1")
    add_person(deps, "U0MENTEE1")
    program = deps.programs.get("img-2026")
    assert program is not None
    outcomes: list[bool] = []
    barrier = threading.Barrier(4)

    def attempt() -> None:
        barrier.wait()
        outcome = pair_people(
            deps,
            program=program,
            mentor_id="U0MENTOR1",
            mentee_id="U0MENTEE1",
            actor_id="U0COORD1",
            now=deps.clock(),
        )
        outcomes.append(outcome.ok)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False, False, False, True]
    assert count(deps, Pair) == 1 and count(deps, AuditEntry) == 1


def test_programs_are_added_updated_and_archived_never_deleted(deps: Deps) -> None:
    now = datetime(2027, 1, 4, tzinfo=UTC)
    make_pair(deps, "U0MENTOR1", "U0MENTEE1", program_id="nursing-2026")
    specs = [
        ProgramSpec(id="img-2026", name="IMG Cohort 2026 (renamed)", timezone="America/New_York"),
        ProgramSpec(id="img-2027", name="IMG Cohort 2027", timezone="America/New_York"),
    ]
    with deps.sessions.begin() as session:
        counts = sync_programs(session, specs=specs, now=now)
    assert counts == {"added": 1, "updated": 1, "archived": 1, "unchanged": 0}
    with deps.sessions.begin() as session:
        rows = {p.id: p for p in session.scalars(select(Program))}
        assert rows["img-2026"].name == "IMG Cohort 2026 (renamed)"
        assert rows["nursing-2026"].archived_at == now  # its pairs stay reportable
        assert session.scalars(select(Pair.program_id)).all() == ["nursing-2026"]
    with deps.sessions.begin() as session:
        assert sync_programs(session, specs=specs, now=now)["unchanged"] == 2


def test_status_says_what_each_person_is_part_of(deps: Deps, slack: SlackRequestSender) -> None:
    make_pair(deps, "U0MENTOR1", "U0MENTEE1")
    coordinator, _ = command(slack, "status", user_id="U0COORD1")
    assert coordinator == "You coordinate *img-2026*: 1 active pair, 1 mentor, 1 mentee."
    mentor, _ = command(slack, "status", user_id="U0MENTOR1")
    assert mentor == "You mentor <@U0MENTEE1> in *img-2026* (since 23 November 2026)."
    mentee, _ = command(slack, "status", user_id="U0MENTEE1")
    assert mentee.startswith("Your mentor in *img-2026* is <@U0MENTOR1> (since 23 November 2026).\n")
    assert "check-in" in mentee.splitlines()[1].lower()
    outsider, _ = command(slack, "status", user_id="U0OUTSIDE")
    assert outsider.startswith("You are not in a mentorship program yet.")
