"""Patient experience by unit (`mentorbot report ... --patient-experience FILE.csv`), set beside
participation at unit level only.

The file holds unit-level scores per quarter from an outside survey (HCAHPS "communication with
doctors", say): `unit,quarter,score,respondents[,participants]`. Quarters are written `2026Q3` or
`2026-Q3`. The bot knows no one's unit (people carry none, and the HR roster snapshot has no unit
column), so participation per unit comes from the file's optional `participants` column — mentees in a
pair working on that unit in that quarter, as the coordinator counts them — and the program's own head
count per quarter is shown beside it. Nothing is joined at person level. The comparison is an
association across units, never an effect of mentoring: units differ in case mix, staffing and
survey response.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from bot.kernel.csv_lines import CsvUnreadable, csv_lines

COLUMNS = ("unit", "quarter", "score", "respondents", "participants")
REQUIRED = COLUMNS[:4]
MAX_ROWS = 5000
MAX_UNIT = 80
MIN_FOR_ASSOCIATION = 5  # unit-quarters with participation before a rank correlation means anything


class PatientExperienceRejected(ValueError):
    """One line for the operator: file, line, column and reason."""


@dataclass(frozen=True)
class UnitScore:
    unit: str
    quarter: str  # 2026-Q3, as the report labels quarters
    score: float
    respondents: int
    participants: int | None  # None: the file gave none for this row


def read_patient_experience(path: Path) -> list[UnitScore]:
    """Parse the file; raise PatientExperienceRejected at the first problem, naming where it is."""
    lines = _lines(path)
    if not lines:
        raise PatientExperienceRejected(
            f"{path}: line 1: the file is empty; expected a header unit,quarter,..."
        )
    number, header = lines[0]
    columns = [cell.strip().lower() for cell in header]
    for name in columns:
        if name not in COLUMNS or columns.count(name) > 1:
            why = "is repeated" if name in COLUMNS else f"is not one of {', '.join(COLUMNS)}"
            raise PatientExperienceRejected(f"{path}: line {number}, column '{name[:40]}': {why}")
    for name in REQUIRED:
        if name not in columns:
            raise PatientExperienceRejected(
                f"{path}: line {number}, column '{name}': missing from the header"
            )
    if len(lines) - 1 > MAX_ROWS:
        raise PatientExperienceRejected(f"{path}: line {lines[-1][0]}: more than {MAX_ROWS} rows")
    rows = [_row(path, line, cells, columns) for line, cells in lines[1:]]
    _no_repeats(path, rows, [line for line, _ in lines[1:]])
    return rows


def _lines(path: Path) -> list[tuple[int, list[str]]]:
    try:
        return csv_lines(path)
    except CsvUnreadable as exc:
        raise PatientExperienceRejected(str(exc)) from None


def _row(path: Path, line: int, cells: list[str], columns: list[str]) -> UnitScore:
    def bad(column: str, reason: str) -> PatientExperienceRejected:
        return PatientExperienceRejected(f"{path}: line {line}, column '{column}': {reason}")

    if len(cells) > len(columns):
        raise bad(columns[-1], f"{len(cells)} values but the header names {len(columns)} columns")
    values = dict(zip(columns, (cell.strip() for cell in cells), strict=False))
    unit = values.get("unit", "")
    if not unit or len(unit) > MAX_UNIT:
        raise bad("unit", f"must be a unit name of 1 to {MAX_UNIT} characters")
    quarter = _quarter(values.get("quarter", ""))
    if quarter is None:
        raise bad("quarter", f"'{values.get('quarter', '')[:20]}' is not a quarter like 2026Q3")
    score = _number(values.get("score", ""))
    if score is None:
        raise bad("score", f"'{values.get('score', '')[:20]}' is not a number")
    respondents = _count(values.get("respondents", ""))
    if respondents is None or respondents == 0:
        raise bad("respondents", f"'{values.get('respondents', '')[:20]}' is not a whole number above 0")
    raw = values.get("participants", "")
    participants = _count(raw) if raw else None
    if raw and participants is None:
        raise bad("participants", f"'{raw[:20]}' is not a whole number (or leave it empty)")
    return UnitScore(unit, quarter, score, respondents, participants)


def _quarter(text: str) -> str | None:
    compact = text.upper().replace("-", "")
    if len(compact) != 6 or not compact[:4].isdigit() or compact[4] != "Q" or compact[5] not in "1234":
        return None
    return f"{compact[:4]}-Q{compact[5]}"


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _count(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _no_repeats(path: Path, rows: list[UnitScore], lines: list[int]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for row, line in zip(rows, lines, strict=True):
        key = (row.unit.casefold(), row.quarter)
        if key in seen:
            raise PatientExperienceRejected(
                f"{path}: line {line}, column 'unit': {row.unit} {row.quarter} is also on line {seen[key]}"
            )
        seen[key] = line


@dataclass(frozen=True)
class PatientExperience:
    source: str  # the file's name
    rows: list[UnitScore]  # the report's quarters only, by quarter then unit
    left_out: int  # rows for quarters outside the report
    rho: float | None  # Spearman's rank correlation, participants vs score, across unit-quarters
    pairs_compared: int


def patient_experience(source: str, rows: list[UnitScore], *, quarters: list[str]) -> PatientExperience:
    """The rows of the report's quarters and, with enough of them, the rank association."""
    kept = sorted((r for r in rows if r.quarter in quarters), key=lambda r: (r.quarter, r.unit.casefold()))
    known = [r for r in kept if r.participants is not None]
    rho = None
    if len(known) >= MIN_FOR_ASSOCIATION and len({r.participants for r in known}) > 1:
        from scipy.stats import spearmanr  # heavy import: only when asked for

        value = float(spearmanr([r.participants for r in known], [r.score for r in known]).statistic)
        rho = value if math.isfinite(value) else None
    return PatientExperience(source, kept, len(rows) - len(kept), rho, len(known))


def association_text(found: PatientExperience) -> str:
    """The rank association in words, always labelled for what it is."""
    note = f" {found.left_out} rows for quarters outside the report were left out." if found.left_out else ""
    if found.rho is None:
        return (
            f"Association, not effect: not computed ({found.pairs_compared} unit-quarters give "
            f"participation; {MIN_FOR_ASSOCIATION} with differing counts are needed).{note}"
        )
    return (
        f"Association, not effect: Spearman's rank correlation between participants and score across "
        f"{found.pairs_compared} unit-quarters is {found.rho:+.2f}.{note}"
    )
