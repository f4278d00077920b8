"""The `/mentorship status` text: your pairs, your roles, what comes next."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.checkins import home as checkins
from bot.kernel.deps import Deps
from bot.kernel.people import reader_timezone
from bot.kernel.programs import Program
from bot.kernel.roles import Role, UserRoles, roles_of
from bot.kernel.text import day_text, plural
from bot.pairs.welcome import DAY_NAMES
from bot.slack.caps import MAX_MESSAGE_TEXT, capped_lines
from storage.models import Pair, Pause, Person
from storage.repositories.pairs import active_pairs_of, program_counts
from storage.repositories.people import get_person
from storage.repositories.reflections import last_confirmed_by_pair

MAX_PAIRS = 25  # pairs listed by `/mentorship status`: Slack shows 4,000 characters of a message
MAX_SIDE_TEXT = 1_000  # for the coordinator lines, and again for the check-in lines, around the list
# No surface lists every pair of a mentor with hundreds: say which ones are shown, not where the rest are.
PAIRS_SHOWN = "those shown have gone longest without a confirmed session."
PROGRAMS_SHOWN = "`/mentorship digest PROGRAM` for any program you coordinate."


def active_pause(session: Session, *, user_id: str, now: datetime) -> Pause | None:
    """The mentee's pause if it is in force at `now` (resuming sets paused_until to that moment)."""
    pause = session.get(Pause, user_id)
    if pause is None or (pause.paused_until is not None and pause.paused_until <= now):
        return None
    return pause


def pause_line(pause: Pause, *, person: Person | None, program: Program) -> str:
    if pause.paused_until is None:
        return "Your check-ins are paused until you resume them (`/checkin resume`)."
    until = pause.paused_until.astimezone(reader_timezone(person, program.timezone))
    return f"Your check-ins are paused until {DAY_NAMES[until.weekday()]} {day_text(until)}."


def schedule_line(program: Program, person: Person | None) -> str:
    """When check-ins come, in the mentee's own timezone."""
    checkins_config = program.checkins
    zone = reader_timezone(person, program.timezone)
    every = "every" if checkins_config.cadence == "weekly" else "every other"
    day = DAY_NAMES[checkins_config.weekday_index]
    return (
        f"Check-ins in *{program.id}* come {every} {day} at {checkins_config.local_time:%H:%M} "
        f"your time ({zone.key})."
    )


def checkin_lines(
    session: Session, *, deps: Deps, user_id: str, mentee_pairs: list[Pair], now: datetime
) -> list[str]:
    """Next check-in and pause state for a mentee: the check-in feature's line when it has one."""
    line = checkins.next_checkin_line(session, deps=deps, user_id=user_id, now=now)
    if line:
        return [line]
    return schedule_lines(session, deps=deps, user_id=user_id, mentee_pairs=mentee_pairs, now=now)


def schedule_lines(
    session: Session, *, deps: Deps, user_id: str, mentee_pairs: list[Pair], now: datetime
) -> list[str]:
    """The pause, or each program's check-in schedule, in the mentee's timezone (from config alone)."""
    person = get_person(session, user_id=user_id)
    programs = [
        p for p in (deps.programs.get(pid) for pid in _unique(pair.program_id for pair in mentee_pairs)) if p
    ]
    pause = active_pause(session, user_id=user_id, now=now)
    if pause is not None and programs:
        return [pause_line(pause, person=person, program=programs[0])]
    return [schedule_line(program, person) for program in programs]


def coordinator_lines(session: Session, *, deps: Deps, roles: UserRoles) -> list[str]:
    program_ids = roles.programs_where(Role.COORDINATOR)
    counts = program_counts(session, program_ids=program_ids)
    lines = []
    for program_id in program_ids:
        count = counts[program_id]
        if count.pairs:
            lines.append(
                f"You coordinate *{program_id}*: {plural(count.pairs, 'active pair')}, "
                f"{plural(count.mentors, 'mentor')}, {plural(count.mentees, 'mentee')}."
            )
        else:
            lines.append(f"You coordinate *{program_id}*: no pairs yet (`/mentorship pair @mentor @mentee`).")
    return lines


def pair_line(pair: Pair, *, user_id: str) -> str:
    since = f"since {day_text(pair.started_at)}"
    focus = f", focus: {pair.focus}" if pair.focus else ""
    if pair.mentor_id == user_id:
        return f"You mentor <@{pair.mentee_id}> in *{pair.program_id}* ({since}{focus})."
    return f"Your mentor in *{pair.program_id}* is <@{pair.mentor_id}> ({since}{focus})."


def pair_lines(session: Session, *, pairs: list[Pair], user_id: str, max_chars: int) -> list[str]:
    """A line per pair; when they do not all fit, those longest without a confirmed session first, then
    one "…and N more" line counting pairs."""
    listed = [pair_line(pair, user_id=user_id) for pair in pairs]
    if len(pairs) <= MAX_PAIRS and len("\n".join(listed)) <= max_chars:
        return listed
    last = last_confirmed_by_pair(session, pair_ids=[pair.id for pair in pairs])
    waiting = sorted(pairs, key=lambda pair: (last.get(pair.id) or pair.started_at.date(), pair.id))
    heading = f"You are in {len(pairs):,} pairs; those longest without a confirmed session come first."
    listed = [pair_line(pair, user_id=user_id) for pair in waiting]
    room = max_chars - len(heading) - 1
    return [heading, *capped_lines(listed, where=PAIRS_SHOWN, max_lines=MAX_PAIRS, max_chars=room)]


def status_text(session: Session, *, deps: Deps, user_id: str, now: datetime) -> str:
    """What the user is part of, in a few lines."""
    roles = roles_of(session, programs=deps.programs, user_id=user_id)
    if not roles.enrolled:
        return "You are not in a mentorship program yet. Your program coordinator can pair you."
    coordinating = _side(coordinator_lines(session, deps=deps, roles=roles), where=PROGRAMS_SHOWN)
    known = set(deps.programs.ids)
    pairs = [p for p in active_pairs_of(session, user_id=user_id) if p.program_id in known]
    mentee_pairs = [pair for pair in pairs if pair.mentee_id == user_id]
    schedule: list[str] = []
    if mentee_pairs:
        schedule = checkin_lines(session, deps=deps, user_id=user_id, mentee_pairs=mentee_pairs, now=now)
    schedule = _side(schedule, where="")
    # The pairs get what the lines around them leave, so the one "…and N more" line counts pairs.
    room = MAX_MESSAGE_TEXT - len("\n".join([*coordinating, *schedule])) - 2
    listed = pair_lines(session, pairs=pairs, user_id=user_id, max_chars=room)
    return "\n".join([*coordinating, *listed, *schedule])


def _side(lines: list[str], *, where: str) -> list[str]:
    return capped_lines(lines, where=where, max_lines=len(lines), max_chars=MAX_SIDE_TEXT)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
