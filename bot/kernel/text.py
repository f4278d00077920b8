"""Words every surface shares, defined once: plurals, day labels and mrkdwn escaping."""

from __future__ import annotations

from datetime import date


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """`1 pair`, `3 pairs`; irregular plurals are passed in (`plural(2, "person", "people")`)."""
    return f"{n} {noun}" if n == 1 else f"{n} {nouns or noun + 's'}"


def day_text(day: date) -> str:
    """`26 November 2026` (for a datetime: in whatever zone it carries)."""
    return f"{day.day} {day:%B %Y}"


def day_label(day: date) -> str:
    """`Thu 26 Nov`: a day in a list or a button, where the year is obvious."""
    return f"{day:%a} {day.day} {day:%b}"


def escape(text: str) -> str:
    """Slack mrkdwn control characters, so people's words stay words (mentions and links stay inert)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
