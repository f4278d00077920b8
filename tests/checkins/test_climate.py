"""Closing a week's team-climate answers: what moves, what is discarded, when, and exactly once."""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime, timedelta

from sqlalchemy import select, text

from bot.checkins.answers import ModalAnswer, modal_view, record_answer
from bot.checkins.climate import close_due, closes_at
from bot.checkins.edmondson import scored
from bot.checkins.home import run_due
from bot.digests.weeks import due_at
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig
from storage.models import CheckinAnswer, ClimateAnswer, ClimateWeek
from tests.support.climate import answer_climate, answered_at, stored_tokens
from tests.support.digests import DUE, PROGRAM, WEEK, mentee_ids

MENTEES = mentee_ids(12)


def climate_rows(deps: Deps) -> list[tuple[bool | None, int]]:
    with deps.sessions.begin() as session:
        return [(r.met, r.score) for r in session.scalars(select(ClimateAnswer).order_by(ClimateAnswer.id))]


def closed_weeks(deps: Deps) -> dict[object, int]:
    with deps.sessions.begin() as session:
        return {w.week: w.answered for w in session.scalars(select(ClimateWeek))}


def flags(deps: Deps) -> list[bool]:
    with deps.sessions.begin() as session:
        return list(session.scalars(select(CheckinAnswer.climate_answered)))


def test_a_week_closes_at_its_digests_due_instant_and_not_a_minute_before(deps: Deps) -> None:
    program = deps.programs.get(PROGRAM)
    assert program is not None and closes_at(program, WEEK) == due_at(program, WEEK) == DUE
    answer_climate(deps, MENTEES[:5], [5] * 5)
    assert close_due(deps, DUE - timedelta(minutes=1)) == []
    assert len(stored_tokens(deps)) == 5
    [closed] = close_due(deps, DUE)
    assert (closed.program_id, closed.week, closed.answered, closed.moved) == (PROGRAM, WEEK, 5, 5)
    assert stored_tokens(deps) == [] and closed_weeks(deps) == {WEEK: 5}
    assert flags(deps) == [True] * 5  # who answered stays (the subtraction rule needs it); what, not


def test_scores_are_stored_reverse_scored_and_without_their_item(deps: Deps, clock: Clock) -> None:
    answer_climate(deps, MENTEES[:5], [2] * 5, item=1)  # "held against you": 2 means 6 on the safety scale
    close_due(deps, clock.now)
    assert climate_rows(deps) == [(None, scored(1, 2))] * 5 == [(None, 6)] * 5


def test_a_week_with_fewer_answers_than_min_group_size_is_discarded_and_only_its_count_kept(
    deps: Deps, clock: Clock
) -> None:
    answer_climate(deps, MENTEES[:4], [7, 1, 4, 4])
    [closed] = close_due(deps, clock.now)
    assert (closed.answered, closed.moved) == (4, 0)
    assert climate_rows(deps) == [] and stored_tokens(deps) == []
    assert closed_weeks(deps) == {WEEK: 4}


def test_the_met_flag_is_kept_only_when_both_sides_reach_min_group_size(deps: Deps, clock: Clock) -> None:
    met = [True] * 5 + [False] * 5
    answer_climate(deps, MENTEES[:10], [6] * 5 + [2] * 5, met=met)
    previous = WEEK - timedelta(days=7)
    answer_climate(deps, MENTEES[:8], [4] * 8, week=previous, met=[True] * 5 + [False] * 3)
    close_due(deps, clock.now)
    with deps.sessions.begin() as session:
        rows = session.execute(select(ClimateAnswer.week, ClimateAnswer.met, ClimateAnswer.score)).all()
    assert (
        sorted((met, score) for week, met, score in rows if week == WEEK)
        == [(False, 2)] * 5 + [(True, 6)] * 5
    )
    assert {met for week, met, _ in rows if week == previous} == {None}  # three did not meet: no split kept


