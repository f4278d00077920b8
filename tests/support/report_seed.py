"""A year of a program seeded for the outcome report's suppression search and its PDF: participants and
non-participants, four quarters, HR roles, pairs starting in three quarters, an instrument, with small
and overlapping groups placed on purpose. `Truth` is what the seed knows about who is behind each
figure, independent of the report's own bookkeeping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from bot.app.outcome_commands import roster_snapshot_command
from bot.kernel.clock import SettableClock
from bot.kernel.deps import Deps
from bot.kernel.programs import Program
from bot.reports.instrument_scores import InstrumentSource, PersonScores
from bot.reports.stats import Quarter
from tests.support.digests import PROGRAM, add_people, add_session, answer_week, mentee_ids
from tests.support.factories import make_pair

MENTEES = mentee_ids(18)
G1, G3 = MENTEES[:8], MENTEES[8:16]
# Q2 is Q1 and one more (a pairwise leak); Q4 is Q1, Q3 and two more (a leak only three figures show).
WEEKS = {
    "2026-Q1": ((date(2026, 2, 2), date(2026, 2, 9)), G1),
    "2026-Q2": ((date(2026, 5, 4), date(2026, 5, 11)), [*G1, MENTEES[8]]),
    "2026-Q3": ((date(2026, 8, 3), date(2026, 8, 10)), G3),
    "2026-Q4": ((date(2026, 10, 19), date(2026, 10, 26)), [*G1, *G3, *MENTEES[16:18]]),
}
# Pairs starting per quarter: the period and Q1 can be shown; Q2 is small; Q3 would, beside the period
# and Q1, single out Q2's two pairs.
PAIR_STARTS = {
    "2026-Q1": (date(2026, 1, 12), 6),
    "2026-Q2": (date(2026, 4, 13), 2),
    "2026-Q3": (date(2026, 7, 13), 5),
}
MINI_Z = "Mini-Z"


@dataclass
class Truth:
    people: dict[str, set[str]] = field(default_factory=dict)  # figure key -> who is behind it
    values: dict[str, list[float]] = field(default_factory=dict)  # figure key -> the answers behind it


def answers_for(index: int, week: int) -> tuple[int, int, bool]:
    """Wellbeing 1-5 and team climate 1-7 that differ between people and weeks."""
    return 1 + (index + week) % 5, 1 + (2 * index + week) % 7, index % 2 == 0


def seed_answers(deps: Deps, truth: Truth) -> None:
    add_people(deps, MENTEES)
    for quarter, (weeks, group) in WEEKS.items():
        for w, monday in enumerate(weeks):
            given = {m: answers_for(MENTEES.index(m), w) for m in group}
            answer_week(deps, monday, given)
            truth.people.setdefault(f"wellbeing {quarter}", set()).update(group)
            truth.people.setdefault(f"psych {quarter}", set()).update(group)
            truth.values.setdefault(f"wellbeing {quarter}", []).extend(a[0] for a in given.values())
            truth.values.setdefault(f"psych {quarter}", []).extend(a[1] for a in given.values())


def seed_pairs(deps: Deps, truth: Truth) -> None:
    """Pairs of mentors with at most two mentees each (so a mentor sees too few answers to subtract)."""
    n = 0
    for quarter, (start, count) in PAIR_STARTS.items():
        for i in range(count):
            mentee, mentor = MENTEES[n], f"U0MENTOR{n // 2 + 1}"
            started = datetime.combine(
                start + timedelta(days=i), datetime.min.time(), tzinfo=UTC
            ) + timedelta(hours=15)
            pair = make_pair(deps, mentor, mentee, started_at=started)
            waited = 3 + 4 * i + n % 3
            add_session(
                deps, pair_id=pair, mentor=mentor, mentee=mentee, day=start + timedelta(days=i + waited)
            )
            for key in (f"first_meeting {quarter}", "first_meeting period"):
                truth.people.setdefault(key, set()).add(f"pair {pair}")
                truth.values.setdefault(key, []).append(waited)
            n += 1


# (key prefix, participant, role, start, how many, how many left in the first months)
HR_GROUPS = (
    ("res", True, "resident", "2024-01-15", 10, 2),
    ("fel", True, "fellow", "2024-01-15", 3, 0),
    ("new", True, "resident", "2025-06-01", 3, 0),
    ("ores", False, "resident", "2024-01-15", 6, 1),
    ("onur", False, "nurse", "2024-01-15", 8, 3),
    ("onew", False, "nurse", "2026-03-01", 2, 0),
)


def seed_roster(deps: Deps, clock: SettableClock, tmp_path: Path) -> None:
    rows = ["employee,start_date,end_date,role,participant"]
    for prefix, side, role, start, count, left in HR_GROUPS:
        for i in range(count):
            end = "2024-05-01" if i < left else ""
            rows.append(f"{prefix}{i:02d}@hospital.example,{start},{end},{role},{'yes' if side else 'no'}")
    path = tmp_path / "hr.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert roster_snapshot_command(deps, program_id=PROGRAM, path=path, now=clock.now) == 0


def hr_truth(truth: Truth, as_of: date) -> None:
    """Who is eligible for each retention figure, from the seed's own table."""
    from bot.reports.retention_cohorts import add_months  # the calendar rule, not the decision

    for prefix, side, role, start, count, left in HR_GROUPS:
        for i in range(count):
            key, started = f"{prefix}{i:02d}@hospital.example", date.fromisoformat(start)
            stayed = i >= left
            for months in (6, 12, 24):
                if add_months(started, months) <= as_of:
                    for name in {
                        f"retention {months}m all",
                        *([f"retention {months}m {role}"] if months == 12 else []),
                    }:
                        figure = f"{name} {'participants' if side else 'others'}"
                        truth.people.setdefault(figure, set()).add(key)
                        truth.values.setdefault(figure, []).append(1.0 if stayed else 0.0)


def mini_z_scores(truth: Truth) -> dict[str, dict[str, float]]:
    """An instrument the way bot.instruments will hand it over: Q3 answered by G3, Q4 by G3 and one more."""
    found = {
        "2026-Q3": {m: float(1 + i % 5) for i, m in enumerate(G3)},
        "2026-Q4": {m: float(1 + (i + 1) % 5) for i, m in enumerate([*G3, G1[0]])},
    }
    for quarter, scores in found.items():
        truth.people[f"{MINI_Z} {quarter}"] = set(scores)
        truth.values[f"{MINI_Z} {quarter}"] = list(scores.values())
    return found


def instrument_source(found: Mapping[str, dict[str, float]]) -> InstrumentSource:
    def source(session: Session, program: Program, periods: list[Quarter]) -> list[PersonScores]:
        return [
            PersonScores(MINI_Z, q.label, found[q.label], cutoff=3.0) for q in periods if q.label in found
        ]

    return source


def seed_year(deps: Deps, clock: SettableClock, tmp_path: Path) -> Truth:
    truth = Truth()
    seed_pairs(deps, truth)
    seed_answers(deps, truth)
    seed_roster(deps, clock, tmp_path)
    hr_truth(truth, clock.now.date())
    return truth
