"""Instrument results a report may show: program totals per period and, for instruments rating the
mentor, per mentor, each suppressed by the anonymity rules.

With k = privacy.min_group_size (bot.kernel.suppression):
- a cell (an instrument's period, for the program or one mentor) shows its mean only with at least k
  answers, and never when every answer in it is the same (the mean would be each person's answer);
- a mentor's cell is an answer row's mentor pseudonym (bot.instruments.answers); answers without one
  count in the program's totals only;
- mentors' cells are withdrawn for a period when the program total minus the shown mentors' cells
  would leave a remainder of 1 to k-1 answers, or one whose answers are all the same (subtraction);
- a delta against the previous period of the same series is given only when both cells are shown.

Answers exist here only once their period closed with at least k of them (bot.instruments.release).
A pair's month is released per quarter ("m3 2026-Q4") and shown pooled over the quarters ("m3"); a
period discarded for having fewer than k answers shows as a SMALL figure with the count that answered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from bot.instruments.answers import mentor_key
from bot.instruments.catalog import shipped_instruments
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from bot.kernel.suppression import OVERLAP, SHOWN, SMALL
from storage.repositories import instruments as repo
from storage.repositories.instruments import Cell

HOMOGENEOUS = "homogeneous"


@dataclass(frozen=True)
class Figure:
    """One reportable cell: `mean` and `delta` are None unless it may be shown (`hidden` says why not)."""

    instrument: str  # id@version
    period: str  # "2026-12", "2026-Q4", "m3"
    mentor_id: str | None  # None: the whole program
    n: int
    mean: float | None
    hidden: str  # SHOWN (""), SMALL, HOMOGENEOUS or OVERLAP
    delta: float | None = None  # against the series' previous period, when both are shown


def instrument_figures(deps: Deps, session: Session, *, program: Program) -> list[Figure]:
    """Every instrument figure of the program, suppressed; program totals first within each period."""
    names = {
        mentor_key(deps, program_id=program.id, mentor_id=m): m
        for m in repo.mentor_ids(session, program_id=program.id)
    }
    by_period: dict[tuple[str, str], list[Cell]] = defaultdict(list)
    for cell in repo.answer_cells(session, program_id=program.id):
        by_period[(f"{cell.instrument_id}@{cell.version}", series_period(cell.period))].append(cell)
    k = program.privacy.min_group_size
    figures: list[Figure] = []
    for (instrument, period), cells in sorted(
        by_period.items(), key=lambda kv: (kv[0][0], period_order(kv[0][1]))
    ):
        figures += period_figures(instrument, period, pooled(cells), names=names, min_group_size=k)
    figures += discarded(session, program=program, shown=set(by_period))
    figures.sort(key=lambda f: (f.instrument, period_order(f.period)))  # stable: totals stay first
    return with_deltas(figures)


def series_period(period: str) -> str:
    """The period a figure is shown for: a pair's month pooled over quarters ("m3 2026-Q4" -> "m3")."""
    return period.split(" ", 1)[0]


def pooled(cells: Sequence[Cell]) -> list[Cell]:
    """One cell per mentor pseudonym (and one without), merging the quarters of a pair's month."""
    groups: dict[str | None, list[Cell]] = defaultdict(list)
    for cell in cells:
        groups[cell.mentor_key].append(cell)
    out = []
    for key, group in groups.items():
        n, total, lowest, highest = _merged(group)
        first = group[0]
        out.append(
            Cell(
                first.instrument_id,
                first.version,
                series_period(first.period),
                key,
                n,
                total,
                lowest,
                highest,
            )
        )
    return out


