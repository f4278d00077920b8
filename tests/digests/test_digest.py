import json
import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app.commands import digest_command
from bot.digests import posting as digests
from bot.digests.blocks import render_digest
from bot.digests.content import build_digest
from bot.digests.trend_chart import GAP, SPARKS
from bot.digests.weeks import due_at, latest_due_week
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig, load_programs
from storage.models.digests import DigestPost
from tests.support.digests import (
    DUE,
    LAST_WEEK,
    PROGRAM,
    WEEK,
    add_checkin,
    add_concern,
    add_people,
    add_session,
    answer_week,
    close_climate,
    mentee_ids,
    pair_up,
)
from tests.support.people import PROGRAMS_FILE

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "digest_golden.json"
CHANNEL = "C0DIGEST"
ON_TIME = DUE + timedelta(minutes=1)


@pytest.fixture
def programs() -> ProgramsConfig:
    """Only img-2026, so the nursing program's digest does not post beside it."""
    return ProgramsConfig(programs=[p for p in load_programs(PROGRAMS_FILE).programs if p.id == PROGRAM])


run_due = digests.run_due


def seed_golden_week(deps: Deps) -> None:
    """Ten mentees: five answered last week, all ten this week (five met their mentor), plus activity."""
    ids = mentee_ids(12)
    add_people(deps, ids)
    answer_week(deps, WEEK - timedelta(days=14), dict.fromkeys(ids[:4], (2, 4, False)))
    answer_week(deps, LAST_WEEK, dict.fromkeys(ids[:5], (4, 6, True)), silent=ids[5:10])
    with deps.sessions.begin() as session:
        for i, mentee in enumerate(ids[:10]):
            # Items 1, 3 and 5 are negatively worded: an answer of 2 there means 6 on the safety scale.
            add_checkin(session, mentee=mentee, week=WEEK, answer=(3 + i % 3, 2, i < 5), psych_item=1 + i % 7)
        add_checkin(session, mentee=ids[10], week=WEEK, status="paused")
        add_checkin(session, mentee=ids[11], week=WEEK, status="missed")
    close_climate(deps)
    add_concern(deps, week=WEEK, category="workload", text="Twelve nights in a row.\nNobody <noticed>.")
    add_concern(deps, week=WEEK, category="patient_safety", text="URGENT TEXT went out at once", urgent=True)
    add_concern(deps, week=WEEK, category="supervision", text="ESCALATED TEXT", escalated=True)
    add_concern(deps, week=WEEK - timedelta(days=28), category="workload", text="old and still open")
    add_concern(
        deps,
        week=WEEK - timedelta(days=14),
        category="other",
        text="answered quickly",
        status="resolved",
        first_reply_on=WEEK - timedelta(days=11),
    )
    first = pair_up(deps, "U0MENTOR1", "U0MENTEE1")
    second = pair_up(deps, "U0MENTOR2", "U0MENTEE2")
    add_session(
        deps,
        pair_id=first,
        mentor="U0MENTOR1",
        mentee="U0MENTEE1",
        day=WEEK + timedelta(days=1),
        minutes=90,
        topics=["clinical-reasoning", "cultural-fluency"],
        learned="How differently consent is discussed at home.",
        share="named",
        competencies={"ethics": "demonstrated", "clinical-reasoning": "developing"},
    )
    add_session(
        deps,
        pair_id=second,
        mentor="U0MENTOR2",
        mentee="U0MENTEE2",
        day=WEEK + timedelta(days=2),
        minutes=30,
        status="pending",
        topics=["clinical-reasoning"],
    )


