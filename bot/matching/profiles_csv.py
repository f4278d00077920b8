"""Reading a profiles CSV (`mentorbot profiles import`): every malformed line named, or rows ready to import.

Columns (header row, any order): user and role are required; specialty, department, languages,
trained_in, focus, formats, times, capacity, reports_to, avoid and ranked are optional. People (user,
reports_to, avoid, ranked) are Slack user ids or emails; lists are separated by semicolons. Pure: no
database, no Slack.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.kernel.csv_lines import CsvUnreadable, csv_lines
from bot.kernel.programs import MatchingConfig
from bot.matching.terms import (
    FORMATS,
    MAX_AVOID,
    MAX_LANGUAGES,
    MAX_RANKS,
    MAX_TEXT,
    ROLES,
    TIMES,
    norm,
    tidy,
)
from bot.pairs.roster_csv import person_token

REQUIRED = ("user", "role")
COLUMNS = (
    *REQUIRED,
    "specialty",
    "department",
    "languages",
    "trained_in",
    "focus",
    "formats",
    "times",
    "capacity",
    "reports_to",
    "avoid",
    "ranked",
)
MAX_ROWS = 20_000
MAX_CAPACITY = 20
PEOPLE_LISTS = {"avoid": MAX_AVOID, "ranked": MAX_RANKS}


class ProfilesRejected(Exception):
    """The file has problems; `problems` holds one `line N: reason` each. Nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


@dataclass(frozen=True)
class ProfileRow:
    """One line: `user`, `reports_to`, `avoid` and `ranked` hold Slack ids or lower-cased emails."""

    line: int
    user: str
    answers: dict[str, object]  # the profile fields, ready for storage.repositories.matching.save_profile
    reports_to: str | None
    avoid: tuple[str, ...]
    ranked: tuple[str, ...]

    def people(self) -> list[str]:
        """Every person this line names."""
        return [self.user, *([self.reports_to] if self.reports_to else []), *self.avoid, *self.ranked]


def read_profiles(path: Path, *, matching: MatchingConfig) -> list[ProfileRow]:
    """Parse the CSV; raise ProfilesRejected naming every malformed line."""
    lines = _lines(path)
    header_line, header = lines[0]
    columns = _columns(header_line, header)
    if len(lines) - 1 > MAX_ROWS:
        raise ProfilesRejected(
            [f"{path}: has {len(lines) - 1} rows; split it into files of {MAX_ROWS} or fewer"]
        )
    rows, problems = [], []
    for number, cells in lines[1:]:
        row = _row(number, cells, columns, matching)
        if isinstance(row, str):
            problems.append(row)
        else:
            rows.append(row)
    repeated = Counter(row.user for row in rows)
    problems += [
        f"line {row.line}: {row.user} appears on more than one line" for row in rows if repeated[row.user] > 1
    ]
    if problems:
        raise ProfilesRejected(sorted(problems, key=line_number))
    return rows


def line_number(problem: str) -> int:
    match = re.match(r"line (\d+)", problem)
    return int(match[1]) if match else 0


def _lines(path: Path) -> list[tuple[int, list[str]]]:
    try:
        lines = csv_lines(path)
    except CsvUnreadable as exc:
        raise ProfilesRejected([str(exc)]) from None
    if not lines:
        raise ProfilesRejected([f"{path}: is empty; expected a header row starting user,role"])
    return lines


def _columns(line: int, header: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in header]
    unknown = [name for name in names if name not in COLUMNS]
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if unknown or repeated or not set(REQUIRED) <= set(names):
        found = ", ".join(f"'{name}'" for name in (unknown or repeated)) or "no user and role columns"
        usage = f"the first row must name the columns: user,role and any of {', '.join(COLUMNS[2:])}"
        raise ProfilesRejected([f"line {line}: {usage} (found {found})"])
    return names


def _items(value: str) -> list[str]:
    seen: dict[str, str] = {}
    for part in re.split(r"[;,]", value):
        if tidy(part) and norm(part) not in seen:
            seen[norm(part)] = tidy(part)
    return list(seen.values())


def _row(line: int, cells: list[str], columns: list[str], matching: MatchingConfig) -> ProfileRow | str:
    if len(cells) > len(columns):
        return f"line {line}: {len(cells)} values but the header names {len(columns)} columns"
    values = {name: tidy(cell) for name, cell in zip(columns, cells, strict=False)}
    try:
        user = _person(values.get("user", ""), "user", required=True)
        answers = _answers(values, matching)
        reports_to = _person(values.get("reports_to", ""), "reports_to") or None
        lists = {
            name: tuple(_person(item, name) for item in _items(values.get(name, ""))) for name in PEOPLE_LISTS
        }
    except ValueError as exc:
        return f"line {line}: {exc}"
    for name, most in PEOPLE_LISTS.items():
        if len(lists[name]) > most:
            return f"line {line}: {name} names {len(lists[name])} people; at most {most}"
    return ProfileRow(line, user, answers, reports_to, lists["avoid"], lists["ranked"])


def _person(value: str, column: str, *, required: bool = False) -> str:
    if not value:
        if required:
            raise ValueError(f"{column} is empty")
        return ""
    token = person_token(value)
    if token is None:
        raise ValueError(f"{column} '{value[:60]}' is neither a Slack user id (like U0123ABCD) nor an email")
    return token


def _answers(values: dict[str, str], matching: MatchingConfig) -> dict[str, object]:
    role = values.get("role", "").lower()
    if role not in ROLES:
        raise ValueError(f"role '{role[:20]}' is not one of {', '.join(ROLES)}")
    for name in ("specialty", "department", "trained_in"):
        if len(values.get(name, "")) > MAX_TEXT:
            raise ValueError(f"{name} is longer than {MAX_TEXT} characters")
    languages = _items(values.get("languages", ""))
    if len(languages) > MAX_LANGUAGES:
        raise ValueError(f"languages lists {len(languages)}; at most {MAX_LANGUAGES}")
    return {
        "role": role,
        "specialty": values.get("specialty", ""),
        "department": values.get("department", ""),
        "languages": languages,
        "trained_in": values.get("trained_in", ""),
        "focus": _known("focus", values.get("focus", ""), {norm(a): a for a in matching.focus_areas}),
        "formats": _known("formats", values.get("formats", ""), {k: k for k in FORMATS}),
        "times": _known("times", values.get("times", ""), {k: k for k in TIMES}),
        "capacity": _capacity(values.get("capacity", ""), role, matching.default_capacity),
    }


def _known(column: str, value: str, allowed: dict[str, str]) -> list[str]:
    found = []
    for item in _items(value):
        if norm(item) not in allowed:
            raise ValueError(f"{column} '{item[:40]}' is not one of: {'; '.join(allowed.values())}")
        found.append(allowed[norm(item)])
    return found


def _capacity(value: str, role: str, default: int) -> int:
    if role == "mentee":
        return 0
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= MAX_CAPACITY:
        raise ValueError(f"capacity '{value[:10]}' is not a whole number from 1 to {MAX_CAPACITY}")
    return int(value)
