"""Releasing survey answers when their period closes: only then, only k or more, shuffled, exactly once;
fewer than k and stragglers discarded; the mentor's pseudonym only on groups of k."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.fake_slack.server import FakeSlack
from bot.instruments.aggregates import answer_scores, instrument_figures
from bot.instruments.answers import SurveyClosed, mentor_key, record_survey
from bot.instruments.release import Answer, Given, close_due, shuffled_batch, with_mentor_groups
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
    surveys,
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
    chosen = {m: dict.fromkeys(range(1, 22), 2 + i) for i, m in enumerate(mentees)}
    answer_surveys(deps, clock, chosen, instrument="mca-21", when=THIRD_MONTH)
    [closed] = close_due(deps, closes_at("m3 2027-Q1"))
    assert (closed.instrument_id, closed.period, closed.released) == ("mca-21", "m3 2027-Q1", 5)
    key = mentor_key(deps, program_id=PROGRAM, mentor_id=MENTOR)
    assert {(r.period, r.mentor_key) for r in answers(deps)} == {("m3 2027-Q1", key)}
    program = deps.programs.get(PROGRAM)
    assert program is not None
    with deps.read_sessions.begin() as session:
        scores = answer_scores(session, program=program, instrument_id="mca-21", periods=["m3"])
        figures = instrument_figures(deps, session, program=program)
    assert list(scores) == ["m3"] and sorted(scores["m3"].values()) == [2.0, 3.0, 4.0, 5.0, 6.0]
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


def _ratings(groups: dict[str | None, int], *, people: int | None = None) -> list[Given]:
    """`n` ratings per mentor key, with differing scores, from distinct people (or cycling over `people`)."""
    found = [Answer(1, float(i % 5), {}, key) for key, n in groups.items() for i in range(n)]
    return [Given(a, f"P{i if people is None else i % people}") for i, a in enumerate(found)]


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


def test_a_mentor_group_counts_people_not_ratings_and_a_batch_needs_k_people() -> None:
    # Five ratings of A from three people (two of them rated A in two pairs): not a group of k.
    assert _kept(with_mentor_groups(_ratings({"A": 5}, people=3), min_group_size=5)) == {None: 5}
    assert shuffled_batch(_ratings({None: 5}, people=4), min_group_size=5) == []
    assert len(shuffled_batch(_ratings({None: 6}, people=5), min_group_size=5)) == 6


def test_a_mentor_group_whose_ratings_are_all_one_score_loses_its_pseudonym() -> None:
    same = [Given(Answer(1, 6.0, {}, "A"), f"P{i}") for i in range(5)]
    differing = [Given(Answer(1, float(i), {}, "B"), f"Q{i}") for i in range(5)]
    # A's pooled figure on App Home, read before and after this batch, would give the score away.
    assert _kept(with_mentor_groups([*same, *differing], min_group_size=5)) == {None: 5, "B": 5}


def _mentors_of(deps: Deps, fake: FakeSlack, pairs: dict[str, list[str]]) -> None:
    """Pairs begun on STARTED: mentor -> mentees (a mentee may be listed under several mentors)."""
    for mentor, mentees in pairs.items():
        pair_up(deps, fake, mentor, mentees)


def _rate_every_pair(deps: Deps, clock: Clock, score: Callable[[int], int]) -> None:
    """Send the month-3 surveys and answer each pair's, the i-th with every item at score(i)."""
    run_due(deps, THIRD_MONTH)
    clock.now = THIRD_MONTH + timedelta(hours=2)
    claims = [s for s in surveys(deps) if s.instrument_id == "mca-21" and s.ts]
    for i, claim in enumerate(sorted(claims, key=lambda c: c.id)):
        chosen = dict.fromkeys(range(1, 22), score(i))
        record_survey(deps, survey_id=claim.id, user_id=claim.person_id, answers=chosen)


def test_a_mentee_rating_three_mentors_is_one_person_so_five_answers_from_three_are_discarded(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    a, b, c = survey_mentees(3)
    _mentors_of(deps, fake_slack, {MENTOR: [a, b, c], "U0MENTOR2": [a], "U0MENTOR3": [a]})
    _rate_every_pair(deps, clock, lambda i: 1 + i)
    [closed] = close_due(deps, closes_at("m3 2027-Q1"))
    assert (closed.period, closed.answered, closed.released) == ("m3 2027-Q1", 5, 0)
    assert answers(deps) == [] and pending_tokens(deps) == []


def test_rows_left_without_a_pseudonym_count_people_so_five_ratings_from_three_leave_none_named(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    # MENTOR is rated by five people; the other five ratings (of two mentors with too few mentees to be
    # named) come from three of them. The program total minus MENTOR's figure would be those three
    # people's mean, so MENTOR's pseudonym goes too.
    mentees = survey_mentees(5)
    _mentors_of(deps, fake_slack, {MENTOR: mentees, "U0MENTOR2": mentees[:3], "U0MENTOR3": mentees[:2]})
    _rate_every_pair(deps, clock, lambda i: 1 + i % 7)
    [closed] = close_due(deps, closes_at("m3 2027-Q1"))
    assert (closed.answered, closed.released) == (10, 10)
    assert {row.mentor_key for row in answers(deps)} == {None}


def test_a_mentor_rated_all_alike_in_a_batch_loses_the_pseudonym_through_the_pipeline(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    first, second = survey_mentees(5), survey_mentees(5, first=6)
    _mentors_of(deps, fake_slack, {MENTOR: first, "U0MENTOR2": second})
    _rate_every_pair(deps, clock, lambda i: 6 if i < 5 else 1 + i % 5)  # MENTOR's five all rate 6
    close_due(deps, closes_at("m3 2027-Q1"))
    second_key = mentor_key(deps, program_id=PROGRAM, mentor_id="U0MENTOR2")
    assert sorted((r.mentor_key or "", r.score) for r in answers(deps)) == sorted(
        [("", 6.0)] * 5 + [(second_key, float(s)) for s in (2, 3, 4, 5, 1)]
    )


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