def discarded(session: Session, *, program: Program, shown: set[tuple[str, str]]) -> list[Figure]:
    """SMALL figures for periods closed with fewer than k answers and nothing else to show for them."""
    catalogue = shipped_instruments()
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for (_, instrument_id, period), (answered, released) in repo.closed_periods(
        session, program_id=program.id
    ).items():
        instrument = catalogue.get(instrument_id)
        if instrument is None or released or not answered:
            continue
        key = (f"{instrument_id}@{instrument.version}", series_period(period))
        if key not in shown:
            counts[key] += answered
    return [Figure(instrument, period, None, n, None, SMALL) for (instrument, period), n in counts.items()]


def decide(n: int, lowest: float, highest: float, min_group_size: int) -> str:
    if n < min_group_size:
        return SMALL
    if lowest == highest:
        return HOMOGENEOUS
    return SHOWN


def _merged(cells: Iterable[Cell]) -> tuple[int, float, float, float]:
    listed = list(cells)
    if not listed:
        return 0, 0.0, 0.0, 0.0
    n = sum(c.n for c in listed)
    return n, sum(c.total for c in listed), min(c.lowest for c in listed), max(c.highest for c in listed)


def _figure(
    instrument: str, period: str, mentor: str | None, merged: tuple[int, float, float, float], k: int
) -> Figure:
    n, total, lowest, highest = merged
    hidden = decide(n, lowest, highest, k)
    return Figure(instrument, period, mentor, n, total / n if hidden == SHOWN else None, hidden)


def period_figures(
    instrument: str, period: str, cells: Sequence[Cell], *, names: dict[str, str], min_group_size: int
) -> list[Figure]:
    """The program figure and the mentors' figures of one instrument's period."""
    k = min_group_size
    program = _figure(instrument, period, None, _merged(cells), k)
    rated = [c for c in cells if c.mentor_key is not None and c.mentor_key in names]
    mentors = [_figure(instrument, period, names[c.mentor_key or ""], _merged([c]), k) for c in rated]
    shown_keys = {c.mentor_key for c, f in zip(rated, mentors, strict=True) if f.hidden == SHOWN}
    remainder = _merged(c for c in cells if c.mentor_key not in shown_keys)
    if (
        shown_keys
        and program.hidden == SHOWN
        and decide(remainder[0], remainder[2], remainder[3], k) != SHOWN
        and remainder[0] > 0
    ):
        mentors = [replace(f, mean=None, hidden=OVERLAP) if f.hidden == SHOWN else f for f in mentors]
    return [program, *sorted(mentors, key=lambda f: f.mentor_id or "")]


def period_order(period: str) -> tuple[int, str]:
    """Pair months in numeric order ("m3" before "m12"); calendar periods as written."""
    return (int(period[1:]), "") if period.startswith("m") and period[1:].isdigit() else (0, period)


def with_deltas(figures: Sequence[Figure]) -> list[Figure]:
    """Each shown figure's change from the previous period of its series, when that one was shown too."""
    last: dict[tuple[str, str | None], Figure] = {}
    out = []
    for figure in figures:
        series = (figure.instrument, figure.mentor_id)
        before = last.get(series)
        if figure.mean is not None and before is not None and before.mean is not None:
            figure = replace(figure, delta=figure.mean - before.mean)
        last[series] = figure
        out.append(figure)
    return out


def answer_scores(
    session: Session, *, program: Program, instrument_id: str, periods: Iterable[str]
) -> dict[str, dict[str, float]]:
    """period -> {answer key: score}, one entry per answer, for reports that decide figures themselves.

    A period is asked for as a figure shows it: "2026-Q4", or "m3" for a pair's month (every quarter's
    "m3 ..." answers). The key is the answer row's random id: unique within a period, and never the
    same across periods, since nothing links two answers of one person. A report must not read equal
    keys as equal people.
    """
    wanted = set(periods)
    found: dict[str, dict[str, float]] = defaultdict(dict)
    rows = repo.scores_in(session, program_id=program.id, instrument_id=instrument_id, periods=wanted)
    for period, row_id, value in rows:
        found[period if period in wanted else series_period(period)][row_id] = value
    return dict(found)
