"""Quarterly wellbeing and psychological-safety scores: mean, 95% interval and change from the quarter
before, each decided under the report's rule for figures over people (bot.kernel.suppression).

A quarter's score averages the answers of the weeks the weekly digest shows (so no quarter lets a reader
recover a week the digest hid). On top of the digest's rule, the quarter itself must rest on at least k
people, must not be homogeneous (every answer the same) and must not, set beside one or two other shown
quarters of the same measure, single out fewer than k people. A quarter holding a week whose answers
were purged into anonymous totals can no longer be checked and is hidden. The change from the previous
quarter is given only when both quarters are shown.

Who answered wellbeing comes from the check-ins; who answered team climate from their
`climate_answered` flag (never what); the team-climate scores themselves from the unlinked table.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.digests.figures import WeeklySeries
from bot.digests.stats import in_time, period_bucket
from bot.digests.weeks import week_spans
from bot.kernel.programs import Program
from bot.kernel.suppression import Decision, PeopleFigure, decide_people
from bot.reports.intervals import Cluster, clustered_mean
from bot.reports.stats import Quarter
from storage.models import Checkin, CheckinAnswer, ClimateAnswer

METRICS = ("wellbeing", "psych")
NO_DATA = "no data"
WEEKS_HIDDEN = "weeks hidden"  # answers exist, but the digest's rule hid every week of the quarter


@dataclass(frozen=True)
class QuarterScore:
    quarter: str
    metric: str
    mean: float | None  # None: hidden, or nobody answered
    low: float | None
    high: float | None
    answers: int
    people: int
    change: float | None  # mean minus the previous quarter's, when both are shown
    hidden: str  # "" when shown; NO_DATA; WEEKS_HIDDEN; else the suppression reason


@dataclass
class _Inputs:
    """One quarter and metric: who answered in its shown weeks, and the answers (by person if known)."""

    people: set[str] = field(default_factory=set)
    clusters: dict[str, Cluster] = field(default_factory=dict)
    values: set[int] = field(default_factory=set)
    purged: bool = False
    weeks_hidden: int = 0  # weeks with answers the digest's rule hid: left out of the quarter

    def add(self, cluster_key: str, value: int) -> None:
        old = self.clusters.get(cluster_key, Cluster(0, 0))
        self.clusters[cluster_key] = Cluster(old.n + 1, old.total + value)
        self.values.add(value)


@dataclass(frozen=True)
class QuarterScores:
    scores: dict[tuple[str, str], QuarterScore]  # (quarter label, metric)
    figures: list[PeopleFigure]  # what was decided, with who is behind each figure
    decisions: dict[str, Decision]

    def of(self, quarter: str, metric: str) -> QuarterScore:
        return self.scores[(quarter, metric)]


def figure_name(metric: str, quarter: str) -> str:
    return f"{metric} {quarter}"


def quarter_scores(
    session: Session, *, program: Program, periods: list[Quarter], series: WeeklySeries
) -> QuarterScores:
    """Every quarter's scores for both metrics, decided oldest quarter first."""
    inputs = _gather(session, program, periods, series)
    figures = [
        PeopleFigure(
            figure_name(metric, q.label),
            metric,
            None if found.purged else frozenset(found.people),
            homogeneous=len(found.values) == 1,
        )
        for q in periods
        for metric in METRICS
        if (found := inputs[(q.label, metric)]).clusters or found.purged
    ]
    decisions = decide_people(figures, min_group_size=program.privacy.min_group_size)
    scores: dict[tuple[str, str], QuarterScore] = {}
    for metric in METRICS:
        previous: QuarterScore | None = None
        for q in periods:
            found = inputs[(q.label, metric)]
            decision = decisions.get(figure_name(metric, q.label))
            scores[(q.label, metric)] = previous = _score(q.label, metric, found, decision, previous)
    return QuarterScores(scores, figures, decisions)


def _score(
    quarter: str, metric: str, found: _Inputs, decision: Decision | None, previous: QuarterScore | None
) -> QuarterScore:
    answers, people = sum(c.n for c in found.clusters.values()), len(found.people)
    interval = clustered_mean(list(found.clusters.values()))
    if decision is None or interval is None:
        why = WEEKS_HIDDEN if found.weeks_hidden else NO_DATA
        return QuarterScore(quarter, metric, None, None, None, answers, people, None, why)
    if not decision.shown:
        return QuarterScore(quarter, metric, None, None, None, answers, people, None, decision.reason)
    change = None if previous is None or previous.mean is None else interval.mean - previous.mean
    return QuarterScore(
        quarter, metric, interval.mean, interval.low, interval.high, answers, people, change, ""
    )


def _gather(
    session: Session, program: Program, periods: list[Quarter], series: WeeklySeries
) -> dict[tuple[str, str], _Inputs]:
    inputs: dict[tuple[str, str], _Inputs] = defaultdict(_Inputs)
    shown: dict[tuple[date, str], str] = {}  # (week, metric) -> quarter label
    for week in series.weeks:
        quarter = next((q.label for q in periods if q.start <= week.start <= q.end), None)
        for metric in METRICS:
            figure = series.figure(week.start, "all", metric)
            if quarter is not None and figure.shown:
                shown[(week.start, metric)] = quarter
                inputs[(quarter, metric)].purged |= week.rolled_up
            elif quarter is not None and figure.n:
                inputs[(quarter, metric)].weeks_hidden += 1
    if shown:
        _add_answers(session, program, series, shown, inputs)
        _add_climate_scores(session, program, shown, inputs)
    return inputs


def _add_answers(
    session: Session,
    program: Program,
    series: WeeklySeries,
    shown: dict[tuple[date, str], str],
    inputs: dict[tuple[str, str], _Inputs],
) -> None:
    """Who answered in time in the shown weeks; wellbeing values by person."""
    spans = week_spans(program, first=series.weeks[0].start, last=series.weeks[-1].start)
    rows = session.execute(
        select(
            Checkin.mentee_id, period_bucket(spans), CheckinAnswer.wellbeing, CheckinAnswer.climate_answered
        )
        .join(CheckinAnswer, CheckinAnswer.checkin_id == Checkin.id)
        .where(Checkin.program_id == program.id)
        .where(Checkin.period >= spans[0].start, Checkin.period < spans[-1].end, in_time(spans) == 1)
    )
    for mentee, index, wellbeing, climate in rows:
        week = spans[int(index)].start
        if wellbeing is not None and (quarter := shown.get((week, "wellbeing"))):
            inputs[(quarter, "wellbeing")].people.add(mentee)
            inputs[(quarter, "wellbeing")].add(mentee, int(wellbeing))
        if climate and (quarter := shown.get((week, "psych"))):
            inputs[(quarter, "psych")].people.add(mentee)


def _add_climate_scores(
    session: Session,
    program: Program,
    shown: dict[tuple[date, str], str],
    inputs: dict[tuple[str, str], _Inputs],
) -> None:
    """Team-climate scores from the unlinked table: each answer its own cluster (no person is known)."""
    weeks = [week for week, metric in shown if metric == "psych"]
    if not weeks:
        return
    rows = session.execute(
        select(ClimateAnswer.id, ClimateAnswer.week, ClimateAnswer.score).where(
            ClimateAnswer.program_id == program.id, ClimateAnswer.week.in_(weeks)
        )
    )
    for answer_id, week, score in rows:
        inputs[(shown[(week, "psych")], "psych")].add(f"answer {answer_id}", int(score))
