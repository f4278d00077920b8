"""Spot likely patient identifiers in free text before it is stored.

A concern or reply is refused (with a field error) when it matches one of these patterns.
They are deliberately a little eager — a false alarm costs the sender one edit, a missed
identifier puts a patient's data into a staff-wellbeing tool — but each one needs an
identifier-shaped context, so ordinary clinical prose passes.

Patterns, in the order they are tried (kind — flagged — passes):

- email address — `name@host.tld` — "@channel" mentions.
- SSN-like number — 3-2-4 digits: `123-45-6789`, `123 45 6789` — "2-3 times".
- medical record number — "MRN" or "medical record (number)" and 4–10 digits; record / chart /
  patient id / hospital / account (number) and 6–10 digits: "MRN 1234567", "record no. 00123456"
  — "record 3 cases", "chart 2024".
- date of birth — "DOB", "D.O.B.", "date of birth", "birthdate", "born on" followed by a date
  (even without a year) — "born in 1990".
- full date — day, month and year together: `03/04/1961`, `1961-04-03`, `3 April 1961`,
  `April 3, 1961` (any full date can date a patient encounter) — "in 2024", "on 3/4", "April 2024".
- phone number — 10 digits with optional +1 and separators: `(555) 123-4567`, `555.123.4567`,
  `+1 555 123 4567`; international `+44 20 7946 0958`; local `555-1234` — "5 mg",
  "250mg twice daily", "at 3 pm", "120/80".
- room or bed number — room / rm / bed / bay / cubicle followed by a number: "room 12B", "bed 4",
  "rm. 302" — "room for improvement", "bedside manner", "bed rest", ward names such as "Ward 5B".
- patient name — "patient" or "pt." followed by a capitalised name ("patient John", "pt. Smith",
  "the patient, Maria Lopez"); Mr/Mrs/Ms/Miss/Mx and a capitalised name — "patient safety",
  "the patient was", "the Patient Safety team", "Dr. Smith" (colleagues are not patients).
- ID-like number — any other run of 7 or more digits — "2 weeks", "1,000 steps".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_NUMERIC_DATE = r"\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})\b"
_ISO_DATE = r"\d{4}-\d{1,2}-\d{1,2}\b"
_DAY_MONTH_YEAR = rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\s*,?\s+\d{{4}}\b"
_MONTH_DAY_YEAR = rf"{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?\s*,?\s+\d{{4}}\b"
_FULL_DATE = rf"(?:{_ISO_DATE}|{_NUMERIC_DATE}|{_DAY_MONTH_YEAR}|{_MONTH_DAY_YEAR})"
_ANY_DATE = rf"(?:{_FULL_DATE}|\d{{1,2}}[/.-]\d{{1,2}}\b|{_MONTHS}\s+\d{{1,2}}\b|\d{{1,2}}\s+{_MONTHS})"

# Words that commonly follow "Patient" as a department or process name rather than a person.
_NOT_NAMES = (
    "Safety|Care|Experience|Relations|Services|Advocate|Advocacy|Advocates|Portal|Transport|Flow|"
    "Access|Rights|Education|Family|Families|Centered|Centred|First|Satisfaction|Room|Rooms|Ward|"
    "Logistics|Placement|Liaison|Information|Records|Record"
)
_NAME = r"[A-Z][a-z]+(?:['’-][A-Za-z]+)?"

PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("an email address", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("an SSN-like number", re.compile(r"\b\d{3}[-\s]\d{2}[-\s]\d{4}\b")),
    (
        "a medical record number",
        re.compile(
            r"\b(?:MRN|MR\s?#|medical\s+record(?:\s+(?:number|no\.?|#))?)\s*(?:is|was|of)?\s*[:#]?\s*\d{4,10}\b"
            r"|\b(?:record|chart|patient\s+id|pt\.?\s+id|hospital|account|acct\.?)\s*(?:number|no\.?|#|id)?"
            r"\s*(?:is|was|of)?\s*[:#]?\s*\d{6,10}\b",
            re.IGNORECASE,
        ),
    ),
    (
        "a date of birth",
        re.compile(
            rf"\b(?:DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s?date|born\s+on)\s*[:\-]?\s*(?:the\s+)?{_ANY_DATE}",
            re.IGNORECASE,
        ),
    ),
    ("a full date (day, month and year)", re.compile(rf"\b{_FULL_DATE}", re.IGNORECASE)),
    (
        "a phone number",
        re.compile(
            r"(?<![\w+])(?:\+?1[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}\b"
            r"|(?<![\w+])\+\d{1,3}(?:[\s.-]?\d{1,4}){2,5}\b"
            r"|\b\d{3}[-.]\d{4}\b"
        ),
    ),
    (
        "a room or bed number",
        re.compile(r"\b(?:room|rm\.?|bed|bay|cubicle)\s*(?:no\.?|number|#)?\s*\d+[A-Za-z]?\b", re.IGNORECASE),
    ),
    (
        "a patient's name",
        re.compile(
            rf"\b(?:[Pp]atient|PATIENT|[Pp]t\.?)(?:,)?\s+(?:(?:named|called)\s+)?(?!(?:{_NOT_NAMES})\b){_NAME}"
            rf"|\b(?:Mr|Mrs|Ms|Miss|Mx)\.?\s+{_NAME}"
        ),
    ),
    ("an ID-like number", re.compile(r"(?<![\d,.])\d{7,}(?![\d,])")),
]

MAX_SHOWN = 40


@dataclass(frozen=True)
class PhiFinding:
    """What looks like a patient identifier, and the matched words (for the sender's own modal only)."""

    kind: str
    match: str

    def message(self) -> str:
        """The field error shown to the person who typed the text; never logged or stored."""
        shown = self.match if len(self.match) <= MAX_SHOWN else self.match[: MAX_SHOWN - 1] + "…"
        return f"This looks like {self.kind} (“{shown}”). Please remove patient identifiers and submit again."


def find_phi(text: str) -> PhiFinding | None:
    """The first likely patient identifier in `text`, or None when it looks clean."""
    for kind, pattern in PATTERNS:
        found = pattern.search(text)
        if found:
            return PhiFinding(kind=kind, match=found.group(0).strip())
    return None
