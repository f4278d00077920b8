"""Weekly check-in aggregates in SQL: participation, answer sums per group, and who answered when.

Check-ins are bucketed by their `period` (the mentee-local due date) into Monday-start weeks with one
CASE over the weeks' date ranges, which compiles the same on SQLite and PostgreSQL. An answer counts
for its week only if it was given before the week's cutoff (see ``bot.digests.weeks``).

Psychological safety is reported on the 1-7 scale with Edmondson's negatively worded items (1, 3
and 5) reverse-scored as 8 - answer, so higher always means safer. Its sums come only from the
unlinked `climate_answers` table (scores already reverse-scored, see ``bot.checkins.climate``); who
answered it (for the subtraction rule) comes from the check-ins' `climate_answered` flag. A week whose
scores are still beside its check-ins (its cutoff has not passed, or the tick has not closed it yet)
is *pending*: its team-climate figure is not available yet.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from bot.digests.weeks import WeekSpan
from bot.kernel.suppression import LOOKBACK_WEEKS, FigureKey, figure_key
from storage.models import AnswerRollup, Checkin, CheckinAnswer, Pair
from storage.models.base import UTCDateTime
from storage.repositories import climate as climate_repo

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
    psych_pending: bool = False  # team-climate scores not moved to the unlinked table yet
    psych_withheld: bool = False  # fewer than min_group_size answered in time: their scores were discarded
    sums: dict[tuple[str, str], Sums] = field(default_factory=dict)

    def sum_of(self, metric: str, group: str) -> Sums:
        return self.sums.setdefault((metric, group), Sums())


def _search(spans: list[WeekSpan], leaf: Callable[[int], ColumnElement[Any]]) -> ColumnElement[Any]:
    """A CASE tree over the weeks' start dates: log2(weeks) comparisons per row instead of one per week.

    Rows must already be limited to the spans (the WHERE clause does that).
    """

    def node(low: int, high: int) -> ColumnElement[Any]:
        if high - low == 1:
            return leaf(low)
        middle = (low + high) // 2
        return case((Checkin.period >= spans[middle].start, node(middle, high)), else_=node(low, middle))

    return node(0, len(spans))


def period_bucket(spans: list[WeekSpan]) -> ColumnElement[Any]:
    """Index of the week a check-in's period falls in."""
    return _search(spans, lambda index: literal(index))


def in_time(spans: list[WeekSpan]) -> ColumnElement[Any]:
    """1 when the answer was given before its week's cutoff, else 0 (and 0 when there is no answer)."""
    cutoff = _search(spans, lambda index: literal(spans[index].cutoff, UTCDateTime()))
    return case((CheckinAnswer.answered_at < cutoff, 1), else_=0)


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
    _add_climate(session, program_id=program_id, spans=spans, weeks=weeks)
    _add_rollups(session, program_id=program_id, weeks=weeks)
    return weeks


def _counts_query(program_id: str, spans: list[WeekSpan]) -> Any:
    pb, met, counted = period_bucket(spans).label("pb"), _met().label("met"), in_time(spans).label("counted")
    return (
        select(
            pb,
            met,
            counted,
            func.count(Checkin.sent_at).label("sent"),
            func.count(CheckinAnswer.checkin_id).label("answered"),
            func.sum(case((Checkin.status == "paused", 1), else_=0)).label("paused"),
            func.sum(case((Checkin.status == "missed", 1), else_=0)).label("missed"),
            func.count(CheckinAnswer.wellbeing).label("wb_n"),
            func.coalesce(func.sum(CheckinAnswer.wellbeing), 0).label("wb_sum"),
        )
        .outerjoin(CheckinAnswer, CheckinAnswer.checkin_id == Checkin.id)
        .where(*_in_program_weeks(program_id, spans))
        # By output name: repeating the CASE expressions would evaluate them again for every row.
        .group_by(literal_column("pb"), literal_column("met"), literal_column("counted"))
    )


def _add_row(week: WeekCounts, row: Any) -> None:
    week.sent += row.sent
    week.paused += row.paused
    week.missed += row.missed
    if not row.counted:
        return
    week.answered += row.answered
    group = "met" if row.met else "not_met"
    week.sum_of("wellbeing", "all").add(row.wb_n, int(row.wb_sum))
    week.sum_of("wellbeing", group).add(row.wb_n, int(row.wb_sum))


