"""Protected time and CME credits: confirmed session hours per mentor, month and calendar year.

Months and years come from `session_date`, the day as the person who logged the session saw it,
so a session logged at 23:30 in Honolulu on the 31st stays in that month. Credits accrue session by
session in date order and stop at the program's `cme.max_credits_per_year`; arithmetic is exact
(fractions) and rounded only for display.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from itertools import groupby

from sqlalchemy.orm import Session

from bot.kernel.programs import CmeConfig, Program
from storage.repositories.reflections import LedgerRow, confirmed_ledger_rows


@dataclass(frozen=True)
class LedgerEntry:
    """One confirmed session and the credits it earned after the yearly cap."""

    row: LedgerRow
    credits: Fraction

    @property
    def hours(self) -> Fraction:
        return Fraction(self.row.minutes, 60)


@dataclass(frozen=True)
class MonthTotal:
    month: int
    sessions: int
    minutes: int
    credits: Fraction

    @property
    def hours(self) -> Fraction:
        return Fraction(self.minutes, 60)


@dataclass(frozen=True)
class MentorLedger:
    """A mentor's confirmed protected time in one calendar year."""

    mentor_id: str
    year: int
    entries: tuple[LedgerEntry, ...]
    cme: CmeConfig | None

    @property
    def minutes(self) -> int:
        return sum(entry.row.minutes for entry in self.entries)

    @property
    def hours(self) -> Fraction:
        return Fraction(self.minutes, 60)

    @property
    def credits(self) -> Fraction:
        return sum((entry.credits for entry in self.entries), Fraction(0))

    @property
    def capped(self) -> bool:
        return self.cme is not None and self.credits >= Fraction(str(self.cme.max_credits_per_year))

    def months(self) -> list[MonthTotal]:
        """Totals for each month that has a confirmed session, in calendar order."""
        totals = []
        for month, group in groupby(self.entries, key=lambda entry: entry.row.session_date.month):
            entries = list(group)
            totals.append(
                MonthTotal(
                    month=month,
                    sessions=len(entries),
                    minutes=sum(entry.row.minutes for entry in entries),
                    credits=sum((entry.credits for entry in entries), Fraction(0)),
                )
            )
        return totals


def accrue(rows: Iterable[LedgerRow], cme: CmeConfig | None) -> list[MentorLedger]:
    """Group confirmed sessions by mentor and calendar year; credits accrue in date order up to the cap."""
    ordered = sorted(rows, key=lambda row: (row.mentor_id, row.session_date, row.session_id))
    ledgers = []
    for (mentor_id, year), group in groupby(ordered, key=lambda row: (row.mentor_id, row.session_date.year)):
        ledgers.append(MentorLedger(mentor_id, year, tuple(_credited(group, cme)), cme))
    return ledgers


def _credited(rows: Iterable[LedgerRow], cme: CmeConfig | None) -> list[LedgerEntry]:
    if cme is None:
        return [LedgerEntry(row, Fraction(0)) for row in rows]
    rate, cap = Fraction(str(cme.credits_per_hour)), Fraction(str(cme.max_credits_per_year))
    earned, entries = Fraction(0), []
    for row in rows:
        credits = min(rate * Fraction(row.minutes, 60), cap - earned)
        earned += credits
        entries.append(LedgerEntry(row, credits))
    return entries


def year_ledgers(
    session: Session, *, program: Program, year: int, mentor_id: str | None = None
) -> list[MentorLedger]:
    """Every mentor's ledger for a calendar year of the program (only mentors with confirmed sessions)."""
    rows = confirmed_ledger_rows(
        session, program_id=program.id, start=date(year, 1, 1), end=date(year, 12, 31), mentor_id=mentor_id
    )
    return accrue(rows, program.cme)


def ledgers_between(session: Session, *, program: Program, start: date, end: date) -> list[MentorLedger]:
    """Ledgers restricted to sessions in [start, end], one per mentor and calendar year.

    The cap still counts sessions earlier in the same year, so a report starting in June
    does not hand out credits a mentor already used up by May.
    """
    rows = confirmed_ledger_rows(session, program_id=program.id, start=date(start.year, 1, 1), end=end)
    trimmed = []
    for ledger in accrue(rows, program.cme):
        kept = tuple(entry for entry in ledger.entries if entry.row.session_date >= start)
        if kept:
            trimmed.append(MentorLedger(ledger.mentor_id, ledger.year, kept, ledger.cme))
    return trimmed


def mentor_year(session: Session, *, program: Program, mentor_id: str, year: int) -> MentorLedger:
    """One mentor's ledger for a year; empty when nothing is confirmed yet."""
    found = year_ledgers(session, program=program, year=year, mentor_id=mentor_id)
    return found[0] if found else MentorLedger(mentor_id, year, (), program.cme)


def number(value: Fraction, places: int = 2) -> str:
    """A figure for people: 0.75, 12.5, 20 (exact until here, rounded half-up to `places`)."""
    scaled = (value * 10**places + Fraction(1, 2)).__floor__()
    text = f"{scaled / 10**places:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
