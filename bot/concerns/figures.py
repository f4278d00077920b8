"""Response times for the digest and reports, in whole days from the Monday of the arrival week (never
from an arrival instant, which is not stored: coarse on purpose).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable

from storage.models import Concern


def days_to_first_reply(concern: Concern) -> int | None:
    """Days from the Monday of the arrival week to the first coordinator reply."""
    return None if concern.first_reply_on is None else (concern.first_reply_on - concern.week).days


def days_to_resolution(concern: Concern) -> int | None:
    """Days from the Monday of the arrival week to resolution (or the sender's closing week)."""
    return None if concern.resolved_on is None else (concern.resolved_on - concern.week).days


def median_days(values: Iterable[int | None]) -> float | None:
    """Median of the known values; None when there are none."""
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None