def _add_climate(
    session: Session, *, program_id: str, spans: list[WeekSpan], weeks: list[WeekCounts]
) -> None:
    """Team-climate sums from the unlinked table; pending weeks and discarded batches flagged."""
    first, last = spans[0].start, spans[-1].start
    closed = climate_repo.closed_weeks(session, program_id=program_id, first=first, last=last)
    by_start = {week.start: week for week in weeks}
    for row in climate_repo.sums_by_week(session, program_id=program_id, first=first, last=last):
        week = by_start[row.week]
        week.sum_of("psych", "all").add(row.n, int(row.total))
        if row.met is not None:
            week.sum_of("psych", "met" if row.met else "not_met").add(row.n, int(row.total))
    for week in weeks:
        answered = closed.get(week.start, 0)
        if answered and not week.sum_of("psych", "all").n:
            week.psych_withheld = True
            week.sums[("psych", "all")] = Sums(answered, 0)
    for index, waiting in session.execute(_pending_query(program_id, spans)):
        week = weeks[index]
        if week.start not in closed:
            week.psych_pending = True
            week.sums[("psych", "all")] = Sums(int(waiting), 0)


def _pending_query(program_id: str, spans: list[WeekSpan]) -> Any:
    """Per week, team-climate answers given in time whose scores still sit beside their check-ins."""
    pb = period_bucket(spans).label("pb")
    return (
        select(pb, func.count())
        .select_from(Checkin)
        .join(CheckinAnswer, CheckinAnswer.checkin_id == Checkin.id)
        .where(*_in_program_weeks(program_id, spans), CheckinAnswer.climate_score.is_not(None))
        .where(in_time(spans) == 1)
        .group_by(literal_column("pb"))
    )


def _add_rollups(session: Session, *, program_id: str, weeks: list[WeekCounts]) -> None:
    """Put each purged week's anonymous totals in place of its answers (retention deletes the answers of
    whole weeks and keeps the check-in rows, so the prompts sent are counted from whichever is there)."""
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
        week.psych_pending = week.psych_withheld = False
        week.sent = max(week.sent, rollup.sent)
        week.answered = rollup.answered
        week.sums = {
            ("wellbeing", "all"): Sums(rollup.wellbeing_n, rollup.wellbeing_sum),
            ("psych", "all"): Sums(rollup.psych_n, rollup.psych_sum),
        }


MET, WELLBEING, PSYCH = 4, 2, 1  # bits of a (mentee, week) row's flags


def rolled_up_weeks(session: Session, *, program_id: str, first: date, last: date) -> list[date]:
    """Mondays first..last whose answers were purged into anonymous rollups."""
    query = select(AnswerRollup.week).where(
        AnswerRollup.program_id == program_id, AnswerRollup.week >= first, AnswerRollup.week <= last
    )
    return list(session.scalars(query))


class AnswerGroups:
    """Who answered in which week, as counts of distinct mentees per group and per pair of groups.

    Built in SQL from one row per (mentee, week) with flags (met their mentor, gave wellbeing, gave
    psychological safety), self-joined for the weeks still to be decided (`targets`) against the
    weeks of the subtraction rule's lookback before them. Overlaps with a later week that is not
    itself being decided are unknown (and so hide the figure): that only happens when older weeks
    were never decided while newer ones were.
    """

    def __init__(
        self,
        spans: list[WeekSpan],
        targets: AbstractSet[date],
        unknown: AbstractSet[date],
        pairs: list[Any],
        sizes: list[Any],
        seen_rows: list[Any] | None = None,
    ) -> None:
        self._index = {span.start: i for i, span in enumerate(spans)}
        self._targets = {self._index[week] for week in targets if week in self._index}
        self._unknown = unknown
        self._pairs: dict[tuple[int, int], list[Any]] = {}
        for row in pairs:
            self._pairs.setdefault((row.a, row.b), []).append(row)
        self._sizes: dict[int, list[Any]] = {}
        for row in sizes:
            self._sizes.setdefault(row.a, []).append(row)
        self._seen: dict[tuple[int, str], list[Any]] = {}
        for row in seen_rows or []:
            self._seen.setdefault((row.b, row.mentor_id), []).append(row)

    def _known(self, *keys: FigureKey) -> bool:
        return all(key.week in self._index and key.week not in self._unknown for key in keys)

    def size(self, key: FigureKey) -> int | None:
        """Distinct mentees in the figure's group; None when the week was purged into rollups."""
        if not self._known(key):
            return None
        rows = self._sizes.get(self._index[key.week], [])
        return int(sum(row.count for row in rows if _member(key, row.f_a)))

    def seen(self, key: FigureKey) -> int | None:
        """The most of the figure's group one mentor sees individually (their own mentees' wellbeing);
        0 for team climate, which no one sees individually; None when the week was purged."""
        if key.metric != "wellbeing":
            return 0
        if not self._known(key):
            return None
        week = self._index[key.week]
        counts = [
            sum(row.count for row in rows if _member(key, row.f))
            for (b, _mentor), rows in self._seen.items()
            if b == week
        ]
        return max(counts, default=0)

    def common(self, a: FigureKey, b: FigureKey) -> int | None:
        """Mentees in both groups; None when it cannot be known (rollups, or weeks not queried)."""
        if not self._known(a, b):
            return None
        if self._index[a.week] < self._index[b.week]:
            a, b = b, a
        ia, ib = self._index[a.week], self._index[b.week]
        # Only a target week against itself and the weeks before it was queried (see answer_groups).
        if ia not in self._targets:
            return None
        rows = self._pairs.get((ia, ib), [])
        return int(sum(row.count for row in rows if _member(a, row.f_a) and _member(b, row.f_b)))


