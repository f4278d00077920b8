"""Reading a roster CSV (`mentor,mentee[,focus]`, Slack ids or emails): every malformed line named, or
rows ready to import. Pure: no database, no Slack."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.kernel.csv_lines import CsvUnreadable, csv_lines

COLUMNS = ("mentor", "mentee", "focus")
REQUIRED = ("mentor", "mentee")
MAX_FOCUS = 200
MAX_ROWS = 20_000
_EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^<>]*)?>")


class RosterRejected(Exception):
    """The file has problems; `problems` holds one `line N: reason` each. Nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


@dataclass(frozen=True)
class Row:
    line: int
    mentor: str  # a user id or a lower-cased email
    mentee: str
    focus: str | None


def person_token(value: str) -> str | None:
    """A Slack user id (bare or as a mention) or a lower-cased email; None when it is neither."""
    value = value.strip()
    if match := _MENTION.fullmatch(value):
        return match[1]
    if _USER_ID.fullmatch(value):
        return value
    if _EMAIL.fullmatch(value):
        return value.lower()
    return None


def read_roster(path: Path) -> list[Row]:
    """Parse the CSV; raise RosterRejected naming every malformed line."""
    try:
        lines = csv_lines(path)
    except CsvUnreadable as exc:
        raise RosterRejected([str(exc)]) from None
    if not lines:
        raise RosterRejected([f"{path}: is empty; expected a header row mentor,mentee[,focus]"])
    header_line, header = lines[0]
    columns = _columns(header_line, header)
    if len(lines) - 1 > MAX_ROWS:
        raise RosterRejected(
            [f"{path}: has {len(lines) - 1} rows; split it into files of {MAX_ROWS} or fewer"]
        )
    rows, problems = [], []
    for number, cells in lines[1:]:
        row = _row(number, cells, columns)
        if isinstance(row, str):
            problems.append(row)
        else:
            rows.append(row)
    if problems:
        raise RosterRejected(problems)
    return rows


def _columns(line: int, header: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in header]
    usage = "the first row must name the columns: mentor,mentee and optionally focus"
    unknown = [name for name in names if name not in COLUMNS]
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if unknown or repeated or not set(REQUIRED) <= set(names):
        found = ", ".join(f"'{name}'" for name in (unknown or repeated)) or "no mentor and mentee columns"
        raise RosterRejected([f"line {line}: {usage} (found {found})"])
    return names


def _row(line: int, cells: list[str], columns: list[str]) -> Row | str:
    if len(cells) > len(columns):
        return f"line {line}: {len(cells)} values but the header names {len(columns)} columns"
    values = dict(zip(columns, (cell.strip() for cell in cells), strict=False))
    people: dict[str, str] = {}
    for column in REQUIRED:
        raw = values.get(column, "")
        token = person_token(raw) if raw else None
        if not raw:
            return f"line {line}: {column} is empty"
        if token is None:
            return (
                f"line {line}: {column} '{raw[:60]}' is neither a Slack user id (like U0123ABCD) nor an email"
            )
        people[column] = token
    focus = values.get("focus") or None
    if focus is not None and len(focus) > MAX_FOCUS:
        return f"line {line}: focus is {len(focus)} characters; keep it to {MAX_FOCUS} or fewer"
    return Row(line, people["mentor"], people["mentee"], focus)
