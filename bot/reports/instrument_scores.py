"""Validated-instrument scores per quarter, decided like every figure over people.

The report asks an `InstrumentSource` (bot.reports.instrument_source: the released survey answers) for
each quarter's scores, already reverse-scored, and does the rest here: the mean
with a 95% t-interval, the share at or above the instrument's cut-off (Mini-Z burnout >= 3) with a
Wilson interval, the change from the previous quarter when both are shown, and the anonymity rules of
bot.kernel.suppression (at least k respondents, not homogeneous, no small combination). Respondent keys
only let groups be compared; they are never shown or stored.

A quarter is shown only once its last answer period has closed (`closes`, at the report's `now`): while
it is open, each month's release adds answers to it, and two reports a month apart would differ by
that month's batch alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.kernel.programs import Program
from bot.kernel.suppression import SMALL, Decision, PeopleFigure, decide_people
from bot.reports.intervals import Cluster, clustered_mean
from bot.reports.retention_cohorts import wilson
from bot.reports.stats import Quarter


@dataclass(frozen=True)
class PersonScores:
    """What an instrument aggregate hands the report: one instrument in one quarter."""

    instrument: str  # its short name, as shown
    quarter: str  # 2026-Q3
    scores: Mapping[str, float]  # answer (or respondent) key -> the score
    cutoff: float | None = None  # the published cut-off whose share is reported, if any
    withheld: int = 0  # answers in periods discarded with fewer than k: never counted, only noted
    people: frozenset[str] | None = None  # who is behind the scores; None: the score keys are people
    checkable: bool = True  # False: who is behind them cannot be told exactly (the figure is hidden)
    closes: datetime | None = None  # when the quarter's last answer period closes; None: closed


NO_DATA = "no data"
OPEN = "quarter still open"
UNCHECKED = "who answered not known exactly"

InstrumentSource = Callable[[Session, Program, list[Quarter]], list[PersonScores]]


@dataclass(frozen=True)
class InstrumentCell:
    instrument: str
    quarter: str
    people: int  # distinct people behind it (its answers, when who answered is unknown)
    mean: float | None  # None: hidden (see `hidden`)
    low: float | None
    high: float | None
    share: float | None  # at or above the cut-off
    share_low: float | None
    share_high: float | None
    change: float | None
    hidden: str
    withheld: int = 0  # answers discarded with their period (fewer than k): never in the figure


def figure_name(found: PersonScores) -> str:
    return f"{found.instrument} {found.quarter}"


def _homogeneous(found: PersonScores) -> bool:
    values = set(found.scores.values())
    if found.cutoff is None:
        return len(values) == 1
    # Everyone on one side of the cut-off tells each person's band, whatever the means.
    return len(values) == 1 or len({v >= found.cutoff for v in values}) == 1


def respondents(found: PersonScores) -> frozenset[str] | None:
    """The people behind a quarter's scores, as the suppression rule compares them; None: unknown."""
    if not found.checkable:
        return None
    return found.people if found.people is not None else frozenset(found.scores)


def instrument_cells(
    found: list[PersonScores], *, min_group_size: int, now: datetime
) -> tuple[list[InstrumentCell], list[PeopleFigure], dict[str, Decision]]:
    """Every instrument-quarter decided, in the order given (oldest quarter first, say)."""
    figures = [
        PeopleFigure(
            figure_name(f), f"instrument {f.instrument}", respondents(f), homogeneous=_homogeneous(f)
        )
        for f in found
    ]
    aside = {figure_name(f): OPEN for f in found if f.closes is not None and now < f.closes}
    aside |= {figure_name(f): UNCHECKED for f in found if not f.checkable and figure_name(f) not in aside}
    decisions = decide_people([f for f in figures if f.key not in aside], min_group_size=min_group_size)
    decisions |= {key: Decision(False, why) for key, why in aside.items()}
    cells: list[InstrumentCell] = []
    last: dict[str, float | None] = {}
    for f in found:
        cell = _cell(f, decisions[figure_name(f)], last.get(f.instrument))
        last[f.instrument] = cell.mean
        cells.append(cell)
    return cells, figures, decisions


def _why(found: PersonScores, decision: Decision, answered: bool) -> str:
    """Why a cell is not shown: its decision when there were answers, else "fewer than k" or no data."""
    if answered or (decision.reason == OPEN and found.withheld):
        return decision.reason
    return SMALL if found.withheld else NO_DATA


def _cell(found: PersonScores, decision: Decision, previous: float | None) -> InstrumentCell:
    behind = respondents(found)
    people = len(found.scores) if behind is None else len(behind)
    interval = clustered_mean([Cluster(1, value) for value in found.scores.values()])
    if interval is None or not decision.shown:
        return InstrumentCell(
            found.instrument, found.quarter, people, None, None, None, None, None, None, None,
            _why(found, decision, interval is not None), found.withheld,
        )  # fmt: skip
    share = share_low = share_high = None
    if found.cutoff is not None:
        answers = len(found.scores)
        above = sum(1 for value in found.scores.values() if value >= found.cutoff)
        share, (share_low, share_high) = above / answers, wilson(above, answers)
    change = None if previous is None else interval.mean - previous
    return InstrumentCell(
        found.instrument, found.quarter, people, interval.mean, interval.low, interval.high,
        share, share_low, share_high, change, "", found.withheld,
    )  # fmt: skip
