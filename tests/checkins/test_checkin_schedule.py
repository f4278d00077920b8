from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.checkins import edmondson
from bot.checkins.pauses import PauseError, parse_pause
from bot.checkins.schedule import due_instant, first_day, next_period, paused_at, periods_due
from bot.kernel.programs import CheckinConfig
from tests.support.checkins import at

CHICAGO = ZoneInfo("America/Chicago")
KOLKATA = ZoneInfo("Asia/Kolkata")
WEEKLY_THU = CheckinConfig(cadence="weekly", weekday="thu", local_time="16:00")
BIWEEKLY_TUE = CheckinConfig(cadence="biweekly", weekday="tue", local_time="07:30")


def test_local_time_in_two_zones_of_one_program() -> None:
    day = date(2026, 11, 26)
    assert due_instant(day, time(16, 0), KOLKATA) == at(2026, 11, 26, 10, 30)
    assert due_instant(day, time(16, 0), CHICAGO) == at(2026, 11, 26, 22, 0)


def test_chicago_moves_an_hour_in_utc_across_the_november_change_and_kolkata_does_not() -> None:
    anchor = at(2026, 10, 1)
    chicago = periods_due(WEEKLY_THU, CHICAGO, anchor, since=at(2026, 10, 28), until=at(2026, 11, 7))
    kolkata = periods_due(WEEKLY_THU, KOLKATA, anchor, since=at(2026, 10, 28), until=at(2026, 11, 7))
    assert [p.due_at for p in chicago] == [at(2026, 10, 29, 21, 0), at(2026, 11, 5, 22, 0)]
    assert [p.due_at for p in kolkata] == [at(2026, 10, 29, 10, 30), at(2026, 11, 5, 10, 30)]


def test_march_gap_fires_at_the_next_valid_minute() -> None:
    # 2026-03-08 02:00 CST jumps to 03:00 CDT: 02:30 does not exist that day.
    assert due_instant(date(2026, 3, 8), time(2, 30), CHICAGO) == at(2026, 3, 8, 8, 0)
    assert due_instant(date(2026, 3, 8), time(1, 59), CHICAGO) == at(2026, 3, 8, 7, 59)
    assert due_instant(date(2026, 3, 8), time(3, 0), CHICAGO) == at(2026, 3, 8, 8, 0)
    assert due_instant(date(2026, 3, 15), time(2, 30), CHICAGO) == at(2026, 3, 15, 7, 30)


def test_november_repeat_fires_once_at_the_first_occurrence() -> None:
    # 2026-11-01 02:00 CDT falls back to 01:00 CST: 01:30 happens at 06:30 and 07:30 UTC.
    sunday = CheckinConfig(cadence="weekly", weekday="sun", local_time="01:30")
    found = periods_due(sunday, CHICAGO, at(2026, 10, 1), since=at(2026, 11, 1), until=at(2026, 11, 2))
    assert [p.due_at for p in found] == [at(2026, 11, 1, 6, 30)]


def test_biweekly_parity_counts_from_each_pairs_start() -> None:
    started_before = at(2026, 11, 25, 12)  # Wednesday: first Tuesday after is Dec 1
    started_after = at(2026, 12, 2, 12)  # a week later: Dec 8
    window = {"since": at(2026, 11, 28), "until": at(2026, 12, 31)}
    early = periods_due(BIWEEKLY_TUE, CHICAGO, started_before, **window)
    late = periods_due(BIWEEKLY_TUE, CHICAGO, started_after, **window)
    assert [p.day for p in early] == [date(2026, 12, 1), date(2026, 12, 15), date(2026, 12, 29)]
    assert [p.day for p in late] == [date(2026, 12, 8), date(2026, 12, 22)]


def test_a_pair_started_after_this_weeks_time_waits_for_next_week() -> None:
    assert first_day(WEEKLY_THU, CHICAGO, at(2026, 11, 26, 22, 0)) == date(2026, 11, 26)
    assert first_day(WEEKLY_THU, CHICAGO, at(2026, 11, 26, 22, 1)) == date(2026, 12, 3)


def test_next_period_and_windows() -> None:
    period = next_period(WEEKLY_THU, KOLKATA, at(2026, 11, 1), after=at(2026, 11, 26, 10, 30))
    assert period.due_at == at(2026, 12, 3, 10, 30)
    assert period.remind_at == period.due_at + timedelta(hours=24)
    assert period.expires_at == period.due_at + timedelta(hours=96)


def test_pause_windows() -> None:
    start, end = at(2026, 12, 1), at(2026, 12, 15)
    assert not paused_at(start, end, start - timedelta(seconds=1))
    assert paused_at(start, end, start)
    assert not paused_at(start, end, end)
    assert paused_at(start, None, at(2027, 6, 1))
    assert not paused_at(None, None, start)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["2w"], at(2026, 12, 7, 14)),
        (["10d"], at(2026, 12, 3, 14)),
        (["3", "weeks"], at(2026, 12, 14, 14)),
        (["1", "day"], at(2026, 11, 24, 14)),
        (["until", "2026-12-01"], at(2026, 11, 30, 18, 30)),  # midnight in Kolkata
        ([], None),
    ],
)
def test_pause_grammar(words: list[str], expected: object) -> None:
    assert parse_pause(words, now=at(2026, 11, 23, 14), zone=KOLKATA) == expected


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (["fortnight"], "I couldn't read `pause fortnight`"),
        (["until", "next", "week"], "is not a date like 2026-12-01"),
        (["until", "2026-01-01"], "is not in the future"),
        (["0d"], "from 1 day to a year"),
        (["60w"], "from 1 day to a year"),
        (["until", "2028-01-01"], "up to a year"),
    ],
)
def test_pause_grammar_errors_say_what_to_type(words: list[str], says: str) -> None:
    with pytest.raises(PauseError) as raised:
        parse_pause(words, now=at(2026, 11, 23, 14), zone=KOLKATA)
    assert says in str(raised.value)
    assert "/checkin pause 2w" in str(raised.value)


def test_edmondson_reverse_scoring() -> None:
    assert [edmondson.scored(item, 7) for item in range(1, 8)] == [1, 7, 1, 7, 1, 7, 7]
    assert edmondson.scored(3, 2) == 6
    with pytest.raises(ValueError):
        edmondson.scored(8, 1)


def test_each_mentee_sees_all_seven_items_over_seven_checkins() -> None:
    for mentee in ("U0MENTEE1", "U0MENTEE2", "U123"):
        assert sorted(edmondson.item_for(mentee, n) for n in range(7)) == list(range(1, 8))
