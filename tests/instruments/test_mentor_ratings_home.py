"""A mentor's own MCA-21 ratings on their App Home, over signed HTTP: shown with k raters and varied
answers, otherwise one "shown once" line; never another mentor's, never on a coordinator's Home."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.instruments.release import close_due
from bot.instruments.surveys import closes_at
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig
from tests.support.ideas import home
from tests.support.instruments import (
    MCA_AT_3_AND_12,
    THIRD_MONTH,
    answer_surveys,
    pair_up,
    programs_with,
    survey_mentees,
)

MENTOR, OTHER, COORDINATOR = "U0MENTOR1", "U0MENTOR2", "U0COORD1"
TITLE = "How your mentees rate your mentoring"
WAITING = "Shown once at least 5 of your mentees have answered (counted in program totals until then)."
TWELFTH_MONTH = datetime(2027, 11, 10, 10, 30, tzinfo=UTC)  # month 12 of pairs begun on STARTED


@pytest.fixture
def programs(programs: ProgramsConfig) -> ProgramsConfig:
    return programs_with(programs, MCA_AT_3_AND_12)


def rated_by(deps: Deps, fake: FakeSlack, mentor: str, n: int, *, first: int) -> list[str]:
    mentees = survey_mentees(n, first=first)
    pair_up(deps, fake, mentor, mentees)
    return mentees


def rate(
    deps: Deps, clock: Clock, scores: Mapping[str, int], *, when: datetime = THIRD_MONTH, period: str = "m3"
) -> None:
    """Each mentee rates every MCA-21 item with their score; then the quarter's batch is released."""
    chosen = {mentee: dict.fromkeys(range(1, 22), score) for mentee, score in scores.items()}
    answer_surveys(deps, clock, chosen, instrument="mca-21", when=when)
    quarter = "2027-Q1" if when == THIRD_MONTH else "2027-Q4"
    assert close_due(deps, closes_at(f"{period} {quarter}"))


def ratings_text(slack: SlackRequestSender, fake: FakeSlack, user_id: str) -> str:
    """The text of every section of the user's App Home, opened afresh over signed HTTP."""
    blocks = home(slack, fake, user_id)["blocks"]
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b)


def test_a_mentor_rated_by_five_mentees_sees_their_mean_with_the_instrument_s_name(
    deps: Deps, clock: Clock, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    mentees = rated_by(deps, fake_slack, MENTOR, 5, first=1)
    rate(deps, clock, dict(zip(mentees, [5, 6, 7, 5, 6], strict=True)))
    home = ratings_text(slack, fake_slack, MENTOR)
    assert TITLE in home
    assert "*Mentor competency (MCA-21)* _(wording not yet verified)_" in home
    assert "• Month 3: *5.8* on a 1–7 scale" in home and WAITING not in home


def test_a_mentor_with_fewer_than_k_raters_is_told_when_figures_appear(
    deps: Deps, clock: Clock, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    first = rated_by(deps, fake_slack, MENTOR, 3, first=1)
    second = rated_by(deps, fake_slack, OTHER, 3, first=4)
    rate(deps, clock, dict(zip(first + second, [5, 6, 7, 2, 3, 4], strict=True)))
    home = ratings_text(slack, fake_slack, MENTOR)
    assert TITLE in home and WAITING in home and "on a 1–7 scale" not in home


def test_a_batch_where_every_mentee_gave_the_same_rating_is_hidden_behind_the_same_line(
    deps: Deps, clock: Clock, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    mentees = rated_by(deps, fake_slack, MENTOR, 5, first=1)
    rate(deps, clock, dict.fromkeys(mentees, 6))
    home = ratings_text(slack, fake_slack, MENTOR)
    assert WAITING in home and "6.0" not in home and "on a 1–7 scale" not in home


def test_each_mentor_sees_only_their_own_figure_and_a_coordinator_sees_none(
    deps: Deps, clock: Clock, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    first = rated_by(deps, fake_slack, MENTOR, 5, first=1)
    second = rated_by(deps, fake_slack, OTHER, 5, first=6)
    rate(deps, clock, dict(zip(first + second, [5, 6, 7, 5, 6, 2, 3, 4, 3, 2], strict=True)))
    mine, theirs = ratings_text(slack, fake_slack, MENTOR), ratings_text(slack, fake_slack, OTHER)
    assert "*5.8*" in mine and "2.8" not in mine
    assert "*2.8*" in theirs and "5.8" not in theirs
    coordinator = ratings_text(slack, fake_slack, COORDINATOR)
    assert TITLE not in coordinator and "5.8" not in coordinator and "2.8" not in coordinator


def test_the_change_since_month_3_is_given_when_both_months_are_shown(
    deps: Deps, clock: Clock, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    mentees = rated_by(deps, fake_slack, MENTOR, 5, first=1)
    rate(deps, clock, dict(zip(mentees, [5, 6, 7, 5, 6], strict=True)))
    rate(deps, clock, dict(zip(mentees, [6, 6, 7, 6, 6], strict=True)), when=TWELFTH_MONTH, period="m12")
    lines = ratings_text(slack, fake_slack, MENTOR).splitlines()
    assert "• Month 3: *5.8* on a 1–7 scale" in lines
    assert "• Month 12: *6.2* on a 1–7 scale (+0.4 since month 3)" in lines


def test_no_change_is_given_when_the_earlier_month_was_hidden(
    deps: Deps, clock: Clock, slack: SlackRequestSender, fake_slack: FakeSlack
) -> None:
    mentees = rated_by(deps, fake_slack, MENTOR, 5, first=1)
    rate(deps, clock, dict.fromkeys(mentees, 4))
    rate(deps, clock, dict(zip(mentees, [6, 6, 7, 6, 6], strict=True)), when=TWELFTH_MONTH, period="m12")
    lines = ratings_text(slack, fake_slack, MENTOR).splitlines()
    assert "• Month 12: *6.2* on a 1–7 scale" in lines
    assert not any(line.startswith("• Month 3") for line in lines)
