"""The digest's trend chart goes up with alt text that states the trend in words (issue 13)."""

from datetime import timedelta

import pytest

from bot.digests import posting as digests
from bot.fake_slack.server import FakeSlack
from bot.kernel.deps import Deps
from bot.kernel.programs import ProgramsConfig, load_programs
from tests.support.accessibility import chart_alt_problem
from tests.support.digests import DUE, LAST_WEEK, PROGRAM, WEEK, add_people, answer_week, mentee_ids
from tests.support.people import PROGRAMS_FILE


@pytest.fixture
def programs() -> ProgramsConfig:
    """Only img-2026, so one chart goes up."""
    return ProgramsConfig(programs=[p for p in load_programs(PROGRAMS_FILE).programs if p.id == PROGRAM])


def test_the_chart_alt_text_states_each_trend_and_the_hidden_weeks(deps: Deps, fake_slack: FakeSlack) -> None:
    ids = mentee_ids(8)
    add_people(deps, ids)
    answer_week(deps, WEEK - timedelta(days=21), dict.fromkeys(ids[:6], (3, 4, True)))
    answer_week(deps, WEEK - timedelta(days=14), dict.fromkeys(ids[:2], (2, 4, True)))  # hidden: 2 < 5
    answer_week(deps, LAST_WEEK, dict.fromkeys(ids[:6], (4, 4, True)))

    digests.run_due(deps, DUE + timedelta(minutes=1))

    [call] = fake_slack.calls_to("files.getUploadURLExternal")
    alt = call.args["alt_txt"]
    assert alt.startswith("IMG Transition Cohort 2026, 8 weeks to ")
    assert "weekly wellbeing (1–5) 3.0 to 4.0, rising" in alt
    assert "weekly psychological safety (1–7) " in alt
    assert "1 week hidden to keep answers anonymous (averages need 5 answers)." in alt
    assert chart_alt_problem(alt) is None
