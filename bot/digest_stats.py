"""Weekly check-in aggregates in SQL: participation, answer sums per group, and who answered when.

Check-ins are bucketed by their `period` (the mentee-local due date) into Monday-start weeks with one
CASE over the weeks' date ranges, which compiles the same on SQLite and PostgreSQL. An answer counts
for its week only if it was given before the week's cutoff (see ``bot.digest_weeks``).

Psychological safety is reported on the 1-7 scale with Edmondson's negatively worded items (1, 3
and 5) reverse-scored as 8 - answer, so higher always means safer.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session

from bot.digest_weeks import WeekSpan
from bot.suppression import LOOKBACK_WEEKS, FigureKey, figure_key
from storage.models import AnswerRollup, Checkin, CheckinAnswer
from storage.models.base import UTCDateTime

REVERSED_ITEMS = (1, 3, 5)
METRICS = ("wellbeing", "psych")


@dataclass
class Sums:
    n: int = 0
    total: int = 0

    def add(self, n: int, total: int) -> None:
        self.n += n
        self.total += total


@dataclass
class WeekCounts:
    """One week: prompts and answers, and answer sums per (metric, group)."""

    start: date
    sent: int = 0
    answered: int = 0
    paused: int = 0
    missed: int = 0
    rolled_up: bool = False  # some answers survive only as anonymous rollups: groups unknown
    sums: dict[tuple[str, str], Sums] = field(default_factory=dict)

    def sum_of(self, metric: str, group: str) -> Sums:
        return self.sums.setdefault((metric, group), Sums())


def period_bucket(spans: list[WeekSpan]) -> ColumnElement[Any]:
    """Index of the week a check-in's period falls in, else NULL."""
    return case(*[(_in_week(span), index) for index, span in enumerate(spans)], else_=None)


def answer_bucket(spans: list[WeekSpan]) -> ColumnElement[Any]:
    """Index of the week an answer counts for: its period's week, if given before that week's cutoff."""
    whens = [
        (and_(_in_week(span), CheckinAnswer.answered_at < literal(span.cutoff, UTCDateTime())), index)
        for index, span in enumerate(spans)
    ]
    return case(*whens, else_=None)


def _in_week(span: WeekSpan) -> ColumnElement[bool]:
    return and_(Checkin.period >= span.start, Checkin.period < span.end)


def psych_reversed() -> ColumnElement[Any]:
    score = CheckinAnswer.psych_score
    return case((Checkin.psych_item.in_(REVERSED_ITEMS), 8 - score), else_=score)


def _met() -> ColumnElement[Any]:
    return case((CheckinAnswer.met_mentor.is_(True), 1), else_=0)


def _in_program_weeks(program_id: str, spans: list[WeekSpan]) -> list[ColumnElement[bool]]:
    return [
        Checkin.program_id == program_id,
        Checkin.period >= spans[0].start,
        Checkin.period < spans[-1].end,
    ]


def week_counts(session: Session, *, program_id: str, spans: list[WeekSpan]) -> list[WeekCounts]:
    """Participation and answer sums for each span, raw answers and rollups together, in one query each."""
    weeks = [WeekCounts(span.start) for span in spans]
    if not spans:
        return weeks
    for row in session.execute(_counts_query(program_id, spans)):
        _add_row(weeks[row.pb], row)
    _add_rollups(session, program_id=program_id, weeks=weeks)
    return weeks


def _counts_query(program_id: str, spans: list[WeekSpan]) -> Any:
    ab = answer_bucket(spans).label("ab")
    rows = (
        select(
            period_bucket(spans).label("pb"),
            ab,
            _met().label("met"),
            Checkin.sent_at,
            Checkin.status,
            CheckinAnswer.wellbeing,
            psych_reversed().label("psych"),
        )
        .outerjoin(CheckinAnswer, CheckinAnswer.checkin_id == Checkin.id)
        .where(*_in_program_weeks(program_id, spans))
        .subquery()
    )
    counted = rows.c.ab.is_not(None)
    return (
        select(
            rows.c.pb,
            rows.c.met,
            func.count(rows.c.sent_at).label("sent"),
            func.count(rows.c.ab).label("answered"),
            func.sum(case((rows.c.status == "paused", 1), else_=0)).label("paused"),
            func.sum(case((rows.c.status == "missed", 1), else_=0)).label("missed"),
            func.count(case((counted, rows.c.wellbeing))).label("wb_n"),
            func.coalesce(func.sum(case((counted, rows.c.wellbeing))), 0).label("wb_sum"),
            func.count(case((counted, rows.c.psych))).label("ps_n"),
            func.coalesce(func.sum(case((counted, rows.c.psych))), 0).label("ps_sum"),
        )
        .where(rows.c.pb.is_not(None))
        .group_by(rows.c.pb, rows.c.met)
    )


def _add_row(week: WeekCounts, row: Any) -> None:
    week.sent += row.sent
    week.answered += row.answered
    week.paused += row.paused
    week.missed += row.missed
    group = "met" if row.met else "not_met"
    for metric, n, total in (("wellbeing", row.wb_n, row.wb_sum), ("psych", row.ps_n, row.ps_sum)):
        week.sum_of(metric, "all").add(n, int(total))
        week.sum_of(metric, group).add(n, int(total))


