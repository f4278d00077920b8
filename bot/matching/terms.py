"""Matching's vocabulary, defined once: roles, availability, ranking places and how answers are compared."""

from __future__ import annotations

import re

ROLES = ("mentee", "mentor", "both")
ROLE_LABELS = {"mentee": "Mentee", "mentor": "Mentor", "both": "Both: mentor and mentee"}
FORMATS = {"in-person": "In person", "video": "Video"}
TIMES = {
    "early": "Early mornings",
    "daytime": "During the day",
    "evening": "Evenings",
    "weekend": "Weekends",
}
MAX_RANKS = 3  # mentors a mentee may rank
MAX_AVOID = 10  # people on one avoid list
MAX_LANGUAGES = 10
MAX_TEXT = 80  # specialty, department, where trained
ORDINALS = ("first", "second", "third")

_SPACES = re.compile(r"\s+")


def tidy(text: str) -> str:
    """What someone typed, trimmed and with runs of spaces made one, as it is stored and shown."""
    return _SPACES.sub(" ", text).strip()


def norm(text: str) -> str:
    """How two answers are compared: "Internal  medicine" and "internal medicine" are the same."""
    return tidy(text).casefold()


def split_list(text: str) -> list[str]:
    """ "Portuguese, English; French" -> ["Portuguese", "English", "French"], repeats dropped."""
    seen: dict[str, str] = {}
    for part in re.split(r"[,;\n]", text):
        item = tidy(part)
        if item and norm(item) not in seen:
            seen[norm(item)] = item
    return list(seen.values())


def rank_word(position: int) -> str:
    return ORDINALS[position - 1] if 1 <= position <= len(ORDINALS) else f"number {position}"
