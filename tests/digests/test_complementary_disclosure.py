"""A coordinator who also mentors sees their own mentees' wellbeing individually; a program figure must
not let them subtract their way to anyone else's answer (bot/kernel/suppression.py, rule 5)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.digests.blocks import render_digest
from bot.digests.content import build_digest
from bot.digests.figures import weekly_series
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from bot.kernel.suppression import SEEN
from tests.support.digests import PROGRAM, WEEK, add_people, answer_week, mentee_ids, pair_up

COORDINATOR = "U0COORD1"  # a coordinator of img-2026 in tests/data/programs.yml


def _program(deps: Deps) -> Program:
    program = deps.programs.get(PROGRAM)
    assert program is not None and COORDINATOR in program.coordinators
    return program


def _wellbeing(session: Session, deps: Deps, clock: Clock, group: str = "all") -> tuple[float | None, str]:
    series = weekly_series(
        session, program=_program(deps), first=WEEK, last=WEEK, split={WEEK}, now=clock.now
    )
    figure = series.figure(WEEK, group, "wellbeing")
    return figure.mean, figure.reason


def test_a_coordinator_mentoring_four_of_five_answers_cannot_read_the_fifth_by_subtraction(
    deps: Deps, clock: Clock
) -> None:
    people = mentee_ids(5)
    add_people(deps, people)
    for mentee in people[:4]:
        pair_up(deps, COORDINATOR, mentee)  # the coordinator mentors four of the five who answer
    answer_week(deps, WEEK, {**dict.fromkeys(people[:4], (4, 5, True)), people[4]: (1, 5, True)})
    with deps.sessions.begin() as session:
        assert _wellbeing(session, deps, clock) == (None, SEEN)
        text = render_digest(
            build_digest(session, program=_program(deps), week=WEEK, now=clock.now), text_trend=True
        )
    assert "unseen by any one mentor" in str(text.blocks)
    assert "1.0" not in str(text.blocks) and "3.4" not in str(text.blocks)  # neither the fifth nor the mean


def test_the_same_figure_is_shown_once_enough_answers_are_unseen_by_any_one_mentor(
    deps: Deps, clock: Clock
) -> None:
    people = mentee_ids(9)
    add_people(deps, people)
    for mentee in people[:4]:
        pair_up(deps, COORDINATOR, mentee)
    for mentee in people[4:]:
        pair_up(deps, "U0MENTOR2", mentee)  # another mentor sees five: 9 - 5 = 4 < 5, still hidden
    answer_week(deps, WEEK, dict.fromkeys(people, (4, 5, True)))
    with deps.sessions.begin() as session:
        assert _wellbeing(session, deps, clock) == (None, SEEN)


def test_a_figure_resting_on_k_answers_no_single_mentor_sees_is_shown(deps: Deps, clock: Clock) -> None:
    people = mentee_ids(10)
    add_people(deps, people)
    for mentee in people[:4]:
        pair_up(deps, COORDINATOR, mentee)
    for mentee in people[4:8]:
        pair_up(deps, "U0MENTOR2", mentee)
    answer_week(deps, WEEK, dict.fromkeys(people, (4, 5, True)))  # 10 - 4 = 6 unseen by either
    with deps.sessions.begin() as session:
        assert _wellbeing(session, deps, clock) == (4.0, "")


def test_team_climate_is_seen_by_no_one_so_a_mentor_takes_nothing_from_its_count(
    deps: Deps, clock: Clock
) -> None:
    people = mentee_ids(5)
    add_people(deps, people)
    for mentee in people[:4]:
        pair_up(deps, COORDINATOR, mentee)
    answer_week(deps, WEEK, dict.fromkeys(people, (4, 5, True)))
    with deps.sessions.begin() as session:
        series = weekly_series(
            session, program=_program(deps), first=WEEK, last=WEEK, split={WEEK}, now=clock.now
        )
    assert series.figure(WEEK, "all", "psych").mean is not None
