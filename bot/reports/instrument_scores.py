"""Validated-instrument scores per quarter, decided like every figure over people.

The report asks an `InstrumentSource` (bot.reports.instrument_source: the released survey answers) for
each quarter's scores, already reverse-scored, and does the rest here: the mean
with a 95% t-interval, the share at or above the instrument's cut-off (Mini-Z burnout >= 3) with a
Wilson interval, the change from the previous quarter when both are shown, and the anonymity rules of
bot.kernel.suppression (at least k respondents, not homogeneous, no small combination). Respondent keys
only let groups be compared; they are never shown or stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

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
    scores: Mapping[str, float]  # respondent key -> their score that quarter
    cutoff: float | None = None  # the published cut-off whose share is reported, if any
    withheld: int = 0  # answers in periods discarded with fewer than k: never counted, only noted


NO_DATA = "no data"

InstrumentSource = Callable[[Session, Program, list[Quarter]], list[PersonScores]]


@dataclass(frozen=True)
class InstrumentCell:
    instrument: str
    quarter: str
    people: int
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


def instrument_cells(
    found: list[PersonScores], *, min_group_size: int
) -> tuple[list[InstrumentCell], list[PeopleFigure], dict[str, Decision]]:
    """Every instrument-quarter decided, in the order given (oldest quarter first, say)."""
    figures = [
        PeopleFigure(
            figure_name(f), f"instrument {f.instrument}", frozenset(f.scores), homogeneous=_homogeneous(f)
        )
        for f in found
    ]
    decisions = decide_people(figures, min_group_size=min_group_size)
    cells: list[InstrumentCell] = []
    last: dict[str, float | None] = {}
    for f in found:
        cell = _cell(f, decisions[figure_name(f)], last.get(f.instrument))
        last[f.instrument] = cell.mean
        cells.append(cell)
    return cells, figures, decisions


def _cell(found: PersonScores, decision: Decision, previous: float | None) -> InstrumentCell:
    people = len(found.scores)
    interval = clustered_mean([Cluster(1, value) for value in found.scores.values()])
    if interval is None or not decision.shown:
        why = decision.reason if interval is not None else SMALL if found.withheld else NO_DATA
        return InstrumentCell(
            found.instrument, found.quarter, people, None, None, None, None, None, None, None, why,
            found.withheld,
        )  # fmt: skip
    share = share_low = share_high = None
    if found.cutoff is not None:
        above = sum(1 for value in found.scores.values() if value >= found.cutoff)
        share, (share_low, share_high) = above / people, wilson(above, people)
    change = None if previous is None else interval.mean - previous
    return InstrumentCell(
        found.instrument, found.quarter, people, interval.mean, interval.low, interval.high,
        share, share_low, share_high, change, "", found.withheld,
    )  # fmt: skip
