"""When instrument surveys fall due: pure functions of the program, its pairs and `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.instruments.catalog import shipped_instruments
from bot.instruments.config import check_instruments
from bot.instruments.surveys import add_months, surveys_due
from bot.kernel.programs import ConfigError, ProgramsConfig, load_programs
from storage.repositories.instruments import PairRow
from tests.support.instruments import MCA_AT_3_AND_12, MONTHLY_MINI_Z, programs_with
from tests.support.people import PROGRAMS_FILE

STARTED = datetime(2026, 11, 10, 14, 0, tzinfo=UTC)
PAIR = PairRow(17, "U0MENTOR1", "U0MENTEE1", STARTED, "Asia/Kolkata")


def config(*instruments: dict[str, Any]) -> ProgramsConfig:
    return programs_with(load_programs(PROGRAMS_FILE), *instruments)


def due_at(now: datetime, *instruments: dict[str, Any]) -> list[tuple[str, str, datetime]]:
    program = config(*instruments).programs[0]
    found = surveys_due(program, [PAIR], now, shipped_instruments())
    return [(d.period, d.bucket, d.due_at) for d in found]


def test_monthly_is_due_on_the_first_check_in_weekday_of_the_month_in_the_mentee_s_zone() -> None:
    # First Thursday of December 2026 is the 3rd; 16:00 in Kolkata is 10:30 UTC.
    first = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)
    assert due_at(first - timedelta(minutes=1), MONTHLY_MINI_Z) == []
    assert due_at(first, MONTHLY_MINI_Z) == [("2026-12", "2026-12", first)]
    assert due_at(first + timedelta(days=7), MONTHLY_MINI_Z) == [("2026-12", "2026-12", first)]
    assert due_at(first + timedelta(days=8), MONTHLY_MINI_Z) == []  # past the grace window


def test_a_month_whose_instant_came_before_the_pair_began_is_not_due() -> None:
    assert due_at(datetime(2026, 11, 12, tzinfo=UTC), MONTHLY_MINI_Z) == []  # Nov 5 < Nov 10


def test_quarterly_is_due_in_the_first_month_of_each_quarter_only() -> None:
    quarterly = {"id": "edmondson-psych-safety", "cadence": "quarterly"}
    january = datetime(2027, 1, 7, 10, 30, tzinfo=UTC)  # the first Thursday of 2027
    assert due_at(january, quarterly) == [("2027-Q1", "2027-Q1", january)]
    assert due_at(datetime(2027, 2, 4, 10, 30, tzinfo=UTC), quarterly) == []


def test_pair_months_fall_that_many_calendar_months_after_the_pair_began_filed_without_the_pair() -> None:
    third = datetime(2027, 2, 10, 10, 30, tzinfo=UTC)
    assert due_at(third, MCA_AT_3_AND_12) == [("pair-17-m3", "m3", third)]
    assert due_at(datetime(2027, 11, 10, 10, 30, tzinfo=UTC), MCA_AT_3_AND_12)[0][:2] == (
        "pair-17-m12",
        "m12",
    )
    assert due_at(datetime(2027, 5, 10, 10, 30, tzinfo=UTC), MCA_AT_3_AND_12) == []


def test_add_months_keeps_the_day_or_clamps_it_to_the_month_s_end() -> None:
    assert add_months(datetime(2026, 11, 30).date(), 3) == datetime(2027, 2, 28).date()
    assert add_months(datetime(2026, 11, 10).date(), 12) == datetime(2027, 11, 10).date()


@pytest.mark.parametrize(
    ("entry", "line"),
    [
        (
            {"id": "mini-q", "cadence": "monthly"},
            "programs.yml: programs[0].instruments[0].id: 'mini-q' is not a shipped instrument (use ",
        ),
        (
            {"id": "mca-21", "cadence": "monthly"},
            "programs.yml: programs[0].instruments[0].cadence: mca-21 rates the mentor: use pair_months",
        ),
        (
            {"id": "mini-z-burnout", "pair_months": [3]},
            "programs.yml: programs[0].instruments[0].pair_months: only for instruments rating the mentor",
        ),
    ],
)
def test_an_instrument_the_catalogue_refuses_is_one_line_naming_file_key_and_reason(
    entry: dict[str, Any], line: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        check_instruments(config(entry), source="programs.yml")
    [problem] = raised.value.lines()
    assert problem.startswith(line)


def test_a_bad_cadence_is_refused_by_the_programs_file_itself() -> None:
    with pytest.raises(ConfigError) as raised:
        config({"id": "mini-z-burnout", "cadence": "weekly"})
    assert raised.value.lines() == [
        "programs.yml: programs[0].instruments[0].cadence: "
        "'weekly' is not allowed (use 'monthly' or 'quarterly')"
    ]


def test_the_shipped_example_schedules_pass_the_catalogue() -> None:
    assert check_instruments(config(MONTHLY_MINI_Z, MCA_AT_3_AND_12), source="programs.yml") == 2
