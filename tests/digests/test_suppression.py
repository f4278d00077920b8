import json
from datetime import date, timedelta

import pytest

from bot.digests.blocks import render_digest
from bot.digests.content import Digest, build_digest
from bot.digests.figures import weekly_series
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.suppression import OVERLAP, SMALL, UNKNOWN, Decision, FigureKey, decide_all, figure_key
from storage.models import AnswerRollup
from tests.support.digests import (
    LAST_WEEK,
    PROGRAM,
    WEEK,
    add_checkin,
    add_people,
    answer_week,
    mentee_ids,
)

PEOPLE = mentee_ids(14)


class SetGroups:
    """Groups given as explicit sets of people, for testing the rule without a database."""

    def __init__(self, sets: dict[FigureKey, set[str]]) -> None:
        self.sets = sets

    def size(self, key: FigureKey) -> int | None:
        return len(self.sets[key]) if key in self.sets else None

    def common(self, a: FigureKey, b: FigureKey) -> int | None:
        if a not in self.sets or b not in self.sets:
            return None
        return len(self.sets[a] & self.sets[b])

    def seen(self, key: FigureKey) -> int | None:
        return (
            0  # no reader sees any answer individually here: tests/digests/test_complementary_disclosure.py
        )


def decide_sets(sets: dict[FigureKey, set[str]], k: int = 5) -> dict[FigureKey, Decision]:
    return decide_all(
        {key: len(s) for key, s in sets.items()}, frozen={}, groups=SetGroups(sets), min_group_size=k
    )


def wb(week: date, group: str = "all") -> FigureKey:
    return figure_key(week, group, "wellbeing")


@pytest.mark.parametrize(("answers", "shown"), [(4, False), (5, True)])
def test_the_threshold_on_sets(answers: int, shown: bool) -> None:
    [decision] = decide_sets({wb(WEEK): set(PEOPLE[:answers])}).values()
    assert decision == Decision(shown, "" if shown else SMALL)


def test_one_person_more_than_last_week_hides_this_week() -> None:
    decisions = decide_sets({wb(LAST_WEEK): set(PEOPLE[:5]), wb(WEEK): set(PEOPLE[:6])})
    assert decisions[wb(LAST_WEEK)].shown and decisions[wb(WEEK)] == Decision(False, OVERLAP)


def test_two_people_swapped_is_still_too_small_a_difference() -> None:
    decisions = decide_sets({wb(LAST_WEEK): set(PEOPLE[:6]), wb(WEEK): set(PEOPLE[1:7])})
    assert decisions[wb(WEEK)] == Decision(False, OVERLAP)


def test_weeks_apart_in_the_same_trend_are_compared_too() -> None:
    six_weeks_ago = WEEK - timedelta(weeks=6)
    decisions = decide_sets({wb(six_weeks_ago): set(PEOPLE[:5]), wb(WEEK): set(PEOPLE[:6])})
    assert not decisions[wb(WEEK)].shown
    eight_weeks_ago = WEEK - timedelta(weeks=8)  # never in one trend with WEEK
    assert decide_sets({wb(eight_weeks_ago): set(PEOPLE[:5]), wb(WEEK): set(PEOPLE[:6])})[wb(WEEK)].shown


def test_other_metrics_are_not_compared() -> None:
    psych = figure_key(WEEK, "all", "psych")
    decisions = decide_sets({wb(WEEK): set(PEOPLE[:5]), psych: set(PEOPLE[:6])})
    assert decisions[wb(WEEK)].shown and decisions[psych].shown


def test_a_split_is_shown_whole_or_not_at_all() -> None:
    # 9 answered, 6 met their mentor: "met" would let a reader subtract the 3 who did not.
    sets = {
        wb(WEEK): set(PEOPLE[:9]),
        wb(WEEK, "met"): set(PEOPLE[:6]),
        wb(WEEK, "not_met"): set(PEOPLE[6:9]),
    }
    decisions = decide_sets(sets)
    assert decisions[wb(WEEK)].shown
    assert decisions[wb(WEEK, "met")] == Decision(False, OVERLAP)
    assert decisions[wb(WEEK, "not_met")] == Decision(False, SMALL)


