"""`mentorbot cme PROGRAM --year Y [--out FILE]`: per-mentor protected hours and CME credits, with the
confirmed sessions behind them, as CSV.

Rows of kind `session` list each confirmed session (credits after the yearly cap, accrued in date
order); `month` and `year` rows total them per mentor. Figures are rounded for display only.
"""

from __future__ import annotations

import csv
import io

from sqlalchemy.orm import Session

from bot.kernel.people import display_name
from bot.kernel.programs import Program
from bot.reflections.ledger import MentorLedger, number, year_ledgers
from storage.repositories.people import people_by_id

COLUMNS = [
    "mentor_id",
    "mentor_name",
    "kind",
    "month",
    "session_date",
    "session_id",
    "mentee_id",
    "mentee_name",
    "minutes",
    "hours",
    "credits",
]


def cme_rows(session: Session, *, program: Program, year: int) -> tuple[list[MentorLedger], dict[str, str]]:
    """The year's ledgers and a CSV-safe name for every mentor and mentee in them."""
    ledgers = year_ledgers(session, program=program, year=year)
    ids = [ledger.mentor_id for ledger in ledgers] + [e.row.mentee_id for lg in ledgers for e in lg.entries]
    people = people_by_id(session, user_ids=ids)
    return ledgers, {user_id: _cell(display_name(person, "")) for user_id, person in people.items()}


def _cell(text: str) -> str:
    # A name starting with = + - @ would run as a formula when the CSV is opened in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def render_csv(ledgers: list[MentorLedger], *, names: dict[str, str], program: Program) -> str:
    """The CSV text: for each mentor, session rows, then month totals, then the year total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    credits_known = program.cme is not None
    for ledger in ledgers:
        mentor = [ledger.mentor_id, names.get(ledger.mentor_id, "")]
        for entry in ledger.entries:
            row = entry.row
            writer.writerow(
                [
                    *mentor,
                    "session",
                    f"{row.session_date:%Y-%m}",
                    row.session_date.isoformat(),
                    row.session_id,
                    row.mentee_id,
                    names.get(row.mentee_id, ""),
                    row.minutes,
                    number(entry.hours),
                    number(entry.credits) if credits_known else "",
                ]
            )
        for month in ledger.months():
            credits = number(month.credits) if credits_known else ""
            period = f"{ledger.year}-{month.month:02d}"
            writer.writerow(
                [*mentor, "month", period, "", "", "", "", month.minutes, number(month.hours), credits]
            )
        credits = number(ledger.credits) if credits_known else ""
        writer.writerow(
            [*mentor, "year", str(ledger.year), "", "", "", "", ledger.minutes, number(ledger.hours), credits]
        )
    return buffer.getvalue()
