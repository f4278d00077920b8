"""`mentorbot roster import`: pairs from a CSV, all or nothing, idempotent.

The file is read and every person looked up first (Slack only for people not cached within a
day); then one transaction validates every row against the database and writes, or writes
nothing and reports every bad row by line number. Welcome DMs go out after the commit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bot.kernel.deps import Deps
from bot.kernel.people import (
    Profile,
    SlackLookupFailed,
    apply_profile,
    display_name,
    fetch_user,
    fetch_user_by_email,
    is_fresh,
    new_person,
)
from bot.kernel.programs import Program
from bot.kernel.roles import OPERATOR_ID
from bot.pairs.pairing import farewell_messages, pair_target, pairing_problem, welcome_messages
from bot.pairs.roster_csv import RosterRejected, Row, read_roster
from bot.pairs.welcome import Message, PairView
from storage.models import AuditEntry, Pair, Person
from storage.repositories.audit import record_audit
from storage.repositories.pairs import active_pairs_in, end_pair
from storage.repositories.people import people_by_email, people_by_id


@dataclass
class Directory:
    """Who each id or email in the file is: fresh profiles to store, or why it could not be found."""

    ids: dict[str, str] = field(default_factory=dict)  # token -> user id
    profiles: dict[str, Profile] = field(default_factory=dict)  # user id -> Slack profile to store
    problems: dict[str, str] = field(default_factory=dict)  # token -> reason


@dataclass
class ImportResult:
    rows: int
    added: int = 0
    unchanged: int = 0
    ended: int = 0
    focus_updated: int = 0
    messages: list[Message] = field(default_factory=list)  # DMs to send once committed

    def summary(self, program_id: str) -> str:
        text = (
            f"{program_id}: {self.rows} rows; {self.added} added, {self.unchanged} unchanged, "
            f"{self.ended} ended"
        )
        if self.focus_updated:
            text += f", {self.focus_updated} with a new focus"
        return text + "."


# -- finding the people --------------------------------------------------------------------------------


def find_people(deps: Deps, tokens: Iterable[str], *, now: datetime) -> Directory:
    """Resolve ids and emails: from the cache when refreshed within a day, else from Slack (in parallel).

    Nothing is written here: the profiles are stored in the import's own transaction.
    """
    wanted = sorted(set(tokens))
    emails = [token for token in wanted if "@" in token]
    ids = [token for token in wanted if "@" not in token]
    directory = Directory()
    with deps.read_sessions.begin() as session:
        cached = people_by_id(session, user_ids=ids)
        cached_emails = people_by_email(session, emails=emails)
    for email, person in cached_emails.items():
        if is_fresh(person, now):
            directory.ids[email] = person.id
    for user_id in ids:
        if is_fresh(cached.get(user_id), now):
            directory.ids[user_id] = user_id
    to_fetch = [token for token in wanted if token not in directory.ids]
    with ThreadPoolExecutor(max_workers=deps.settings.send_workers) as pool:
        for token, outcome in zip(to_fetch, pool.map(lambda t: _lookup(deps, t), to_fetch), strict=True):
            _record(directory, token, outcome, cached.get(token) or cached_emails.get(token))
    return directory


def _lookup(deps: Deps, token: str) -> Profile | str | None:
    try:
        return fetch_user_by_email(deps.client, token) if "@" in token else fetch_user(deps.client, token)
    except SlackLookupFailed as exc:
        return str(exc)


def _record(directory: Directory, token: str, outcome: Profile | str | None, stale: Person | None) -> None:
    if isinstance(outcome, dict):
        user_id = str(outcome["id"])
        directory.ids[token] = user_id
        directory.profiles[user_id] = outcome
    elif outcome is None:
        where = "email" if "@" in token else "id"
        directory.problems[token] = f"no Slack user has this {where}"
    elif stale is not None:
        directory.ids[token] = stale.id  # Slack is unreachable: a day-old name is good enough
    else:
        directory.problems[token] = f"Slack could not look it up ({outcome}); try again later"


# -- validating and writing ----------------------------------------------------------------------------


@dataclass
class _Plan:
    new: list[tuple[Row, str, str]] = field(default_factory=list)  # row, mentor id, mentee id
    unchanged: list[tuple[Row, Pair]] = field(default_factory=list)
    ended: list[Pair] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _plan(
    rows: list[Row],
    directory: Directory,
    *,
    program: Program,
    existing: list[Pair],
    people: dict[str, Person],
    replace: bool,
) -> _Plan:
    plan = _Plan()
    current = {(pair.mentor_id, pair.mentee_id): pair for pair in existing}
    named = _sort_rows(plan, rows, directory, current)
    # Pairs still active after the import, before the new ones: all current ones, or with --replace
    # only those the file names again.
    remaining = [key for key in current if not replace or key in named]
    if replace:
        plan.ended = [pair for key, pair in current.items() if key not in named]
    _check_rules(plan, program=program, people=people, remaining=remaining)
    return plan


def _sort_rows(
    plan: _Plan, rows: list[Row], directory: Directory, current: dict[tuple[str, str], Pair]
) -> set[tuple[str, str]]:
    """Split rows into new and unchanged pairs, noting unknown people and repeats; return the pairs named."""
    first_line: dict[tuple[str, str], int] = {}
    for row in rows:
        unknown = [
            (col, token)
            for col, token in (("mentor", row.mentor), ("mentee", row.mentee))
            if token in directory.problems
        ]
        for column, token in unknown:
            plan.problems.append(f"line {row.line}: {column} '{token}': {directory.problems[token]}")
        if unknown:
            continue
        key = (directory.ids[row.mentor], directory.ids[row.mentee])
        if key in first_line:
            plan.problems.append(f"line {row.line}: the same pair as line {first_line[key]}")
            continue
        first_line[key] = row.line
        if key in current:
            plan.unchanged.append((row, current[key]))
        else:
            plan.new.append((row, *key))
    return set(first_line)


def _check_rules(
    plan: _Plan, *, program: Program, people: dict[str, Person], remaining: list[tuple[str, str]]
) -> None:
    """The pairing rules for each new row, with each mentor's load counted in file order."""
    load = Counter(mentor_id for mentor_id, _ in remaining)
    after = set(remaining) | {(mentor_id, mentee_id) for _, mentor_id, mentee_id in plan.new}
    for row, mentor_id, mentee_id in plan.new:
        problem = pairing_problem(
            program,
            people[mentor_id],
            people[mentee_id],
            duplicate=False,
            reverse=(mentee_id, mentor_id) in after,
            mentor_load=load[mentor_id],
            who=_label,
        )
        if problem:
            plan.problems.append(f"line {row.line}: {problem}")
        load[mentor_id] += 1


