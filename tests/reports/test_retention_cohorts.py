from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app.outcome_commands import roster_snapshot_command
from bot.fake_slack.requests import SlackRequestSender
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.reports.retention_cohorts import (
    Employment,
    add_months,
    newcombe,
    retention_table,
    snapshot_employment,
    wilson,
)
from storage.models import PersonDeparture, RosterMember
from tests.support.factories import make_pair

PROGRAM = "img-2026"
AS_OF = date(2026, 11, 23)  # the clock fixture's day in the program's timezone
OLD, P_NEW, N_NEW = "2024-01-15", "2026-03-01", "2026-04-01"


def seeded_rows() -> list[str]:
    """15 participants and 15 non-participants; departures chosen so each horizon's counts are by hand."""
    rows = ["employee,start_date,end_date,role,participant"]
    for n in range(1, 11):
        end = {1: "2024-05-01", 2: "2025-03-01"}.get(n, "")  # P03 leaves by Slack deactivation
        rows.append(f"U0P{n:02d},{OLD},{end},resident,yes")
    for n in range(11, 16):
        flag = "" if n == 15 else "yes"  # P15: blank flag, in a pair -> a participant
        rows.append(f"U0P{n:02d},{P_NEW},{'2026-06-01' if n == 11 else ''},resident,{flag}")
    for n in range(1, 11):
        end = "2024-06-01" if n <= 4 else "2025-10-01" if n == 5 else ""  # N06 leaves by Slack
        rows.append(f"n{n:02d}@hospital.example,{OLD},{end},nurse practitioner,{'' if n == 10 else 'no'}")
    for n in range(11, 16):
        rows.append(f"N{n:02d}@Hospital.example,{N_NEW},{'2026-05-01' if n == 11 else ''},resident,no")
    return rows


def seed_snapshot(deps: Deps, clock: Clock, slack: SlackRequestSender, tmp_path: Path) -> int:
    make_pair(deps, "U0MENTOR1", "U0P15", started_at=datetime(2026, 3, 2, tzinfo=UTC))
    path = tmp_path / "hr.csv"
    path.write_text("\n".join(seeded_rows()) + "\n", encoding="utf-8")
    code = roster_snapshot_command(deps, program_id=PROGRAM, path=path, now=clock.now)
    now = clock.now
    clock.now = datetime(2025, 6, 1, 15, tzinfo=UTC)
    for user_id, email in (("U0P03", None), ("U0XN06", "N06@hospital.example")):
        profile = {"display_name": "x", "real_name": "x", **({"email": email} if email else {})}
        user = {"id": user_id, "name": "x", "deleted": True, "profile": profile}
        assert slack.event({"type": "user_change", "user": user}).status == 200
    clock.now = now
    return code


def test_wilson_intervals_match_hand_computed_values() -> None:
    assert wilson(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert wilson(0, 5) == pytest.approx((0.0, 0.4345), abs=1e-4)
    with pytest.raises(ValueError):
        wilson(0, 0)


def test_the_difference_interval_is_newcombes_published_example() -> None:
    # Newcombe (1998), Stat Med 17:873-890, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339.
    assert newcombe(56, 70, 48, 80) == pytest.approx((0.2, 0.0524, 0.3339), abs=1e-4)


def test_months_are_added_by_calendar_and_clamped_to_the_month_end() -> None:
    assert add_months(date(2024, 8, 31), 6) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 15), 24) == date(2026, 1, 15)


def test_retention_on_a_seeded_snapshot_matches_hand_counts_with_slack_deactivations_as_departures(
    deps: Deps, clock: Clock, slack: SlackRequestSender, tmp_path: Path
) -> None:
    assert seed_snapshot(deps, clock, slack, tmp_path) == 0
    with deps.sessions.begin() as session:
        _, people = snapshot_employment(session, program_id=PROGRAM)
        departed = set(session.scalars(select(PersonDeparture.user_id)))
    assert departed == {"U0P03", "U0XN06"}
    six, twelve, twenty_four = retention_table(people, as_of=AS_OF, min_group_size=5)
    rows = (six, twelve, twenty_four)
    counts = [
        (r.participants.retained, r.participants.eligible, r.others.retained, r.others.eligible) for r in rows
    ]
    assert counts == [(13, 15, 10, 15), (9, 10, 6, 10), (7, 10, 4, 10)]
    assert (six.participants.low, six.participants.high) == pytest.approx((0.6212, 0.9626), abs=1e-4)
    assert (six.others.low, six.others.high) == pytest.approx((0.4171, 0.8482), abs=1e-4)
    assert (twenty_four.participants.low, twenty_four.participants.high) == pytest.approx(
        (0.3968, 0.8922), abs=1e-4
    )
    assert (twenty_four.others.low, twenty_four.others.high) == pytest.approx((0.1682, 0.6873), abs=1e-4)
    assert (twelve.difference, twelve.low, twelve.high) == pytest.approx((0.3, -0.0825, 0.5988), abs=1e-4)
    # Every interval of the difference holds 0: a null result, said as one.
    assert {r.verdict for r in (six, twelve, twenty_four)} == {"no detectable difference"}


