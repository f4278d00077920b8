"""The annual report reads the released survey answers: a quarter's Mini-Z from its months' batches,
shown with its interval once k answers were released, hidden when the month was discarded."""

from __future__ import annotations

from datetime import date

import pytest

from bot.fake_slack.server import FakeSlack
from bot.instruments.release import close_due
from bot.instruments.surveys import closes_at
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig
from bot.kernel.suppression import SMALL
from bot.reports.annual_data import build_annual_report
from bot.reports.instrument_scores import InstrumentCell
from tests.support.instruments import MONTHLY_MINI_Z, answer_surveys, pair_up, programs_with, survey_mentees

PROGRAM = "img-2026"
Q4 = (date(2026, 10, 1), date(2026, 12, 31))


@pytest.fixture
def programs(programs: ProgramsConfig) -> ProgramsConfig:
    return programs_with(programs, MONTHLY_MINI_Z)


def q4_mini_z(deps: Deps, clock: Clock, fake: FakeSlack, scores: list[int]) -> InstrumentCell:
    mentees = survey_mentees(len(scores))
    pair_up(deps, fake, "U0MENTOR1", mentees)
    answer_surveys(deps, clock, {m: {1: s} for m, s in zip(mentees, scores, strict=True)})
    close_due(deps, closes_at("2026-12"))
    program = deps.programs.get(PROGRAM)
    assert program is not None
    with deps.sessions.begin() as session:
        report = build_annual_report(session, program=program, start=Q4[0], end=Q4[1], now=clock.now)
    [cell] = [c for c in report.instrument_cells if c.quarter == "2026-Q4"]
    return cell


def test_released_answers_make_the_quarter_s_figure_with_its_burnout_share(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    cell = q4_mini_z(deps, clock, fake_slack, [1, 2, 2, 3, 4, 5])

    assert (cell.instrument, cell.people, cell.hidden) == ("Burnout (Mini-Z)", 6, "")
    assert cell.mean == pytest.approx(17 / 6)
    assert cell.share == pytest.approx(3 / 6)  # answers of 3 or more count as burnout
    assert cell.low is not None and cell.high is not None and cell.low < cell.mean < cell.high


def test_a_month_with_fewer_than_k_answers_leaves_the_quarter_without_a_figure(
    deps: Deps, clock: Clock, fake_slack: FakeSlack
) -> None:
    cell = q4_mini_z(deps, clock, fake_slack, [1, 2, 3, 4])

    assert cell.people == 0 and cell.mean is None
    assert (cell.hidden, cell.withheld) == (SMALL, 4)  # "fewer than k answered", not "no data"