def _add_rollups(session: Session, *, program_id: str, weeks: list[WeekCounts]) -> None:
    by_start = {week.start: week for week in weeks}
    query = select(AnswerRollup).where(
        AnswerRollup.program_id == program_id,
        AnswerRollup.week >= weeks[0].start,
        AnswerRollup.week <= weeks[-1].start,
    )
    for rollup in session.scalars(query):
        week = by_start.get(rollup.week)
        if week is None:
            continue
        week.rolled_up = True
        week.sent += rollup.sent
        week.answered += rollup.answered
        week.sum_of("wellbeing", "all").add(rollup.wellbeing_n, rollup.wellbeing_sum)
        week.sum_of("psych", "all").add(rollup.psych_n, rollup.psych_sum)


class AnswerGroups:
    """Who answered in which week, as counts of distinct mentees per group and per pair of groups.

    Built from one self-join in SQL over (mentee, week) rows, restricted to the weeks still to be
    decided (`targets`) paired with every week within the subtraction rule's lookback.
    """

    def __init__(
        self,
        spans: list[WeekSpan],
        targets: set[date],
        unknown: AbstractSet[date],
        pairs: list[Any],
        sizes: list[Any],
    ) -> None:
        self._index = {span.start: i for i, span in enumerate(spans)}
        self._targets = {self._index[week] for week in targets if week in self._index}
        self._unknown = unknown
        self._pairs: dict[tuple[int, int], list[Any]] = {}
        for row in pairs:
            self._pairs.setdefault((row.a, row.b), []).append(row)
        self._sizes: dict[int, list[Any]] = {}
        for row in sizes:
            self._sizes.setdefault(row.b, []).append(row)

    def _known(self, *keys: FigureKey) -> bool:
        return all(key.week in self._index and key.week not in self._unknown for key in keys)

    def size(self, key: FigureKey) -> int | None:
        """Distinct mentees in the figure's group; None when the week was purged into rollups."""
        if not self._known(key):
            return None
        rows = self._sizes.get(self._index[key.week], [])
        return int(sum(row.count for row in rows if _member(key, row.met, row.hw, row.hp)))

    def common(self, a: FigureKey, b: FigureKey) -> int | None:
        """Mentees in both groups; None when it cannot be known (rollups, or weeks not queried)."""
        if not self._known(a, b):
            return None
        ia, ib = self._index[a.week], self._index[b.week]
        if ia not in self._targets:
            if ib not in self._targets:
                return None
            a, b, ia, ib = b, a, ib, ia
        rows = self._pairs.get((ia, ib), [])
        return int(
            sum(
                row.count
                for row in rows
                if _member(a, row.met_a, row.hw_a, row.hp_a) and _member(b, row.met_b, row.hw_b, row.hp_b)
            )
        )


def _member(key: FigureKey, met: int, hw: int, hp: int) -> bool:
    has_metric = hw if key.metric == "wellbeing" else hp
    if not has_metric:
        return False
    return key.group == "all" or (key.group == "met") == bool(met)


def answer_groups(
    session: Session,
    *,
    program_id: str,
    spans: list[WeekSpan],
    targets: set[date],
    unknown: AbstractSet[date],
) -> AnswerGroups:
    """Group sizes and overlaps for deciding the figures of the `targets` weeks against all of `spans`."""
    if not spans or not targets:
        return AnswerGroups(spans, targets, unknown, [], [])
    per = _per_mentee_week(program_id, spans).cte("per_mentee_week")
    a, b = per.alias("a"), per.alias("b")
    target_index = [i for i, span in enumerate(spans) if span.start in targets]
    pairs = (
        select(
            a.c.b.label("a"), b.c.b.label("b"),
            a.c.met.label("met_a"), b.c.met.label("met_b"),
            a.c.hw.label("hw_a"), b.c.hw.label("hw_b"),
            a.c.hp.label("hp_a"), b.c.hp.label("hp_b"),
            func.count().label("count"),
        )
        .select_from(a.join(b, a.c.mentee_id == b.c.mentee_id))
        .where(a.c.b.in_(target_index), b.c.b >= a.c.b - LOOKBACK_WEEKS, b.c.b <= a.c.b + LOOKBACK_WEEKS)
        .group_by(a.c.b, b.c.b, a.c.met, b.c.met, a.c.hw, b.c.hw, a.c.hp, b.c.hp)
    )  # fmt: skip
    sizes = select(per.c.b, per.c.met, per.c.hw, per.c.hp, func.count().label("count")).group_by(
        per.c.b, per.c.met, per.c.hw, per.c.hp
    )
    return AnswerGroups(spans, targets, unknown, list(session.execute(pairs)), list(session.execute(sizes)))


def _per_mentee_week(program_id: str, spans: list[WeekSpan]) -> Any:
    """One row per mentee and week answered: met their mentor, gave wellbeing, gave psych safety."""
    rows = (
        select(
            Checkin.mentee_id,
            answer_bucket(spans).label("b"),
            _met().label("met"),
            case((CheckinAnswer.wellbeing.is_not(None), 1), else_=0).label("hw"),
            case((CheckinAnswer.psych_score.is_not(None), 1), else_=0).label("hp"),
        )
        .join(CheckinAnswer, CheckinAnswer.checkin_id == Checkin.id)
        .where(*_in_program_weeks(program_id, spans))
        .subquery()
    )
    return (
        select(
            rows.c.mentee_id,
            rows.c.b,
            func.max(rows.c.met).label("met"),
            func.max(rows.c.hw).label("hw"),
            func.max(rows.c.hp).label("hp"),
        )
        .where(rows.c.b.is_not(None))
        .group_by(rows.c.mentee_id, rows.c.b)
    )


def figure_keys(week: date, groups: tuple[str, ...]) -> list[FigureKey]:
    return [figure_key(week, group, metric) for metric in METRICS for group in groups]
