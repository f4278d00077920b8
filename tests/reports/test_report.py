import csv
import io
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

import pytest

from bot.app.commands import report_command
from bot.checkins.climate import close_due
from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.reports.outcomes import COLUMNS, build_report, to_csv, to_markdown
from bot.reports.stats import Quarter, quarters
from storage.models import AnswerRollup, Pair
from tests.support.digests import PROGRAM, add_concern, add_people, add_session, answer_week, mentee_ids
from tests.support.factories import make_pair

START, END = date(2026, 7, 1), date(2026, 12, 31)
PEOPLE = mentee_ids(6)


def _utc(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def seed_two_quarters(deps: Deps) -> None:
    first = make_pair(deps, "U0MENTOR1", "U0MENTEE1", started_at=_utc(date(2026, 6, 15)))
    second = make_pair(deps, "U0MENTOR1", "U0MENTEE2", started_at=_utc(date(2026, 8, 10)))
    third = make_pair(deps, "U0MENTOR2", "U0MENTEE3", started_at=_utc(date(2026, 7, 1)))
    with deps.sessions.begin() as session:
        pair = session.get(Pair, second)
        assert pair is not None
        pair.ended_at = _utc(date(2026, 10, 15))
        sums = {"wellbeing_sum": 21, "wellbeing_n": 7, "psych_sum": 35, "psych_n": 7}
        session.add(AnswerRollup(program_id=PROGRAM, week=date(2026, 7, 13), sent=8, answered=7, **sums))
    add_people(deps, PEOPLE)
    # Q3: one week of six answers (shown), one of three (hidden: too few). Answers differ: a quarter whose
    # answers are all the same is hidden (it would give away each one).
    answer_week(deps, date(2026, 9, 7), {p: (3 + i % 3, 5, True) for i, p in enumerate(PEOPLE)})
    answer_week(deps, date(2026, 9, 14), dict.fromkeys(PEOPLE[:3], (1, 1, True)), silent=PEOPLE[3:5])
    # Q4: five answers, then the same five and one more (hidden: one person's difference).
    answer_week(deps, date(2026, 11, 2), {p: (2 + i % 3, 3 + i % 3, False) for i, p in enumerate(PEOPLE[:5])})
    answer_week(deps, date(2026, 11, 9), dict.fromkeys(PEOPLE, (5, 7, False)))
    one = partial(add_session, deps, pair_id=first, mentor="U0MENTOR1", mentee="U0MENTEE1")
    one(day=date(2026, 8, 4), minutes=60, competencies={"ethics": "demonstrated"})
    one(day=date(2026, 9, 1), minutes=90)
    one(day=date(2026, 9, 2), minutes=45, status="pending")
    one(day=date(2026, 10, 6), minutes=60, competencies={"ethics": "demonstrated"})
    three = partial(add_session, deps, pair_id=third, mentor="U0MENTOR2", mentee="U0MENTEE3")
    three(day=date(2026, 10, 20), minutes=30, competencies={"clinical-reasoning": "demonstrated"})
    three(day=date(2026, 10, 21), status="disputed", competencies={"ethics": "demonstrated"})
    add_concern(deps, week=date(2026, 8, 3), category="workload", text="a", resolved_on=date(2026, 8, 10))
    add_concern(deps, week=date(2026, 9, 7), category="workload", text="b", escalated=True)
    add_concern(deps, week=date(2026, 10, 5), category="other", text="c", resolved_on=date(2026, 10, 9))


def test_quarters_are_calendar_quarters_clipped_to_the_range() -> None:
    assert quarters(date(2026, 2, 10), date(2026, 7, 4)) == [
        Quarter("2026-Q1", date(2026, 2, 10), date(2026, 3, 31)),
        Quarter("2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
        Quarter("2026-Q3", date(2026, 7, 1), date(2026, 7, 4)),
    ]
    assert [q.label for q in quarters(date(2026, 11, 1), date(2027, 1, 5))] == ["2026-Q4", "2027-Q1"]


def test_report_figures_on_seeded_data(deps: Deps, clock: Clock) -> None:
    seed_two_quarters(deps)
    program = deps.programs.get(PROGRAM)
    assert program is not None
    with deps.sessions.begin() as session:
        q3, q4 = build_report(session, program=program, start=START, end=END, now=clock.now)
    assert (q3.mentees_enrolled, q3.mentees_at_start, q3.mentees_retained, q3.retention_rate) == (
        3,
        1,
        1,
        1.0,
    )
    assert (q4.mentees_enrolled, q4.mentees_at_start, q4.mentees_retained) == (3, 3, 2)
    assert q4.retention_rate == pytest.approx(2 / 3)
    # Q3: the purged week's rollup (8 sent, 7 answered) plus 6 + 5 raw prompts.
    assert (q3.prompts_sent, q3.prompts_answered) == (19, 16)
    # The purged week was never decided while its answers existed: whether one mentor saw too many of
    # them can no longer be checked, so its wellbeing stays hidden (team climate is seen by no one).
    assert q3.wellbeing_mean == pytest.approx(4.0) and q3.wellbeing_answers == 6
    # 3, 4, 5, 3, 4, 5 from six people: s = 0.894, t(5) = 2.571.
    assert (q3.wellbeing_low, q3.wellbeing_high) == pytest.approx((3.0614, 4.9386), abs=1e-4)
    # Team climate of Q3 includes the purged week: who answered it is gone, so the quarter cannot be
    # checked against the others and is hidden.
    assert (q3.psych_safety_mean, q3.psych_safety_hidden) == (None, "unknown")
    assert (q3.weeks_reported, q3.wellbeing_weeks_hidden) == (13, 2)
    # Q4: the week of 9 Nov is hidden (one person more than the week before), so only 2 Nov counts; its
    # five people are Q3's six but one, so setting the quarters side by side would single that one out.
    assert (q4.wellbeing_mean, q4.wellbeing_answers, q4.wellbeing_weeks_hidden) == (None, 5, 1)
    assert q4.wellbeing_hidden == "combination" and q4.wellbeing_change is None
    assert q4.psych_safety_mean == pytest.approx(3.8) and q4.psych_safety_people == 5
    assert q4.weeks_reported == 7  # Mondays 5 Oct to 16 Nov: the week of 23 Nov is not closed yet
    assert (q3.pairs_active, q3.confirmed_sessions, q3.confirmed_hours) == (3, 2, 2.5)
    assert q3.sessions_per_pair == pytest.approx(2 / 3)
    assert (q3.mentors_active, q3.cme_credits, q3.cme_credits_per_mentor) == (2, 2.5, 1.25)
    assert (q4.confirmed_sessions, q4.confirmed_hours, q4.cme_credits) == (2, 1.5, 1.5)
    assert (q3.competencies_demonstrated, q3.median_days_to_demonstration) == (1, 50)  # 15 Jun to 4 Aug
    assert (q4.competencies_demonstrated, q4.median_days_to_demonstration) == (1, 111)  # 1 Jul to 20 Oct
    assert (q3.concerns, q3.concerns_by_category, q3.concerns_resolved, q3.median_days_to_resolution) == (
        2,
        "workload=2",
        1,
        7,
    )
    assert (q4.concerns_by_category, q4.median_days_to_resolution) == ("other=1", 4)


def test_csv_columns_match_the_documentation(deps: Deps, clock: Clock) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Outcome report columns", 1)[1].split("\n## ", 1)[0]
    names = [line.split("`")[1] for line in section.splitlines() if line.startswith("| `")]
    assert names == COLUMNS
    program = deps.programs.get(PROGRAM)
    assert program is not None
    with deps.sessions.begin() as session:
        rows = build_report(session, program=program, start=START, end=END, now=clock.now)
    parsed = list(csv.reader(io.StringIO(to_csv(rows))))
    assert parsed[0] == COLUMNS and [r[0] for r in parsed[1:]] == ["2026-Q3", "2026-Q4"]
    assert parsed[1][COLUMNS.index("wellbeing_mean")] == ""  # no answers: empty, never 0
    assert "| 2026-Q3 | 0 |" in to_markdown(program, rows, start=START, end=END)


def test_report_command_writes_the_csv_and_prints_the_summary(
    deps: Deps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_two_quarters(deps)
    out = tmp_path / "report.csv"
    assert report_command(deps, program_id=PROGRAM, start=START, end=END, out_file=out) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(
        "# Outcome report: IMG Transition Cohort 2026 (img-2026), 2026-07-01 to 2026-12-31"
    )
    assert "| 2026-Q3 | 3 | 100% | 84% | 4.0 (3.1–4.9) | hidden |" in printed
    assert out.read_text().splitlines()[0] == ",".join(COLUMNS)
    assert report_command(deps, program_id="nope", start=START, end=END, out_file=None) == 1
    assert report_command(deps, program_id=PROGRAM, start=END, end=START, out_file=None) == 1
    assert "is before --from" in capsys.readouterr().err


def test_the_report_reads_team_climate_from_the_unlinked_table_with_suppression(
    deps: Deps, clock: Clock
) -> None:
    from sqlalchemy import text

    from tests.support.climate import answer_climate, stored_tokens

    add_people(deps, PEOPLE)
    answer_climate(deps, PEOPLE[:5], [5, 5, 4, 5, 6], week=date(2026, 10, 5))
    answer_climate(deps, PEOPLE[:3], [1] * 3, week=date(2026, 10, 12))  # too few: never moved, hidden
    close_due(deps, clock.now)
    assert stored_tokens(deps) == []  # nothing left beside the check-ins: only the unlinked rows remain
    with deps.sessions.begin() as session:
        session.execute(text("UPDATE climate_answers SET score = score - 1"))
    program = deps.programs.get(PROGRAM)
    assert program is not None
    with deps.sessions.begin() as session:
        [q4] = build_report(session, program=program, start=date(2026, 10, 1), end=END, now=clock.now)
    assert (q4.psych_safety_mean, q4.psych_safety_answers, q4.psych_safety_weeks_hidden) == (4.0, 5, 1)