def _label(person: Person) -> str:
    return f"{display_name(person, person.id)} ({person.id})"


def import_roster(
    deps: Deps,
    *,
    program: Program,
    rows: list[Row],
    directory: Directory,
    replace: bool,
    source: str,
    now: datetime,
) -> ImportResult:
    """Validate every row against the database and write them in one transaction, or raise RosterRejected."""
    with deps.sessions.begin() as session:
        people = _store_people(session, directory, now=now)
        existing = active_pairs_in(session, program_id=program.id)
        plan = _plan(rows, directory, program=program, existing=existing, people=people, replace=replace)
        if plan.problems:
            raise RosterRejected(sorted(plan.problems, key=_line_number))  # rolls back the profiles too
        ended_people = {user_id for pair in plan.ended for user_id in (pair.mentor_id, pair.mentee_id)}
        people.update(people_by_id(session, user_ids=ended_people))
        return _write(session, plan, program=program, people=people, rows=len(rows), source=source, now=now)


def _write(
    session: Session,
    plan: _Plan,
    *,
    program: Program,
    people: dict[str, Person],
    rows: int,
    source: str,
    now: datetime,
) -> ImportResult:
    result = ImportResult(
        rows=rows, added=len(plan.new), unchanged=len(plan.unchanged), ended=len(plan.ended)
    )
    result.focus_updated = _update_focus(plan)
    created = _create_pairs(session, plan, program=program, now=now)
    for pair in plan.ended:
        end_pair(pair, now=now)
    session.flush()
    _audit(
        session,
        program=program,
        created=created,
        ended=plan.ended,
        people=people,
        source=source,
        result=result,
        now=now,
    )
    result.messages = _messages(
        session, program=program, created=created, ended=plan.ended, people=people, now=now
    )
    return result


