"""The digest's 8-week trend: a PNG chart (matplotlib, Agg) and a text sparkline for when there is none.

Hidden weeks are gaps in both: the chart breaks its line there and the sparkline shows a dot.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes

SPARKS = "▁▂▃▄▅▆▇█"
GAP = "·"


def sparkline(values: Sequence[float | None], *, low: float, high: float) -> str:
    """One character per value on a fixed scale (so weeks compare across digests); GAP when hidden."""
    chars = []
    for value in values:
        if value is None:
            chars.append(GAP)
            continue
        share = (min(max(value, low), high) - low) / (high - low)
        chars.append(SPARKS[min(int(share * len(SPARKS)), len(SPARKS) - 1)])
    return "".join(chars)


def render_trend_png(
    weeks: Sequence[date],
    wellbeing: Sequence[float | None],
    psych: Sequence[float | None],
    *,
    title: str,
    hidden: tuple[Sequence[bool], Sequence[bool]] | None = None,
) -> bytes:
    """Two stacked line charts over the same weeks, hidden weeks left as gaps; returns PNG bytes.

    `hidden` marks, per chart, the gaps that are hidden figures rather than weeks without answers.
    """
    import matplotlib

    # Agg needs no display and is safe off the main thread; chosen here, not at import of the package.
    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 4.2), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True)
    labels = [f"{week:%d %b}" for week in weeks]
    marks = hidden or ([value is None for value in wellbeing], [value is None for value in psych])
    _plot(top, labels, wellbeing, marks[0], "Wellbeing (1–5)", (1, 5), "#2a7ab0")
    _plot(bottom, labels, psych, marks[1], "Psychological safety (1–7)", (1, 7), "#c26a1b")
    figure.suptitle(title, fontsize=11)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _plot(
    axes: Axes,
    labels: list[str],
    values: Sequence[float | None],
    hidden: Sequence[bool],
    name: str,
    scale: tuple[int, int],
    color: str,
) -> None:
    # Numeric x positions: a categorical axis would drop weeks that have no value at all.
    positions = list(range(len(labels)))
    axes.plot(positions, [math.nan if value is None else value for value in values], marker="o", color=color)
    axes.set_xticks(positions, labels)
    axes.set_xlim(-0.5, len(labels) - 0.5)
    axes.set_ylim(scale[0] - 0.2, scale[1] + 0.2)
    axes.set_ylabel(name, fontsize=8)
    axes.grid(axis="y", alpha=0.3)
    for position, is_hidden in zip(positions, hidden, strict=True):
        if is_hidden:
            axes.annotate("hidden", (position, scale[0]), ha="center", fontsize=7, color="grey")
    axes.tick_params(labelsize=8)
