"""Pure rules of ideas: an idea's stage at any instant (what a late digest counts) and when a test's
date counts as passed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.ideas.stats import stage_at
from bot.ideas.terms import nudge_due_at
from storage.models import IdeaCycle

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def cycle(number: int, start: datetime, *, steps: int, decision: str = "adapt") -> IdeaCycle:
    """A cycle planned at `start` with `steps` of Do, Study and Act recorded a day apart."""
    times = [start + DAY * (i + 1) if i < steps else None for i in range(3)]
    return IdeaCycle(
        number=number,
        planned_at=start,
        done_at=times[0],
        studied_at=times[1],
        acted_at=times[2],
        decision=decision if steps == 3 else None,
    )


def test_the_stage_at_an_instant_follows_the_steps_recorded_before_it() -> None:
    cycles = [cycle(1, T0, steps=3, decision="adapt"), cycle(2, T0 + 10 * DAY, steps=3, decision="adopt")]
    expected = [
        (T0, "raised"),
        (T0 + timedelta(seconds=1), "planned"),
        (T0 + DAY + timedelta(seconds=1), "tested"),
        (T0 + 2 * DAY + timedelta(seconds=1), "studied"),
        (T0 + 3 * DAY + timedelta(seconds=1), "adapted"),
        (T0 + 10 * DAY + timedelta(seconds=1), "planned"),
        (T0 + 14 * DAY, "adopted"),
    ]
    assert [(end, stage_at(cycles, end)) for end, _ in expected] == expected
    assert stage_at([], T0) == "raised"
    assert stage_at([cycle(1, T0, steps=1)], T0 + 30 * DAY) == "tested"


def test_a_test_date_passes_at_nine_the_next_morning_in_the_authors_timezone_across_a_dst_change() -> None:
    new_york = ZoneInfo("America/New_York")
    assert nudge_due_at(date(2026, 10, 31), new_york) == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)  # EST
    assert nudge_due_at(date(2026, 10, 30), new_york) == datetime(2026, 10, 31, 13, 0, tzinfo=UTC)  # EDT
    assert nudge_due_at(date(2026, 11, 24), ZoneInfo("Asia/Kolkata")) == datetime(
        2026, 11, 25, 3, 30, tzinfo=UTC
    )
