"""`mentorbot profiles import`: profiles a program collected outside Slack, all or nothing.

Like the roster import: the file is read and everyone looked up first (Slack only for people not cached
within a day); then one transaction checks every row and writes, or writes nothing and reports every bad
row by line number. Someone who left matching (`/mentorship leave`) is never signed up again by a file:
their line is refused. A person's own avoid list is never shortened by a file, only added to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bot.kernel.deps import Deps
from bot.kernel.people import apply_profile, new_person
from bot.kernel.programs import Program
from bot.kernel.roles import OPERATOR_ID
from bot.kernel.text import day_text
from bot.matching.pool import matching_of
from bot.matching.profiles_csv import ProfileRow, ProfilesRejected, line_number, read_profiles
from bot.pairs.roster import Directory, find_people
from storage.models import MatchingProfile
from storage.repositories.audit import record_audit
from storage.repositories.matching import avoid_list, departures_in, profiles_in, save_profile
from storage.repositories.people import people_by_id


@dataclass(frozen=True)
class ImportResult:
    rows: int
    added: int
    updated: int

    def summary(self, program_id: str) -> str:
        return f"{program_id}: {self.rows} profiles; {self.added} added, {self.updated} updated."


def run_profiles_import(deps: Deps, *, program: Program, path: Path, now: datetime) -> ImportResult:
    """Read, look up and import a profiles file; raise ProfilesRejected with every problem found."""
    rows = read_profiles(path, matching=matching_of(program))
    directory = find_people(deps, [token for row in rows for token in row.people()], now=now)
    with deps.sessions.begin() as session:
        return import_profiles(
            session, program=program, rows=rows, directory=directory, source=path.name, now=now
        )


def import_profiles(
    session: Session,
    *,
    program: Program,
    rows: list[ProfileRow],
    directory: Directory,
    source: str,
    now: datetime,
) -> ImportResult:
    """Check every row, then write them all; ProfilesRejected (rolling everything back) otherwise."""
    _store_people(session, directory, now=now)
    problems = _problems(rows, directory, departed=departures_in(session, program_id=program.id))
    if problems:
        raise ProfilesRejected(sorted(problems, key=line_number))
    existing = {profile.user_id: profile for profile in profiles_in(session, program_id=program.id)}
    for row in rows:
        _write(session, program=program, row=row, directory=directory, existing=existing, now=now)
    added = sum(1 for row in rows if directory.ids[row.user] not in existing)
    result = ImportResult(rows=len(rows), added=added, updated=len(rows) - added)
    target = f"{source}: {result.added} added, {result.updated} updated"
    record_audit(
        session, actor_id=OPERATOR_ID, action="profiles.import", now=now, program_id=program.id, target=target
    )
    return result


def _problems(rows: list[ProfileRow], directory: Directory, *, departed: dict[str, datetime]) -> list[str]:
    problems = []
    for row in rows:
        for token in row.people():
            if token in directory.problems:
                problems.append(f"line {row.line}: '{token}': {directory.problems[token]}")
        user_id = directory.ids.get(row.user)
        if user_id in departed:
            problems.append(
                f"line {row.line}: {row.user} left matching on {day_text(departed[user_id])}; only they can "
                "rejoin (with /mentorship join): remove the line"
            )
    return list(dict.fromkeys(problems))


def _write(
    session: Session,
    *,
    program: Program,
    row: ProfileRow,
    directory: Directory,
    existing: dict[str, MatchingProfile],
    now: datetime,
) -> None:
    user_id, ids = directory.ids[row.user], directory.ids
    answers = {**row.answers, "reports_to": ids[row.reports_to] if row.reports_to else None}
    stored = existing.get(user_id)
    if row.ranked or stored is None:
        answers["ranked"] = [ids[token] for token in row.ranked]
    avoid = set(avoid_list(stored)) if stored is not None else set()
    avoid |= {ids[token] for token in row.avoid}
    save_profile(
        session,
        program_id=program.id,
        user_id=user_id,
        answers=answers,
        avoid=sorted(avoid - {user_id}),
        source="import",
        now=now,
    )


def _store_people(session: Session, directory: Directory, *, now: datetime) -> None:
    """Everyone in the file as Person rows: known ones updated in place, new ones added."""
    people = people_by_id(session, user_ids=set(directory.ids.values()))
    for user_id, profile in directory.profiles.items():
        if user_id in people:
            apply_profile(session, user=profile, now=now)
        else:
            session.add(new_person(profile, now=now))
    session.flush()
