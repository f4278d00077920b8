"""The vocabulary and limits of a session reflection: formats, topics, competency levels."""

from __future__ import annotations

from datetime import date

from storage.repositories.reflections import CONFIRMED as CONFIRMED
from storage.repositories.reflections import DISPUTED as DISPUTED
from storage.repositories.reflections import PENDING as PENDING

FORMATS: dict[str, str] = {
    "in_person": "In person",
    "video": "Video",
    "shadowing": "Shadowing",
    "case_review": "Case review",
    "other": "Other",
}

TOPICS: dict[str, str] = {
    "clinical-reasoning": "Clinical reasoning",
    "documentation-ehr": "Documentation and EHR",
    "institutional-communication": "Institutional communication",
    "cultural-fluency": "Cultural fluency",
    "ethics": "Ethics",
    "wellbeing": "Wellbeing",
    "career": "Career",
}

# In order of progression; "demonstrated" counts only with a confirmed session behind it.
LEVELS: dict[str, str] = {
    "not_yet": "not yet",
    "developing": "developing",
    "demonstrated": "demonstrated",
}

# Digest consent for "what I learned": private, anonymous, or with the author's name.
SHARING: dict[str, str] = {
    "private": "Keep it private",
    "anonymous": "Share it in the program digest, anonymously",
    "named": "Share it in the program digest with my name",
}

MIN_MINUTES = 5
MAX_MINUTES = 480
MAX_AGE_DAYS = 60
MAX_TEXT = 3000  # Slack's own limit for a plain_text_input

MENTOR, MENTEE = "mentor", "mentee"
STATUSES = (PENDING, CONFIRMED, DISPUTED)


ACRONYMS = frozenset({"ehr", "emr", "cme", "icu", "sbar", "img"})  # "or" and "ed" are words too


def competency_label(slug: str) -> str:
    """`ehr-documentation` -> `EHR documentation`: readable without a second list in programs.yml."""
    words = [w.upper() if w in ACRONYMS else w for w in slug.replace("_", "-").split("-") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def short_day(day: date, *, today: date | None = None) -> str:
    """`Thu 3 Dec`, with the year added when it is not the current one."""
    text = f"{day:%a} {day.day} {day:%b}"
    if today is not None and day.year != today.year:
        text += f" {day.year}"
    return text


def hours_text(minutes: int) -> str:
    """45 -> `0.75 h`, 90 -> `1.5 h`."""
    hours = round(minutes / 60, 2)
    return f"{hours:g} h"