def test_golden_digest_for_a_seeded_week(deps: Deps, clock: Clock) -> None:
    seed_golden_week(deps)
    program = deps.programs.get(PROGRAM)
    assert program is not None and latest_due_week(program, clock.now) == WEEK
    with deps.sessions.begin() as session:
        message = render_digest(
            build_digest(session, program=program, week=WEEK, now=clock.now), text_trend=True
        )
    rendered = {"text": message.text, "blocks": message.blocks}
    if os.environ.get("MENTORBOT_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(rendered, indent=2, ensure_ascii=False) + "\n")
    assert rendered == json.loads(GOLDEN.read_text())


def test_digest_never_shows_checkin_notes_or_escalated_concerns(deps: Deps, clock: Clock) -> None:
    seed_golden_week(deps)
    program = deps.programs.get(PROGRAM)
    assert program is not None
    with deps.sessions.begin() as session:
        text = json.dumps(
            render_digest(
                build_digest(session, program=program, week=WEEK, now=clock.now), text_trend=True
            ).blocks
        )
    assert "free text" not in text
    assert "ESCALATED" not in text and "supervision" not in text
    assert "&lt;noticed&gt;" in text  # people's words are escaped, never mrkdwn
    assert "URGENT TEXT" not in text and "1 urgent, sent to coordinators at once" in text


def test_due_digest_is_posted_once_with_its_chart(deps: Deps, fake_slack: FakeSlack, clock: Clock) -> None:
    seed_golden_week(deps)
    assert run_due(deps, ON_TIME) == [
        f"digest {PROGRAM} week of {WEEK}: posted to {CHANNEL}; chart uploaded",
    ]
    assert run_due(deps, ON_TIME + timedelta(minutes=1)) == []
    posted = fake_slack.messages(CHANNEL)
    assert len(posted) == 1 and posted[0]["text"].startswith("Weekly digest for IMG Transition Cohort 2026")
    assert posted[0]["metadata"]["event_payload"] == {"program": PROGRAM, "week": WEEK.isoformat()}
    [upload] = fake_slack.uploads
    assert upload["channel_id"] == CHANNEL and upload["content"].startswith(b"\x89PNG")
    assert upload["filename"] == f"digest-{PROGRAM}-{WEEK}.png"
    with deps.sessions.begin() as session:
        row = session.scalars(select(DigestPost)).one()
        assert (row.status, row.ts, row.chart_uploaded, row.late) == ("posted", posted[0]["ts"], True, False)


def test_each_week_is_posted_at_its_due_time(deps: Deps, fake_slack: FakeSlack) -> None:
    # A new program does not start with last week's digest, due six days ago: it waits for the next.
    assert run_due(deps, DUE - timedelta(minutes=1)) == []
    assert run_due(deps, DUE - timedelta(seconds=1)) == []
    [line] = run_due(deps, DUE)
    assert line == f"digest {PROGRAM} week of {WEEK}: posted to {CHANNEL}; chart uploaded"
    assert run_due(deps, DUE + timedelta(days=6)) == []
    [line] = run_due(deps, DUE + timedelta(days=7))
    assert line.startswith(f"digest {PROGRAM} week of {WEEK + timedelta(days=7)}: posted")
    assert len(fake_slack.messages(CHANNEL)) == 2


def test_upload_failure_still_posts_with_a_text_trend(
    deps: Deps, fake_slack: FakeSlack, clock: Clock
) -> None:
    seed_golden_week(deps)
    fake_slack.inject("files.getUploadURLExternal", error="internal_error")
    [line] = run_due(deps, ON_TIME)
    assert line.endswith("chart not uploaded (internal_error), text trend instead")
    assert fake_slack.uploads == []
    [message] = fake_slack.messages(CHANNEL)
    text = json.dumps(message["blocks"], ensure_ascii=False)
    assert "8-week trend" in text and any(spark in text for spark in SPARKS + GAP)
    assert "chart follows" not in text
    with deps.sessions.begin() as session:
        row = session.scalars(select(DigestPost)).one()
        assert (row.status, row.chart_uploaded, row.last_error) == ("posted", False, "chart: internal_error")


def test_upload_server_errors_fall_back_too(deps: Deps, fake_slack: FakeSlack, clock: Clock) -> None:
    fake_slack.inject("files.getUploadURLExternal", status=500, times=3)  # the client retries 5xx twice
    [line] = run_due(deps, ON_TIME)
    assert "text trend instead" in line
    assert len(fake_slack.messages(CHANNEL)) == 1


def test_digest_due_while_down_is_posted_late_on_restart(deps: Deps, fake_slack: FakeSlack) -> None:
    seed_golden_week(deps)
    assert run_due(deps, ON_TIME - timedelta(days=7))  # last week's digest, then the bot went down
    restart = DUE + timedelta(days=2, hours=5)
    [line] = run_due(deps, restart)
    assert line.startswith(f"digest {PROGRAM} week of {WEEK}: posted to {CHANNEL} late")
    message = fake_slack.messages(CHANNEL)[-1]
    assert "Posted late: this digest was due Mon 23 Nov 08:00 EST" in json.dumps(message["blocks"])


def test_weeks_missed_since_the_last_post_are_caught_up_in_order(deps: Deps, fake_slack: FakeSlack) -> None:
    program = deps.programs.get(PROGRAM)
    assert program is not None
    three_weeks_ago = WEEK - timedelta(days=21)
    assert run_due(deps, due_at(program, three_weeks_ago) + timedelta(minutes=1))
    lines = run_due(deps, DUE + timedelta(hours=1))
    weeks = [line.split(" week of ")[1].split(":")[0] for line in lines]
    assert weeks == [str(WEEK - timedelta(days=14)), str(LAST_WEEK), str(WEEK)]
    assert [" late" in line for line in lines] == [True, True, True]
    assert len(fake_slack.messages(CHANNEL)) == 4  # the charts are files, not messages


def test_a_refused_post_is_retried_by_the_next_tick(deps: Deps, fake_slack: FakeSlack, clock: Clock) -> None:
    fake_slack.inject("chat.postMessage", error="not_in_channel")
    [line] = run_due(deps, ON_TIME)
    assert line == f"digest {PROGRAM} week of {WEEK}: not posted (not_in_channel); will retry"
    [line] = run_due(deps, ON_TIME + timedelta(minutes=1))
    assert "posted to C0DIGEST" in line
    assert len(fake_slack.messages(CHANNEL)) == 1


def _abandon_claim(deps: Deps, clock: Clock) -> None:
    program = deps.programs.get(PROGRAM)
    assert program is not None
    with deps.sessions.begin() as session:
        session.add(
            DigestPost(
                program_id=PROGRAM,
                week=WEEK,
                due_at=due_at(program, WEEK),
                status="claimed",
                claimed_at=ON_TIME,
                claimed_by="crashed:1",
            )
        )


def test_a_crashed_claim_whose_post_went_out_is_not_posted_again(
    deps: Deps, fake_slack: FakeSlack, clock: Clock
) -> None:
    _abandon_claim(deps, clock)
    fake_slack.now = ON_TIME  # message timestamps follow the test's clock
    metadata = {"event_type": "mentorbot_digest", "event_payload": {"program": PROGRAM, "week": str(WEEK)}}
    fake_slack.add_channel(CHANNEL)
    deps.client.chat_postMessage(
        channel=CHANNEL, text="the digest the crashed process sent", metadata=metadata
    )
    assert run_due(deps, ON_TIME + timedelta(minutes=5)) == []  # too fresh to call abandoned
    assert run_due(deps, ON_TIME + timedelta(minutes=11)) == []
    assert len(fake_slack.messages(CHANNEL)) == 1
    with deps.sessions.begin() as session:
        assert session.scalars(select(DigestPost.status)).one() == "posted"


def test_a_crashed_claim_that_never_posted_is_posted(deps: Deps, fake_slack: FakeSlack, clock: Clock) -> None:
    _abandon_claim(deps, clock)
    fake_slack.add_channel(CHANNEL)
    [line] = run_due(deps, ON_TIME + timedelta(minutes=11))
    assert "posted to C0DIGEST" in line
    assert len(fake_slack.messages(CHANNEL)) == 1


def test_many_long_concerns_fit_one_valid_message(deps: Deps, fake_slack: FakeSlack, clock: Clock) -> None:
    for i in range(40):
        add_concern(deps, week=WEEK, category=f"cat-{i % 7}", text=f"concern {i} " + "x" * 2900)
    [line] = run_due(deps, ON_TIME)
    assert "posted" in line
    [message] = fake_slack.messages(CHANNEL)
    assert len(message["blocks"]) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in message["blocks"])
    assert "/mentorship concerns" in json.dumps(message["blocks"])
    # the fake_slack fixture fails the test if Slack would have rejected any block