def test_a_split_side_close_to_last_week_hides_the_whole_split() -> None:
    # Each figure of this week passes against the others, but "met" is last week's five plus one;
    # showing "not met" beside the total would give "met" by subtraction, so it goes too.
    sets = {
        wb(LAST_WEEK): set(PEOPLE[:5]),
        wb(WEEK): set(PEOPLE[:12]),
        wb(WEEK, "met"): set(PEOPLE[:6]),
        wb(WEEK, "not_met"): set(PEOPLE[6:12]),
    }
    decisions = decide_sets(sets)
    assert decisions[wb(WEEK)].shown
    assert decisions[wb(WEEK, "met")] == Decision(False, OVERLAP)
    assert decisions[wb(WEEK, "not_met")] == Decision(False, OVERLAP)


def test_frozen_figures_keep_their_decision_and_bind_new_ones() -> None:
    frozen = {wb(LAST_WEEK): Decision(True, "")}
    sets = {wb(LAST_WEEK): set(PEOPLE[:5]), wb(WEEK): set(PEOPLE[:6])}
    decisions = decide_all({wb(WEEK): 6}, frozen=frozen, groups=SetGroups(sets), min_group_size=5)
    assert decisions == {wb(LAST_WEEK): Decision(True, ""), wb(WEEK): Decision(False, OVERLAP)}


def test_unknown_membership_hides_rather_than_guesses() -> None:
    sets = {wb(LAST_WEEK): set(PEOPLE[:5])}  # this week's people are unknown (purged)
    decisions = decide_all(
        {wb(LAST_WEEK): 5, wb(WEEK): 9}, frozen={}, groups=SetGroups(sets), min_group_size=5
    )
    assert decisions[wb(WEEK)] == Decision(False, UNKNOWN)


# -- the same attacks through the database, the digest builder and its Block Kit --------------------


def _digest(deps: Deps, clock: Clock, week: date = WEEK) -> Digest:
    program = deps.programs.get(PROGRAM)
    assert program is not None
    with deps.sessions.begin() as session:
        return build_digest(session, program=program, week=week, now=clock.now)


def _text(digest: Digest) -> str:
    return json.dumps(render_digest(digest, text_trend=True).blocks, ensure_ascii=False)


@pytest.mark.parametrize(("answers", "shown"), [(4, False), (5, True)])
def test_four_answers_are_hidden_five_are_shown(deps: Deps, clock: Clock, answers: int, shown: bool) -> None:
    add_people(deps, PEOPLE)
    answer_week(deps, WEEK, dict.fromkeys(PEOPLE[:answers], (4, 6, True)), silent=PEOPLE[answers:6])
    digest = _digest(deps, clock)
    assert digest.figure("wellbeing").shown is shown
    text = _text(digest)
    if shown:
        assert "*4.0* (5 answers)" in text and "*6.0* (5 answers)" in text
    else:
        assert "fewer than 5 answers — hidden to protect anonymity" in text
        assert "4.0" not in text and "6.0" not in text


def test_week_over_week_subtraction_is_blocked(deps: Deps, clock: Clock) -> None:
    """Five answered last week; the same five and one newcomer this week. Last week is shown, this week
    is not: otherwise 6 x this week - 5 x last week would be the newcomer's answer."""
    add_people(deps, PEOPLE)
    answer_week(deps, LAST_WEEK, dict.fromkeys(PEOPLE[:5], (3, 4, True)))
    answer_week(deps, WEEK, {**dict.fromkeys(PEOPLE[:5], (3, 4, True)), PEOPLE[5]: (1, 1, True)})
    digest = _digest(deps, clock)
    assert digest.figure("wellbeing", weeks_ago=1).mean == 3.0
    assert digest.figure("wellbeing").mean is None and digest.figure("wellbeing").reason == OVERLAP
    assert digest.figure("psych").mean is None
    text = _text(digest)
    assert "differs from another figure shown by fewer than 5 people" in text
    assert "2.7" not in text  # (5 x 3 + 1) / 6


def test_one_person_dropping_out_is_blocked_too(deps: Deps, clock: Clock) -> None:
    add_people(deps, PEOPLE)
    answer_week(deps, LAST_WEEK, dict.fromkeys(PEOPLE[:6], (3, 4, False)))
    answer_week(deps, WEEK, dict.fromkeys(PEOPLE[:5], (3, 4, False)))
    assert _digest(deps, clock).figure("wellbeing").reason == OVERLAP


