"""HR roster snapshots (`mentorbot roster snapshot PROGRAM FILE.csv`) and Slack deactivations as departures.

The file lists employees in the program's scope: `employee,start_date[,end_date][,role][,participant]`.
`employee` is a Slack user id or an email; dates are YYYY-MM-DD; `participant` is yes/no (blank: decided
from the program's pairs). A file is stored whole or not at all, every malformed line named.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.kernel.csv_lines import CsvUnreadable, csv_lines
from bot.pairs.roster_csv import MAX_ROWS, RosterRejected, person_token
from storage.models import Person, PersonDeparture, RosterMember, RosterSnapshot

COLUMNS = ("employee", "start_date", "end_date", "role", "participant")
REQUIRED = ("employee", "start_date")
FLAGS = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False}
MAX_ROLE = 60


@dataclass(frozen=True)
class Employee:
    line: int
    employee: str  # a Slack user id or a lower-cased email
    started_on: date
    ended_on: date | None
    role: str
    participant: bool | None


def read_snapshot(path: Path) -> list[Employee]:
    """Parse the file; raise RosterRejected naming every malformed line."""
    lines = _lines(path)
    if not lines:
        raise RosterRejected([f"{path}: is empty; expected a header row employee,start_date,..."])
    columns = _columns(*lines[0])
    if len(lines) - 1 > MAX_ROWS:
        raise RosterRejected(
            [f"{path}: has {len(lines) - 1} rows; split it into files of {MAX_ROWS} or fewer"]
        )
    parsed = [_employee(number, cells, columns) for number, cells in lines[1:]]
    problems = [row for row in parsed if isinstance(row, str)]
    rows = [row for row in parsed if isinstance(row, Employee)]
    for token, count in Counter(row.employee for row in rows).items():
        if count > 1:
            where = ", ".join(str(row.line) for row in rows if row.employee == token)
            problems.append(f"lines {where}: {token} is listed {count} times; keep one row per employee")
    if problems:
        raise RosterRejected(problems)
    return rows


def _lines(path: Path) -> list[tuple[int, list[str]]]:
    try:
        return csv_lines(path)
    except CsvUnreadable as exc:
        raise RosterRejected([str(exc)]) from None


def _columns(line: int, header: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in header]
    unknown = [name for name in names if name not in COLUMNS]
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if unknown or repeated or not set(REQUIRED) <= set(names):
        found = (
            ", ".join(f"'{name}'" for name in (unknown or repeated)) or "no employee and start_date columns"
        )
        usage = "the first row must name the columns: employee,start_date[,end_date,role,participant]"
        raise RosterRejected([f"line {line}: {usage} (found {found})"])
    return names


def _employee(line: int, cells: list[str], columns: list[str]) -> Employee | str:
    if len(cells) > len(columns):
        return f"line {line}: {len(cells)} values but the header names {len(columns)} columns"
    values = dict(zip(columns, (cell.strip() for cell in cells), strict=False))
    raw = values.get("employee", "")
    token = person_token(raw) if raw else None
    if token is None:
        return f"line {line}: employee '{raw[:60]}' is neither a Slack user id nor an email"
    dates = _dates(values)
    if isinstance(dates, str):
        return f"line {line}: {dates}"
    flag = values.get("participant", "").lower()
    if flag and flag not in FLAGS:
        return f"line {line}: participant '{flag[:20]}' must be yes or no (or empty: decided from pairs)"
    role = values.get("role", "")
    if len(role) > MAX_ROLE:
        return f"line {line}: role is {len(role)} characters; keep it to {MAX_ROLE} or fewer"
    return Employee(line, token, *dates, role, FLAGS.get(flag) if flag else None)


def _dates(values: dict[str, str]) -> tuple[date, date | None] | str:
    """Start and end, or what is wrong with them."""
    started, ended = _day(values.get("start_date", "")), _day(values.get("end_date", ""))
    if not isinstance(started, date):
        return f"start_date '{values.get('start_date', '')[:20]}' is not a date like 2026-07-01"
    if isinstance(ended, str):
        return f"end_date '{ended[:20]}' is not a date like 2026-07-01 (empty while still employed)"
    if ended is not None and ended < started:
        return f"end_date {ended} is before start_date {started}"
    return started, ended


def _day(value: str) -> date | str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return value


def store_snapshot(
    session: Session, *, program_id: str, rows: list[Employee], source: str, now: datetime
) -> RosterSnapshot:
    """Store a parsed file as the program's newest snapshot (older ones are kept for the record)."""
    snapshot = RosterSnapshot(program_id=program_id, taken_at=now, source=source[:200], members=len(rows))
    session.add(snapshot)
    session.flush()
    session.add_all(
        RosterMember(
            snapshot_id=snapshot.id,
            employee=row.employee,
            started_on=row.started_on,
            ended_on=row.ended_on,
            role=row.role,
            participant=row.participant,
        )
        for row in rows
    )
    return snapshot


def record_deactivation(session: Session, *, user: dict[str, Any], now: datetime) -> None:
    """A `user_change` for someone the bot knows or a roster lists: `deleted: true` is a departure on
    that day (the first one counts); a reactivation withdraws it."""
    user_id = str(user["id"])
    profile = user.get("profile")
    raw_email = profile.get("email") if isinstance(profile, dict) else None
    email = raw_email.lower() if isinstance(raw_email, str) and raw_email else None
    stored = session.get(PersonDeparture, user_id)
    if user.get("deleted") is not True:
        if stored is not None:
            session.delete(stored)
        return
    if stored is None and _in_scope(session, user_id=user_id, email=email):
        session.add(PersonDeparture(user_id=user_id, email=email, departed_on=now.date(), recorded_at=now))


def _in_scope(session: Session, *, user_id: str, email: str | None) -> bool:
    """Only people the bot already knows or HR listed: other workspace members are none of its business."""
    if session.get(Person, user_id) is not None:
        return True
    keys = [user_id] if email is None else [user_id, email]
    return session.scalar(select(RosterMember.id).where(RosterMember.employee.in_(keys)).limit(1)) is not None
