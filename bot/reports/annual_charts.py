"""Charts for the annual report (matplotlib, Agg, PNG bytes): only figures the report already shows.

Hidden values arrive as None and are drawn as gaps labelled "hidden", never as zero.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from bot.reports.outcomes import QuarterRow
from bot.reports.retention_cohorts import RetentionRow

BLUE, ORANGE, GREY = "#2a7ab0", "#c26a1b", "#8a8a8a"
SIDES = ((-0.12, "participants", BLUE, "Participants"), (0.12, "others", ORANGE, "Non-participants"))


def _figure(width: float, height: float) -> Figure:
    import matplotlib

    # Agg needs no display and is safe off the main thread; chosen here, not at import of the package.
    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=150, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def participation_png(rows: Sequence[QuarterRow]) -> bytes:
    """Mentees enrolled and confirmed sessions per quarter, side by side."""
    figure = _figure(7, 2.6)
    left, right = figure.subplots(1, 2)
    labels = [row.quarter for row in rows]
    left.bar(labels, [row.mentees_enrolled for row in rows], color=BLUE)
    left.set_title("Mentees in a pair", fontsize=9)
    right.bar(labels, [row.confirmed_sessions for row in rows], color=ORANGE)
    right.set_title("Confirmed mentoring sessions", fontsize=9)
    for axes in (left, right):
        axes.tick_params(labelsize=7)
        axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def scores_png(rows: Sequence[QuarterRow]) -> bytes:
    """Quarterly wellbeing (1–5) and psychological safety (1–7) means with 95% intervals; hidden quarters
    are gaps."""
    figure = _figure(7, 2.6)
    left, right = figure.subplots(1, 2)
    labels = [row.quarter for row in rows]
    wellbeing = [
        _Point(row.wellbeing_mean, row.wellbeing_low, row.wellbeing_high, _gap(row.wellbeing_hidden))
        for row in rows
    ]
    psych = [
        _Point(
            row.psych_safety_mean, row.psych_safety_low, row.psych_safety_high, _gap(row.psych_safety_hidden)
        )
        for row in rows
    ]
    _line(left, labels, wellbeing, "Wellbeing (1–5)", (1, 5), BLUE)
    _line(right, labels, psych, "Psychological safety (1–7)", (1, 7), ORANGE)
    return _png(figure)


@dataclass(frozen=True)
class _Point:
    value: float | None
    low: float | None
    high: float | None
    gap: str  # what a missing value is called


def _gap(hidden: str) -> str:
    return "no data" if hidden in ("", "no data") else "hidden"


def _line(
    axes: Any,
    labels: list[str],
    points: list[_Point],
    title: str,
    scale: tuple[int, int],
    color: str,
) -> None:
    """One quarterly line with interval bars; a gap says "hidden" or "no data"."""
    positions = list(range(len(labels)))
    axes.plot(positions, [math.nan if p.value is None else p.value for p in points], marker="o", color=color)
    for position, point in zip(positions, points, strict=True):
        if point.value is not None and point.low is not None and point.high is not None:
            error = [[point.value - point.low], [point.high - point.value]]
            axes.errorbar(position, point.value, yerr=error, color=color, capsize=3, linewidth=1)
        elif point.value is None:
            axes.annotate(point.gap, (position, scale[0]), ha="center", fontsize=7, color=GREY)
    axes.set_xticks(positions, labels)
    axes.set_xlim(-0.5, len(labels) - 0.5)
    axes.set_ylim(scale[0] - 0.2, scale[1] + 0.2)
    axes.set_title(title, fontsize=9)
    axes.grid(axis="y", alpha=0.3)
    axes.tick_params(labelsize=7)


def retention_png(table: Sequence[RetentionRow]) -> bytes:
    """Retention at each horizon with 95% intervals: participants and non-participants side by side."""
    figure = _figure(7, 2.6)
    axes = figure.subplots(1, 1)
    labelled: set[str] = set()
    for offset, side, color, name in SIDES:
        for index, row in enumerate(table):
            shown = getattr(row, side)
            if shown.rate is None or shown.low is None or shown.high is None:
                axes.annotate(
                    "not shown", (index + offset, 0.05), ha="center", fontsize=6, color=GREY, rotation=90
                )
                continue
            error = [[shown.rate - shown.low], [shown.high - shown.rate]]
            label = None if name in labelled else name
            axes.errorbar(
                index + offset, shown.rate, yerr=error, fmt="o", color=color, capsize=4, label=label
            )
            labelled.add(name)
    axes.set_xticks(range(len(table)), [f"{row.months} months" for row in table])
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("Still employed", fontsize=8)
    axes.yaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
    axes.grid(axis="y", alpha=0.3)
    axes.tick_params(labelsize=7)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=7, loc="lower left")
    return _png(figure)
