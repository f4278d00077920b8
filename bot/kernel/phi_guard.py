"""Spot likely patient identifiers in free text before it is stored.

A concern or reply is refused (with a field error) when it matches one of these patterns. The
error names the kind of identifier found ("This looks like a phone number (…)"), so the sender
knows what to remove. The patterns are deliberately a little eager — a false alarm costs the sender
one edit, a missed identifier puts a patient's data into a staff-wellbeing tool — but each one needs
an identifier-shaped context, so ordinary clinical prose passes.

Before matching, the text is normalised (see `normalise`) so that look-alike characters cannot
slip an identifier past the patterns: Unicode NFKC (superscript, fullwidth and other digits become
ASCII), invisible characters removed (zero-width spaces and joiners, word joiner, BOM, soft hyphen,
combining marks), every dash and minus sign becomes "-", every whitespace run becomes one space,
and spaces around a dot, slash or dash between two digits are dropped ("555 / 123 / 4567").

Patterns, in the order they are tried (kind — flagged — passes):

- email address — `name@host.tld`, `x(at)host`, `x [at] host.org`, `x at host dot org` —
  "@channel" mentions, "we met at 7:30".
- SSN-like number — 3-2-4 digits: `123-45-6789`, `123 45 6789` — "2-3 times".
- medical record number — "MRN" or "medical record (number)" and 4–10 digits (separators allowed:
  "MRN 123 4567"); record / chart / patient id / hospital / account (number) and 6–10 digits:
  "MRN 1234567", "record no. 00123456" — "record 3 cases", "chart 2024".
- date of birth — "DOB", "D.O.B.", "date of birth", "birthdate", "born on" followed by a date
  (even without a year; `DOB 1961/04/03`, `DOB 03 04 1961`) — "born in 1990".
- full date — day, month and year together: `03/04/1961`, `1961-04-03`, `1961/04/03`,
  `3 April 1961`, `April 3, 1961` (any full date can date a patient encounter) — "in 2024",
  "on 3/4", "April 2024", "the 2023-2024 rota".
- phone number — 10 digits with optional +1 and separators: `(555) 123-4567`, `555.123.4567`,
  `555/123/4567`, `+1 555 123 4567`; international `+44 20 7946 0958`; UK national `07700 900123`,
  `020 7946 0958`; local `555-1234` — "5 mg", "250mg twice daily", "at 3 pm", "120/80".
- room or bed number — room / rm / bed / bay / cubicle followed by a number: "room 12B", "bed 4",
  "rm. 302", also "Room 4 at 7:30" — "room for improvement", "bedside manner", "bed rest",
  ward names such as "Ward 5B".
- patient name — "patient" or "pt." followed by a capitalised name ("patient John", "pt. Smith",
  "the patient, Maria Lopez", "patient: John Smith"); an honorific (Mr/Mrs/Ms/Miss/Mx, or MR/MRS/
  MS/MX in capitals) and a surname ("Mrs Jones", "MR SMITH") — "patient safety", "the patient
  was", "the Patient Safety team", "Dr. Smith" (colleagues are not patients), "MS Teams",
  "MR imaging", and an honorific name that is plainly a staff member ("Mr Brown from pharmacy",
  "Ms Lee, our ward manager").
- ID-like number — any other run of 7 or more digits — "2 weeks", "1,000 steps".

The text is never logged; the matched words are only echoed back to the sender's own modal.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# --- normalisation ---------------------------------------------------------------------------

# Invisible characters that are not category Cf but still render as nothing (Hangul fillers,
# Khmer inherent vowels); Cf (zero-width space/joiners, word joiner, BOM, soft hyphen, bidi marks)
# and combining marks are caught by category below.
_INVISIBLE = frozenset("\u115f\u1160\u17b4\u17b5\u3164\uffa0")
# Minus signs live outside the dash-punctuation category (Pd) but read as a dash between digits.
_DASH_LIKE = frozenset("\u2212\u2043\u02d7\u2796\ufe63")
_SLASH_LIKE = frozenset("\u2044\u2215\u29f8")
_DOT_LIKE = frozenset("\u00b7\u2022\u2027\u2219\u30fb")
_WHITESPACE = re.compile(r"\s+")
# "555 - 123 - 4567" and "1961 / 04 / 03" should look like the unspaced forms to the rules below.
# A dot needs a space on both sides: "on day 3. 45 staff" is the end of a sentence, not a number.
_SPACED_SEPARATOR = re.compile(r"(?<=\d)(?: ?([/-]) ?| (\.) )(?=\d)")


@lru_cache(maxsize=4096)
def _fold(char: str) -> str:
    """One character after NFKC, mapped to what the patterns expect ("" for invisible ones)."""
    category = unicodedata.category(char)
    if category in ("Cf", "Mn", "Me") or char in _INVISIBLE:
        return ""
    if category == "Pd" or char in _DASH_LIKE:
        return "-"
    if category == "Nd":
        # Arabic-Indic, Devanagari… digits survive NFKC; as ASCII they read the same to every rule
        # (including any later `[0-9]`) and in the match echoed back to the sender.
        return str(unicodedata.digit(char))
    if char in _SLASH_LIKE:
        return "/"
    return "." if char in _DOT_LIKE else char


def normalise(text: str) -> str:
    """`text` as the patterns see it: look-alike digits, dashes and separators unified.

    Only used for matching; the caller still stores (or refuses) exactly what was typed.
    """
    folded = "".join(_fold(char) for char in unicodedata.normalize("NFKC", text))
    spaced = _WHITESPACE.sub(" ", folded)
    return _SPACED_SEPARATOR.sub(lambda found: found.group(1) or found.group(2), spaced)


# --- building blocks ---------------------------------------------------------------------------

_SEP = r"[ ./-]"  # after normalisation every digit separator is one of these
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_NUMERIC_DATE = r"\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})\b"
_ISO_DATE = r"\d{4}[/.-]\d{1,2}[/.-]\d{1,2}\b"
_DAY_MONTH_YEAR = rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\s*,?\s+\d{{4}}\b"
_MONTH_DAY_YEAR = rf"{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?\s*,?\s+\d{{4}}\b"
_FULL_DATE = rf"(?:{_ISO_DATE}|{_NUMERIC_DATE}|{_DAY_MONTH_YEAR}|{_MONTH_DAY_YEAR})"
# After a DOB cue even "03 04 1961" is a date; without one, space-separated numbers are too common.
_SPACED_DATE = r"\d{1,2} \d{1,2} (?:\d{4}|\d{2})\b|\d{4} \d{1,2} \d{1,2}\b"
_ANY_DATE = (
    rf"(?:{_FULL_DATE}|{_SPACED_DATE}|\d{{1,2}}[/.-]\d{{1,2}}\b|{_MONTHS}\s+\d{{1,2}}\b"
    rf"|\d{{1,2}}\s+{_MONTHS})"
)

# Words that commonly follow "Patient" as a department or process name rather than a person.
_NOT_NAMES = (
    "Safety|Care|Experience|Relations|Services|Advocate|Advocacy|Advocates|Portal|Transport|Flow|"
    "Access|Rights|Education|Family|Families|Centered|Centred|First|Satisfaction|Room|Rooms|Ward|"
    "Logistics|Placement|Liaison|Information|Records|Record"
)
_NAME = r"(?:O['’])?[A-Z][a-z]+(?:['’-][A-Za-z]+)?"
_CAPS_NAME = r"[A-Z]{2,}(?:['’-][A-Z]+)?"

# --- honorific + surname -----------------------------------------------------------------------

# "MS" is also multiple sclerosis and Microsoft, "MR" mitral regurgitation and magnetic resonance;
# these are the words that follow them in ordinary text (matched in any case).
_NOT_SURNAMES = (
    "teams?|word|excel|office|outlook|access|paint|edge|windows|dos|sql|forms|"
    "scan|scans|scanner|scanning|imaging|images?|mri|mra|angio\\w*|spectroscopy|contrast|physics|"
    "sequences?|safety|severe|moderate|mild|trace|grade|jet|murmur|repair|relaps\\w*|lesions?|"
    "clinic|nurses?|nursing|service|society|team|unit|patients?|diagnosis|treatment|specialist|"
    "degree|awareness"
)
# An all-capitals "surname" after MR/MS is only plausible when it is not an everyday word.
_CAPS_STOPWORDS = (
    "A|AN|AND|ARE|AS|AT|BE|BUT|BY|DID|DO|FOR|FROM|HAD|HAS|HAVE|HE|HER|HIS|IF|IN|IS|IT|ITS|ME|MY|"
    "NO|NOT|OF|ON|OR|OUR|SHE|SO|THAT|THE|THEIR|THEM|THEN|THERE|THEY|THIS|TO|US|WAS|WE|WERE|WHEN|"
    "WHO|WILL|WITH|YOU"
)
# A staff member's name is not patient data. The honorific rule stays eager ("Mr Brown asked
# twice" is flagged: in a concern an unexplained Mr/Mrs is most often a patient), but a name that
# the same sentence plainly marks as staff — "from pharmacy", ", our ward manager", "(the
# consultant)" — passes. Roles that a patient or relative could also hold (resident, student,
# sister, fellow) are left out on purpose, as are clinical departments a patient comes "from".
_STAFF_ROLES = (
    "consultants?|registrars?|surgeons?|pharmacists?|nurses?|matrons?|midwi(?:fe|ves)|physios?|"
    "physiotherapists?|therapists?|managers?|supervisors?|mentors?|co-?ordinators?|directors?|"
    "educators?|tutors?|porters?|secretar(?:y|ies)|receptionists?|administrators?|clerks?|"
    "colleagues?|attendings?|chaplains?|technicians?|radiographers?|an(?:a)?esthetists?|"
    "dietitians?|healthcare assistants?|HCAs?|doctors?|pharmacy technicians?"
)
_STAFF_DEPARTMENTS = (
    "pharmacy|(?-i:HR|IT)|human resources|estates|finance|payroll|admin|administration|management|"
    "medical education|education|deanery|rota|rostering|security|catering|occupational health|"
    "switchboard|procurement|governance|legal|facilities|housekeeping|portering"
)
_STAFF_CONTEXT = (
    rf"(?i:,?\s+(?:from|in|of)\s+(?:the\s+)?(?:{_STAFF_DEPARTMENTS})\b"
    rf"|,?\s+\(?(?:(?:the|our|my|a|an|his|her|their)\s+(?:[\w-]+\s+){{0,2}})?(?:{_STAFF_ROLES})\b)"
)
# "MISS" in capitals is far more often the verb ("DON'T MISS HANDOVER") than an honorific.
_HONORIFIC = r"(?:Mrs|MRS|Mr|MR|Ms|MS|Mx|MX|Miss)\.?"
_SURNAME = rf"(?:{_NAME}|(?!(?:{_CAPS_STOPWORDS})\b){_CAPS_NAME})"
# Atomic group: the lookahead must judge the whole name, not a shorter backtracked prefix of it.
_HONORIFIC_NAME = (
    rf"\b{_HONORIFIC}\s+(?!(?i:{_NOT_SURNAMES})\b)(?>{_SURNAME}(?:\s+{_NAME})?)(?!{_STAFF_CONTEXT})"
)
_PATIENT_NAME = (
    rf"\b(?:[Pp]atient|PATIENT|[Pp]t\.?)(?:\s*[,:]\s*|\s+)(?:(?:named|called)\s+)?"
    rf"(?!(?:{_NOT_NAMES})\b){_NAME}(?:\s+{_NAME})?"
)

# --- other identifiers -------------------------------------------------------------------------

_BRACKETED = r"\s*[(\[{{<]\s*{word}\s*[)\]}}>]\s*"
_AT = rf"(?:{_BRACKETED.format(word='(?i:at)')})"
_DOT = rf"(?:{_BRACKETED.format(word='(?i:dot)')}|\s+(?i:dot)\s+|\.)"
_TLD = r"(?:com|org|net|edu|gov|mil|int|io|info|nhs|uk|us|ca|au|ie|de|fr|co|ac|me)\b"
# The local part is taken whole and never given back (possessive, and only from the start of a
# run), so a long run of "1-1-1-…" costs one pass instead of one pass per character.
_EMAIL = (
    r"(?<![\w.+-])[\w.+-]++(?:@[\w-]+(?:\.[\w-]+)+\b"
    rf"|{_AT}[\w-]+(?:{_DOT}[\w-]+)*\b"
    rf"|\s+(?i:at)\s+[\w-]+(?:{_DOT}[\w-]+)*{_DOT}{_TLD})"
)
_PHONE = (
    rf"(?<![\w+])(?:\+?1{_SEP}?)?(?:\(\d{{3}}\)|\d{{3}}){_SEP}?\d{{3}}{_SEP}?\d{{4}}\b"
    rf"|(?<![\w+])\+\d{{1,3}}(?:{_SEP}?\d{{1,4}}){{2,5}}\b"
    # UK national numbers: a leading 0, at least 10 digits in all, grouped as people write them
    # ("07700 900123", "020 7946 0958"), so a list of small numbers ("05 10 15 20 25") passes.
    rf"|(?<![\w+.])(?=0(?:{_SEP}?\d){{9}})0\d{{2,4}}(?:{_SEP}?\d{{3,4}}){{1,2}}(?!\d)"
    r"|\b\d{3}[-.]\d{4}\b"
)
_MRN = (
    rf"\b(?:M\.?R\.?N\b\.?|MR\s?#|medical\s+record(?:\s+(?:number|no\.?|#))?)\s*(?:is|was|of)?\s*[:#]?"
    rf"\s*\d(?:{_SEP}?\d){{3,9}}\b"
    # Without an explicit MRN cue only an unbroken number counts: "hospital 2023-24" is a year.
    r"|\b(?:record|chart|patient\s+id|pt\.?\s+id|hospital|account|acct\.?)\s*(?:number|no\.?|#|id)?"
    r"\s*(?:is|was|of)?\s*[:#]?\s*\d{6,10}\b"
)
_DOB = rf"\b(?:DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s?date|born\s+on)\s*[:\-]?\s*(?:the\s+)?{_ANY_DATE}"

PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("an email address", re.compile(_EMAIL)),
    ("an SSN-like number", re.compile(rf"\b\d{{3}}{_SEP}\d{{2}}{_SEP}\d{{4}}\b")),
    ("a medical record number", re.compile(_MRN, re.IGNORECASE)),
    ("a date of birth", re.compile(_DOB, re.IGNORECASE)),
    ("a full date (day, month and year)", re.compile(rf"\b{_FULL_DATE}", re.IGNORECASE)),
    ("a phone number", re.compile(_PHONE)),
    (
        "a room or bed number",
        re.compile(r"\b(?:room|rm\.?|bed|bay|cubicle)\s*(?:no\.?|number|#)?\s*\d+[A-Za-z]?\b", re.IGNORECASE),
    ),
    ("a patient's name", re.compile(rf"{_PATIENT_NAME}|{_HONORIFIC_NAME}")),
    ("an ID-like number", re.compile(r"(?<![\d,.])\d{7,}(?![\d,])")),
]

MAX_SHOWN = 40


@dataclass(frozen=True)
class PhiFinding:
    """What looks like a patient identifier, and the matched words (for the sender's own modal only).

    `kind` is a short noun phrase ("a phone number", "a medical record number", …) that reads
    after "This looks like"; `match` is the matched text after normalisation.
    """

    kind: str
    match: str

    def message(self) -> str:
        """The field error shown to the person who typed the text; never logged or stored."""
        shown = self.match if len(self.match) <= MAX_SHOWN else self.match[: MAX_SHOWN - 1] + "…"
        return f"This looks like {self.kind} (“{shown}”). Please remove patient identifiers and submit again."


def find_phi(text: str) -> PhiFinding | None:
    """The first likely patient identifier in `text`, or None when it looks clean."""
    normalised = normalise(text)
    for kind, pattern in PATTERNS:
        found = pattern.search(normalised)
        if found:
            return PhiFinding(kind=kind, match=found.group(0).strip())
    return None


def phi_kind(text: str) -> str | None:
    """Which kind of identifier `text` seems to contain ("a phone number", …), or None."""
    finding = find_phi(text)
    return finding.kind if finding is not None else None
