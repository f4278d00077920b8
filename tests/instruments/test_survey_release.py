"""Releasing survey answers when their period closes: only then, only k or more, shuffled, exactly once;
fewer than k and stragglers discarded; the mentor's pseudonym only on groups of k."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.fake_slack.server import FakeSlack
from bot.instruments.aggregates import answer_scores, instrument_figures
from bot.instruments.answers import SurveyClosed, mentor_key, record_survey
from bot.instruments.release import Answer, close_due, with_mentor_groups
from bot.instruments.sender import run_due
from bot.instruments.surveys import closes_at
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig
from bot.kernel.suppression import SMALL
from storage.models import InstrumentPeriod
from storage.repositories import instruments as repo
from tests.support.instruments import (
    MCA_AT_3_AND_12,
    MONTHLY_MINI_Z,
    THIRD_MONTH,
    answer_surveys,
    answers,
    pair_up,
    pending_tokens,
    programs_with,
    stored_order,
    survey_mentees,
)

PROGRAM = "img-2026"
MENTOR = "U0MENTOR1"
DECEMBER_CLOSES = closes_at("2026-12")


@pytest.fixture
def programs(programs: ProgramsConfig) -> ProgramsConfig:
    return programs_with(programs, MONTHLY_MINI_Z, MCA_AT_3_AND_12)


def periods(deps: Deps) -> dict[str, tuple[int, int]]:
    with deps.sessions.begin() as session:
        return {p.period: (p.answered, p.released) for p in session.scalars(select(InstrumentPeriod))}


def mini_z(deps: Deps, clock: Clock, fake: FakeSlack, scores: list[int], *, first: int = 1) -> list[str]:
    mentees = survey_mentees(len(scores), first=first)
    pair_up(deps, fake, MENTOR, mentees)
    answer_surveys(deps, clock, {m: {1: s} for m, s in zip(mentees, scores, strict=True)})
    return mentees


def test_december_closes_at_the_month_end_plus_the_sender_s_grace_window() -> None:
    assert DECEMBER_CLOSES.isoformat() == "2027-01-08T00:00:00+00:00"
    assert closes_at("2026-Q4") == DECEMBER_CLOSES
    assert closes_at("m3 2027-Q1").isoformat() == "2027-04-08T00:00:00+00:00"


def test_answers_wait_encrypted_and_are_released_only_when_their_period_closes(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    mini_z(deps, clock, fake_slack, [1, 2, 3, 4, 5])
    assert answers(deps) == [] and len(pending_tokens(deps)) == 5
    assert all(token.startswith("gAAAAA") for token in pending_tokens(deps))
    assert close_due(deps, DECEMBER_CLOSES - timedelta(minutes=1)) == []
    assert answers(deps) == []

    [closed] = close_due(deps, DECEMBER_CLOSES)

    assert (closed.period, closed.answered, closed.released) == ("2026-12", 5, 5)
    assert sorted(r.score for r in answers(deps)) == [1, 2, 3, 4, 5]
    assert {(r.period, r.mentor_key, r.version) for r in answers(deps)} == {("2026-12", None, 1)}
    assert pending_tokens(deps) == [] and periods(deps) == {"2026-12": (5, 5)}
    assert close_due(deps, DECEMBER_CLOSES + timedelta(days=1)) == []  # exactly once
    assert len(answers(deps)) == 5


def test_fewer_than_k_answers_are_discarded_and_only_their_count_is_kept(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    mini_z(deps, clock, fake_slack, [1, 5, 3, 3])
    [closed] = close_due(deps, DECEMBER_CLOSES)
    assert (closed.answered, closed.released) == (4, 0)
    assert answers(deps) == [] and pending_tokens(deps) == [] and periods(deps) == {"2026-12": (4, 0)}
    program = deps.programs.get(PROGRAM)
    assert program is not None
    with deps.read_sessions.begin() as session:
        [figure] = instrument_figures(deps, session, program=program)
    assert (figure.period, figure.n, figure.mean, figure.hidden) == ("2026-12", 4, None, SMALL)


def test_the_modal_refuses_once_the_period_closed_and_a_straggler_is_discarded_never_released_alone(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    mentees = mini_z(deps, clock, fake_slack, [1, 2, 3, 4, 5])
    [late] = survey_mentees(1, first=6)
    pair_up(deps, fake_slack, MENTOR, [late])
    claims = answer_surveys(deps, clock, {}, when=clock.now)  # the late mentee's survey goes out
    close_due(deps, DECEMBER_CLOSES)
    clock.now = DECEMBER_CLOSES
    with pytest.raises(SurveyClosed):
        record_survey(deps, survey_id=claims[late].id, user_id=late, answers={1: 2})
    # An answer committed just after the close (it lost the race) is left waiting: the next pass drops it.
    with deps.sessions.begin() as session:
        assert repo.mark_answered(session, survey_id=claims[late].id, person_id=late)
        repo.save_pending(
            session, survey_id=claims[late].id, answer='{"version": 1, "score": 2, "domains": {}}'
        )
    [again] = close_due(deps, DECEMBER_CLOSES + timedelta(minutes=1))
    assert (again.answered, again.released) == (0, 0)
    assert pending_tokens(deps) == [] and len(answers(deps)) == len(mentees)
    assert periods(deps) == {"2026-12": (5, 5)}


def test_a_released_batch_lies_in_the_shuffle_s_order_not_the_answering_order(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    scores = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2]  # a shuffle keeps this order with p = 288/12! < 1e-6
    mini_z(deps, clock, fake_slack, scores)
    close_due(deps, DECEMBER_CLOSES)
    stored = stored_order(deps)
    assert sorted(stored) == sorted(scores) and stored != [float(s) for s in scores]


def test_the_tick_closes_periods_and_says_so(deps: Deps, clock: Clock, fake_slack: FakeSlack) -> None:
    mini_z(deps, clock, fake_slack, [1, 2, 3, 4, 5])
    lines = run_due(deps, DECEMBER_CLOSES)
    assert f"instruments {PROGRAM}: mini-z-burnout 2026-12 closed: 5 answers released" in lines


def test_a_mentor_s_ratings_carry_their_pseudonym_when_k_mentees_rated_them_in_the_quarter(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    mentees = survey_mentees(5)
    pair_up(deps, fake_slack, MENTOR, mentees)
    chosen = {m: dict.fromkeys(range(1, 22), 6) for m in mentees}
    answer_surveys(deps, clock, chosen, instrument="mca-21", when=THIRD_MONTH)
    [closed] = close_due(deps, closes_at("m3 2027-Q1"))
    assert (closed.instrument_id, closed.period, closed.released) == ("mca-21", "m3 2027-Q1", 5)
    key = mentor_key(deps, program_id=PROGRAM, mentor_id=MENTOR)
    assert {(r.period, r.mentor_key, r.score) for r in answers(deps)} == {("m3 2027-Q1", key, 6.0)}
    program = deps.programs.get(PROGRAM)
    assert program is not None
    with deps.read_sessions.begin() as session:
        scores = answer_scores(session, program=program, instrument_id="mca-21", periods=["m3"])
        figures = instrument_figures(deps, session, program=program)
    assert list(scores) == ["m3"] and sorted(scores["m3"].values()) == [6.0] * 5
    assert {(f.period, f.mentor_id, f.n) for f in figures} == {("m3", None, 5), ("m3", MENTOR, 5)}


def test_ratings_of_a_mentor_with_fewer_than_k_mentees_count_only_in_the_program_total(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    first, second = survey_mentees(3), survey_mentees(3, first=4)
    pair_up(deps, fake_slack, MENTOR, first)
    pair_up(deps, fake_slack, "U0MENTOR2", second)
    chosen = {m: dict.fromkeys(range(1, 22), 5) for m in first + second}
    answer_surveys(deps, clock, chosen, instrument="mca-21", when=THIRD_MONTH)
    close_due(deps, closes_at("m3 2027-Q1"))
    assert [(r.mentor_key, r.score) for r in answers(deps)] == [(None, 5.0)] * 6


def _ratings(groups: dict[str | None, int]) -> list[Answer]:
    return [Answer(1, 3.0, {}, key) for key, n in groups.items() for _ in range(n)]


def _kept(found: list[Answer]) -> dict[str | None, int]:
    counts: dict[str | None, int] = {}
    for answer in found:
        counts[answer.mentor_key] = counts.get(answer.mentor_key, 0) + 1
    return counts


def test_a_mentor_group_below_k_and_a_small_remainder_lose_their_pseudonyms() -> None:
    # B has 3 ratings: counted only in totals; that leaves a remainder of 3, so the smaller of A and C
    # (A, by name on a tie) loses its pseudonym too, leaving 8 unnamed rows and C's 5.
    found = with_mentor_groups(_ratings({"A": 5, "B": 3, "C": 5}), min_group_size=5)
    assert _kept(found) == {None: 8, "C": 5}
    assert _kept(with_mentor_groups(_ratings({"A": 5, None: 2}), min_group_size=5)) == {None: 7}
    assert _kept(with_mentor_groups(_ratings({"A": 5, "B": 6}), min_group_size=5)) == {"A": 5, "B": 6}


def test_three_processes_closing_at_once_release_a_period_once(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    mini_z(deps, clock, fake_slack, [1, 2, 3, 4, 5, 1, 2])
    barrier = threading.Barrier(3)
    released: list[int] = []

    def close() -> None:
        barrier.wait()
        released.extend(closed.released for closed in close_due(deps, DECEMBER_CLOSES))

    threads = [threading.Thread(target=close) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(released) == 7 and len(answers(deps)) == 7 and periods(deps) == {"2026-12": (7, 7)}
    assert pending_tokens(deps) == []