def test_a_reactivated_account_is_no_longer_a_departure(
    deps: Deps, clock: Clock, slack: SlackRequestSender, tmp_path: Path
) -> None:
    seed_snapshot(deps, clock, slack, tmp_path)
    user = {"id": "U0P03", "name": "x", "deleted": False, "profile": {"display_name": "x"}}
    assert slack.event({"type": "user_change", "user": user}).status == 200
    stranger = {"id": "U0STRANGER9", "name": "x", "deleted": True, "profile": {"email": "who@else.example"}}
    assert slack.event({"type": "user_change", "user": stranger}).status == 200
    with deps.sessions.begin() as session:
        assert set(session.scalars(select(PersonDeparture.user_id))) == {"U0XN06"}  # strangers: not recorded


def test_small_groups_and_nested_horizons_differing_by_fewer_than_k_people_are_hidden() -> None:
    old, new = date(2024, 1, 15), date(2026, 3, 1)
    people = [Employment(old, None, True) for _ in range(5)] + [Employment(new, None, True) for _ in range(2)]
    people += [Employment(old, date(2024, 3, 1), True)]
    people += [Employment(old, None, False) for _ in range(4)]
    six, twelve, _ = retention_table(people, as_of=AS_OF, min_group_size=5)
    assert (six.participants.rate, six.participants.hidden) == (7 / 8, "")
    assert (twelve.participants.rate, twelve.participants.hidden) == (None, "overlap")  # 8 - 6 = 2 people
    assert (six.others.rate, six.others.hidden) == (None, "fewer than k")
    assert (six.difference, six.verdict) == (None, "not shown")


def test_a_group_where_everyone_stayed_is_hidden_because_it_tells_each_persons_outcome() -> None:
    people = [Employment(date(2024, 1, 15), None, True, f"U0P{n:02d}") for n in range(8)]
    six = retention_table(people, as_of=AS_OF, min_group_size=5)[0]
    figure = six.participants
    assert (figure.eligible, figure.rate, figure.hidden) == (8, None, "all the same")


def test_nobody_eligible_yet_is_null_not_zero() -> None:
    people = [Employment(date(2026, 10, 1), None, side) for side in (True, False) for _ in range(5)]
    row = retention_table(people, as_of=AS_OF, min_group_size=5)[0]
    assert (row.participants.eligible, row.participants.rate, row.participants.hidden) == (
        0,
        None,
        "none eligible",
    )


def test_a_bad_snapshot_names_every_bad_line_and_stores_nothing(
    deps: Deps, clock: Clock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hr.csv"
    path.write_text(
        "employee,start_date,end_date,participant\nU0P01,2024-01-15,,yes\nnobody,2024-01-15,,yes\n"
        "U0P02,15/01/2024,,no\nU0P03,2024-01-15,2023-01-01,no\nU0P04,2024-01-15,,maybe\nU0P01,2024-02-01,,no\n",
        encoding="utf-8",
    )
    assert roster_snapshot_command(deps, program_id=PROGRAM, path=path, now=clock.now) == 1
    errors = capsys.readouterr().err
    for expected in (
        "line 3: employee 'nobody'",
        "line 4: start_date '15/01/2024'",
        "line 5: end_date 2023-01-01 is before start_date",
        "line 6: participant 'maybe'",
        "lines 2, 7: U0P01 is listed 2 times",
    ):
        assert expected in errors
    with deps.sessions.begin() as session:
        assert session.scalars(select(RosterMember)).first() is None


def test_the_snapshot_command_prints_retention_with_intervals_and_null_differences(
    deps: Deps, clock: Clock, slack: SlackRequestSender, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_snapshot(deps, clock, slack, tmp_path)
    printed = capsys.readouterr().out
    assert "roster snapshot img-2026: 30 employees stored (28 with a participant flag)" in printed
    # Printed before the Slack deactivations arrived: P03 and N06 still count as retained at 24 months.
    assert " 6 months: participants 87% (13/15, 62–96%); non-participants 67% (10/15, 42–85%)" in printed
    assert "difference +20 points (-11 to +47; no detectable difference)" in printed
