"""Pair health (overdue pairs, for the digest too) and the sessions section of the App Home."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.fake_slack.validation import validate_blocks
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.programs import PairsConfig, Program
from bot.kernel.roles import roles_of
from bot.reflections.health import OverduePair, overdue_pairs
from bot.reflections.home import home_blocks
from storage.models import Pair
from storage.repositories.reflections import add_observations, answer_session, create_session
from tests.support.factories import make_pair

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def program(deps: Deps) -> Program:
    found = deps.programs.get("img-2026")
    assert found is not None
    return found


def session_of(
    deps: Deps, pair_id: int, day: date, *, status: str = "confirmed", by_mentee: bool = False
) -> int:
    with deps.sessions.begin() as session:
        pair = session.get(Pair, pair_id)
        assert pair is not None
        logger, other = (pair.mentee_id, pair.mentor_id) if by_mentee else (pair.mentor_id, pair.mentee_id)
        row = create_session(
            session,
            pair=pair,
            session_date=day,
            duration_minutes=45,
            format="video",
            logged_by=logger,
            now=NOW,
        )
        add_observations(
            session, mentoring_session=row, mentee_id=pair.mentee_id, levels={"ethics": "developing"}
        )
        if status != "pending":
            answer_session(session, session_id=row.id, status=status, user_id=other, now=NOW)
        return row.id


def test_overdue_means_no_confirmed_session_for_longer_than_expected(deps: Deps, clock: Clock) -> None:
    clock.now = NOW
    today = date(2026, 11, 23)
    never = make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=NOW - timedelta(days=40))
    recent = make_pair(deps, "U0MENTOR1", "U0MENTEE2", started_at=NOW - timedelta(days=90))
    only_pending = make_pair(deps, "U0MENTOR2", "U0MENTEE3", started_at=NOW - timedelta(days=50))
    exactly = make_pair(deps, "U0MENTOR2", "U0MENTEE1", started_at=NOW - timedelta(days=90))
    session_of(deps, recent, today - timedelta(days=10))
    session_of(deps, recent, today - timedelta(days=60))
    session_of(deps, only_pending, today - timedelta(days=5), status="pending")
    session_of(deps, exactly, today - timedelta(days=30))
    with deps.sessions.begin() as session:
        found = overdue_pairs(session, program=program(deps), now=NOW)
    assert found == [
        OverduePair(only_pending, "img-2026", "U0MENTOR2", "U0MENTEE3", None, 50),
        OverduePair(never, "img-2026", "U0MENTOR1", "U0MENTEE1", None, 40),
    ]


def test_the_expected_interval_comes_from_programs_yml(deps: Deps) -> None:
    pair = make_pair(deps, started_at=NOW - timedelta(days=90))
    session_of(deps, pair, date(2026, 11, 3))
    weekly = program(deps).model_copy(update={"pairs": PairsConfig(session_expected_every_days=14)})
    with deps.sessions.begin() as session:
        (item,) = overdue_pairs(session, program=weekly, now=NOW)
        assert (item.last_session, item.days_since) == (date(2026, 11, 3), 20)
        assert overdue_pairs(session, program=program(deps), now=NOW) == []


def test_days_are_counted_in_the_programs_timezone(deps: Deps) -> None:
    pair = make_pair(deps, started_at=NOW - timedelta(days=90))
    session_of(deps, pair, date(2026, 10, 23))
    just_after_midnight_utc = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # still 22 Nov in New York
    with deps.sessions.begin() as session:
        assert overdue_pairs(session, program=program(deps), now=just_after_midnight_utc) == []
        assert [p.days_since for p in overdue_pairs(session, program=program(deps), now=NOW)] == [31]


def home_text(deps: Deps, user_id: str) -> str:
    with deps.sessions.begin() as session:
        roles = roles_of(session, programs=deps.programs, user_id=user_id)
        blocks = home_blocks(session, deps=deps, roles=roles, now=NOW)
    assert validate_blocks(blocks, 100) == []
    return str(blocks)


def test_mentor_home_shows_hours_credits_overdue_and_unconfirmed(deps: Deps) -> None:
    active = make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=NOW - timedelta(days=90))
    quiet = make_pair(deps, "U0MENTOR1", "U0MENTEE2", started_at=NOW - timedelta(days=45))
    session_of(deps, active, date(2026, 11, 2))
    session_of(deps, active, date(2026, 11, 20), status="pending")
    session_of(deps, quiet, date(2026, 11, 19), status="pending", by_mentee=True)
    session_of(deps, active, date(2025, 12, 1))  # last year: not in this year's hours
    text = home_text(deps, "U0MENTOR1")
    assert "Protected time in 2026: *0.75 h* (1 confirmed session)  ·  CME: *0.75* of 20 credits" in text
    assert "No confirmed session with *Diego Ruiz* for 45 days (since the pairing started)" in text
    assert "*Diego Ruiz* logged a 45-minute session on *Thu 19 Nov*: unconfirmed." in text
    assert "session_confirm:" in text  # Diego's session: Ana can answer it here
    assert "Unconfirmed, not counted yet (0.75 h): Fri 20 Nov with Amara Okafor" in text
    assert "*Amara Okafor's competencies*" in text and "*Diego Ruiz's competencies*" in text


def test_mentee_home_shows_own_levels_and_overdue_warning_without_hours(deps: Deps) -> None:
    pair = make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=NOW - timedelta(days=90))
    session_of(deps, pair, date(2026, 10, 1))
    text = home_text(deps, "U0MENTEE1")
    assert "Protected time" not in text
    assert "*Your competencies*" in text and "Ethics — *developing* (Thu 1 Oct)" in text
    assert "No confirmed session with *Ana Mendes* for 53 days (since the last confirmed one)" in text


def test_people_without_pairs_see_nothing_here(deps: Deps) -> None:
    with deps.sessions.begin() as session:
        roles = roles_of(session, programs=deps.programs, user_id="U0COORD1")
        assert home_blocks(session, deps=deps, roles=roles, now=NOW) == []


def test_a_pairs_start_day_is_its_day_in_the_programs_timezone(deps: Deps) -> None:
    late_evening = make_pair(
        deps, "U0MENTOR1", "U0MENTEE1", started_at=datetime(2026, 10, 24, 3, 30, tzinfo=UTC)
    )
    after_midnight = make_pair(
        deps, "U0MENTOR1", "U0MENTEE2", started_at=datetime(2026, 10, 24, 4, 30, tzinfo=UTC)
    )
    with deps.sessions.begin() as session:
        found = overdue_pairs(session, program=program(deps), now=NOW)
    # 23 Oct 23:30 in New York: 31 days before 23 Nov, overdue; 24 Oct 00:30: exactly 30, not yet.
    assert [(p.pair_id, p.days_since) for p in found] == [(late_evening, 31)]
    assert after_midnight not in [p.pair_id for p in found]
