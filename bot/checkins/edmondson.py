"""Edmondson's (1999) seven-item team psychological safety scale, one item per check-in.

Edmondson, A. (1999). Psychological safety and learning behavior in work teams.
Administrative Science Quarterly, 44(2), 350-383. Items 1, 3 and 5 are negatively worded and
reverse-scored (8 - answer) when aggregated; answers are 1-7 agreement.
"""

from __future__ import annotations

import zlib

ITEMS: dict[int, str] = {
    1: "If you make a mistake on this team, it is often held against you.",
    2: "Members of this team are able to bring up problems and tough issues.",
    3: "People on this team sometimes reject others for being different.",
    4: "It is safe to take a risk on this team.",
    5: "It is difficult to ask other members of this team for help.",
    6: "No one on this team would deliberately act in a way that undermines my efforts.",
    7: "Working with members of this team, my unique skills and talents are valued and utilized.",
}
REVERSED = frozenset({1, 3, 5})
AGREEMENT: dict[int, str] = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Somewhat disagree",
    4: "Neither agree nor disagree",
    5: "Somewhat agree",
    6: "Agree",
    7: "Strongly agree",
}


def scored(item: int, answer: int) -> int:
    """The answer as it counts towards the scale: negatively worded items reverse-scored."""
    if item not in ITEMS or answer not in AGREEMENT:
        raise ValueError(f"item {item} / answer {answer} out of range")
    return 8 - answer if item in REVERSED else answer


def item_for(mentee_id: str, delivered_before: int) -> int:
    """The item for a mentee's next check-in, given how many they have already received.

    Consecutive check-ins walk through all seven items; each mentee starts at a different item so a
    cohort's weekly totals cover the whole scale rather than one question.
    """
    offset = zlib.crc32(mentee_id.encode()) % len(ITEMS)
    return (offset + delivered_before) % len(ITEMS) + 1
