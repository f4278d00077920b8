"""The trend chart's alt text: what the picture shows, in words, for screen readers and text-only clients.

It states only what the chart itself shows (the program means of shown weeks, how many weeks are
hidden), so it discloses nothing the picture does not.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.digests.blocks import SCALES, TITLES, day
from bot.digests.content import Digest
from bot.kernel.text import plural

MAX_ALT_TEXT = 1000  # Slack's limit for a file's alt_txt


def chart_alt_text(digest: Digest) -> str:
    """E.g. "IMG cohort, 8 weeks to Mon 2 Nov: weekly wellbeing (1–5) 3.1 to 3.8, rising; weekly
    psychological safety (1–7) 5.0 to 4.6, falling. 2 weeks hidden to keep answers anonymous (averages
    need 5 answers)."
    """
    weeks = len(digest.weeks)
    parts = [f"{_metric_name(metric)} {_movement(digest.trend(metric))}" for metric in ("wellbeing", "psych")]
    hidden = max(sum(digest.hidden(metric)) for metric in ("wellbeing", "psych"))
    k = digest.program.privacy.min_group_size
    text = f"{digest.program.name}, {weeks} weeks to {day(digest.week)}: " + "; ".join(parts) + "."
    if hidden:
        text += f" {plural(hidden, 'week')} hidden to keep answers anonymous (averages need {k} answers)."
    return text[:MAX_ALT_TEXT]


def _metric_name(metric: str) -> str:
    low, high = SCALES[metric]
    return f"weekly {TITLES[metric].lower()} ({low}–{high})"


def _movement(values: Sequence[float | None]) -> str:
    """First to last shown mean, and which way it went."""
    shown = [value for value in values if value is not None]
    if not shown:
        return "no week shown"
    if len(shown) == 1:
        return f"one week shown, {shown[0]:.1f}"
    first, last = shown[0], shown[-1]
    way = "rising" if last - first >= 0.1 else "falling" if first - last >= 0.1 else "steady"
    return f"{first:.1f} to {last:.1f}, {way}"
