"""Acceptance 2 of the outcome report: below-k cells hidden, homogeneous cells hidden, and no pair or
triple of shown figures isolates fewer than k people — searched over every combination on seeded data."""

from __future__ import annotations

from datetime import date
from itertools import combinations
from pathlib import Path

from bot.kernel.clock import SettableClock as Clock
from bot.kernel.deps import Deps
from bot.kernel.suppression import combination_safe, regions
from bot.reports.annual_data import AnnualReport, build_annual_report
from bot.reports.outcomes import days_text
from tests.support.digests import PROGRAM
from tests.support.report_seed import Truth, instrument_source, mini_z_scores, seed_year

START, END = date(2026, 1, 1), date(2026, 12, 31)


def build(deps: Deps, clock: Clock, tmp_path: Path) -> tuple[AnnualReport, Truth, int]:
    truth = seed_year(deps, clock, tmp_path)
    source = instrument_source(mini_z_scores(truth))
    program = deps.programs.get(PROGRAM)
    assert program is not None
    with deps.sessions.begin() as session:
        report = build_annual_report(
            session, program=program, start=START, end=END, now=clock.now, instrument_source=source
        )
    return report, truth, program.privacy.min_group_size


def small_sets(sets: list[set[str]], k: int) -> list[set[str]]:
    """Every non-empty set formed by intersections and differences of `sets` with fewer than k people."""
    return [set(region) for region in regions(sets) if len(region) < k]


def test_every_shown_figure_rests_on_k_people_none_is_homogeneous_and_no_pair_or_triple_isolates_fewer(
    deps: Deps, clock: Clock, tmp_path: Path
) -> None:
    report, truth, k = build(deps, clock, tmp_path)
    shown = [figure for figure, decision in report.people_figures if decision.shown]
    assert len(report.people_figures) == 27 and len(shown) == 11
    for figure in shown:
        # Who the report says is behind a figure is who the seed put there.
        assert set(figure.people or ()) == truth.people[figure.key], figure.key
        assert len(truth.people[figure.key]) >= k, figure.key
        assert len(set(truth.values[figure.key])) > 1, f"{figure.key} is homogeneous"
    checked = {2: 0, 3: 0}
    # Every pair and triple of shown figures, across measures, periods, roles and sides: figures about
    # different kinds of people (mentees, pairs, employees) share nobody, so only like meets like.
    for size in (2, 3):
        for chosen in combinations(shown, size):
            checked[size] += 1
            assert small_sets([truth.people[f.key] for f in chosen], k) == [], [f.key for f in chosen]
    assert checked == {2: 55, 3: 165}


def test_the_deliberate_leaks_are_hidden_and_the_triple_ones_would_pass_a_pairwise_rule(
    deps: Deps, clock: Clock, tmp_path: Path
) -> None:
    report, truth, k = build(deps, clock, tmp_path)
    reasons = {figure.key: decision.reason for figure, decision in report.people_figures}
    assert reasons["wellbeing 2026-Q1"] == reasons["wellbeing 2026-Q3"] == ""
    assert reasons["wellbeing 2026-Q2"] == "combination"  # Q1's eight and one more
    assert reasons["wellbeing 2026-Q4"] == "combination"  # Q1, Q3 and two more
    assert reasons["first_meeting 2026-Q2"] == "small"
    assert reasons["first_meeting 2026-Q3"] == "combination"  # period - Q1 - Q3 = Q2's two pairs
    # 6m others minus nurses minus residents would be the two nurses hired in March.
    assert (reasons["retention 12m nurse others"], reasons["retention 12m resident others"]) == (
        "",
        "combination",
    )
    assert reasons["Mini-Z 2026-Q4"] == "combination"
    assert reasons["retention 24m all participants"] == "combination"  # 6m minus 24m: three people
    # A pairwise-only rule would have shown the three-figure leaks: the triple search is what hides them.
    pairwise = [truth.people[key] for key in ("wellbeing 2026-Q1", "wellbeing 2026-Q3")]
    q4 = truth.people["wellbeing 2026-Q4"]
    assert all(not small_sets([q4, other], k) for other in pairwise)
    assert not combination_safe(q4, pairwise, k)
    assert small_sets([q4, *pairwise], k) == [set(q4) - set().union(*pairwise)]
    meeting = [truth.people[key] for key in ("first_meeting period", "first_meeting 2026-Q1")]
    assert all(not small_sets([truth.people["first_meeting 2026-Q3"], other], k) for other in meeting)


def test_scores_carry_intervals_and_a_change_only_between_shown_quarters(
    deps: Deps, clock: Clock, tmp_path: Path
) -> None:
    report, _, _ = build(deps, clock, tmp_path)
    q1, q2, q3, q4 = report.rows
    assert q1.wellbeing_mean is not None and q1.wellbeing_low is not None and q1.wellbeing_high is not None
    assert q1.wellbeing_low < q1.wellbeing_mean < q1.wellbeing_high and q1.wellbeing_people == 8
    assert q1.wellbeing_change is None  # no quarter before it
    assert (q2.wellbeing_mean, q2.wellbeing_change, q2.wellbeing_hidden) == (None, None, "combination")
    assert q3.wellbeing_mean is not None and q3.wellbeing_change is None  # Q2 is hidden
    assert (q4.wellbeing_mean, q4.wellbeing_change) == (None, None)
    period = report.first_meetings.period
    assert (period.started, period.not_met, period.hidden) == (13, 0, "")
    assert period.q1 is not None and period.median is not None and period.q3 is not None
    assert period.q1 <= period.median <= period.q3
    cell = next(c for c in report.instrument_cells if c.quarter == "2026-Q3")
    assert cell.share is not None and cell.share_low is not None and cell.share_high is not None
    assert cell.share_low < cell.share < cell.share_high and cell.people == 8


def test_time_to_first_meeting_gives_its_quartiles_only_from_2k_pairs_and_the_median_alone_below(
    deps: Deps, clock: Clock, tmp_path: Path
) -> None:
    report, truth, k = build(deps, clock, tmp_path)
    period, q1 = report.first_meetings.period, report.first_meetings.quarters["2026-Q1"]
    assert len(truth.people["first_meeting period"]) == 13 >= 2 * k and period.q1 is not None
    # Six pairs: their quartiles would be (nearly) two pairs' own waits.
    assert len(truth.people["first_meeting 2026-Q1"]) == 6 < 2 * k
    assert (q1.hidden, q1.q1, q1.q3) == ("", None, None) and q1.median is not None
    row = report.rows[0]
    printed = days_text(
        row.first_meeting_median_days, row.first_meeting_q1_days, row.first_meeting_q3_days, ""
    )
    assert printed == f"{q1.median:.0f}" and "IQR" not in printed