def test_dry_run_prints_block_kit_and_posts_nothing(
    deps: Deps, fake_slack: FakeSlack, clock: Clock, capsys: object
) -> None:
    import pytest

    assert isinstance(capsys, pytest.CaptureFixture)
    seed_golden_week(deps)
    assert digest_command(deps, program_id=PROGRAM, dry_run=True, now=clock.now) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["channel"] == CHANNEL and body["blocks"][0]["type"] == "header"
    assert fake_slack.calls_to("chat.postMessage") == []


def test_digest_command_posts_once_and_names_unknown_programs(
    deps: Deps, fake_slack: FakeSlack, clock: Clock, capsys: object
) -> None:
    import pytest

    assert isinstance(capsys, pytest.CaptureFixture)
    assert digest_command(deps, program_id=PROGRAM, dry_run=False, now=ON_TIME) == 0
    assert digest_command(deps, program_id=PROGRAM, dry_run=False, now=ON_TIME) == 0
    out = capsys.readouterr().out
    assert "posted to C0DIGEST" in out and "already posted" in out
    assert len(fake_slack.messages(CHANNEL)) == 1
    assert digest_command(deps, program_id="nope", dry_run=True, now=clock.now) == 1
    assert "unknown program 'nope'" in capsys.readouterr().err


def test_week_arithmetic_follows_the_program_clock(deps: Deps) -> None:
    program = deps.programs.get(PROGRAM)
    assert program is not None
    assert due_at(program, WEEK) == DUE  # Mon 08:00 in New York (EST) is 13:00 UTC
    assert latest_due_week(program, DUE) == WEEK
    assert latest_due_week(program, DUE - timedelta(seconds=1)) == LAST_WEEK
    summer = date(2026, 6, 1)
    assert due_at(program, summer).hour == 12  # EDT
