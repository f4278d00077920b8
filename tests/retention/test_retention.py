"""privacy.retention_days: weekly rollups kept, raw answers and free text gone, once a day, dry-run first."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app.commands import purge_command
from bot.checkins.climate import answer_fields, close_due
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig
from bot.retention import purge as retention
from bot.retention.purge import run_due
from storage.models import (
    AnswerRollup,
    Checkin,
    CheckinAnswer,
    ClimateAnswer,
    Concern,
    ConcernMessage,
    Idea,
    IdeaComment,
    IdeaCycle,
    MentoringSession,
    Reflection,
)
from tests.support.factories import add_person, make_pair
from tests.support.ideas import MENTEE, MENTOR, next_dm, plan, press, record_idea, submit, take_step

NOW = datetime(
    2026, 11, 23, 14, 0, tzinfo=UTC
)  # 30 days back: Saturday 24 October; whole weeks before 19 October
OLD_WEEK, OLDER_WEEK, EDGE_WEEK = date(2026, 10, 12), date(2026, 10, 5), date(2026, 10, 19)


@pytest.fixture
def kept(deps: Deps) -> Deps:
    """img-2026 keeps raw data 30 days; nursing-2026 keeps everything."""
    data = deps.programs.model_dump()
    data["programs"][0]["privacy"]["retention_days"] = 30
    return dataclasses.replace(deps, programs=ProgramsConfig.model_validate(data))


def at(day: date, hour: int = 16) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def checkin(
    deps: Deps,
    mentee: str,
    period: date,
    *,
    item: int = 1,
    sent: bool = True,
    answer: tuple[int | None, int | None] | None = None,
    note: str | None = None,
    program: str = "img-2026",
) -> int:
    add_person(deps, mentee)
    with deps.sessions.begin() as session:
        row = Checkin(
            program_id=program,
            mentee_id=mentee,
            period=period,
            due_at=at(period),
            expires_at=at(period) + timedelta(hours=96),
            status="answered" if answer else ("expired" if sent else "missed"),
            psych_item=item,
            claimed_at=at(period),
            sent_at=at(period) if sent else None,
        )
        session.add(row)
        session.flush()
        if answer is not None:
            session.add(
                CheckinAnswer(
                    checkin_id=row.id,
                    wellbeing=answer[0],
                    met_mentor=True,
                    note=note,
                    answered_at=at(period, 18),
                    updated_at=at(period, 18),
                    **answer_fields(answer[1]),
                )
            )
        return row.id


def reflection(deps: Deps, pair_id: int, program: str, created: datetime) -> None:
    with deps.sessions.begin() as session:
        mentoring = MentoringSession(
            pair_id=pair_id,
            program_id=program,
            session_date=created.date(),
            duration_minutes=45,
            format="video",
            logged_by="U0MENTOR1",
            logged_at=created,
            status="confirmed",
        )
        session.add(mentoring)
        session.flush()
        session.add(
            Reflection(
                session_id=mentoring.id,
                author_id="U0MENTOR1",
                author_role="mentor",
                topics=["ethics"],
                learned="how rounds work back home",
                next_steps="shadow a night shift",
                private_notes="seemed tired",
                created_at=created,
            )
        )


def concern(deps: Deps, week: date, key: str, program: str = "img-2026") -> str:
    with deps.sessions.begin() as session:
        row = Concern(
            program_id=program,
            category="other",
            urgent=False,
            escalated=False,
            text=f"concern from the week of {week}",
            week=week,
            status="open",
            key_hash=key * 64,
            replies_allowed=True,
        )
        session.add(row)
        session.flush()
        session.add(
            ConcernMessage(
                concern_id=row.id,
                seq=1,
                from_sender=False,
                coordinator_id="U0COORD1",
                text="we hear you",
                week=week,
            )
        )
        return row.id


def seed(deps: Deps) -> dict[str, int]:
    ids = {
        "c1": checkin(deps, "U0MENTEE1", date(2026, 10, 8), item=1, answer=(4, 2), note="old note"),
        "c2": checkin(deps, "U0MENTEE2", date(2026, 10, 8), item=2, answer=(2, 5)),
        "c3": checkin(deps, "U0MENTEE3", date(2026, 10, 8), item=3),
        "c4": checkin(deps, "U0MENTEE1", date(2026, 10, 15), item=3, answer=(5, 7)),
        "missed": checkin(deps, "U0MENTEE2", date(2026, 10, 9), sent=False),
        "edge": checkin(deps, "U0MENTEE2", date(2026, 10, 22), item=4, answer=(3, 4), note="edge-week note"),
        "recent": checkin(deps, "U0MENTEE1", date(2026, 11, 19), item=5, answer=(4, 3), note="recent note"),
        "other": checkin(
            deps, "U0MENTEE1", date(2026, 10, 6), answer=(1, 1), note="kept", program="nursing-2026"
        ),
    }
    return ids


def rollups(deps: Deps) -> dict[date, tuple[int, ...]]:
    with deps.sessions.begin() as session:
        return {
            r.week: (r.sent, r.answered, r.wellbeing_sum, r.wellbeing_n, r.psych_sum, r.psych_n)
            for r in session.scalars(select(AnswerRollup).where(AnswerRollup.program_id == "img-2026"))
        }


def answers(deps: Deps) -> dict[int, tuple[int | None, str | None]]:
    with deps.sessions.begin() as session:
        return {a.checkin_id: (a.wellbeing, a.note) for a in session.scalars(select(CheckinAnswer))}


def test_old_weeks_are_rolled_up_and_their_answers_deleted(kept: Deps) -> None:
    ids = seed(kept)
    [line] = run_due(kept, NOW)
    assert line.startswith(
        "retention img-2026 (older than 30 days, before 2026-10-24): removed 3 check-in answers from 2 weeks"
    )
    assert rollups(kept) == {
        # The missed check-in was never sent. Team-climate totals come only from the unlinked table, and
        # weeks of one or two answers never reach it (see the test below for one that does).
        OLDER_WEEK: (3, 2, 6, 2, 0, 0),
        OLD_WEEK: (1, 1, 5, 1, 0, 0),
    }
    left = answers(kept)
    assert set(left) == {ids["edge"], ids["recent"], ids["other"]}
    assert left[ids["edge"]] == (3, None)  # its week straddles the cutoff: the answer stays, the note goes
    assert left[ids["recent"]] == (4, "recent note") and left[ids["other"]] == (1, "kept")
    with kept.sessions.begin() as session:
        assert len(session.scalars(select(Checkin)).all()) == 8  # the schedule's own rows stay


def climate_rows(deps: Deps) -> dict[date, list[int]]:
    with deps.sessions.begin() as session:
        rows = session.scalars(select(ClimateAnswer).order_by(ClimateAnswer.id))
        found: dict[date, list[int]] = {}
        for row in rows:
            found.setdefault(row.week, []).append(row.score)
        return found


def test_team_climate_totals_are_rolled_up_from_the_unlinked_table_and_its_rows_go(kept: Deps) -> None:
    mentees = [f"U0ME{i:04d}" for i in range(1, 7)]
    for i, mentee in enumerate(mentees[:5]):
        checkin(kept, mentee, date(2026, 10, 8), item=1 + i, answer=(3, 2))  # items 1, 3, 5 count 6
    for mentee in mentees:
        checkin(kept, mentee, date(2026, 11, 12), item=2, answer=(3, 5))
    assert len(close_due(kept, NOW)) == 2
    assert sorted(climate_rows(kept)[OLDER_WEEK]) == [2, 2, 6, 6, 6]
    [line] = run_due(kept, NOW)
    assert "removed 5 check-in answers from 1 week " in line
    assert rollups(kept)[OLDER_WEEK] == (5, 5, 15, 5, 6 + 2 + 6 + 2 + 6, 5)
    assert climate_rows(kept) == {date(2026, 11, 9): [5] * 6}  # the recent week stays


def test_free_text_older_than_retention_is_cleared(kept: Deps) -> None:
    old_pair = make_pair(kept, "U0MENTOR1", "U0MENTEE1")
    other_pair = make_pair(kept, "U0MENTOR1", "U0MENTEE2", program_id="nursing-2026")
    reflection(kept, old_pair, "img-2026", at(date(2026, 10, 1)))
    reflection(kept, old_pair, "img-2026", at(date(2026, 11, 1)))
    reflection(kept, other_pair, "nursing-2026", at(date(2026, 10, 1)))
    old = concern(kept, OLDER_WEEK, "a")
    edge = concern(kept, EDGE_WEEK, "b")
    concern(kept, OLDER_WEEK, "c", program="nursing-2026")
    [line] = run_due(kept, NOW)
    assert "the text of 1 reflection, 1 concern and 1 concern reply" in line
    with kept.sessions.begin() as session:
        texts = {
            (r.created_at.date(), r.session_id): (r.learned, r.next_steps, r.private_notes)
            for r in session.scalars(select(Reflection))
        }
        assert sorted(texts.values(), key=str) == sorted(
            [
                (None, None, None),
                ("how rounds work back home", "shadow a night shift", "seemed tired"),
                ("how rounds work back home", "shadow a night shift", "seemed tired"),
            ],
            key=str,
        )
        concerns = {c.id: c.text for c in session.scalars(select(Concern))}
        assert concerns[old] == "[removed after 30 days]"
        assert concerns[edge] == f"concern from the week of {EDGE_WEEK}"
        messages = {m.concern_id: m.text for m in session.scalars(select(ConcernMessage))}
        assert messages[old] == "[removed after 30 days]" and messages[edge] == "we hear you"
        assert sum(1 for text in concerns.values() if text.startswith("[removed")) == 1


def test_it_runs_once_a_day_and_never_rolls_a_week_twice(kept: Deps) -> None:
    seed(kept)
    assert len(run_due(kept, NOW)) == 1
    before = rollups(kept)
    assert run_due(kept, NOW + timedelta(hours=3)) == []
    [line] = run_due(kept, NOW + timedelta(days=1))
    assert "removed 0 check-in answers from 0 weeks" in line
    assert rollups(kept) == before
    checkin(kept, "U0MENTEE3", date(2026, 10, 20), answer=(5, 6))
    # The edge week passes the cutoff on 2 December, with the late-added check-in in it.
    assert "removed 2 check-in answers from 1 week " in run_due(kept, NOW + timedelta(days=9))[0]
    assert rollups(kept)[EDGE_WEEK] == (2, 2, 3 + 5, 2, 0, 0)


def test_two_processes_racing_purge_once(kept: Deps) -> None:
    seed(kept)
    lines: list[str] = []
    barrier = threading.Barrier(3)

    def tick() -> None:
        barrier.wait()
        lines.extend(run_due(kept, NOW))

    threads = [threading.Thread(target=tick) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(lines) == 1
    assert rollups(kept)[OLDER_WEEK] == (3, 2, 6, 2, 0, 0)


def test_programs_without_retention_keep_everything(deps: Deps) -> None:
    ids = seed(deps)
    assert run_due(deps, NOW) == []
    assert set(answers(deps)) == {ids[k] for k in ("c1", "c2", "c4", "edge", "recent", "other")}


def test_purge_dry_run_shows_what_would_go_and_changes_nothing(
    kept: Deps, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(kept)
    concern(kept, OLDER_WEEK, "a")
    assert purge_command(kept, dry_run=True, now=NOW) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "retention img-2026 (older than 30 days, before 2026-10-24): would remove 3 check-in answers from "
        "2 weeks (kept as weekly totals), 1 other check-in note, the text of 0 reflections, 1 concern and "
        "1 concern reply",
        "retention nursing-2026: no privacy.retention_days; everything is kept",
    ]
    assert rollups(kept) == {} and len(answers(kept)) == 6
    assert purge_command(kept, dry_run=False, now=NOW) == 0
    assert "removed 3 check-in answers" in capsys.readouterr().out
    assert purge_command(kept, dry_run=False, now=NOW) == 0  # an operator may run it again the same day
    assert "removed 0 check-in answers" in capsys.readouterr().out
    assert len(rollups(kept)) == 2


def test_the_tick_lists_the_retention_job() -> None:
    from bot.app.tick import JOBS

    assert ("retention", retention.run_due) in JOBS


def idea(deps: Deps, pair_id: int, program: str, updated: datetime) -> int:
    with deps.sessions.begin() as session:
        row = Idea(
            program_id=program,
            pair_id=pair_id,
            author_id="U0MENTEE1",
            summary="huddle before handover",
            observation="night handovers drop the pending labs",
            change="a five-minute huddle",
            affects=["unit"],
            shared_with_coordinators=True,
            stage="adopted",
            created_at=updated - timedelta(days=20),
            updated_at=updated,
            adopted_at=updated,
        )
        session.add(row)
        session.flush()
        cycle = IdeaCycle(
            idea_id=row.id,
            number=1,
            prediction="fewer missed labs",
            measure="count missed labs",
            scope="one week of nights",
            test_date=updated.date(),
            planned_at=updated,
            nudge_due_at=updated,
            happened="two missed instead of six",
            result="as predicted",
            decision_notes="keep it",
        )
        session.add(cycle)
        session.add(
            IdeaComment(idea_id=row.id, step="idea", author_id="U0MENTOR1", text="good", created_at=updated)
        )
        return row.id


def idea_texts(deps: Deps, idea_id: int) -> tuple[str, ...]:
    with deps.sessions.begin() as session:
        row = session.get(Idea, idea_id)
        assert row is not None
        cycle = session.scalars(select(IdeaCycle).where(IdeaCycle.idea_id == idea_id)).one()
        comment = session.scalars(select(IdeaComment).where(IdeaComment.idea_id == idea_id)).one()
        return (
            row.summary, row.observation, row.change, cycle.prediction, cycle.measure, cycle.scope,
            str(cycle.happened), str(cycle.result), str(cycle.decision_notes), comment.text, row.stage,
        )  # fmt: skip


def test_an_idle_idea_loses_its_working_notes_and_keeps_its_summary(
    kept: Deps, capsys: pytest.CaptureFixture[str]
) -> None:
    old_pair = make_pair(kept, "U0MENTOR1", "U0MENTEE1")
    other_pair = make_pair(kept, "U0MENTOR1", "U0MENTEE2", program_id="nursing-2026")
    idle = idea(kept, old_pair, "img-2026", at(date(2026, 10, 1)))
    active = idea(kept, old_pair, "img-2026", at(date(2026, 11, 10)))
    elsewhere = idea(kept, other_pair, "nursing-2026", at(date(2026, 10, 1)))
    untouched = idea_texts(kept, active)

    assert purge_command(kept, dry_run=True, now=NOW) == 0
    assert "would remove" in (out := capsys.readouterr().out)
    assert "the working notes of 1 idle idea (summaries kept)" in out
    assert idea_texts(kept, idle) == untouched
    [line] = run_due(kept, NOW)

    assert "the working notes of 1 idle idea (summaries kept)" in line
    gone = "[removed after 30 days]"
    kept_summary = ("huddle before handover", gone, gone, gone, gone, gone, "None", "None", "None", gone)
    assert idea_texts(kept, idle) == (*kept_summary, "adopted")
    assert idea_texts(kept, active) == untouched and idea_texts(kept, elsewhere) == untouched
    [again] = run_due(kept, NOW + timedelta(days=1))
    assert "idle idea" not in again  # nothing more to clear, so the line does not mention ideas


def purge_now(deps: Deps, now: datetime) -> retention.Purge:
    program = deps.programs.get("img-2026")
    assert program is not None
    purge = retention.run_program(deps, program=program, now=now, force=True)
    assert purge is not None
    return purge


def test_an_idea_idle_since_before_an_earlier_run_is_still_cleared_and_only_once(kept: Deps) -> None:
    assert purge_now(kept, NOW).ideas == 0  # an install already purging: weeks before 19 October done
    pair = make_pair(kept, "U0MENTOR1", "U0MENTEE1")
    idle = idea(kept, pair, "img-2026", at(date(2026, 9, 1)))  # idle well before that run's weeks
    later = NOW + timedelta(days=7)

    [line] = run_due(kept, later)
    assert "the working notes of 1 idle idea (summaries kept)" in line
    assert idea_texts(kept, idle)[1:3] == ("[removed after 30 days]",) * 2
    again = purge_now(kept, later + timedelta(days=1))
    assert again.ideas == 0 and "idea" not in again.line()  # already cleared: not counted or written


def test_a_comment_yesterday_keeps_an_old_idea(
    slack: SlackRequestSender, fake_slack: FakeSlack, kept: Deps, clock: SettableClock
) -> None:
    make_pair(kept, MENTOR, MENTEE)
    clock.now = at(date(2026, 10, 1), 9)
    idea_id = record_idea(slack, fake_slack, kept)
    clock.now = NOW - timedelta(days=1)
    modal = press(slack, fake_slack, MENTOR, next_dm(fake_slack, MENTOR, 1), "Comment")
    assert modal is not None
    assert submit(slack, MENTOR, modal, {"comment": "Still worth trying."})["response_action"] == "update"
    next_dm(fake_slack, MENTEE, 1)  # the comment's DM: the save is committed

    assert "idle idea" not in purge_now(kept, NOW).line()
    with kept.sessions.begin() as session:
        row = session.get(Idea, idea_id)
        assert row is not None and row.updated_at == NOW - timedelta(days=1)
        assert not row.observation.startswith("[removed")
        assert session.scalars(select(IdeaComment.text)).all() == ["Still worth trying."]


def test_a_test_still_ahead_keeps_an_idea_planned_long_ago(
    slack: SlackRequestSender, fake_slack: FakeSlack, kept: Deps, clock: SettableClock
) -> None:
    make_pair(kept, MENTOR, MENTEE)
    clock.now = at(date(2026, 10, 1), 9)
    idea_id = record_idea(slack, fake_slack, kept)
    take_step(slack, fake_slack, idea_id, "Plan a test", plan(date(2026, 11, 30)))

    assert purge_now(kept, NOW).ideas == 0
    with kept.sessions.begin() as session:
        cycle = session.scalars(select(IdeaCycle)).one()
        assert cycle.prediction == plan(date(2026, 11, 30))["prediction"]
    # Once the test date is past the cutoff too and nothing more was recorded, the idea is idle.
    assert purge_now(kept, NOW + timedelta(days=40)).ideas == 1