def _line_number(problem: str) -> int:
    match = re.match(r"line (\d+)", problem)
    return int(match[1]) if match else 0


def _store_people(session: Session, directory: Directory, *, now: datetime) -> dict[str, Person]:
    """Everyone in the file as Person rows: known ones updated in place, new ones added in one batch."""
    people = people_by_id(session, user_ids=set(directory.ids.values()))
    added = []
    for user_id, profile in directory.profiles.items():
        if user_id in people:
            apply_profile(session, user=profile, now=now)  # already loaded: no query
        else:
            people[user_id] = new_person(profile, now=now)
            added.append(people[user_id])
    session.add_all(added)
    return people


def _update_focus(plan: _Plan) -> int:
    changed = 0
    for row, pair in plan.unchanged:
        if row.focus is not None and row.focus != pair.focus:
            pair.focus = row.focus
            changed += 1
    return changed


def _create_pairs(session: Session, plan: _Plan, *, program: Program, now: datetime) -> list[Pair]:
    created = [
        Pair(
            program_id=program.id,
            mentor_id=mentor_id,
            mentee_id=mentee_id,
            focus=row.focus,
            started_at=now,
            ended_at=None,
        )
        for row, mentor_id, mentee_id in plan.new
    ]
    session.add_all(created)
    return created


def _audit(
    session: Session,
    *,
    program: Program,
    created: list[Pair],
    ended: list[Pair],
    people: dict[str, Person],
    source: str,
    result: ImportResult,
    now: datetime,
) -> None:
    entries = [
        AuditEntry(
            at=now,
            actor_id=OPERATOR_ID,
            action=action,
            program_id=program.id,
            target=pair_target(people[p.mentor_id], people[p.mentee_id]),
        )
        for action, pairs in (("pair", created), ("unpair", ended))
        for p in pairs
    ]
    session.add_all(entries)
    record_audit(
        session,
        actor_id=OPERATOR_ID,
        action="roster.import",
        now=now,
        program_id=program.id,
        target=f"{source}: {result.added} added, {result.unchanged} unchanged, {result.ended} ended",
    )


def _messages(
    session: Session,
    *,
    program: Program,
    created: list[Pair],
    ended: list[Pair],
    people: dict[str, Person],
    now: datetime,
) -> list[Message]:
    def view(pair: Pair) -> PairView:
        mentor, mentee = people[pair.mentor_id], people[pair.mentee_id]
        return PairView(program=program, mentor=mentor, mentee=mentee, focus=pair.focus, now=now)

    messages: list[Message] = []
    for pair in created:
        messages.extend(welcome_messages(view(pair)))
    for pair in ended:
        messages.extend(farewell_messages(session, view(pair)))
    return messages


# -- the command ---------------------------------------------------------------------------------------


def run_import(deps: Deps, *, program: Program, path: Path, replace: bool, now: datetime) -> ImportResult:
    """Read, look up and import a roster file; raise RosterRejected with every problem found."""
    rows = read_roster(path)
    directory = find_people(deps, [token for row in rows for token in (row.mentor, row.mentee)], now=now)
    return import_roster(
        deps, program=program, rows=rows, directory=directory, replace=replace, source=path.name, now=now
    )
