"""Check-ins as the rest of the bot sees them: the scheduled job, the App Home section, the status line."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.checkins import blocks, schedule
from bot.checkins.answers import zone_for
from bot.checkins.pauses import pause_line
from bot.checkins.tick import run_checkin_tick
from bot.kernel.deps import Deps
from bot.kernel.people import display_name
from bot.kernel.roles import Role, UserRoles
from bot.kernel.text import day_label, escape
from bot.slack.blocks import section
from bot.slack.caps import capped_text
from storage.repositories import checkins as repo
from storage.repositories.pairs import active_pairs_of
from storage.repositories.people import people_by_id

MAX_MENTEES = 25  # mentees' latest check-ins listed on a mentor's Home


def run_due(deps: Deps, now: datetime) -> list[str]:
    """Send due prompts (claimed first), retry and recover, remind, expire and close check-ins."""
    return run_checkin_tick(deps, now)


def next_checkin_line(session: Session, *, deps: Deps, user_id: str, now: datetime) -> str | None:
    """One line for /mentorship status: when the user's next check-in is due, or that they are paused."""
    pairs = [p for p in active_pairs_of(session, user_id=user_id) if p.mentee_id == user_id]
    programs = [deps.programs.get(p.program_id) for p in pairs]
    if not any(programs):
        return None
    zone = zone_for(session, programs=deps.programs, user_id=user_id, program_id=pairs[0].program_id)
    paused = pause_line(session, person_id=user_id, now=now, zone=zone)
    if paused:
        return f"{paused} Type `/checkin resume` to restart."
    for checkin in repo.open_checkins(session, mentee_id=user_id, now=now):
        if checkin.status == "sent":
            return (
                f"Your check-in for {day_label(checkin.period)} is open until "
                f"{schedule.local_label(checkin.expires_at, zone)} your time: type `/checkin` to answer."
            )
    due = next_due(session, deps=deps, user_id=user_id, now=now)
    return (
        None
        if due is None
        else f"Your next check-in: {schedule.local_label(due, zone)} your time ({zone.key})."
    )


def next_due(session: Session, *, deps: Deps, user_id: str, now: datetime) -> datetime | None:
    """The earliest instant any of the mentee's programs next asks them to check in."""
    anchors: dict[str, datetime] = {}
    for pair in active_pairs_of(session, user_id=user_id):
        if pair.mentee_id == user_id:
            anchors.setdefault(pair.program_id, pair.started_at)  # oldest first: the earliest start
    found = []
    for program_id, anchor in anchors.items():
        program = deps.programs.get(program_id)
        if program is None:
            continue
        zone = zone_for(session, programs=deps.programs, user_id=user_id, program_id=program_id)
        found.append(schedule.next_period(program.checkins, zone, anchor, after=now).due_at)
    return min(found, default=None)


def home_blocks(session: Session, *, deps: Deps, roles: UserRoles, now: datetime) -> list[dict[str, Any]]:
    """App Home: a mentee's next check-in with pause/resume; a mentor's mentees' latest check-ins."""
    section: list[dict[str, Any]] = []
    if roles.has(Role.MENTEE):
        section.extend(_mentee_home(session, deps=deps, user_id=roles.user_id, now=now))
    if roles.has(Role.MENTOR):
        section.extend(_mentor_home(session, deps=deps, user_id=roles.user_id))
    return section


def _mentee_home(session: Session, *, deps: Deps, user_id: str, now: datetime) -> list[dict[str, Any]]:
    line = next_checkin_line(session, deps=deps, user_id=user_id, now=now)
    if line is None:
        return []
    zone = zone_for(session, programs=deps.programs, user_id=user_id, program_id=None)
    paused = pause_line(session, person_id=user_id, now=now, zone=zone) is not None
    return [section(f"*Check-ins*\n{line}"), blocks.pause_actions(paused=paused)]


def _mentor_home(session: Session, *, deps: Deps, user_id: str) -> list[dict[str, Any]]:
    lines = []
    mentoring = [p for p in active_pairs_of(session, user_id=user_id) if p.mentor_id == user_id]
    for program_id in sorted({p.program_id for p in mentoring}):
        mentees = list(dict.fromkeys(p.mentee_id for p in mentoring if p.program_id == program_id))
        names = people_by_id(session, user_ids=mentees)
        answered = {
            row.mentee_id: row
            for row in repo.latest_answers(session, program_id=program_id, mentee_ids=mentees)
        }
        for mentee_id in mentees:
            person = names.get(mentee_id)
            name = display_name(person, mentee_id)
            row = answered.get(mentee_id)
            lines.append(
                f"• {escape(name)}: " + (_answer_summary(row) if row else "no check-in answered yet")
            )
    if not lines:
        return []
    # The title goes above the list, within the section's 3,000 characters.
    listed = capped_text(lines, where="too many mentees to list here.", max_lines=MAX_MENTEES, max_chars=2900)
    return [section("*Your mentees' latest check-ins* (only you see these)\n" + listed)]


def _answer_summary(row: Any) -> str:
    parts = [day_label(row.period)]
    if row.wellbeing is not None:
        parts.append(f"wellbeing {blocks.wellbeing_label(row.wellbeing)}")
    if row.met_mentor is not None:
        parts.append("met you: " + ("yes" if row.met_mentor else "no"))
    return ", ".join(parts)
