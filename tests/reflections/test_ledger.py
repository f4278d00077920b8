"""Protected time and CME credits: months by the logger's local day, confirmed sessions only, yearly cap."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction

from sqlalchemy import select

from bot.fake_slack.models import FakeUser
from bot.fake_slack.requests import SlackRequestSender
from bot.fake_slack.server import FakeSlack
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.programs import CmeConfig, Program
from bot.reflections.ledger import accrue, ledgers_between, mentor_year, number, year_ledgers
from storage.models import MentoringSession, Pair, Person
from storage.repositories.reflections import LedgerRow, answer_session, create_session
from tests.reflections.test_reflect_flows import dm, open_modal, press, status_of, submit, wait_until
from tests.support.factories import make_pair

CME = CmeConfig(credits_per_hour=1.0, max_credits_per_year=20.0)


def row(day: str, minutes: int, *, mentor: str = "U1", session_id: int = 0) -> LedgerRow:
    return LedgerRow(session_id, 1, mentor, "U2", date.fromisoformat(day), minutes)


def program(deps: Deps) -> Program:
    found = deps.programs.get("img-2026")
    assert found is not None
    return found


def confirmed(deps: Deps, pair_id: int, day: str, minutes: int, *, confirm: bool = True) -> int:
    """A session as if logged through /reflect and confirmed by the other side."""
    with deps.sessions.begin() as session:
        pair = session.get(Pair, pair_id)
        assert pair is not None
        made = create_session(
            session,
            pair=pair,
            session_date=date.fromisoformat(day),
            duration_minutes=minutes,
            format="video",
            logged_by=pair.mentor_id,
            now=deps.clock(),
        )
        if confirm:
            answer_session(
                session, session_id=made.id, status="confirmed", user_id=pair.mentee_id, now=deps.clock()
            )
        return made.id


def test_sessions_either_side_of_a_month_boundary_land_in_their_own_month() -> None:
    (ledger,) = accrue([row("2026-01-31", 90, session_id=1), row("2026-02-01", 30, session_id=2)], CME)
    months = {m.month: (m.sessions, m.minutes, m.credits) for m in ledger.months()}
    assert months == {1: (1, 90, Fraction(3, 2)), 2: (1, 30, Fraction(1, 2))}


def test_years_are_separate_ledgers_each_with_its_own_cap() -> None:
    rows = [row("2025-12-31", 60 * 25, session_id=1), row("2026-01-01", 60, session_id=2)]
    old, new = accrue(rows, CME)
    assert (old.year, old.credits, old.capped) == (2025, 20, True)
    assert (new.year, new.credits, new.capped) == (2026, 1, False)


def test_credits_stop_at_the_yearly_cap_in_date_order() -> None:
    rows = [row(f"2026-03-{day:02d}", 240, session_id=day) for day in range(1, 8)]  # 7 x 4 h = 28 h
    (ledger,) = accrue(reversed(rows), CME)
    assert ledger.hours == 28 and ledger.credits == 20 and ledger.capped
    assert [e.credits for e in ledger.entries] == [4, 4, 4, 4, 4, 0, 0]  # the 5th session fills the cap
    (partial,) = accrue([row("2026-01-05", 60 * 19), row("2026-01-06", 120)], CME)
    assert [e.credits for e in partial.entries] == [19, 1]


def test_rate_and_exact_fractions() -> None:
    rate = CmeConfig(credits_per_hour=0.5, max_credits_per_year=20.0)
    (ledger,) = accrue([row("2026-01-05", 20), row("2026-01-06", 20), row("2026-01-07", 20)], rate)
    assert ledger.hours == 1 and ledger.credits == Fraction(1, 2)
    assert (
        number(Fraction(1, 3)) == "0.33" and number(Fraction(3, 4)) == "0.75" and number(Fraction(20)) == "20"
    )
    assert number(Fraction(1, 200)) == "0.01"  # half-up, not banker's rounding


def test_no_cme_config_means_hours_without_credits() -> None:
    (ledger,) = accrue([row("2026-01-05", 60)], None)
    assert ledger.hours == 1 and ledger.credits == 0 and not ledger.capped


def test_only_confirmed_sessions_count(deps: Deps) -> None:
    pair = make_pair(deps)
    confirmed(deps, pair, "2026-05-04", 60)
    confirmed(deps, pair, "2026-05-05", 45, confirm=False)  # pending
    disputed = confirmed(deps, pair, "2026-05-06", 30, confirm=False)
    with deps.sessions.begin() as session:
        answer_session(session, session_id=disputed, status="disputed", user_id="U0MENTEE1", now=deps.clock())
    with deps.sessions.begin() as session:
        ledger = mentor_year(session, program=program(deps), mentor_id="U0MENTOR1", year=2026)
    assert (ledger.minutes, ledger.credits) == (60, 1)


def test_a_range_still_counts_the_cap_used_earlier_in_the_year(deps: Deps) -> None:
    pair = make_pair(deps)
    confirmed(deps, pair, "2026-02-10", 60 * 18)
    confirmed(deps, pair, "2026-06-10", 60 * 4)
    with deps.sessions.begin() as session:
        (june,) = ledgers_between(
            session, program=program(deps), start=date(2026, 6, 1), end=date(2026, 6, 30)
        )
        (whole,) = year_ledgers(session, program=program(deps), year=2026)
    assert (june.hours, june.credits) == (4, 2)
    assert (whole.hours, whole.credits) == (22, 20)


def test_honolulu_2330_on_the_31st_stays_in_that_month(
    slack: SlackRequestSender, fake_slack: FakeSlack, deps: Deps, clock: Clock
) -> None:
    fake_slack.add_user(FakeUser(id="U0HONOLULU", name="kai", real_name="Kai Kahale", tz="Pacific/Honolulu"))
    clock.now = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)  # 31 Jan 23:30 in Honolulu, already February in UTC
    make_pair(deps, "U0HONOLULU", "U0MENTEE3", started_at=datetime(2026, 1, 2, tzinfo=UTC))
    with deps.sessions.begin() as session:  # no cached timezone: users.info must tell it
        person = session.get(Person, "U0HONOLULU")
        assert person is not None
        person.timezone, person.refreshed_at = None, None

    view = open_modal(slack, fake_slack, "U0HONOLULU")
    date_block = next(b for b in view["blocks"] if b.get("block_id") == "date")
    assert date_block["element"]["initial_date"] == "2026-01-31"
    reply = submit(
        slack, "U0HONOLULU", view, answers={"duration": "60", "format": "in_person"}
    )  # date as offered
    assert reply["response_action"] == "update", reply
    press(slack, "U0MENTEE3", dm(fake_slack, "U0MENTEE3"), "Confirm")
    with deps.sessions.begin() as session:
        session_id = session.scalars(select(MentoringSession.id)).one()
    wait_until(lambda: status_of(deps, session_id) == "confirmed", "confirmation")
    wait_until(lambda: fake_slack.calls_to("chat.update", ok_only=True), "the DM updated")
    with deps.sessions.begin() as session:
        (ledger,) = year_ledgers(session, program=program(deps), year=2026)
    assert [(m.month, m.minutes) for m in ledger.months()] == [(1, 60)]
    assert ledger.entries[0].row.session_date == date(2026, 1, 31)
