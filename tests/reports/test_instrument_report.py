"""The annual report reads the released survey answers: a quarter's Mini-Z from its months' batches,
shown with its interval once k people's answers were released and the quarter has closed, hidden when
the month was discarded, while the quarter is open, or when its people with another quarter's single
someone out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.fake_slack.server import FakeSlack
from bot.instruments.release import close_due
from bot.instruments.surveys import closes_at
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig
from bot.kernel.suppression import COMBINATION, SMALL
from bot.reports.annual_data import AnnualReport, build_annual_report
from bot.reports.hidden_figures import hidden_rows
from bot.reports.instrument_scores import OPEN, InstrumentCell
from tests.support.instruments import MONTHLY_MINI_Z, answer_surveys, pair_up, programs_with, survey_mentees

PROGRAM = "img-2026"
Q4 = (date(2026, 10, 1), date(2026, 12, 31))
Q4_CLOSES = closes_at("2026-12")  # December, the quarter's last month, closes 8 January
JANUARY = datetime(2027, 1, 7, 10, 30, tzinfo=UTC)  # January's Mini-Z is due (16:00 in Kolkata)


@pytest.fixture
def programs(programs: ProgramsConfig) -> ProgramsConfig:
    return programs_with(programs, MONTHLY_MINI_Z)


def report(deps: Deps, *, end: date, now: datetime) -> AnnualReport:
    program = deps.programs.get(PROGRAM)
    assert program is not None
    with deps.sessions.begin() as session:
        return build_annual_report(session, program=program, start=Q4[0], end=end, now=now)


def cell_of(found: AnnualReport, quarter: str) -> InstrumentCell:
    [cell] = [c for c in found.instrument_cells if c.quarter == quarter]
    return cell


def q4_mini_z(
    deps: Deps, clock: Clock, fake: FakeSlack, scores: list[int], *, now: datetime = Q4_CLOSES
) -> InstrumentCell:
    mentees = survey_mentees(len(scores))
    pair_up(deps, fake, "U0MENTOR1", mentees)
    answer_surveys(deps, clock, {m: {1: s} for m, s in zip(mentees, scores, strict=True)})
    close_due(deps, Q4_CLOSES)
    return cell_of(report(deps, end=Q4[1], now=now), "2026-Q4")


def test_released_answers_make_the_quarter_s_figure_with_its_burnout_share(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    cell = q4_mini_z(deps, clock, fake_slack, [1, 2, 2, 3, 4, 5])

    assert (cell.instrument, cell.people, cell.hidden) == ("Burnout (Mini-Z)", 6, "")
    assert cell.mean == pytest.approx(17 / 6)
    assert cell.share == pytest.approx(3 / 6)  # answers of 3 or more count as burnout
    assert cell.mean is not None and cell.low is not None and cell.high is not None
    assert cell.low < cell.mean < cell.high


def test_a_month_with_fewer_than_k_answers_leaves_the_quarter_without_a_figure(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    cell = q4_mini_z(deps, clock, fake_slack, [1, 2, 3, 4])

    assert cell.people == 0 and cell.mean is None
    assert (cell.hidden, cell.withheld) == (SMALL, 4)  # "fewer than k answered", not "no data"


def test_a_quarter_is_hidden_until_its_last_period_closes_so_two_runs_cannot_be_differenced(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    cell = q4_mini_z(deps, clock, fake_slack, [1, 2, 2, 3, 4, 5], now=Q4_CLOSES - timedelta(minutes=1))
    assert (cell.mean, cell.share, cell.hidden) == (None, None, OPEN)
    early = report(deps, end=Q4[1], now=Q4_CLOSES - timedelta(minutes=1))
    assert ("Burnout (Mini-Z) 2026-Q4", OPEN) in hidden_rows(early)
    assert cell_of(report(deps, end=Q4[1], now=Q4_CLOSES), "2026-Q4").mean == pytest.approx(17 / 6)


def test_a_quarter_whose_people_are_the_last_one_s_and_one_more_is_hidden_though_answers_are_unlinked(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    # P1..P5 answer December; P1..P6 answer January. Released answers carry no person, but the claims
    # say who answered: Q1 minus Q4 is P6 alone, so Q1 is hidden.
    mentees = survey_mentees(6)
    pair_up(deps, fake_slack, "U0MENTOR1", mentees)
    answer_surveys(deps, clock, {m: {1: 1 + i % 5} for i, m in enumerate(mentees[:5])})
    close_due(deps, Q4_CLOSES)
    answer_surveys(deps, clock, {m: {1: 1 + i % 5} for i, m in enumerate(mentees)}, when=JANUARY)
    q1_closes = closes_at("2027-03")
    assert [c.released for c in close_due(deps, q1_closes)] == [6]

    found = report(deps, end=date(2027, 3, 31), now=q1_closes)

    q4, q1 = cell_of(found, "2026-Q4"), cell_of(found, "2027-Q1")
    assert (q4.people, q4.hidden) == (5, "") and q4.mean is not None
    assert (q1.people, q1.mean, q1.hidden) == (6, None, COMBINATION)
    assert (
        "Burnout (Mini-Z) 2027-Q1",
        "with 1 or 2 figures shown, singles out under 5 people",
    ) in hidden_rows(found)