def _member(key: FigureKey, flags: int) -> bool:
    if not flags & (WELLBEING if key.metric == "wellbeing" else PSYCH):
        return False
    return key.group == "all" or (key.group == "met") == bool(flags & MET)


def answer_groups(
    session: Session,
    *,
    program_id: str,
    spans: list[WeekSpan],
    targets: AbstractSet[date],
    unknown: AbstractSet[date],
) -> AnswerGroups:
    """Group sizes and overlaps for deciding the figures of the `targets` weeks against all of `spans`."""
    if not spans or not targets:
        return AnswerGroups(spans, targets, unknown, [], [])
    per = _per_mentee_week(program_id, spans).cte("per_mentee_week")
    a, b = per.alias("a"), per.alias("b")
    target_index = [i for i, span in enumerate(spans) if span.start in targets]
    # A week is decided against figures shown before it, so only earlier weeks are paired with it.
    near = and_(a.c.b.in_(target_index), b.c.b >= a.c.b - LOOKBACK_WEEKS, b.c.b <= a.c.b)
    pairs = (
        select(
            a.c.b.label("a"),
            b.c.b.label("b"),
            a.c.f.label("f_a"),
            b.c.f.label("f_b"),
            func.count().label("count"),
        )
        .select_from(a.join(b, a.c.mentee_id == b.c.mentee_id))
        # Same-week rows (a row joined with itself) give every week's group sizes in the same pass.
        .where(or_(near, a.c.b == b.c.b))
        .group_by(a.c.b, b.c.b, a.c.f, b.c.f)
    )
    rows = list(session.execute(pairs))
    sizes = [row for row in rows if row.a == row.b and row.f_a == row.f_b]
    return AnswerGroups(spans, targets, unknown, rows, sizes, _seen_by_mentors(session, per, program_id))


def _seen_by_mentors(session: Session, per: Any, program_id: str) -> list[Any]:
    """Per week, mentor and flags: how many answering mentees that mentor is or was paired with.

    Every pair counts, ended ones too: a mentor who saw an answer last month still remembers it.
    """
    query = (
        select(per.c.b, Pair.mentor_id, per.c.f, func.count(func.distinct(per.c.mentee_id)).label("count"))
        .join(Pair, and_(Pair.mentee_id == per.c.mentee_id, Pair.program_id == program_id))
        .group_by(per.c.b, Pair.mentor_id, per.c.f)
    )
    return list(session.execute(query))


def _per_mentee_week(program_id: str, spans: list[WeekSpan]) -> Any:
    """One row per mentee and week answered in time, with the week's flags OR-ed over its answers."""
    bucket = period_bucket(spans).label("b")
    met = func.max(_met()) * MET
    gave_wellbeing = func.max(case((CheckinAnswer.wellbeing.is_not(None), 1), else_=0)) * WELLBEING
    gave_psych = func.max(case((CheckinAnswer.climate_answered.is_(True), 1), else_=0)) * PSYCH
    return (
        select(Checkin.mentee_id, bucket, (met + gave_wellbeing + gave_psych).label("f"))
        .join(CheckinAnswer, CheckinAnswer.checkin_id == Checkin.id)
        .where(*_in_program_weeks(program_id, spans), in_time(spans) == 1)
        .group_by(Checkin.mentee_id, literal_column("b"))
    )


def figure_keys(week: date, groups: tuple[str, ...]) -> list[FigureKey]:
    return [figure_key(week, group, metric) for metric in METRICS for group in groups]
