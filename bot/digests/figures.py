"""Weekly wellbeing and psychological-safety figures with their shown/hidden decisions, frozen once made.

Both the digest (an 8-week trend) and the outcome report (quarters made of weeks) read figures from
here, so a number is the same wherever it appears and the subtraction rule of ``bot.kernel.suppression``
holds across digests, previews and reports.

A psychological-safety figure is decided before the rule when its week is pending (its answers are
not in the unlinked table yet: hidden as PENDING and never frozen, so the next build decides it) or
when the unlinked table holds fewer than `min_group_size` answers for its group (hidden as SMALL: a
batch too small to move, or a met/did-not split too small to keep).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from bot.digests.stats import WeekCounts, answer_groups, figure_keys, rolled_up_weeks, week_counts
from bot.digests.weeks import WEEK, WeekSpan, week_spans
from bot.kernel.programs import Program
from bot.kernel.suppression import LOOKBACK_WEEKS, SMALL, Decision, FigureKey, decide_all, figure_key
from storage.repositories.digests import FrozenFigure, freeze_figures, frozen_figures

PENDING = "pending"  # a decision reason that is never frozen: the week's team-climate answers are still open


@dataclass(frozen=True)
class Figure:
    """A mean over `n` answers, shown or hidden (`reason` says why)."""

    week: date
    metric: str
    group: str
    n: int
    total: int
    shown: bool
    reason: str

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.shown and self.n else None


@dataclass(frozen=True)
class WeeklySeries:
    """Weeks first..last: participation counts and figures keyed by (week, group, metric)."""

    weeks: list[WeekCounts]
    figures: dict[FigureKey, Figure]

    def figure(self, week: date, group: str, metric: str) -> Figure:
        return self.figures[figure_key(week, group, metric)]


def weekly_series(
    session: Session, *, program: Program, first: date, last: date, split: set[date], now: datetime
) -> WeeklySeries:
    """Figures for the Mondays first..last; sub-group figures (met their mentor or not) for `split` weeks.

    Frozen figures are reused; the others are decided under the subtraction rule against every
    figure shown within the lookback and frozen once their week's cutoff is past.
    """
    start = first - LOOKBACK_WEEKS * WEEK
    spans = week_spans(program, first=first, last=last)
    counts = week_counts(session, program_id=program.id, spans=spans)
    by_week = {week.start: week for week in counts}
    stored = {_key(f): f for f in frozen_figures(session, program_id=program.id, first=start, last=last)}
    wanted = [
        key
        for week in counts
        for key in figure_keys(week.start, ("all", "met", "not_met") if week.start in split else ("all",))
    ]
    open_keys = [key for key in wanted if key not in stored]
    decisions = _decide(session, program, open_keys, stored, by_week, first=start, last=last)
    fresh = [_fresh(key, by_week[key.week], decisions[key]) for key in open_keys]
    cutoffs = {span.start: span.cutoff for span in spans}
    done = [f for f in fresh if cutoffs[f.week] <= now and f.reason != PENDING]
    freeze_figures(session, program_id=program.id, figures=done, now=now)
    figures = {key: _figure(key, stored[key]) for key in wanted if key in stored}
    figures.update({_key(f): _figure(_key(f), f) for f in fresh})
    return WeeklySeries(counts, figures)


def _decide(
    session: Session,
    program: Program,
    open_keys: list[FigureKey],
    stored: dict[FigureKey, FrozenFigure],
    by_week: dict[date, WeekCounts],
    *,
    first: date,
    last: date,
) -> dict[FigureKey, Decision]:
    """Decisions for the figures not frozen yet, against the frozen ones (see ``bot.kernel.suppression``)."""
    purged = frozenset(rolled_up_weeks(session, program_id=program.id, first=first, last=last))
    targets = sorted({key.week for key in open_keys})
    groups = answer_groups(
        session,
        program_id=program.id,
        spans=_compared_spans(program, targets, stored, purged),
        targets=set(targets),
        unknown=purged,
    )
    preset = _climate_decisions(open_keys, by_week, program.privacy.min_group_size)
    return decide_all(
        {key: by_week[key.week].sum_of(key.metric, key.group).n for key in open_keys if key not in preset},
        frozen={**{key: Decision(f.shown, f.reason) for key, f in stored.items()}, **preset},
        groups=groups,
        min_group_size=program.privacy.min_group_size,
        purged=purged,
    )


def _climate_decisions(
    keys: list[FigureKey], by_week: dict[date, WeekCounts], min_group_size: int
) -> dict[FigureKey, Decision]:
    """Psychological-safety figures hidden whatever the rule says: pending weeks, too few unlinked answers."""
    preset = {}
    for key in keys:
        week = by_week[key.week]
        if key.metric != "psych":
            continue
        if week.psych_pending:
            preset[key] = Decision(False, PENDING)
        elif week.psych_withheld or week.sum_of("psych", key.group).n < min_group_size:
            preset[key] = Decision(False, SMALL)
    return preset


def _compared_spans(
    program: Program, targets: list[date], stored: dict[FigureKey, FrozenFigure], purged: frozenset[date]
) -> list[WeekSpan]:
    """The weeks whose answers the decisions need: the targets, and shown weeks just before them."""
    if not targets:
        return []
    earliest = targets[0]
    before = [
        key.week
        for key, figure in stored.items()
        if figure.shown and key.week not in purged and earliest - LOOKBACK_WEEKS * WEEK <= key.week < earliest
    ]
    return week_spans(program, first=min(before, default=earliest), last=targets[-1])


def _key(figure: FrozenFigure) -> FigureKey:
    return figure_key(figure.week, figure.grp, figure.metric)


def _fresh(key: FigureKey, week: WeekCounts, decision: Decision) -> FrozenFigure:
    sums = week.sum_of(key.metric, key.group)
    return FrozenFigure(key.week, key.metric, key.group, sums.n, sums.total, decision.shown, decision.reason)


def _figure(key: FigureKey, frozen: FrozenFigure) -> Figure:
    return Figure(key.week, key.metric, key.group, frozen.n, frozen.total, frozen.shown, frozen.reason)


def trend_weeks(last: date, count: int) -> tuple[date, date]:
    """First and last Monday of a `count`-week trend ending with `last`."""
    return last - timedelta(weeks=count - 1), last