def test_a_team_climate_answer_after_the_weeks_cutoff_is_not_stored_though_the_checkin_is_open(
    deps: Deps, clock: Clock
) -> None:
    ids = answer_climate(deps, MENTEES[:5], [5] * 5)
    close_due(deps, DUE)
    late = ModalAnswer(wellbeing=1, psych_score=1, met_mentor=False)
    record_answer(
        deps, checkin_id=ids[MENTEES[0]], user_id=MENTEES[0], answer=late, now=DUE + timedelta(hours=1)
    )
    with deps.sessions.begin() as session:
        answer = session.get(CheckinAnswer, ids[MENTEES[0]])
        assert answer is not None
        assert (answer.wellbeing, answer.met_mentor, answer.climate_score) == (1, False, None)
    assert close_due(deps, DUE + timedelta(hours=2)) == []
    assert climate_rows(deps) == [(None, 5)] * 5


def test_the_modal_prefills_the_team_climate_answer_only_while_its_week_is_open(deps: Deps) -> None:
    ids = answer_climate(deps, MENTEES[:5], [3] * 5)

    def prefilled(now: datetime) -> object:
        view = modal_view(deps, checkin_id=ids[MENTEES[0]], user_id=MENTEES[0], now=now)
        [psych] = [b for b in view["blocks"] if b.get("block_id") == "psych"]
        return psych["element"].get("initial_option", {}).get("value")

    assert prefilled(answered_at() + timedelta(hours=1)) == "3"
    close_due(deps, DUE)
    assert prefilled(DUE + timedelta(hours=1)) is None


def test_a_score_left_beside_an_already_closed_week_is_discarded_never_moved_alone(
    deps: Deps, clock: Clock
) -> None:
    """An answer that lost the race with the close (saved as the week closed) would be a batch of one."""
    ids = answer_climate(deps, MENTEES[:6], [5] * 6)
    close_due(deps, clock.now)
    with deps.sessions.begin() as session:
        session.execute(
            text("UPDATE checkin_answers SET climate_score = :token WHERE checkin_id = :id"),
            {"token": deps.keys.fernet.encrypt(b"1").decode(), "id": ids[MENTEES[0]]},
        )
    [again] = close_due(deps, clock.now + timedelta(minutes=1))
    assert (again.answered, again.moved) == (0, 0)
    assert stored_tokens(deps) == [] and climate_rows(deps) == [(None, 5)] * 6
    assert closed_weeks(deps) == {WEEK: 6}


def test_two_processes_closing_at_once_move_a_week_once(deps: Deps, clock: Clock) -> None:
    answer_climate(deps, MENTEES[:10], list(range(1, 8)) + [1, 2, 3])
    barrier = threading.Barrier(3)
    moved: list[int] = []

    def close() -> None:
        barrier.wait()
        moved.extend(closed.moved for closed in close_due(deps, clock.now))

    threads = [threading.Thread(target=close) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(moved) == 10 and len(climate_rows(deps)) == 10 and closed_weeks(deps) == {WEEK: 10}


def test_the_tick_closes_weeks_past_their_cutoff_and_says_so(deps: Deps) -> None:
    answer_climate(deps, MENTEES[:5], [5] * 5)
    assert run_due(deps, DUE - timedelta(minutes=1)) == []
    assert run_due(deps, DUE) == [f"checkins {PROGRAM}: 1 team-climate weeks closed"]
    assert run_due(deps, DUE + timedelta(minutes=1)) == []


def test_weeks_of_programs_gone_from_the_file_are_left_alone(deps: Deps, clock: Clock) -> None:
    answer_climate(deps, MENTEES[:5], [5] * 5)
    others = [p for p in deps.programs.programs if p.id != PROGRAM]
    gone = dataclasses.replace(deps, programs=ProgramsConfig(programs=others))
    assert close_due(gone, clock.now) == []
    assert len(stored_tokens(deps)) == 5