def test_program_total_against_a_sub_group_is_blocked(deps: Deps, clock: Clock) -> None:
    """Eight answered; five met their mentor. The total is shown, the split is not: total minus "met"
    would be the mean of three people."""
    add_people(deps, PEOPLE)
    answers = {**dict.fromkeys(PEOPLE[:5], (4, 5, True)), **dict.fromkeys(PEOPLE[5:8], (1, 2, False))}
    answer_week(deps, WEEK, answers)
    digest = _digest(deps, clock)
    assert digest.figure("wellbeing").mean == pytest.approx((5 * 4 + 3) / 8)
    assert digest.figure("wellbeing", "met").mean is None
    assert digest.figure("wellbeing", "not_met").mean is None
    text = _text(digest)
    assert "By meeting their mentor this week: hidden" in text
    assert "4.0" not in text and "1.0" not in text


def test_a_big_enough_split_is_shown(deps: Deps, clock: Clock) -> None:
    add_people(deps, PEOPLE)
    answers = {**dict.fromkeys(PEOPLE[:5], (4, 5, True)), **dict.fromkeys(PEOPLE[5:10], (2, 3, False))}
    answer_week(deps, WEEK, answers)
    text = _text(_digest(deps, clock))
    assert "Met their mentor this week: 4.0 (5 answers) · did not say so: 2.0 (5 answers)" in text


def test_answers_after_the_cutoff_never_count_for_the_week(deps: Deps, clock: Clock) -> None:
    """A late answer would otherwise change a figure already shown: the two versions would differ by one."""
    add_people(deps, PEOPLE)
    answer_week(deps, WEEK, dict.fromkeys(PEOPLE[:5], (4, 5, True)))
    with deps.sessions.begin() as session:
        add_checkin(session, mentee=PEOPLE[5], week=WEEK, answer=(1, 1, True), answered_at=clock.now)
    digest = _digest(deps, clock)
    assert (digest.figure("wellbeing").mean, digest.figure("wellbeing").n) == (4.0, 5)
    assert digest.this_week.answered == 5 and digest.this_week.sent == 6


def test_shown_figures_are_frozen_against_later_edits(deps: Deps, clock: Clock) -> None:
    from sqlalchemy import update

    from storage.models import CheckinAnswer

    add_people(deps, PEOPLE)
    answer_week(deps, WEEK, dict.fromkeys(PEOPLE[:5], (4, 5, True)))
    assert _digest(deps, clock).figure("wellbeing").mean == 4.0
    with deps.sessions.begin() as session:
        session.execute(update(CheckinAnswer).values(wellbeing=1))  # e.g. an edit after the digest went out
    clock.now += timedelta(days=7)
    next_week = _digest(deps, clock, WEEK + timedelta(days=7))
    assert next_week.figure("wellbeing", weeks_ago=1).mean == 4.0


def test_purged_weeks_show_their_rollups(deps: Deps, clock: Clock) -> None:
    """Retention deletes a week's answers, keeps its check-ins and stores totals: nothing counts twice."""
    from sqlalchemy import delete

    from storage.models import CheckinAnswer

    old = WEEK - timedelta(weeks=5)
    add_people(deps, PEOPLE)
    answer_week(deps, old, dict.fromkeys(PEOPLE[:8], (3, 5, True)), silent=PEOPLE[8:9])
    with deps.sessions.begin() as session:
        session.execute(delete(CheckinAnswer))
        sums = {"wellbeing_sum": 24, "wellbeing_n": 8, "psych_sum": 40, "psych_n": 8}
        session.add(AnswerRollup(program_id=PROGRAM, week=old, sent=9, answered=8, **sums))
    program = deps.programs.get(PROGRAM)
    assert program is not None
    with deps.sessions.begin() as session:
        series = weekly_series(session, program=program, first=old, last=WEEK, split=set(), now=clock.now)
    # Never decided while its answers existed: how many of them one mentor saw is unknown now, so the
    # wellbeing figure stays hidden; team climate is seen by no one individually and is shown.
    assert series.figure(old, "all", "wellbeing").reason == UNKNOWN
    assert series.figure(old, "all", "psych").mean == 5.0
    assert (series.weeks[0].sent, series.weeks[0].answered) == (9, 8)
